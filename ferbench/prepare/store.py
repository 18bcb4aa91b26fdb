"""Where prepared face tracks live, and how an adapter's manifest is pointed at them.

A prepared dataset is a folder
``cache_dir/prepared/<dataset>-<hash of the resolved root, the prepare options and PREPARE_VERSION>/``::

    items/<stem>.mp4   face-crop video (H.264 I+P, fixed GOP)  | <stem>.png for image samples
    items/<stem>.npz   per kept frame: landmarks [N, 5, 2] (crop pixels), boxes [N, 4] and
                       source_landmarks [N, 5, 2] (source pixels), detected [N], source_frame [N]
    items/<stem>.json  done marker (written last), see below
    failures.json      items that failed (unreadable file, no face, too few face frames), with the reason
    prepared.json      written last: the summary; its presence means "prepare finished"

``<stem>`` is :func:`item_stem` of the sample id: a readable part plus a hash
of the whole id, so two ids never share files. The marker records the sample
id, :data:`PREPARE_VERSION` and the source's size and modification time
(:func:`source_fingerprint`); :func:`marker_problem` checks all three on every
read, so an item of another sample, of an older prepare or of a source file
that changed since is never used (it is prepared again).

This module is light (no MTCNN import) because every adapter's ``manifest()`` uses it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from ..data.manifest import Manifest, Sample, apex_index
from ..data.video import IMAGE_SUFFIXES
from ..options import stable_hash
from .options import PrepareOptions

#: bump when a change to prepare changes its output (gives a new prepared folder; markers of
#: other versions are refused). 2: injective item names, checked markers, face-fraction tracks.
PREPARE_VERSION = 2

#: characters of the sample id kept readable in an item's file name
STEM_CHARS = 60

#: option fields that do not change prepared files (excluded from the folder hash)
NOT_HASHED = ("prepared",)


def prepare_fields(options: Any) -> dict[str, Any]:
    """The prepare option values of an adapter's options (``PrepareOptions`` fields), as a dict."""

    names = [f.name for f in dataclasses.fields(PrepareOptions) if f.name not in NOT_HASHED]
    return {n: getattr(options, n) for n in names}


def prepared_dir(cache_dir: Path, dataset: str, root: Path, options: Any) -> Path:
    """The prepared folder of (dataset, root, prepare options)."""
    key = stable_hash({"root": str(Path(root).expanduser().resolve()), "prepare": prepare_fields(options),
                       "v": PREPARE_VERSION}, length=10)
    return Path(cache_dir).expanduser() / "prepared" / f"{dataset}-{key}"


def item_stem(sample_id: str) -> str:
    """File-system-safe, injective stem of a sample id: ``<readable>-<12 hex of sha256(id)>``.

    The readable part is the id with every character outside ``[A-Za-z0-9._-]``
    replaced by ``_`` (at most :data:`STEM_CHARS` characters); the hash keeps ids that
    read alike (``x/y_z`` and ``x_y/z``) apart.
    """
    readable = re.sub(r"[^A-Za-z0-9._-]", "_", sample_id)[:STEM_CHARS].lstrip(".") or "item"
    return f"{readable}-{hashlib.sha256(sample_id.encode()).hexdigest()[:12]}"


def marker_path(pdir: Path, sample_id: str) -> Path:
    """The done marker of a sample's item."""
    return pdir / "items" / f"{item_stem(sample_id)}.json"


def source_fingerprint(path: str | Path) -> dict[str, int] | None:
    """Size and modification time of a sample's source: ``{"bytes", "mtime_ns"}``, or None when it is missing.

    A file gives its own; a frame folder gives the summed size of its images and
    the latest modification time of the folder and its images (adding, removing
    or changing a frame changes it).
    """
    path = Path(path)
    try:
        st = path.stat()
        if not path.is_dir():
            return {"bytes": st.st_size, "mtime_ns": st.st_mtime_ns}
        size, mtime = 0, st.st_mtime_ns
        for child in path.iterdir():
            if child.suffix.lower() in IMAGE_SUFFIXES and child.is_file():
                cst = child.stat()
                size, mtime = size + cst.st_size, max(mtime, cst.st_mtime_ns)
        return {"bytes": size, "mtime_ns": mtime}
    except OSError:
        return None


def marker_problem(marker: dict[str, Any] | None, sample: Sample) -> str | None:
    """Why an "ok" done marker cannot be trusted for ``sample`` (one phrase), or None when it can.

    A marker is trusted when it is written by this :data:`PREPARE_VERSION`, for
    this sample id, and its source fingerprint equals the source's now.
    """
    if marker.get("v") != PREPARE_VERSION or "id" not in marker:
        return f"prepared by an older ferbench (prepare version {marker.get('v', 1)}, now {PREPARE_VERSION})"
    if marker["id"] != sample.id:
        return f"the item's files belong to sample {marker['id']!r}"
    if marker.get("source_fingerprint") != source_fingerprint(sample.path):
        return f"the source {sample.path} changed (size or modification time) since it was prepared"
    return None


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON file's content, or None when missing or unreadable (a torn write)."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so readers see the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def remap_to_prepared(manifest: Manifest, pdir: Path) -> Manifest:
    """The manifest with each prepared sample's path on its face-crop file.

    Samples whose item failed (or is missing) are dropped and listed in
    ``info["dropped"]``; samples whose marker is not trusted (:func:`marker_problem`:
    another sample's, an older prepare's, or a changed source) are dropped too and
    listed in ``info["stale"]`` as (id, reason). ``meta`` gains ``source`` (the raw
    path), ``landmarks5`` (the npz file) and ``face_fraction``; videos get
    ``num_frames`` and, under the adapter's apex convention, ``apex``.
    """

    convention = manifest.info.get("apex_convention")
    samples, dropped, stale = [], [], []
    for s in manifest.samples:
        marker = read_json(marker_path(pdir, s.id))
        if not marker or not marker.get("ok"):
            dropped.append(s.id)
            continue
        problem = marker_problem(marker, s)
        if problem is not None:
            stale.append((s.id, problem))
            continue
        frames = int(marker["frames"])
        meta = {**s.meta, "source": s.path, "landmarks5": str(pdir / "items" / marker["landmarks"]),
                "face_fraction": marker["face_fraction"]}
        apex = s.apex if manifest.modality == "image" else apex_index(convention, frames)
        samples.append(dataclasses.replace(s, path=str(pdir / "items" / marker["file"]), num_frames=frames,
                                           apex=apex, meta=meta))
    info = {**manifest.info, "prepared": str(pdir), "dropped": dropped, "stale": stale}
    return dataclasses.replace(manifest, samples=samples, info=info)

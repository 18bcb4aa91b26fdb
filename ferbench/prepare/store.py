"""Where prepared face tracks live, and how an adapter's manifest is pointed at them.

A prepared dataset is a folder
``cache_dir/prepared/<dataset>-<hash of the resolved root and the prepare options>/``::

    items/<sample>.mp4   face-crop video (H.264 I+P, fixed GOP)  | <sample>.png for image samples
    items/<sample>.npz   boxes [N, 4] and 5-point landmarks [N, 5, 2] (crop pixels), source-frame boxes
    items/<sample>.json  done marker: {"ok": true, "file", "frames", ...} or {"ok": false, "reason"}
    failures.json        items that failed (unreadable file, no face), with the reason
    prepared.json        written last: the summary; its presence means "prepare finished"

This module is light (no MTCNN import) because every adapter's ``manifest()`` uses it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path
from typing import Any

from ..data.manifest import Manifest
from ..options import stable_hash

#: bump when a change to prepare changes its output (gives a new prepared folder)
PREPARE_VERSION = 1

#: option fields that do not change prepared files (excluded from the folder hash)
NOT_HASHED = ("prepared",)


def prepare_fields(options: Any) -> dict[str, Any]:
    """The prepare option values of an adapter's options (``PrepareOptions`` fields), as a dict."""
    from ..datasets.adapters.base import PrepareOptions

    names = [f.name for f in dataclasses.fields(PrepareOptions) if f.name not in NOT_HASHED]
    return {n: getattr(options, n) for n in names}


def prepared_dir(cache_dir: Path, dataset: str, root: Path, options: Any) -> Path:
    """The prepared folder of (dataset, root, prepare options)."""
    key = stable_hash({"root": str(Path(root).expanduser().resolve()), "prepare": prepare_fields(options),
                       "v": PREPARE_VERSION}, length=10)
    return Path(cache_dir).expanduser() / "prepared" / f"{dataset}-{key}"


def item_stem(sample_id: str) -> str:
    """File-system-safe stem of a sample id."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", sample_id)


def marker_path(pdir: Path, sample_id: str) -> Path:
    return pdir / "items" / f"{item_stem(sample_id)}.json"


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

    Samples whose item failed (or is missing) are dropped; ``meta`` gains
    ``source`` (the raw path) and ``landmarks5`` (the npz file); videos get
    ``num_frames`` and, under the adapter's apex convention, ``apex``.
    """
    from ..datasets.adapters.layout import apex_index

    convention = manifest.info.get("apex_convention")
    samples, dropped = [], []
    for s in manifest.samples:
        marker = read_json(marker_path(pdir, s.id))
        if not marker or not marker.get("ok"):
            dropped.append(s.id)
            continue
        frames = int(marker["frames"])
        meta = {**s.meta, "source": s.path, "landmarks5": str(pdir / "items" / marker["landmarks"])}
        apex = s.apex if manifest.modality == "image" else apex_index(convention, frames)
        samples.append(dataclasses.replace(s, path=str(pdir / "items" / marker["file"]), num_frames=frames,
                                           apex=apex, meta=meta))
    info = {**manifest.info, "prepared": str(pdir), "dropped": dropped}
    return dataclasses.replace(manifest, samples=samples, info=info)

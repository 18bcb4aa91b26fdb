"""The ``ferbench prepare`` driver: every sample of a raw manifest -> an aligned face track.

Per item (one sample): decode (video, frame folder or image), detect faces
with MTCNN, follow the clip's face (:mod:`.tracker`: by overlap, never a
jump), check that it is found in at least ``min_face_fraction`` of the frames,
fill gaps of at most ``max_gap`` frames and smooth the track (:mod:`.cleanup`),
align on the eyes and crop a square, then write the face-crop video (H.264
I+P, fixed GOP) of the frames the track covers (frames in longer gaps are left
out) or, for image samples, a PNG, plus an npz of boxes and 5-point landmarks
and, last, a JSON done marker. Items run in worker processes; a re-run skips
items whose marker is trusted (:func:`.store.marker_problem`); items that fail
(unreadable file, no face, too few face frames) are reported in
``failures.json`` and do not stop the others; items whose face is found in
fewer than :data:`LOW_FACE_FRACTION` of their frames are listed at the end;
``prepared.json`` is written last. See :mod:`.store` for the folder layout.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import multiprocessing
import os
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..data.manifest import Manifest, Sample
from ..data.video import read_frames
from ..errors import FerbenchError
from .store import (PREPARE_VERSION, atomic_write_text, item_stem, marker_path, marker_problem, read_json,
                    source_fingerprint)

_DETECTOR: dict[tuple, Any] = {}

#: prepared items whose face is found in fewer than this fraction of frames are listed at the end of a run
LOW_FACE_FRACTION = 0.9


@dataclasses.dataclass
class PrepareReport:
    """Outcome of one prepare run.

    Attributes:
        dir: the prepared folder.
        total: samples in the manifest.
        prepared: items processed now.
        skipped: items already done by an earlier run.
        failed: (sample id, reason) of the items that failed.
        redone: items prepared again because their marker was not trusted (older prepare, changed source).
        face_fractions: per prepared item (now or before), the fraction of its frames where the face was found.
        frames: frames processed now.
        cpu_seconds: CPU seconds the items took (summed over workers).
        wall_seconds: wall time of the run.
    """

    dir: Path
    total: int
    prepared: int = 0
    skipped: int = 0
    failed: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    redone: int = 0
    face_fractions: dict[str, float] = dataclasses.field(default_factory=dict)
    frames: int = 0
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0

    @property
    def low_face(self) -> list[tuple[str, float]]:
        """(id, face fraction) of the prepared items below :data:`LOW_FACE_FRACTION`, lowest first."""
        low = [(i, f) for i, f in self.face_fractions.items() if f < LOW_FACE_FRACTION]
        return sorted(low, key=lambda x: (x[1], x[0]))

    @property
    def fps_per_core(self) -> float:
        """Frames per CPU second (per core)."""
        return self.frames / self.cpu_seconds if self.cpu_seconds > 0 else 0.0

    def summary(self) -> str:
        return (f"prepared {self.prepared}, skipped {self.skipped} (already done), failed {len(self.failed)} of "
                f"{self.total} items in {self.wall_seconds:.1f} s; throughput {self.fps_per_core:.1f} frames/s per core "
                f"({self.frames} frames, {self.cpu_seconds:.1f} CPU s)")


def _detector(min_face: int, detect_side: int):
    key = (min_face, detect_side)
    if key not in _DETECTOR:
        from .faces import FaceDetector

        _DETECTOR[key] = FaceDetector(min_face=min_face, detect_side=detect_side)
    return _DETECTOR[key]


def _worker_init() -> None:
    import torch

    torch.set_num_threads(1)


def prepare_item(sample: Sample, modality: str, pdir: str, opts: dict[str, Any]) -> dict[str, Any]:
    """Prepare one sample; never raises for bad media (returns ``{"ok": False, "reason": ...}``).

    Returns a dict with ``id``, ``ok``, ``frames`` (source frames), ``cpu`` (CPU seconds),
    ``face_fraction`` (once faces were searched) and ``reason`` on failure.
    """
    from .align import align_frame
    from .cleanup import clean_track
    from .encode import frame_rate, write_h264, write_png

    t0 = time.process_time()
    items = Path(pdir) / "items"
    stem = item_stem(sample.id)
    marker_file = marker_path(Path(pdir), sample.id)
    marker_file.unlink(missing_ok=True)  # an item being redone is not done until its new marker is written
    fingerprint = source_fingerprint(sample.path)
    result: dict[str, Any] = {"id": sample.id, "ok": False, "frames": 0}
    try:
        frames = read_frames(sample.path)
    except FerbenchError as err:
        return {**result, "reason": f"unreadable: {err}", "cpu": time.process_time() - t0}
    except Exception as err:  # noqa: BLE001 - any decoder failure is this item's failure, not the run's
        return {**result, "reason": f"unreadable: {sample.path}: {type(err).__name__}: {err}", "cpu": time.process_time() - t0}
    n, h, w = frames.shape[:3]
    boxes, points, probs = _detector(opts["min_face"], opts["detect_side"]).track(frames)
    detected = ~np.isnan(probs)
    fraction = float(detected.mean())
    result.update(frames=n, face_fraction=fraction)
    whole_frame = not detected.any() or fraction < opts["min_face_fraction"]
    if whole_frame:
        if opts["no_face"] != "full":
            if not detected.any():
                reason = f"no face: MTCNN found no face in any of {n} frames of {sample.path}"
            else:
                reason = (f"too few face frames: the face is found in {int(detected.sum())} of {n} frames ({fraction:.0%}), "
                          f"below min_face_fraction={opts['min_face_fraction']} (--dataset-opt min_face_fraction=F lowers the bar; "
                          f"no_face=full keeps the whole frame)")
            return {**result, "reason": reason, "cpu": time.process_time() - t0}
        side = min(h, w) / opts["margin"]
        boxes = np.tile([(w - side) / 2, (h - side) / 2, (w + side) / 2, (h + side) / 2], (n, 1))
        points, covered = np.full((n, 5, 2), np.nan), np.ones(n, bool)
    else:
        boxes, points, covered = clean_track(boxes, points, opts["smooth"], opts["max_gap"])
    keep = np.flatnonzero(covered)
    size = opts["face_size"]
    crops, local = [], []
    for i in keep:
        crop, pts = align_frame(frames[i], boxes[i], None if np.isnan(points[i]).all() else points[i], size, opts["margin"])
        crops.append(crop)
        local.append(pts)
    items.mkdir(parents=True, exist_ok=True)
    is_image = modality == "image" and n == 1
    file = f"{stem}.png" if is_image else f"{stem}.mp4"
    if is_image:
        write_png(items / file, crops[0])
    else:
        fps = frame_rate(Path(sample.path), float(opts["fps"])) if Path(sample.path).is_file() else float(opts["fps"])
        write_h264(items / file, np.stack(crops), fps=fps, gop=opts["gop"], crf=opts["crf"])
    tmp = items / f".{stem}.tmp{os.getpid()}.npz"
    np.savez_compressed(tmp, landmarks=np.stack(local).astype(np.float32), boxes=boxes[keep].astype(np.float32),
                        source_landmarks=points[keep].astype(np.float32), detected=detected[keep],
                        source_frame=keep.astype(np.int64))
    os.replace(tmp, items / f"{stem}.npz")
    marker = {"ok": True, "v": PREPARE_VERSION, "id": sample.id, "file": file, "landmarks": f"{stem}.npz",
              "frames": len(keep), "source_frames": n, "detected_frames": int(detected.sum()), "face_fraction": fraction,
              "whole_frame": whole_frame, "source": sample.path, "source_fingerprint": fingerprint,
              "subject": sample.subject, "frame_size": [w, h]}
    atomic_write_text(marker_file, json.dumps(marker, sort_keys=True))
    return {**result, "ok": True, "cpu": time.process_time() - t0}


def prepare_manifest(manifest: Manifest, pdir: Path, opts: dict[str, Any], workers: int = 1, progress: bool = True,
                     log: Callable[[str], None] = print) -> PrepareReport:
    """Prepare every sample of ``manifest`` into ``pdir`` (see module docstring); returns the report."""
    from tqdm import tqdm

    pdir = Path(pdir)
    stems: dict[str, int] = {}
    for k, s in enumerate(manifest.samples):
        other = manifest.samples[stems.setdefault(item_stem(s.id), k)]
        if other is not s:  # the same id twice (a hash collision of two ids is as unlikely as a SHA-256 clash)
            raise FerbenchError(f"samples {other.path} and {s.path} of dataset '{manifest.dataset}' have the same id "
                                f"{s.id!r} and would share prepared files; sample ids must be unique (fix the dataset adapter)")
    (pdir / "items").mkdir(parents=True, exist_ok=True)
    report = PrepareReport(dir=pdir, total=len(manifest.samples))
    todo = []
    for s in manifest.samples:
        marker = read_json(marker_path(pdir, s.id))
        if marker and marker.get("ok") and marker_problem(marker, s) is None:
            report.skipped += 1
            report.face_fractions[s.id] = float(marker["face_fraction"])
        else:
            report.redone += bool(marker and marker.get("ok"))
            todo.append(s)
    if report.redone:
        log(f"note: preparing {report.redone} items again: their prepared files are from an older prepare, "
            f"of another sample, or their source changed since")
    start = time.time()
    bar = tqdm(total=len(todo), desc=f"prepare {manifest.dataset}", unit="item", disable=not progress)

    def record(sample: Sample, out: dict[str, Any]) -> None:
        report.cpu_seconds += out.get("cpu", 0.0)
        if out["ok"]:
            report.prepared += 1
            report.frames += out["frames"]
            report.face_fractions[sample.id] = out["face_fraction"]
        else:
            report.failed.append((sample.id, out["reason"]))
        bar.update(1)

    workers = max(1, min(workers, len(todo)))
    if workers == 1:
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # one core, like a worker (and a fair frames/s per core)
        try:
            for s in todo:
                record(s, prepare_item(s, manifest.modality, str(pdir), opts))
        finally:
            torch.set_num_threads(threads)
    else:
        ctx = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init) as pool:
            futures = {pool.submit(prepare_item, s, manifest.modality, str(pdir), opts): s for s in todo}
            for future in concurrent.futures.as_completed(futures):
                try:
                    out = future.result()
                except Exception as err:  # noqa: BLE001 - a crashed worker fails its item, the run goes on
                    out = {"ok": False, "reason": f"worker failed: {type(err).__name__}: {err}"}
                record(futures[future], out)
    bar.close()
    report.wall_seconds = time.time() - start
    failures = [{"id": i, "reason": r} for i, r in sorted(report.failed)]
    atomic_write_text(pdir / "failures.json", json.dumps(failures, indent=1))
    low = report.low_face
    summary = {"dataset": manifest.dataset, "root": manifest.root, "samples": report.total, "version": PREPARE_VERSION,
               "failed": len(report.failed), "options": opts,
               "low_face_fraction": [{"id": i, "face_fraction": round(f, 4)} for i, f in low]}
    atomic_write_text(pdir / "prepared.json", json.dumps(summary, indent=1, sort_keys=True))
    for sample_id, reason in report.failed:
        log(f"failed: {sample_id}: {reason}")
    if low:
        log(f"{len(low)} prepared item(s) have their face in fewer than {LOW_FACE_FRACTION:.0%} of their frames "
            f"(gaps over max_gap={opts['max_gap']} frames are cut from the clip; min_face_fraction="
            f"{opts['min_face_fraction']} fails items below it):")
        for sample_id, fraction in low:
            log(f"low face fraction: {sample_id}: {fraction:.0%}")
    return report


def prepare_dataset(adapter: Any, workers: int = 1, progress: bool = True, log: Callable[[str], None] = print) -> PrepareReport:
    """Prepare a real-dataset adapter's raw manifest into its prepared folder."""
    from .store import prepare_fields

    manifest = adapter.source_manifest()
    if not manifest.samples:
        raise FerbenchError(f"dataset '{adapter.name}' has no samples under {adapter.root}; check the path and layout")
    pdir = adapter.prepared_dir()
    log(f"preparing {len(manifest.samples)} samples of {adapter.name} from {manifest.root} into {pdir} ({workers} workers)")
    return prepare_manifest(manifest, pdir, prepare_fields(adapter.options), workers=workers, progress=progress, log=log)

"""The ``ferbench prepare`` driver: every sample of a raw manifest -> an aligned face track.

Per item (one sample): decode (video, frame folder or image), detect and
track the face with MTCNN, fill and smooth the track, align on the eyes and
crop a square, then write the face-crop video (H.264 I+P, fixed GOP) or, for
image samples, a PNG, plus an npz of boxes and 5-point landmarks and, last, a
JSON done marker. Items run in worker processes; a re-run skips items with a
done marker; items that fail (unreadable file, no face) are reported in
``failures.json`` and do not stop the others; ``prepared.json`` is written
last. See :mod:`.store` for the folder layout.
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
from .store import atomic_write_text, item_stem, marker_path, read_json

_DETECTOR: dict[tuple, Any] = {}


@dataclasses.dataclass
class PrepareReport:
    """Outcome of one prepare run.

    Attributes:
        dir: the prepared folder.
        total: samples in the manifest.
        prepared: items processed now.
        skipped: items already done by an earlier run.
        failed: (sample id, reason) of the items that failed.
        frames: frames processed now.
        cpu_seconds: CPU seconds the items took (summed over workers).
        wall_seconds: wall time of the run.
    """

    dir: Path
    total: int
    prepared: int = 0
    skipped: int = 0
    failed: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    frames: int = 0
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0

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

    Returns a dict with ``id``, ``ok``, ``frames``, ``cpu`` (CPU seconds) and ``reason`` on failure.
    """
    from .align import align_frame
    from .encode import frame_rate, write_h264, write_png
    from .track import clean_track

    t0 = time.process_time()
    items = Path(pdir) / "items"
    stem = item_stem(sample.id)
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
    if not detected.any():
        if opts["no_face"] != "full":
            return {**result, "frames": n, "reason": f"no face: MTCNN found no face in any of {n} frames of {sample.path}",
                    "cpu": time.process_time() - t0}
        side = min(h, w) / opts["margin"]
        boxes = np.tile([(w - side) / 2, (h - side) / 2, (w + side) / 2, (h + side) / 2], (n, 1))
    else:
        boxes, points = clean_track(boxes, points, opts["smooth"])
    size = opts["face_size"]
    crops, local = [], []
    for i in range(n):
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
    np.savez_compressed(tmp, landmarks=np.stack(local).astype(np.float32), boxes=boxes.astype(np.float32),
                        source_landmarks=points.astype(np.float32), detected=detected)
    os.replace(tmp, items / f"{stem}.npz")
    marker = {"ok": True, "id": sample.id, "file": file, "landmarks": f"{stem}.npz", "frames": n,
              "detected_frames": int(detected.sum()), "source": sample.path, "subject": sample.subject,
              "source_size": [w, h]}
    atomic_write_text(marker_path(Path(pdir), sample.id), json.dumps(marker, sort_keys=True))
    return {**result, "ok": True, "frames": n, "cpu": time.process_time() - t0}


def prepare_manifest(manifest: Manifest, pdir: Path, opts: dict[str, Any], workers: int = 1, progress: bool = True,
                     log: Callable[[str], None] = print) -> PrepareReport:
    """Prepare every sample of ``manifest`` into ``pdir`` (see module docstring); returns the report."""
    from tqdm import tqdm

    pdir = Path(pdir)
    (pdir / "items").mkdir(parents=True, exist_ok=True)
    report = PrepareReport(dir=pdir, total=len(manifest.samples))
    todo = []
    for s in manifest.samples:
        marker = read_json(marker_path(pdir, s.id))
        if marker and marker.get("ok"):
            report.skipped += 1
        else:
            todo.append(s)
    start = time.time()
    bar = tqdm(total=len(todo), desc=f"prepare {manifest.dataset}", unit="item", disable=not progress)

    def record(sample: Sample, out: dict[str, Any]) -> None:
        report.cpu_seconds += out.get("cpu", 0.0)
        if out["ok"]:
            report.prepared += 1
            report.frames += out["frames"]
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
    summary = {"dataset": manifest.dataset, "root": manifest.root, "samples": report.total,
               "failed": len(report.failed), "options": opts}
    atomic_write_text(pdir / "prepared.json", json.dumps(summary, indent=1, sort_keys=True))
    for sample_id, reason in report.failed:
        log(f"failed: {sample_id}: {reason}")
    return report


def prepare_dataset(adapter: Any, workers: int = 1, progress: bool = True, log: Callable[[str], None] = print) -> PrepareReport:
    """Prepare a real-dataset adapter's raw manifest into its prepared folder."""
    from .store import prepare_fields

    manifest = adapter.raw_manifest()
    if not manifest.samples:
        raise FerbenchError(f"dataset '{adapter.name}' has no samples under {adapter.root}; check the path and layout")
    pdir = adapter.prepared_dir()
    log(f"preparing {len(manifest.samples)} samples of {adapter.name} from {manifest.root} into {pdir} ({workers} workers)")
    return prepare_manifest(manifest, pdir, prepare_fields(adapter.options), workers=workers, progress=progress, log=log)

"""Predict expressions of new videos and images with a loaded bundle.

Per file: decode a chunk at a time (:mod:`.media`), find and crop the face
(:mod:`.face_track`, MTCNN every k-th frame, tracked between), cut sliding
windows (:mod:`.windows`), write each window's crops the way ``ferbench prepare``
writes a face track (H.264 I+P with the bundle's GOP and CRF; a PNG for an image),
and hand that file to the bundle's own input representation (``load`` then
``sample(train=False)``), so decoding, frame choice, resizing, colour order and
normalisation are exactly the training run's. Windows from all files are
batched through the model(s); a file's probabilities are the mean over its
windows that have enough face frames. A file that cannot be read, or shows no
face, gets a row saying so and never stops the others.

With ``faces="given"`` the media already are face crops: a video that fits in one
window (and any image) goes to the input as the file itself, exactly as the
engine reads a dataset sample.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import numpy as np
import torch

from ..data.loading import collate
from ..data.manifest import Sample
from ..errors import FerbenchError
from .media import DEFAULT_FPS, decode_chunks, expand_paths, is_image
from .options import PredictOptions
from .results import FilePrediction, WindowPrediction
from .windows import Window, WindowSlicer

if TYPE_CHECKING:  # pragma: no cover
    from ..bundle.load import Bundle

#: seed of the (unused by deterministic inputs) generator handed to ``sample(train=False)``
SAMPLE_SEED = 0


class _FileState:
    """A file being predicted: counts, its windows and their probabilities."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fps = DEFAULT_FPS
        self.frames = 0
        self.face_frames = 0
        self.windows: list[WindowPrediction] = []
        self.probs: dict[int, np.ndarray] = {}
        self.error = ""

    def result(self, classes: list[str], keep_windows: bool) -> FilePrediction:
        base = dict(path=self.path, face_frames=self.face_frames, frames=self.frames, fps=self.fps)
        if self.error:
            return FilePrediction(status="unreadable", error=self.error, **base)
        for i, w in enumerate(self.windows):
            if i in self.probs:
                w.probabilities = {c: float(p) for c, p in zip(classes, self.probs[i])}
        windows = self.windows if keep_windows else []
        if not self.probs:
            reason = (f"no window of {self.frames} frames had a face in enough of its frames "
                      f"({self.face_frames} face frames)") if self.frames else "no frame decoded"
            return FilePrediction(status="no face", error=reason, windows=windows, **base)
        mean = np.mean(np.stack(list(self.probs.values())), axis=0)
        probs = {c: float(p) for c, p in zip(classes, mean)}
        return FilePrediction(status="ok", label=classes[int(mean.argmax())], probabilities=probs, windows=windows, **base)


class Predictor:
    """Runs a :class:`~ferbench.bundle.load.Bundle` on files (see the module docstring)."""

    def __init__(self, bundle: "Bundle", options: PredictOptions | None = None) -> None:
        self.bundle = bundle
        self.options = options or PredictOptions()
        self.pre = bundle.info.preprocessing
        self.window = self.options.window or self.pre.window_frames
        self.stride = self.options.stride or self.window
        self.max_gap = self.options.max_gap if self.options.max_gap >= 0 else self.pre.max_gap
        self.min_face_fraction = (self.options.min_face_fraction if self.options.min_face_fraction >= 0
                                  else self.pre.min_face_fraction)
        self._detectors: dict[int, object] = {}
        self._bar = None
        self._count = 0
        #: frames MTCNN ran on during the last :meth:`predict`
        self.detections = 0

    @property
    def detect_side(self) -> int:
        return self.options.detect_side or self.pre.detect_side

    def min_face(self, height: int, width: int) -> int:
        """The smallest face searched in frames of this size (pixels at detection scale)."""
        if not self.options.min_face:
            return self.pre.min_face
        scale = min(1.0, self.detect_side / max(height, width))
        return max(self.pre.min_face, min(self.options.min_face, int(min(height, width) * scale) // 3))

    def detector(self, height: int = 360, width: int = 640):
        """The MTCNN detector for frames of this size (built on first use; weights ship with facenet-pytorch)."""
        min_face = self.min_face(height, width)
        if min_face not in self._detectors:
            from ..prepare.faces import FaceDetector

            self._detectors[min_face] = FaceDetector(min_face=min_face, detect_side=self.detect_side)
        return self._detectors[min_face]

    # ------------------------------------------------------------------ public
    def predict(self, items: list[str | Path]) -> list[FilePrediction]:
        """One :class:`FilePrediction` per file of ``items`` (files and folders), in order."""
        files = expand_paths(items)
        self.detections = 0
        threads = torch.get_num_threads()
        if self.options.threads:
            torch.set_num_threads(self.options.threads)
        try:
            return self._predict(files)
        finally:
            torch.set_num_threads(threads)

    def _predict(self, files: list[Path]) -> list[FilePrediction]:
        from tqdm.auto import tqdm

        states: list[_FileState] = []
        pending: list[tuple[_FileState, int, dict[str, torch.Tensor]]] = []
        # one bar of decoded frames (a long video moves it too), its label naming the file
        self._bar = tqdm(unit="frame", disable=not self.options.progress, leave=False)
        with tempfile.TemporaryDirectory(prefix="ferbench-predict-") as tmp, self._bar:
            for n, path in enumerate(files):
                self._bar.set_description(f"predict {n + 1}/{len(files)} {path.name}")
                state = _FileState(path)
                states.append(state)
                try:
                    for index, item in self._items(state, Path(tmp)):
                        pending.append((state, index, item))
                        if len(pending) >= self.options.batch_size:
                            self._flush(pending)
                except FerbenchError as err:
                    state.error = str(err).splitlines()[0]
                except Exception as err:  # noqa: BLE001 - a bad file never stops the batch
                    state.error = f"{path}: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
            self._flush(pending)
        return [s.result(self.bundle.classes, self.options.timeline) for s in states]

    # ------------------------------------------------------------------ internals
    def _flush(self, pending: list[tuple[_FileState, int, dict[str, torch.Tensor]]]) -> None:
        if not pending:
            return
        items = [dict(item, label=torch.tensor(0), subject=torch.tensor(-1), index=torch.tensor(i))
                 for i, (_, _, item) in enumerate(pending)]
        batch = collate(items)
        probs = self.bundle.probabilities(batch.x, {k: batch.side[k] for k in self.bundle.side_inputs})
        for (state, index, _), p in zip(pending, probs):
            if not state.error:
                state.probs[index] = p
        pending.clear()

    def _crop_stream(self, state: _FileState) -> Iterator[tuple[list[np.ndarray] | np.ndarray, np.ndarray]]:
        """The file's face crops and face flags, a chunk at a time (the frames themselves for faces=given)."""
        fps, chunks = decode_chunks(state.path, self.options.chunk)
        state.fps = fps
        tracker = None
        for chunk in chunks:
            state.frames += len(chunk)
            if self._bar is not None:
                self._bar.update(len(chunk))
            if self.options.faces == "given":
                yield chunk, np.ones(len(chunk), bool)
                continue
            if tracker is None:
                from .face_track import ChunkedFaceTracker

                tracker = ChunkedFaceTracker(
                    self.detector(*chunk[0].shape[:2]), face_size=self.pre.face_size, margin=self.pre.margin,
                    smooth_window=self.pre.smooth, every=self.options.detect_every,
                    refine_iou=self.options.refine_iou, max_gap=self.max_gap)
            yield tracker.process(chunk)
        if tracker is not None:
            yield tracker.finish()
            self.detections += tracker.detections

    def _windows(self, state: _FileState) -> Iterator[tuple[Window, bool]]:
        """The file's windows, each with whether it is the whole file (known once the next one exists)."""
        image = is_image(state.path)
        slicer = WindowSlicer(1 if image else self.window, 1 if image else self.stride)

        def windows() -> Iterator[Window]:
            for crops, faces in self._crop_stream(state):
                state.face_frames += int(faces.sum())
                yield from slicer.push(crops, faces)
            yield from slicer.finish()

        held: Window | None = None
        for w in windows():
            if held is not None:
                yield held, False
            held = w
        if held is not None:
            yield held, held.start == 0 and held.end == slicer.total

    def _items(self, state: _FileState, tmp: Path) -> Iterator[tuple[int, dict[str, torch.Tensor]]]:
        """Input items of the file's scored windows (every window is listed in ``state.windows``)."""
        given = self.options.faces == "given"
        for w, whole in self._windows(state):
            state.windows.append(WindowPrediction(w.start, w.end, w.start / state.fps, w.end / state.fps, w.face_rate))
            if w.face_rate < self.min_face_fraction or w.face_frames == 0:
                continue
            if given and (whole or is_image(state.path)):
                path = state.path
            else:
                path = self._write_window(w, tmp, image=is_image(state.path), fps=state.fps)
            yield len(state.windows) - 1, self._item(path, w.end - w.start)

    def _write_window(self, w: Window, tmp: Path, *, image: bool, fps: float) -> Path:
        from ..prepare.encode import write_h264, write_png

        self._count += 1
        crops = w.crops
        if image:
            path = tmp / f"w{self._count}.png"
            write_png(path, crops[0])
            return path
        h, wd = crops.shape[1] - crops.shape[1] % 2, crops.shape[2] - crops.shape[2] % 2
        path = tmp / f"w{self._count}.mp4"
        write_h264(path, np.ascontiguousarray(crops[:, :h, :wd]), fps=fps, gop=self.pre.gop, crf=self.pre.crf)
        return path

    def _item(self, path: Path, frames: int) -> dict[str, torch.Tensor]:
        rep = self.bundle.input
        sample = Sample(id=f"predict/{path.name}", path=str(path), label=0, subject="predict",
                        apex=self.pre.apex_of(frames), num_frames=frames)
        loaded = rep.load(sample)
        item = dict(rep.sample(loaded, train=False, generator=torch.Generator().manual_seed(SAMPLE_SEED)))
        if path.parent.name.startswith("ferbench-predict-") and path.is_file():
            path.unlink()
        return item

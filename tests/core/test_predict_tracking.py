"""Prediction's building blocks without MTCNN: windows, chunked decoding, the detect-every-k schedule."""

from __future__ import annotations

import numpy as np
import pytest

from ferbench.errors import VideoDecodeError
from ferbench.predict.face_track import ChunkedFaceTracker
from ferbench.predict.media import decode_chunks, expand_paths
from ferbench.predict.options import PredictOptions
from ferbench.predict.windows import WindowSlicer
from ferbench.errors import OptionError
from test_datasets_adapters import write_video


def spans(window: int, stride: int, total: int, chunk: int = 5) -> list[tuple[int, int]]:
    slicer = WindowSlicer(window, stride)
    out = []
    frames = np.zeros((total, 2, 2, 3), np.uint8)
    for start in range(0, total, chunk):
        out += [(w.start, w.end) for w in slicer.push(frames[start:start + chunk], np.ones(min(chunk, total - start)))]
    return out + [(w.start, w.end) for w in slicer.finish()]


def test_windows_cover_the_video_and_a_short_one_is_one_window():
    assert spans(8, 4, 8) == [(0, 8)]
    assert spans(8, 4, 5) == [(0, 5)]
    assert spans(8, 4, 20) == [(0, 8), (4, 12), (8, 16), (12, 20)]
    assert spans(8, 4, 22) == [(0, 8), (4, 12), (8, 16), (12, 20), (14, 22)]
    assert spans(1, 1, 3) == [(0, 1), (1, 2), (2, 3)]
    assert spans(8, 4, 0) == []


def test_window_face_rate_counts_face_frames():
    slicer = WindowSlicer(4, 4)
    faces = np.array([1, 1, 0, 0, 1, 1, 1, 1], bool)
    windows = list(slicer.push(np.zeros((8, 2, 2, 3), np.uint8), faces))
    assert [w.face_rate for w in windows] == [0.5, 1.0] and windows[0].crops.shape == (4, 2, 2, 3)


def test_decode_chunks_streams_and_reports_bad_files(tmp_path):
    frames = np.random.default_rng(0).integers(0, 255, (23, 32, 48, 3), dtype=np.uint8)
    write_video(tmp_path / "v.avi", frames)
    fps, chunks = decode_chunks(tmp_path / "v.avi", 10)
    assert fps == 25 and [len(c) for c in chunks] == [10, 10, 3]
    (tmp_path / "bad.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not a video")
    for bad in (tmp_path / "bad.mp4", tmp_path / "missing.mp4"):
        with pytest.raises(VideoDecodeError):
            decode_chunks(bad, 10)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "notes.txt").write_text("x")
    assert expand_paths([tmp_path, tmp_path / "missing.mp4"]) == [tmp_path / "bad.mp4", tmp_path / "v.avi",
                                                                 tmp_path / "missing.mp4"]


def test_predict_options_are_checked():
    with pytest.raises(OptionError, match="detect_every must be >= 1"):
        PredictOptions(detect_every=0)


class FakeDetector:
    """A face that is a bright square moving through dark frames; the box is read off the pixels."""

    def __init__(self):
        self.calls = 0
        self.frames = 0

    def track(self, frames):
        self.calls += 1
        self.frames += len(frames)
        n = len(frames)
        boxes, points, probs = np.full((n, 4), np.nan), np.full((n, 5, 2), np.nan), np.full(n, np.nan)
        for i, f in enumerate(frames):
            ys, xs = np.nonzero(f[..., 0] > 128)
            if len(xs):
                boxes[i] = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
                cx, cy = (xs.min() + xs.max()) / 2, ys.min() + 4
                points[i] = [[cx - 5, cy], [cx + 5, cy], [cx, cy + 6], [cx - 4, cy + 10], [cx + 4, cy + 10]]
                probs[i] = 0.99
        return boxes, points, probs


def moving_face(n: int, speed: float, present=None) -> tuple[np.ndarray, np.ndarray]:
    frames = np.zeros((n, 120, 200, 3), np.uint8)
    xs = np.zeros(n)
    for t in range(n):
        x = int(10 + speed * t) % 150
        xs[t] = x
        if present is None or present[t]:
            frames[t, 40:80, x:x + 40] = 200
    return frames, xs


def tracker(detector, every=5):
    return ChunkedFaceTracker(detector, face_size=32, margin=1.3, smooth_window=1, every=every, refine_iou=0.5,
                              max_gap=3)


def test_slow_faces_are_detected_every_kth_frame_and_interpolated_exactly():
    det = FakeDetector()
    frames, _ = moving_face(40, speed=1.0)
    tr = tracker(det, every=5)
    crops, faces = [], []
    for start in range(0, 40, 16):
        c, f = tr.process(frames[start:start + 16])
        crops.append(c)
        faces.append(f)
    c, f = tr.finish()
    crops.append(c)
    faces.append(f)
    crops, faces = np.concatenate(crops), np.concatenate(faces)
    assert faces.all() and crops.shape == (40, 32, 32, 3)
    assert tr.detections == 12  # frames 0, 5, ..., 35 and the last one, plus an anchor per later chunk; not 40
    # the crop is centred on the square in every frame, tracked or detected
    centre = crops[:, 12:20, 12:20, 0].mean(axis=(1, 2))
    assert (centre > 150).all()


def test_fast_motion_and_disappearing_faces_fall_back_to_per_frame_detection():
    det = FakeDetector()
    present = np.ones(30, bool)
    present[12:20] = False  # longer than max_gap (3): no face
    present[24:26] = False  # a short gap: bridged
    frames, _ = moving_face(30, speed=9.0, present=present)
    tr = tracker(det, every=5)
    crops, faces = (np.concatenate(x) for x in zip(tr.process(frames), tr.finish()))
    assert len(crops) == 30 and tr.detections >= 25  # boxes 5 frames apart do not overlap: the frames between are detected
    assert faces[:12].all() and not faces[12:20].any() and faces[20:].all()
    centre = crops[present][:, 12:20, 12:20, 0].mean(axis=(1, 2))
    assert (centre > 150).all()

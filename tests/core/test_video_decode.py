"""``ferbench.data.video``: truncated videos fail with a reason; decoded frames are writable arrays."""

from __future__ import annotations

import warnings

import av
import numpy as np
import pytest
import torch
from PIL import Image

from ferbench.data.video import MIN_DECODED_FRACTION, read_frames, read_video
from ferbench.errors import VideoDecodeError


def write_avi(path, n: int = 40, side: int = 64) -> None:
    """An MPEG-4 AVI of ``n`` noisy frames (the AVI header declares ``n``; every frame is an I-frame)."""
    rng = np.random.default_rng(0)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=25)
        stream.width = stream.height = side
        stream.pix_fmt = "yuv420p"
        stream.options = {"g": "1"}
        for _ in range(n):
            frame = rng.integers(0, 255, (side, side, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def test_a_truncated_video_fails_with_the_declared_and_decoded_counts(tmp_path):
    path = tmp_path / "clip.avi"
    write_avi(path)
    assert read_video(path).shape == (40, 64, 64, 3)
    data = path.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 5])  # the header survives, 2 of the 40 frames do
    with av.open(str(cut)) as c:
        assert c.streams.video[0].frames == 40  # the container still declares 40
    with pytest.raises(VideoDecodeError, match=r"truncated video: .*cut\.avi declares 40 frames but only \d+ decode") as err:
        read_video(cut)
    assert "\n" not in str(err.value)
    # a short tail loss (within MIN_DECODED_FRACTION of the declared count) is kept
    tail = tmp_path / "tail.avi"
    tail.write_bytes(data[: len(data) * 95 // 100])  # 38 of 40 frames decode
    frames = read_video(tail)
    assert MIN_DECODED_FRACTION * 40 <= len(frames) < 40


def test_decoded_images_are_writable_and_torch_does_not_warn(tmp_path):
    Image.new("RGB", (20, 10), (10, 200, 30)).save(tmp_path / "a.png")
    for size in (None, (8, 8)):
        frames = read_frames(tmp_path / "a.png", size)
        assert frames.flags.writeable
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "The given NumPy array is not writable" would raise here
            torch.from_numpy(frames)
    write_avi(tmp_path / "v.avi", n=3, side=16)
    assert read_video(tmp_path / "v.avi", size=(8, 8)).flags.writeable

"""Re-encoding of face tracks: H.264 I+P frames with a fixed GOP, written atomically."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image


def write_h264(path: Path, frames: np.ndarray, fps: float, gop: int, crf: int) -> None:
    """Write uint8 RGB frames [N, H, W, 3] (H, W even) as an MP4 of H.264 I+P frames.

    libx264 options: ``bf=0`` (no B-frames), ``sc_threshold=0`` (no scene-cut
    I-frames), ``g = keyint_min = gop`` (an I-frame exactly every ``gop``
    frames), ``pix_fmt=yuv420p``. The file appears only when complete.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}.mp4")
    rate = Fraction(fps).limit_denominator(1001)
    with av.open(str(tmp), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        stream.options = {"bf": "0", "sc_threshold": "0", "g": str(gop), "keyint_min": str(gop),
                          "crf": str(crf), "threads": "1"}
        for f in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    os.replace(tmp, path)


def write_png(path: Path, image: np.ndarray) -> None:
    """Write uint8 RGB [H, W, 3] as PNG, atomically."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}.png")
    Image.fromarray(image).save(tmp)
    os.replace(tmp, path)


def frame_rate(path: Path, default: float) -> float:
    """Average frame rate of a video file, or ``default`` when unknown or not a video."""
    try:
        with av.open(str(path)) as c:
            rate = c.streams.video[0].average_rate if c.streams.video else None
        return float(rate) if rate and float(rate) > 0 else default
    except (av.error.FFmpegError, OSError, ValueError, IndexError):
        return default

"""Write frames to a video file with PyAV: I+P only, fixed GOP, deterministic.

``h264``: libx264, ``bf=0`` (no B-frames), ``g=keyint_min=gop`` and
``sc_threshold=0`` (no scene-cut I-frames), so frame ``i`` is an I-frame
exactly when ``i % gop == 0``. ``mpeg4``: MPEG-4 Part 2 with the same GOP
and no B-frames. Both use yuv420p and one encoder thread, so the same frames
always give the same bytes.
"""

from __future__ import annotations

import os
from pathlib import Path

import av
import numpy as np
from av.video.frame import PictureType

CODECS = {"h264": "libx264", "mpeg4": "mpeg4"}


def write_video(path: str | Path, frames: np.ndarray, *, fps: int, gop: int, codec: str = "h264",
                quality: int = 18) -> None:
    """Encode uint8 RGB frames [T, H, W, 3] to ``path`` (mp4), atomically.

    The file is written to a temporary name next to ``path`` and renamed, so
    ``path`` either does not exist or is complete.

    Args:
        path: output file (``.mp4``).
        frames: uint8 [T, H, W, 3]; H and W even.
        fps: frames per second.
        gop: distance between I-frames, frames.
        codec: ``h264`` or ``mpeg4``.
        quality: libx264 CRF (mpeg4: qscale ``max(2, quality // 6)``).
    """
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.mp4")
    t, h, w, _ = frames.shape
    try:
        with av.open(str(tmp), mode="w", format="mp4") as container:
            if codec == "h264":
                options = {"bf": "0", "g": str(gop), "keyint_min": str(gop), "sc_threshold": "0",
                           "crf": str(quality), "preset": "veryfast", "threads": "1"}
                stream = container.add_stream("libx264", rate=fps, options=options)
            elif codec == "mpeg4":
                options = {"bf": "0", "g": str(gop), "keyint_min": str(gop), "sc_threshold": "0",
                           "qscale": str(max(2, quality // 6)), "threads": "1"}
                stream = container.add_stream("mpeg4", rate=fps, options=options)
                stream.codec_context.qscale = max(2, quality // 6)  # type: ignore[attr-defined]
            else:
                raise ValueError(f"unknown codec {codec!r} (valid: {', '.join(CODECS)})")
            stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
            stream.codec_context.gop_size = gop
            stream.codec_context.max_b_frames = 0
            stream.codec_context.thread_count = 1
            for i in range(t):
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frames[i]), format="rgb24")
                frame.pts = i
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def frame_types(path: str | Path) -> list[str]:
    """Picture type of each decoded frame (``"I"``, ``"P"``, ``"B"``), in order."""
    out = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            out.append(PictureType(int(frame.pict_type)).name)
    return out

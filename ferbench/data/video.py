"""Decoding videos (and frame folders, and images) with PyAV / Pillow.

All readers return uint8 RGB arrays of shape [N, H, W, 3] and raise
:class:`~ferbench.errors.VideoDecodeError` with one line naming the file and
the fix for missing, empty, truncated or undecodable media.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter
from PIL import Image

from ..errors import VideoDecodeError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


def _resize(frame: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    if size is None or frame.shape[:2] == (size[1], size[0]):
        return frame
    return np.asarray(Image.fromarray(frame).resize(size, Image.BILINEAR))


def read_video(path: str | Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """Decode every frame of a video file.

    Args:
        path: video file (any container/codec FFmpeg reads).
        size: optional (width, height) to resize each frame to.

    Returns:
        uint8 array [N, H, W, 3].
    """
    path = Path(path)
    if not path.is_file():
        raise VideoDecodeError(f"video not found: {path} (check the dataset root or re-run 'ferbench prepare')")
    frames = []
    reformatter = VideoReformatter()  # one swscale context per video (to_ndarray makes one per frame)
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoDecodeError(f"no video stream in {path}: the file is not a video")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                frames.append(_resize(reformatter.reformat(frame, format="rgb24").to_ndarray(), size))
    except VideoDecodeError:
        raise
    except (av.error.FFmpegError, ValueError, OSError) as err:
        if not frames:
            raise VideoDecodeError(
                f"cannot decode {path}: {err} (the file is corrupt or truncated; re-create it)"
            ) from None
        # a truncated tail: keep what decoded
    if not frames:
        raise VideoDecodeError(f"video has no frames: {path} (the file is empty; re-create it)")
    return np.stack(frames)


def read_frames(path: str | Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """Read media as frames: a video file, a folder of images, or one image.

    Returns uint8 [N, H, W, 3] (N=1 for an image).
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise VideoDecodeError(f"frame folder has no images: {path}")
        return np.stack([_read_image(p, size) for p in files])
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return _read_image(path, size)[None]
    return read_video(path, size)


def _read_image(path: Path, size: tuple[int, int] | None) -> np.ndarray:
    try:
        with Image.open(path) as img:
            return _resize(np.asarray(img.convert("RGB")), size)
    except (OSError, ValueError) as err:
        raise VideoDecodeError(f"cannot read image {path}: {err}") from None

"""Decoding videos (and frame folders, and images) with PyAV / Pillow.

All readers return writable uint8 RGB arrays of shape [N, H, W, 3] and raise
:class:`~ferbench.errors.VideoDecodeError` with one line naming the file and
the fix for missing, empty, truncated or undecodable media.

A video is *truncated* when its container declares a frame count N (the
stream header's ``nb_frames``; MP4 and AVI carry it, Matroska/WebM often do
not) and fewer than :data:`MIN_DECODED_FRACTION` x N frames decode. Videos
without a declared count keep every frame that decodes before an error.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter
from PIL import Image

from ..errors import VideoDecodeError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")

#: a video whose container declares N frames must decode at least this fraction of them
MIN_DECODED_FRACTION = 0.9


def _resize(frame: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    if size is None or frame.shape[:2] == (size[1], size[0]):
        return frame
    return np.array(Image.fromarray(frame).resize(size, Image.BILINEAR))  # a writable copy


def read_video(path: str | Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """Decode every frame of a video file.

    Args:
        path: video file (any container/codec FFmpeg reads).
        size: optional (width, height) to resize each frame to.

    Returns:
        uint8 array [N, H, W, 3].

    Raises:
        VideoDecodeError: missing file, no video stream, nothing decodes, or a
            truncated file (fewer than ``MIN_DECODED_FRACTION`` of the declared frames).
    """
    path = Path(path)
    if not path.is_file():
        raise VideoDecodeError(f"video not found: {path} (check the dataset root or re-run 'ferbench prepare')")
    frames = []
    declared = 0
    reformatter = VideoReformatter()  # one swscale context per video (to_ndarray makes one per frame)
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoDecodeError(f"no video stream in {path}: the file is not a video")
            stream = container.streams.video[0]
            declared = int(stream.frames or 0)
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
        # an unreadable tail: keep what decoded, unless the declared count says most is missing (below)
    if not frames:
        raise VideoDecodeError(f"video has no frames: {path} (the file is empty; re-create it)")
    if declared and len(frames) < MIN_DECODED_FRACTION * declared:
        raise VideoDecodeError(
            f"truncated video: {path} declares {declared} frames but only {len(frames)} decode "
            f"(fewer than {MIN_DECODED_FRACTION:.0%}); re-create or re-copy the file"
        )
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
            return _resize(np.array(img.convert("RGB")), size)  # np.array: writable (torch.from_numpy warns otherwise)
    except (OSError, ValueError) as err:
        raise VideoDecodeError(f"cannot read image {path}: {err}") from None

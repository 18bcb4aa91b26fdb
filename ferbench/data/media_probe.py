"""Cheap looks at media files: frame counts from headers, and a first-frame decode check.

Used where decoding every frame would cost too much: estimating the size of an
input cache before it is written, and checking the samples of a run that
decodes in the loader (``cache=none``) instead of decoding them all up front.
"""

from __future__ import annotations

from pathlib import Path

import av

from ..errors import VideoDecodeError
from .video import IMAGE_SUFFIXES, read_frames


def frame_count(path: str | Path) -> int | None:
    """Frames of a video as its container declares them (duration x rate when it declares
    none), images in a frame folder, 1 for an image; None when the file cannot tell."""
    path = Path(path)
    if path.is_dir():
        return sum(1 for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) or None
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return 1
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return None
            stream = container.streams.video[0]
            if stream.frames:
                return int(stream.frames)
            if stream.duration and stream.time_base and stream.average_rate:
                return max(1, round(float(stream.duration * stream.time_base * stream.average_rate)))
    except (av.error.FFmpegError, ValueError, OSError):
        return None
    return None


def check_media(path: str | Path) -> None:
    """Open ``path`` and decode its first frame (first image of a frame folder).

    Raises:
        VideoDecodeError: missing, empty or undecodable media (one line naming the file).
    """
    path = Path(path)
    if path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES:
        if path.is_dir():
            first = min((p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), default=None)
            if first is None:
                raise VideoDecodeError(f"frame folder has no images: {path}")
            path = first
        read_frames(path)
        return
    if not path.is_file():
        raise VideoDecodeError(f"video not found: {path} (check the dataset root or re-run 'ferbench prepare')")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoDecodeError(f"no video stream in {path}: the file is not a video")
            for _ in container.decode(container.streams.video[0]):
                return
    except VideoDecodeError:
        raise
    except (av.error.FFmpegError, ValueError, OSError) as err:
        raise VideoDecodeError(f"cannot decode {path}: {err} (the file is corrupt or truncated; re-create it)") from None
    raise VideoDecodeError(f"video has no frames: {path} (the file is empty; re-create it)")

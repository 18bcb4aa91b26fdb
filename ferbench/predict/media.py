"""New media for prediction: which files a path names, and frames decoded a chunk at a time.

:func:`decode_chunks` never holds a whole video: it yields lists of at most
``chunk`` uint8 RGB frames [H, W, 3], so memory is flat in the video's
length. A file that cannot be opened or decodes no frame raises
:class:`~ferbench.errors.VideoDecodeError`; a corrupt tail ends the stream
with what decoded (as :func:`ferbench.data.video.read_video` does).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from ..data.video import IMAGE_SUFFIXES, read_frames
from ..datasets.adapters.layout import VIDEO_SUFFIXES
from ..errors import VideoDecodeError

#: frame rate assumed when a container does not state one
DEFAULT_FPS = 25.0


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def expand_paths(paths: list[str | Path]) -> list[Path]:
    """Files to predict: each file as given (even a missing or odd one: it becomes an ``unreadable`` row),
    each folder's videos and images (recursively, sorted)."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")
                              and p.suffix.lower() in VIDEO_SUFFIXES + IMAGE_SUFFIXES))
        else:
            out.append(path)
    return out


def video_fps(container: av.container.InputContainer) -> float:
    stream = container.streams.video[0]
    rate = stream.average_rate or stream.guessed_rate
    return float(rate) if rate and float(rate) > 0 else DEFAULT_FPS


def decode_chunks(path: Path, chunk: int) -> tuple[float, Iterator[list[np.ndarray]]]:
    """The frame rate of ``path`` and an iterator over its frames in chunks (lists) of at most ``chunk``
    uint8 RGB frames [H, W, 3] (lists: no copy into one array).

    Images give one chunk of one frame (frame rate :data:`DEFAULT_FPS`).

    Raises:
        VideoDecodeError: the file is missing, not a video, or decodes no frame (raised here, before
            the iterator is returned, so a caller knows at once).
    """
    path = Path(path)
    if not path.is_file():
        raise VideoDecodeError(f"not found: {path}")
    if is_image(path):
        return DEFAULT_FPS, iter([list(read_frames(path))])
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, ValueError, OSError) as err:
        raise VideoDecodeError(f"cannot open {path}: {str(err).splitlines()[0] if str(err) else type(err).__name__} "
                               f"(not a video, or corrupt)") from None
    if not container.streams.video:
        container.close()
        raise VideoDecodeError(f"no video stream in {path}: the file is not a video")
    fps = video_fps(container)
    frames = _frames(container, path)
    try:
        first = next(frames)
    except StopIteration:
        container.close()
        raise VideoDecodeError(f"cannot decode {path}: no frame decodes (the file is corrupt or empty)") from None
    return fps, _chunks(first, frames, chunk)


def _frames(container: av.container.InputContainer, path: Path) -> Iterator[np.ndarray]:
    reformatter = VideoReformatter()
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    try:
        for frame in container.decode(stream):
            yield reformatter.reformat(frame, format="rgb24").to_ndarray()
    except (av.error.FFmpegError, ValueError, OSError):
        return  # a corrupt tail: keep what decoded
    finally:
        container.close()


def _chunks(first: np.ndarray, frames: Iterator[np.ndarray], chunk: int) -> Iterator[list[np.ndarray]]:
    buf = [first]
    for frame in frames:
        if len(buf) == chunk:
            yield buf
            buf = []
        buf.append(frame)
    if buf:
        yield buf

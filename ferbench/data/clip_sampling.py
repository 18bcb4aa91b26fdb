"""Clip-based frame sampling (CEFLNet, Liu et al. 2022, Sec. 4.1).

A video of N decoded frames becomes ``clips`` short clips of ``clip_frames``
frames each. With the paper's numbers (every one of them an option of
:class:`ClipSamplingOptions`):

1. **Resample to 105 frames** (``resample_to``) by interpolation of indices
   (N < 105: position j of the 105 maps to source frame
   ``round(j * (N - 1) / 104)``, so frames repeat) or clipping (N > 105: the
   central 105 consecutive source frames; ``long_videos="start"`` keeps the
   first 105 instead). Frames are never blended: indices are interpolated.
2. **Start frame**: random in the first 30 frames (``start_range``) in
   training; fixed in evaluation (``eval_start``; -1 = the centre of the start
   range, frame 15).
3. **75 consecutive frames** (``window``) from the start.
4. **7 sub-videos of 15 frames with 5 frames overlap** (``clips``,
   ``sub_video``, ``overlap``): sub-video j starts at ``j * (15 - 5)`` inside
   the window, so 7 sub-videos exactly cover the 75 frames.
5. **5 frames per sub-video** (``clip_frames``): a random sorted subset in
   training; in evaluation every ``sub_video // clip_frames``-th frame from the
   sub-video's first (positions 0, 3, 6, 9, 12 of 15), as the authors' code
   does (CVLab-Liuyuanyuan/CEFLNet, data/NewDataset.py:103; the paper describes
   only training).

The result is an int64 index tensor of length ``clips * clip_frames`` into the
source frames, clip-major (clip 0's frames first), in temporal order inside each clip
(sub-videos overlap, so a clip may start before the previous one's last frame).
Randomness comes only from the generator; evaluation ignores it.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Literal

import torch

from ..errors import OptionError


@dataclasses.dataclass(frozen=True)
class ClipSamplingOptions:
    """How a video is cut into clips (defaults: CEFLNet, Sec. 4.1 and Table 1).

    Attributes:
        clips: n, clips (sub-videos) per video.
        clip_frames: K, frames drawn per clip.
        resample_to: frames every video is brought to first (interpolation or clipping).
        start_range: training draws the window start uniformly in [0, start_range).
        eval_start: window start in evaluation; -1 = start_range // 2.
        window: consecutive frames (of the resampled video) the clips are cut from;
            must equal (clips - 1) * (sub_video - overlap) + sub_video.
        sub_video: frames per sub-video.
        overlap: frames shared by consecutive sub-videos.
        long_videos: which frames of a video longer than resample_to are kept:
            "center" or "start".
    """

    clips: int = 7
    clip_frames: int = 5
    resample_to: int = 105
    start_range: int = 30
    eval_start: int = -1
    window: int = 75
    sub_video: int = 15
    overlap: int = 5
    long_videos: Literal["center", "start"] = "center"

    def __post_init__(self) -> None:
        problems = []
        if self.clips < 1 or self.clip_frames < 1:
            problems.append(f"need clips >= 1 and clip_frames >= 1 (got clips={self.clips}, clip_frames={self.clip_frames})")
        if self.sub_video < 1 or not 0 <= self.overlap < self.sub_video:
            problems.append(f"need sub_video >= 1 and 0 <= overlap < sub_video (got sub_video={self.sub_video}, overlap={self.overlap})")
        else:
            span = (self.clips - 1) * (self.sub_video - self.overlap) + self.sub_video
            if self.window != span:
                problems.append(
                    f"window={self.window} but clips={self.clips} sub-videos of sub_video={self.sub_video} frames "
                    f"with overlap={self.overlap} span {span} frames; set window={span}"
                )
        if self.start_range < 1:
            problems.append(f"need start_range >= 1 (got start_range={self.start_range})")
        elif self.window + self.start_range - 1 > self.resample_to:
            problems.append(
                f"window={self.window} starting as late as start_range={self.start_range} - 1 needs "
                f"resample_to >= {self.window + self.start_range - 1} (got resample_to={self.resample_to})"
            )
        if not (self.eval_start == -1 or 0 <= self.eval_start <= self.resample_to - self.window):
            problems.append(f"need eval_start -1 or in [0, {self.resample_to - self.window}] (got eval_start={self.eval_start})")
        if problems:
            raise OptionError("clip sampling: " + "; ".join(problems))

    @classmethod
    def from_prefixed(cls, options: Any, prefix: str = "clip_", *, owner: str = "") -> "ClipSamplingOptions":
        """Read the numbers from another options object whose fields are prefixed.

        ``clips`` and ``clip_frames`` keep their names; every other field ``x``
        is read from ``<prefix>x`` (``clip_window``, ...) when present, e.g. the
        ``rgb`` input's ``clip_*`` options. Errors name the prefixed options.
        """
        values = {}
        for f in dataclasses.fields(cls):
            src = f.name if f.name in ("clips", "clip_frames") else prefix + f.name
            if hasattr(options, src):
                values[f.name] = getattr(options, src)
        try:
            return cls(**values)
        except OptionError as err:
            names = [f.name for f in dataclasses.fields(cls) if f.name not in ("clips", "clip_frames")]
            text = re.sub(r"\b(" + "|".join(names) + r")\b", lambda m: prefix + m.group(1), str(err))
            raise OptionError(f"{owner + ' ' if owner else ''}{text}") from None

    @property
    def total_frames(self) -> int:
        """T = clips * clip_frames, frames per sample."""
        return self.clips * self.clip_frames

    @property
    def stride(self) -> int:
        """Offset between the starts of consecutive sub-videos."""
        return self.sub_video - self.overlap

    @property
    def fixed_start(self) -> int:
        """Window start used in evaluation."""
        return self.start_range // 2 if self.eval_start == -1 else self.eval_start


def resample_positions(n: int, length: int, long_videos: str = "center") -> torch.Tensor:
    """Step 1: int64 [length] source-frame indices that bring N frames to ``length``.

    N < length: interpolated indices ``round(j * (N - 1) / (length - 1))``
    (first and last frame kept, frames repeat); N >= length: ``length``
    consecutive frames (central, or the first ones with ``long_videos="start"``).
    """
    if n < 1:
        raise ValueError(f"cannot sample clips from a video with {n} frames")
    if n >= length:
        first = (n - length) // 2 if long_videos == "center" else 0
        return torch.arange(first, first + length, dtype=torch.long)
    if length == 1:
        return torch.zeros(1, dtype=torch.long)
    pos = torch.arange(length, dtype=torch.float64) * ((n - 1) / (length - 1))
    return pos.round().long().clamp_(0, n - 1)


def _frames_in_sub_video(o: ClipSamplingOptions, *, train: bool, generator: torch.Generator) -> torch.Tensor:
    """Step 5 for one sub-video: int64 [clip_frames] sorted offsets in [0, sub_video)."""
    k, s = o.clip_frames, o.sub_video
    if not train:  # the official code's range(0, s, s // k), first k of them; k > s repeats frames
        if k <= s:
            return torch.arange(k, dtype=torch.long) * (s // k)
        return (torch.arange(k, dtype=torch.float64) * (s / k)).floor().long().clamp_(0, s - 1)
    if k <= s:
        return torch.randperm(s, generator=generator)[:k].sort().values
    return torch.randint(0, s, (k,), generator=generator).sort().values


def clip_window_start(o: ClipSamplingOptions, *, train: bool, generator: torch.Generator) -> int:
    """Step 2: the window start in the resampled video (random in training, fixed in evaluation)."""
    if train:
        return int(torch.randint(0, o.start_range, (1,), generator=generator).item())
    return o.fixed_start


def clip_positions(o: ClipSamplingOptions, *, train: bool, generator: torch.Generator) -> torch.Tensor:
    """Steps 2-5 in the resampled timeline: int64 [clips, clip_frames] positions in [0, resample_to)."""
    start = clip_window_start(o, train=train, generator=generator)
    rows = []
    for j in range(o.clips):  # step 4: sub-video j covers [start + j*stride, start + j*stride + sub_video)
        rows.append(start + j * o.stride + _frames_in_sub_video(o, train=train, generator=generator))
    return torch.stack(rows)


def clip_indices(n: int, options: ClipSamplingOptions, *, train: bool, generator: torch.Generator) -> torch.Tensor:
    """Source-frame indices of a clip-sampled video.

    Args:
        n: N, frames in the source video.
        options: the sampling numbers.
        train: random start and random frames per sub-video when True.
        generator: the only source of randomness (unused when ``train`` is False).

    Returns:
        int64 tensor [clips * clip_frames] of indices in [0, N), clip-major,
        non-decreasing inside each clip.
    """
    resampled = resample_positions(n, options.resample_to, options.long_videos)
    return resampled[clip_positions(options, train=train, generator=generator)].reshape(-1)


def clip_of_frame(indices: torch.Tensor, clips: int, frame: int) -> int:
    """The clip whose sampled source frames come closest to source frame ``frame``.

    ``indices`` is a :func:`clip_indices` result ([clips * clip_frames]). Ties
    go to the clip whose mean index is closest. Used to turn an annotated apex
    frame into a ground-truth emotion-rich clip.
    """
    per_clip = indices.reshape(clips, -1).double()
    dist = (per_clip - frame).abs().min(1).values
    centre = (per_clip.mean(1) - frame).abs()
    return int(torch.argmin(dist * 1e6 + centre).item())


__all__ = [
    "ClipSamplingOptions",
    "clip_indices",
    "clip_of_frame",
    "clip_positions",
    "clip_window_start",
    "resample_positions",
]

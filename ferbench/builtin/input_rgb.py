"""Input ``rgb``: T decoded RGB frames, sampled uniformly, resized, normalised."""

from __future__ import annotations

import dataclasses
from typing import Literal

import torch

from ..components import InputSignature
from ..data.clip_sampling import ClipSamplingOptions, clip_indices
from ..data.frame_sampling import segment_indices
from ..data.manifest import Sample
from ..data.video import read_frames
from ..options import stable_hash

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclasses.dataclass(frozen=True)
class RGBOptions:
    """Options of the ``rgb`` input.

    Attributes:
        frames: T, frames per sample.
        size: side of the square frames, in pixels.
        hflip: random horizontal flips in training.
        grayscale: replicate luminance into the 3 channels.
        sampling: "segments" (T = frames) or "clips" (CEFLNet clips, T = clips * clip_frames, frames unused).
        clips: clips per video (sampling=clips).
        clip_frames: frames per clip (sampling=clips).
        clip_resample_to: frames each video is brought to first (sampling=clips).
        clip_start_range: training window start is random in [0, clip_start_range) (sampling=clips).
        clip_eval_start: evaluation window start; -1 = clip_start_range // 2 (sampling=clips).
        clip_window: consecutive frames the clips cover (sampling=clips).
        clip_sub_video: frames per sub-video (sampling=clips).
        clip_overlap: frames shared by consecutive sub-videos (sampling=clips).
    """

    frames: int = 4
    size: int = 96
    hflip: bool = True
    grayscale: bool = False
    sampling: Literal["segments", "clips"] = "segments"
    clips: int = 7
    clip_frames: int = 5
    clip_resample_to: int = 105
    clip_start_range: int = 30
    clip_eval_start: int = -1
    clip_window: int = 75
    clip_sub_video: int = 15
    clip_overlap: int = 5

    def clip_sampling(self) -> ClipSamplingOptions:
        """The clip-sampling numbers as :class:`ClipSamplingOptions` (raises OptionError if inconsistent)."""
        return ClipSamplingOptions.from_prefixed(self, "clip_", owner="input 'rgb':")


class RGBInput:
    """``load``: every frame, resized, uint8 [N, 3, S, S]; ``sample``: float32 ``x`` [T, 3, S, S] and
    ``frame_index`` [T] int64, the source frame of each (what ``Evaluation.frame_index`` collects)."""

    def __init__(self, options: RGBOptions) -> None:
        if options.frames < 1 or options.size < 8:
            raise ValueError(f"rgb needs frames >= 1 and size >= 8, got {options}")
        self.options = options
        self.clips = options.clip_sampling() if options.sampling == "clips" else None
        frames = self.clips.total_frames if self.clips is not None else options.frames
        self.signature = InputSignature(channels=3, frames=frames, height=options.size, width=options.size)
        self._mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
        self._std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        """ImageNet mean/std normalisation of float frames in [0, 1], [T, 3, H, W] (what ``sample`` applies)."""
        return ((x - self._mean) / self._std).contiguous()

    def cache_key(self) -> str:
        # only the options that change what load() returns
        return stable_hash({"size": self.options.size, "v": 1})

    def loaded_bytes(self, num_frames: int) -> int:
        """``load()`` keeps every frame: uint8 [N, 3, S, S]."""
        return num_frames * 3 * self.options.size**2

    def load(self, sample: Sample) -> dict[str, torch.Tensor]:
        s = self.options.size
        frames = read_frames(sample.path, size=(s, s))
        return {"frames": torch.from_numpy(frames).permute(0, 3, 1, 2).contiguous()}

    def sample(self, loaded: dict[str, torch.Tensor], *, train: bool, generator: torch.Generator) -> dict[str, torch.Tensor]:
        drawn = self.sample_uint8(loaded, train=train, generator=generator)
        return {**drawn, "x": self.normalize_batch(drawn["x"].unsqueeze(0))[0].contiguous()}

    def sample_uint8(self, loaded: dict[str, torch.Tensor], *, train: bool,
                     generator: torch.Generator) -> dict[str, torch.Tensor]:
        """:meth:`sample` before normalisation: ``x`` uint8 [T, 3, S, S] (4x fewer bytes to move to a GPU)
        and ``frame_index``."""
        frames = loaded["frames"]
        if self.clips is not None:
            idx = clip_indices(frames.shape[0], self.clips, train=train, generator=generator)
        else:
            idx = segment_indices(frames.shape[0], self.options.frames, train=train, generator=generator)
        x = frames[idx]
        if train and self.options.hflip and torch.rand(1, generator=generator).item() < 0.5:
            x = x.flip(-1)
        return {"x": x.contiguous(), "frame_index": idx.long()}

    def normalize_batch(self, x: torch.Tensor) -> torch.Tensor:
        """uint8 [B, T, 3, S, S] on any device -> float32 as :meth:`sample` returns it (grey, ImageNet-normalised)."""
        x = x.float().div_(255.0)
        if self.options.grayscale:
            x = (0.299 * x[..., 0:1, :, :] + 0.587 * x[..., 1:2, :, :] + 0.114 * x[..., 2:3, :, :]).expand_as(x)
        mean, std = self._mean.to(x.device), self._std.to(x.device)
        return (x - mean) / std


def build_rgb(options: RGBOptions) -> RGBInput:
    return RGBInput(options)

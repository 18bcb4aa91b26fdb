"""Input ``gray112``: grey-scale 112x112 frames, the paper's preprocessing (Sec. IV-B).

"images in all three datasets are scaled to a size of 112x112 pixels and are
preprocessed by graying". Frames are decoded once (``load``, cached by the
engine), then ``sample`` picks T of them with the core's
:func:`ferbench.data.frame_sampling.segment_indices` and scales grey levels
to [-1, 1].

The paper trains and tests on peak frames ("the last three frames of each
sequence"); ``apex_window=k`` restricts sampling to the k frames ending at the
sample's apex (the last frame when the dataset gives no apex). ``apex_window=0``
spreads the T frames over the whole clip instead. Images are T=1 clips.
"""

from __future__ import annotations

import dataclasses

import torch

from ferbench.components import InputSignature
from ferbench.data.frame_sampling import apex_window, segment_indices
from ferbench.data.manifest import Sample
from ferbench.data.video import read_frames
from ferbench.errors import OptionError
from ferbench.options import stable_hash

#: ITU-R BT.601 luma weights (R, G, B)
LUMA = (0.299, 0.587, 0.114)


@dataclasses.dataclass(frozen=True)
class Gray112Options:
    """Options of the ``gray112`` input.

    Attributes:
        frames: T, frames per sample (1 = the paper's single-image setting).
        size: side of the square frames in pixels (the paper: 112).
        apex_window: sample from the k frames ending at the apex (paper: the last 3 frames);
            0 = the whole clip.
        hflip: random horizontal flips in training (the paper does not mention any augmentation).
    """

    frames: int = 1
    size: int = 112
    apex_window: int = 3
    hflip: bool = False


class Gray112Input:
    """``load``: all frames, grey uint8 [N, 1, S, S] + apex; ``sample``: float32 [T, 1, S, S] in [-1, 1]."""

    def __init__(self, options: Gray112Options) -> None:
        if options.frames < 1 or options.size < 16 or options.apex_window < 0:
            raise OptionError(f"gray112 needs frames >= 1, size >= 16 and apex_window >= 0, got {options}")
        self.options = options
        self.signature = InputSignature(channels=1, frames=options.frames, height=options.size, width=options.size)

    def cache_key(self) -> str:
        return stable_hash({"size": self.options.size, "gray": "bt601", "v": 1})

    def loaded_bytes(self, num_frames: int) -> int:
        """``load()`` keeps every frame: uint8 [N, 1, S, S] plus the apex index."""
        return num_frames * self.options.size**2 + 8

    def load(self, sample: Sample) -> dict[str, torch.Tensor]:
        s = self.options.size
        rgb = torch.from_numpy(read_frames(sample.path, size=(s, s))).float()  # [N, S, S, 3]
        grey = (rgb * torch.tensor(LUMA)).sum(-1).round_().clamp_(0, 255).to(torch.uint8)
        apex = -1 if sample.apex is None else int(sample.apex)
        return {"frames": grey.unsqueeze(1).contiguous(), "apex": torch.tensor(apex, dtype=torch.int64)}

    def sample(self, loaded: dict[str, torch.Tensor], *, train: bool, generator: torch.Generator) -> dict[str, torch.Tensor]:
        frames = loaded["frames"]
        apex = int(loaded["apex"]) if "apex" in loaded else -1
        lo, hi = apex_window(frames.shape[0], apex if apex >= 0 else None, self.options.apex_window)
        idx = lo + segment_indices(hi - lo, self.options.frames, train=train, generator=generator)
        x = frames[idx].float().div_(127.5).sub_(1.0)
        if train and self.options.hflip and torch.rand(1, generator=generator).item() < 0.5:
            x = x.flip(-1)
        return {"x": x.contiguous()}


def build_gray112(options: Gray112Options) -> Gray112Input:
    return Gray112Input(options)

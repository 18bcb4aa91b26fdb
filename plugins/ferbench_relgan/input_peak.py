"""Input ``rgb-peak``: RGB frames from the apex window, REL-GAN's "peak images".

The paper classifies single peak images: "the last three frames of each
sequence" (CK+, Oulu-CASIA; Sec. 4.2), not whole clips. ``rgb-peak`` decodes
a video once (``load``, cached by the engine) and draws its T frames from the
``apex_window`` frames ending at the sample's apex (``Sample.apex``; the last
frame when the dataset gives none, which is CK+'s and Oulu-CASIA's peak). An
image is a one-frame window. Frames are RGB at ``size`` (the paper: 96),
ImageNet-normalised like the core ``rgb`` input. It is the ``relgan``
disentangler's companion input, so ``--disentangler relgan`` classifies peak
frames unless ``--input`` says otherwise.
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

IMAGENET_MEAN = torch.tensor((0.485, 0.456, 0.406)).view(1, 3, 1, 1)
IMAGENET_STD = torch.tensor((0.229, 0.224, 0.225)).view(1, 3, 1, 1)


@dataclasses.dataclass(frozen=True)
class PeakRGBOptions:
    """Options of the ``rgb-peak`` input.

    Attributes:
        frames: T, frames per sample, spread over the apex window (3 = each of the three peak frames).
        size: side of the square frames, pixels (the paper: 96).
        apex_window: the k frames ending at the apex (the paper: the last 3 frames of a sequence).
        hflip: random horizontal flips in training (the paper's augmentation includes flips).
    """

    frames: int = 3
    size: int = 96
    apex_window: int = 3
    hflip: bool = True


class PeakRGBInput:
    """``load``: every frame uint8 [N, 3, S, S] + apex; ``sample``: float32 ``x`` [T, 3, S, S] from the apex
    window and ``frame_index`` [T] int64, the source frame of each (collected in ``Evaluation.frame_index``)."""

    def __init__(self, options: PeakRGBOptions) -> None:
        if options.frames < 1 or options.size < 8 or options.apex_window < 1:
            raise OptionError(f"input 'rgb-peak' needs frames >= 1, size >= 8 and apex_window >= 1, got {options}")
        self.options = options
        self.signature = InputSignature(channels=3, frames=options.frames, height=options.size, width=options.size)

    def cache_key(self) -> str:
        return stable_hash({"size": self.options.size, "rgb-peak": 1})

    def load(self, sample: Sample) -> dict[str, torch.Tensor]:
        s = self.options.size
        frames = torch.from_numpy(read_frames(sample.path, size=(s, s))).permute(0, 3, 1, 2).contiguous()
        apex = -1 if sample.apex is None else int(sample.apex)
        return {"frames": frames, "apex": torch.tensor(apex, dtype=torch.int64)}

    def sample(self, loaded: dict[str, torch.Tensor], *, train: bool, generator: torch.Generator) -> dict[str, torch.Tensor]:
        frames = loaded["frames"]
        lo, hi = apex_window(frames.shape[0], int(loaded["apex"]), self.options.apex_window)
        idx = lo + segment_indices(hi - lo, self.options.frames, train=train, generator=generator)
        x = frames[idx].float().div_(255.0)
        if train and self.options.hflip and torch.rand(1, generator=generator).item() < 0.5:
            x = x.flip(-1)
        return {"x": ((x - IMAGENET_MEAN) / IMAGENET_STD).contiguous(), "frame_index": idx.long()}


def build_rgb_peak(options: PeakRGBOptions) -> PeakRGBInput:
    return PeakRGBInput(options)

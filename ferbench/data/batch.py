"""What the data layer hands to models: the input contract and the mini-batch.

:class:`InputSignature` and :class:`InputRepresentation` are the contract of the
``input`` component kind; :class:`Batch` is what the loaders of
:mod:`ferbench.data.loading` yield. They live here, below :mod:`ferbench.components`
(which re-exports them: import them from there), so that the data layer does not
import the component layer above it.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol, runtime_checkable

import torch

from .manifest import Sample


# --------------------------------------------------------------------------- inputs


@dataclasses.dataclass(frozen=True)
class InputSignature:
    """Shape of what an input representation yields per sample.

    ``x`` has shape [frames, channels, height, width] (float32). ``side`` maps
    the names of extra tensors (e.g. ``"iframe"``, ``"landmarks"``) to their
    per-sample shapes.
    """

    channels: int
    frames: int
    height: int
    width: int
    side: dict[str, tuple[int, ...]] = dataclasses.field(default_factory=dict)


@runtime_checkable
class InputRepresentation(Protocol):
    """Turns a sample's media into tensors, in two steps.

    ``load`` is the expensive, deterministic part (decode, crop, resize,
    compressed-domain extraction); its output is cached on disk by the engine
    under ``cache_key`` and must not depend on training state.
    ``sample`` is cheap and called every time a sample is drawn: it selects
    frames (random when ``train``, fixed otherwise, using ``generator``),
    augments and normalises, and returns ``{"x": [T, C, H, W] float32, ...side}``.
    It may be handed memory-mapped (copy-on-write) tensors: index them, do not
    hold on to them.

    Optional method (not part of the checked protocol):
    ``loaded_bytes(num_frames: int) -> int``: the bytes of the tensors ``load``
    returns for a clip of ``num_frames`` decoded frames (1 for an image); an
    upper estimate where the size depends on the content. The engine uses it to
    say before a run starts when the disk cache would not fit; without it, the
    check runs after the first sample is decoded.

    Optional pair (a compact path to the GPU): ``sample_uint8(loaded, *, train,
    generator)`` returns what ``sample`` returns but with ``x`` still uint8
    (same frames, same random draws), and ``normalize_batch(x)`` turns a batch of
    those [B, T, C, H, W] on any device into exactly the float32 ``x`` of
    ``sample``. On CUDA the engine then moves uint8 frames and normalises on the GPU.
    """

    signature: InputSignature

    def cache_key(self) -> str: ...

    def load(self, sample: Sample) -> dict[str, torch.Tensor]: ...

    def sample(
        self, loaded: dict[str, torch.Tensor], *, train: bool, generator: torch.Generator
    ) -> dict[str, torch.Tensor]: ...


# --------------------------------------------------------------------------- batches


@dataclasses.dataclass
class Batch:
    """A mini-batch as models, disentanglers and selectors see it.

    Attributes:
        x: [B, T, C, H, W] float32 input frames (T=1 for images).
        label: [B] int64 class indices.
        subject: [B] int64 subject indices (dense, per manifest; -1 if unknown).
        index: [B] int64 positions of the samples in the manifest.
        side: extra per-sample tensors from the input representation, each [B, ...].
    """

    x: torch.Tensor
    label: torch.Tensor
    subject: torch.Tensor
    index: torch.Tensor
    side: dict[str, torch.Tensor] = dataclasses.field(default_factory=dict)

    def to(self, device: torch.device | str) -> "Batch":
        def move(tensor: torch.Tensor) -> torch.Tensor:
            return tensor.to(device, non_blocking=True)

        return Batch(
            x=move(self.x),
            label=move(self.label),
            subject=move(self.subject),
            index=move(self.index),
            side={k: move(v) for k, v in self.side.items()},
        )

    def pin_memory(self) -> "Batch":
        """The batch in page-locked memory (DataLoader ``pin_memory=True``: faster, asynchronous copies to CUDA)."""
        return Batch(
            x=self.x.pin_memory(),
            label=self.label.pin_memory(),
            subject=self.subject.pin_memory(),
            index=self.index.pin_memory(),
            side={k: v.pin_memory() for k, v in self.side.items()},
        )

    def __len__(self) -> int:
        return self.label.shape[0]

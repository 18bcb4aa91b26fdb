"""How the model runs faster on a GPU without computing anything else: the step options of :class:`TrainOptions`.

* ``cudnn_benchmark``: cuDNN times its convolution algorithms once per shape and keeps the fastest.
* ``channels_last``: convolutional backbones in NHWC memory format (tensor cores read it directly);
  their 4-D inputs are converted on the way in.
* ``compile``: ``torch.compile`` of the backbone and the aggregator, in place (``Module.compile``),
  so state dict keys and checkpoints stay the same.

bf16 autocast (``amp``) is applied around the step itself (:func:`.evaluation.autocast`).
"""

from __future__ import annotations

import torch
from torch import nn

from .config import TrainOptions


def speed_up(model: nn.Module, options: TrainOptions, device: torch.device) -> None:
    """Apply the step options to ``model`` (backbone + aggregator) on ``device``, in place."""
    if device.type == "cuda":
        if options.cudnn_benchmark:
            torch.backends.cudnn.benchmark = True
        if options.channels_last and any(isinstance(m, nn.Conv2d) for m in model.backbone.modules()):
            model.backbone.to(memory_format=torch.channels_last)
            model.backbone.register_forward_pre_hook(channels_last_inputs)
    if options.compile:
        model.backbone.compile()
        model.aggregator.compile()


def channels_last_inputs(module: nn.Module, args: tuple) -> tuple:  # noqa: ARG001 - forward pre-hook signature
    """Forward pre-hook: 4-D tensor arguments in channels-last memory format."""
    return tuple(a.contiguous(memory_format=torch.channels_last) if isinstance(a, torch.Tensor) and a.dim() == 4 else a
                 for a in args)

"""Step options: channels-last inputs for convolutional backbones; nothing changes on the CPU."""

from __future__ import annotations

import torch

from ferbench.engine.config import TrainOptions
from ferbench.engine.gpu_step import channels_last_inputs, speed_up


def test_channels_last_hook_converts_only_4d_tensors():
    x, flat = torch.zeros(2, 3, 8, 8), torch.zeros(2, 5)
    y, f = channels_last_inputs(None, (x, flat))
    assert y.is_contiguous(memory_format=torch.channels_last) and f is flat


def test_step_options_leave_a_cpu_model_alone():
    model = torch.nn.Module()
    model.backbone, model.aggregator = torch.nn.Conv2d(3, 4, 3), torch.nn.Linear(4, 2)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    speed_up(model, TrainOptions(), torch.device("cpu"))
    assert not model.backbone._forward_pre_hooks
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert model.backbone.weight.is_contiguous()

"""What a model costs at test time: parameters, MACs per sample, forward throughput."""

from __future__ import annotations

import torch

from ..components import InputSignature
from ..metrics import count_parameters, macs_of, throughput
from .assemble import FERModel, dummy_input


def model_cost(model: FERModel, signature: InputSignature, batch_size: int, device: torch.device) -> dict[str, float]:
    """``params`` (backbone + aggregator: what runs at test time), ``macs`` for one sample, and
    ``samples_per_s`` / ``frames_per_s`` of the forward pass on a batch of ``batch_size`` dummy inputs."""
    model.eval()
    x1, side1 = dummy_input(signature, batch=1)
    macs = macs_of(lambda: model(x1.to(device), {k: v.to(device) for k, v in side1.items()}))
    xb, sideb = dummy_input(signature, batch=batch_size)
    xb, sideb = xb.to(device), {k: v.to(device) for k, v in sideb.items()}
    with torch.no_grad():
        speed = throughput(lambda: model(xb, sideb), n_samples=batch_size, n_frames=batch_size * signature.frames,
                           warmup=1, repeats=2)
    return {
        "params": count_parameters(model),
        "macs": macs,
        "samples_per_s": speed["samples_per_s"],
        "frames_per_s": speed["frames_per_s"],
    }

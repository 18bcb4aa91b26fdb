"""The forward half of one training step as a module, and where a step's time goes.

:class:`TrainStep` computes a batch's training loss: the model's output, the
per-sample classification loss (the aggregator's own or the run's), the
selectors' weights and the disentanglers' extra losses. Being one module, it
can be wrapped in DistributedDataParallel as a whole, so the gradients of the
model and of every jointly trained disentangler are averaged over the ranks.

:class:`StepTimes` adds up how long a fold waits for data, runs forward and
runs backward (with the optimiser step); ``FoldTrainer(profile=True)``
synchronises CUDA around each part so the split is exact on a GPU too.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Callable

import torch
from torch import nn

from ..components import Batch


class TrainStep(nn.Module):
    """``forward(batch, epoch) -> (loss, logits [B, K], weights [B], extra losses)``.

    Args:
        model: the FER model (backbone + aggregator).
        loss_modules: components trained jointly through their ``losses`` (disentanglers), by kind.
        weighters: components whose ``weights`` scale the per-sample loss (selectors); kept out of the
            module tree, as the step does not train them.
        criterion: the run's per-sample loss (logits [B, K], labels [B]) -> [B].
    """

    def __init__(self, model: nn.Module, loss_modules: dict[str, nn.Module], weighters: list[nn.Module],
                 criterion: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.model = model
        self.loss_modules = nn.ModuleDict(loss_modules)
        self.weighters = tuple(weighters)
        self.criterion = criterion

    def forward(self, batch: Batch, epoch: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor,
                                                         dict[str, torch.Tensor]]:
        out = self.model(batch.x, batch.side)
        per_sample = self.model.aggregator.classification_loss(out, batch.label)
        if per_sample is None:
            per_sample = self.criterion(out.logits, batch.label)
        weights = torch.ones_like(per_sample)
        with torch.no_grad():
            for module in self.weighters:
                weights = weights * module.weights(batch, out, self.model).to(per_sample.dtype)
        loss = (weights * per_sample).mean()
        extras: dict[str, torch.Tensor] = {}
        for module in self.loss_modules.values():
            extras.update(module.losses(batch, out, epoch))
        for v in extras.values():
            loss = loss + v
        return loss, out.logits, weights, extras


@dataclasses.dataclass
class StepTimes:
    """Seconds a fold's training steps spent in each part (summed over steps).

    Attributes:
        steps: training steps timed.
        data_s: waiting for the loader (decode or cache read, sampling, collation, copy to the device).
        forward_s: forward pass and losses.
        backward_s: backward pass, gradient clipping and the optimiser step.
        data_cpu_s, forward_cpu_s, backward_cpu_s: the same parts in CPU time of this process (all its
            threads; loader workers not included): what they cost on a machine shared with others.
    """

    steps: int = 0
    data_s: float = 0.0
    forward_s: float = 0.0
    backward_s: float = 0.0
    data_cpu_s: float = 0.0
    forward_cpu_s: float = 0.0
    backward_cpu_s: float = 0.0


class StepClock:
    """Marks the boundaries of a step's parts; ``sync`` waits for CUDA at each mark."""

    def __init__(self, times: StepTimes, device: torch.device, sync: bool) -> None:
        self.times = times
        self.sync = sync and device.type == "cuda"
        self.device = device
        self.t, self.cpu = time.perf_counter(), time.process_time()

    def lap(self, part: str) -> None:
        """Add the time since the last mark to ``part`` (``data``, ``forward`` or ``backward``)."""
        if self.sync:
            torch.cuda.synchronize(self.device)
        now, cpu = time.perf_counter(), time.process_time()
        setattr(self.times, f"{part}_s", getattr(self.times, f"{part}_s") + now - self.t)
        setattr(self.times, f"{part}_cpu_s", getattr(self.times, f"{part}_cpu_s") + cpu - self.cpu)
        if part == "backward":
            self.times.steps += 1
        self.t, self.cpu = now, cpu

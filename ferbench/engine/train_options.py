"""How to train: :class:`TrainOptions` (the ``[train]`` table of a run file, ``--train-opt``) and
:func:`train_setup`, the leaderboard's summary of the non-default ones."""

from __future__ import annotations

import dataclasses
import re
from typing import Literal

from ..data.memory_cache import memory_budget
from ..errors import ConfigError, OptionError
from ..options import ADDED_LATER, RUNTIME, options_to_dict


_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


@dataclasses.dataclass(frozen=True)
class TrainOptions:
    """How a model is trained, which checkpoint is scored, and what else is measured.

    Attributes:
        epochs: training epochs per fold.
        batch_size: samples per batch.
        optimizer: "adamw", "adam" or "sgd".
        lr: peak learning rate (>= 0).
        weight_decay: decoupled (adamw) or L2 (adam, sgd) weight decay.
        momentum: SGD momentum.
        schedule: "cosine" (with linear warm-up), "step" or "none".
        warmup_epochs: linear warm-up epochs (cosine).
        cosine_period: 0 = the cosine decays to zero over the epochs after the warm-up; N > 0 = the
            cosine runs from epoch 0 with half-period N epochs (torch's CosineAnnealingLR(T_max=N),
            stepped per epoch) and the warm-up multiplies it by min(1, (epoch + 1) / warmup_epochs)
            (pytorch_warmup's LinearWarmup, as in the CEFLNet code); N > epochs ends above zero.
        step_size: epochs between decays (step).
        gamma: decay factor (step).
        loss: "ce" (cross-entropy) or "focal".
        focal_gamma: focusing parameter of the focal loss.
        focal_alpha: class-agnostic focal weight; 0 means none.
        label_smoothing: cross-entropy label smoothing.
        balanced_sampling: class-balanced batches (batch_size a multiple of K).
        grad_clip: max gradient norm; 0 disables.
        amp: bf16 autocast on CUDA (ignored on CPU).
        device: "auto" (CUDA when present), "cpu", "cuda", "cuda:1", ...
        num_workers: DataLoader worker processes per loader; "auto": on a GPU, CPU cores - 1 (at most 8),
            on the CPU a quarter of the cores beyond two (the model's threads use the cores), shared
            between the processes of a torchrun run. Results do not depend on it.
        prefetch: batches each loader worker prepares ahead.
        cache: decoded inputs: "disk" (decoded once into a memory-mappable cache under cache_dir)
            or "none" (decoded from the media in the loader workers whenever not in memory,
            for datasets whose decoded inputs do not fit on disk).
        cache_mem: byte budget of the in-process cache of loaded samples (LRU), split between loader
            workers: "auto" (0 with cache=disk, where the OS page cache holds warm samples; 25%
            of available memory with cache=none), a size ("2GB", "512MiB", "0") or a share ("10%").
        eval_batch_size: batch size of evaluation (inference mode); 0 = batch_size on CPU,
            4 x batch_size on CUDA.
        compile: torch.compile the backbone and the aggregator.
        channels_last: channels-last memory format for convolutional backbones (CUDA only).
        cudnn_benchmark: let cuDNN pick the fastest convolution algorithms (CUDA only).
        val_fraction: fraction of training subjects held out for validation.
        select: "last" (last epoch) or "best-val" (best validation epoch; needs val_fraction > 0).
            Never the test fold.
        patience: early stopping: end a fold once validation WAR has not improved for this
            many epochs (needs select=best-val); 0 trains all epochs.
        identity_probe: after scoring, also measure identity leakage: a logistic regression
            predicts the subject from the video embedding z of every scoreable sample
            (3-fold cross-validation over videos); stored as metric ``identity_probe`` (%).
    """

    epochs: int = 20
    batch_size: int = 8
    optimizer: Literal["adamw", "adam", "sgd"] = "adamw"
    lr: float = 3e-3
    weight_decay: float = 1e-4
    momentum: float = 0.9
    schedule: Literal["cosine", "step", "none"] = "cosine"
    warmup_epochs: int = 1
    cosine_period: int = dataclasses.field(default=0, metadata=ADDED_LATER)
    step_size: int = 10
    gamma: float = 0.1
    loss: Literal["ce", "focal"] = "ce"
    focal_gamma: float = 2.0
    focal_alpha: float = 0.0
    label_smoothing: float = 0.0
    balanced_sampling: bool = False
    grad_clip: float = 5.0
    amp: bool = True
    device: str = dataclasses.field(default="auto", metadata=RUNTIME)
    num_workers: int | Literal["auto"] = dataclasses.field(default="auto", metadata=RUNTIME)
    prefetch: int = dataclasses.field(default=2, metadata=RUNTIME)
    cache: Literal["disk", "none"] = dataclasses.field(default="disk", metadata=RUNTIME)
    cache_mem: str = dataclasses.field(default="auto", metadata=RUNTIME)
    eval_batch_size: int = dataclasses.field(default=0, metadata=RUNTIME)
    compile: bool = dataclasses.field(default=False, metadata=RUNTIME)
    channels_last: bool = dataclasses.field(default=True, metadata=RUNTIME)
    cudnn_benchmark: bool = dataclasses.field(default=True, metadata=RUNTIME)
    val_fraction: float = 0.0
    select: Literal["last", "best-val"] = "last"
    patience: int = 0
    identity_probe: bool = dataclasses.field(default=False, metadata=ADDED_LATER)

    def __post_init__(self) -> None:
        problems = []
        if self.epochs < 1:
            problems.append(f"epochs must be >= 1, got {self.epochs}")
        if self.batch_size < 1:
            problems.append(f"batch_size must be >= 1, got {self.batch_size}")
        if not self.lr >= 0:
            problems.append(f"lr must be >= 0, got {self.lr}")
        for name in ("weight_decay", "focal_gamma", "focal_alpha", "grad_clip", "warmup_epochs", "cosine_period", "patience",
                     "eval_batch_size"):
            if getattr(self, name) < 0:
                problems.append(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.num_workers != "auto" and not (isinstance(self.num_workers, int) and self.num_workers >= 0):
            problems.append(f"num_workers must be auto or >= 0, got {self.num_workers!r}")
        if self.prefetch < 1:
            problems.append(f"prefetch must be >= 1, got {self.prefetch}")
        try:
            memory_budget(self.cache_mem, mode=self.cache, available=0)
        except OptionError as err:
            problems.append(str(err))
        if not 0 <= self.momentum < 1:
            problems.append(f"momentum must be in [0, 1), got {self.momentum}")
        if not 0 <= self.label_smoothing < 1:
            problems.append(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if not 0 <= self.val_fraction < 1:
            problems.append(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if self.step_size < 1 or not self.gamma > 0:
            problems.append(f"step schedule needs step_size >= 1 and gamma > 0, got {self.step_size}, {self.gamma}")
        if not _DEVICE.match(self.device):
            problems.append(f"device must be auto, cpu, cuda or cuda:N, got {self.device!r}")
        if self.select == "best-val" and self.val_fraction <= 0:
            problems.append("select=best-val needs val_fraction > 0 (validation subjects carved from training)")
        if self.patience and self.select != "best-val":
            problems.append("patience needs select=best-val and val_fraction > 0 (early stopping watches validation)")
        if problems:
            raise ConfigError("training options: " + "; ".join(problems))


def train_setup(train: TrainOptions) -> str:
    """Training options that differ from the defaults, runtime ones left out: ``"epochs=2, lr=0.0001"``."""
    chosen, defaults = options_to_dict(train, runtime=False), options_to_dict(TrainOptions())
    return ", ".join(f"{k}={v}" for k, v in chosen.items() if v != defaults[k])

"""Training and evaluation of one fold, with per-epoch checkpoints and resume.

Determinism: every epoch reseeds torch from (seed, fold, epoch), the sampler
and per-item generators are seeded the same way, so a run resumed from the
checkpoint of epoch e reproduces the uninterrupted run exactly.
Checkpoints are state_dicts plus the config, loaded with ``weights_only=True``;
one that cannot be loaded is a :class:`~ferbench.errors.CheckpointError` line
naming the file and the fix.

On CUDA the step runs with bf16 autocast (``amp``), channels-last convolutions
(``channels_last``), cuDNN autotuning (``cudnn_benchmark``) and, with
``compile=true``, a compiled backbone and aggregator. Under torchrun the step
runs inside DistributedDataParallel (:mod:`.distributed`): stages train on rank
0 and are broadcast, evaluation is gathered from every rank, and only rank 0
(``is_main``) writes checkpoints.
"""

from __future__ import annotations

import dataclasses
import pickle
import time
import zipfile
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from ..components import Batch, Evaluation, StageContext
from ..seeding import mix_seed
from ..errors import CheckpointError, FerbenchError
from ..fileio import atomic_torch_save
from ..kinds import STAGE_KINDS
from ..metrics import ClassificationMetrics, classification_metrics
from ..options import stable_hash
from ..timing import format_seconds
from .assemble import Assembled
from .config import TrainOptions
from .distributed import all_reduce_sums, barrier, batch_share, broadcast_module, is_active, wrap_ddp
from .evaluation import autocast, evaluate_model
from .gpu_step import speed_up
from .loaders import make_loader, set_epoch
from .optim import make_criterion, make_optimizer, make_scheduler
from .train_step import StepClock, StepTimes, TrainStep

__all__ = ["FoldTrainer", "FoldTraining", "evaluate_model", "load_checkpoint", "make_loader", "metrics_of",
           "resolve_device", "set_epoch", "stage_path", "format_seconds"]

EpochCallback = Callable[[int, dict[str, float]], None]


def resolve_device(name: str) -> torch.device:
    """The torch device of a ``device`` option; CUDA asked for on a host without it is one error line."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise FerbenchError(f"--device {name}: this host has no usable CUDA GPU; use --device cpu (or auto)")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise FerbenchError(f"--device {name}: this host has {torch.cuda.device_count()} CUDA device(s) "
                                f"(cuda:0..cuda:{torch.cuda.device_count() - 1}); choose one of them")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise FerbenchError(f"--device {name}: MPS is not available on this host; use --device cpu (or auto)")
    return device


def stage_path(stage_dir: Path, kind: str, stage: str, component_key: str, stage_key: str, fold: int) -> Path:
    """Where the state of ``kind``'s stage ``stage`` is cached for one fold.

    Args:
        stage_dir: the dataset's stage folder (``<cache>/stages/<dataset>``).
        kind: the component's kind (``"selector"``).
        stage: :attr:`Stage.name`.
        component_key: the run's key for that component (dataset content, input, options, seed).
        stage_key: :attr:`Stage.key`.
        fold: fold index.
    """
    key = stable_hash([component_key, stage_key, fold])
    return Path(stage_dir) / f"fold{fold}" / f"{kind}-{stage}-{key}.pt"


def load_checkpoint(path: Path, device: torch.device | str = "cpu") -> dict[str, Any]:
    """A checkpoint's state (``weights_only=True``: no pickled code ever runs).

    Raises:
        CheckpointError: missing, truncated, or not a plain state (a planted pickle, say).
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}; train the fold first (ferbench run)")
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError) as err:
        reason = str(err).splitlines()[0][:160] if str(err) else type(err).__name__
        raise CheckpointError(
            f"checkpoint {path} cannot be loaded ({reason}); it is truncated or not a ferbench checkpoint: "
            f"delete {path.parent} or run without --resume"
        ) from None
    if not isinstance(state, dict) or "model" not in state:
        raise CheckpointError(f"checkpoint {path} is not a ferbench checkpoint (no model state); delete {path.parent}")
    return state


def metrics_of(evaluation: Evaluation, num_classes: int) -> ClassificationMetrics:
    """WAR, UAR, macro-F1 and the confusion matrix of an evaluation."""
    return classification_metrics(evaluation.labels, evaluation.predictions, num_classes)


@dataclasses.dataclass
class FoldTraining:
    """Result of :meth:`FoldTrainer.fit`: the scored state and its history."""

    selection: str
    selected_epoch: int
    history: list[dict[str, float]]
    train_s: float
    stage_s: float


class FoldTrainer:
    """Trains one fold's model; owns its checkpoints under ``run_dir``.

    ``run_eta``, when given, maps the fold's remaining seconds to the whole run's
    remaining seconds; both are printed with every epoch line. ``is_main``: this
    process writes checkpoints and trains stages (rank 0 under torchrun).
    ``profile``: synchronise CUDA around each part of a step so :attr:`step_times`
    splits GPU time exactly (slower; CPU timings are exact either way).
    """

    def __init__(
        self,
        parts: Assembled,
        train_options: TrainOptions,
        *,
        seed: int,
        fold: int,
        run_dir: Path,
        stage_dir: Path,
        stage_key: dict[str, str],
        cache_dir: Path | None = None,
        checkpoint_meta: dict[str, Any],
        device: torch.device,
        log: Callable[[str], None] = print,
        progress: bool = True,
        run_eta: Callable[[float], float] | None = None,
        is_main: bool = True,
        profile: bool = False,
    ) -> None:
        self.parts = parts
        self.options = train_options
        self.seed, self.fold = seed, fold
        self.run_dir, self.stage_dir, self.stage_key = run_dir, stage_dir, stage_key
        self.cache_dir = cache_dir
        self.meta = checkpoint_meta
        self.device = device
        self.log, self.progress = log, progress
        self.run_eta = run_eta
        self.is_main, self.profile = is_main, profile
        self.model = parts.model.to(device)
        self.auxiliary: dict[str, nn.Module] = {k: m.to(device) for k, m in parts.auxiliary.items()}
        self.criterion = make_criterion(train_options)
        trainable = list(self.model.parameters())
        for kind, module in self.auxiliary.items():
            if hasattr(module, "losses"):  # loss components train with the model (disentanglers)
                trainable += list(module.parameters())
        self.optimizer = make_optimizer(trainable, train_options)
        self.scheduler = make_scheduler(self.optimizer, train_options)
        self.amp = train_options.amp and device.type == "cuda"
        speed_up(self.model, train_options, device)
        self.step = TrainStep(
            self.model,
            {k: m for k, m in self.auxiliary.items() if hasattr(m, "losses")},
            [m for m in self.auxiliary.values() if hasattr(m, "weights")],
            self.criterion,
        )
        self._step_runner: nn.Module | None = None
        #: where the last :meth:`fit` spent its training steps' time
        self.step_times = StepTimes()

    # ------------------------------------------------------------- internals
    @property
    def step_runner(self) -> nn.Module:
        """The training step, inside DistributedDataParallel under torchrun (wrapped after the stages)."""
        if self._step_runner is None:
            self._step_runner = wrap_ddp(self.step, self.device)
        return self._step_runner

    def _state(self, epoch: int, history: list[dict[str, float]], best: dict[str, Any]) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            **{kind: module.state_dict() for kind, module in self.auxiliary.items()},
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "epoch": epoch,
            "history": history,
            "best": best,
            **self.meta,
        }

    def _save(self, name: str, state: dict[str, Any]) -> Path:
        path = self.run_dir / name
        if self.is_main:
            atomic_torch_save(state, path)
        return path

    def _components(self) -> list[tuple[str, nn.Module]]:
        """Components that may declare stages, in :data:`~ferbench.kinds.STAGE_KINDS` order."""
        modules = {"backbone": self.model.backbone, "aggregator": self.model.aggregator, **self.auxiliary}
        return [(kind, modules[kind]) for kind in STAGE_KINDS if kind in modules]

    def _run_stages(self, train_loader: DataLoader) -> None:
        """Train (or load from the stage cache) every declared stage; under torchrun rank 0 does it
        and the other ranks receive the weights."""
        for kind, component in self._components():
            for stage in component.stages() if hasattr(component, "stages") else []:
                if self.is_main:
                    self._run_stage(kind, stage, train_loader)
                broadcast_module(stage.module)

    def _run_stage(self, kind: str, stage, train_loader: DataLoader) -> None:
        path = stage_path(self.stage_dir, kind, stage.name, self.stage_key[kind], stage.key, self.fold)
        if path.is_file():
            try:
                state = torch.load(path, map_location=self.device, weights_only=True)
                stage.module.load_state_dict(state)
                self.log(f"fold {self.fold}: stage {kind}/{stage.name} loaded from cache")
                return
            except Exception as err:  # noqa: BLE001 - a torn or stale cache file is retrained
                self.log(f"fold {self.fold}: cached stage {path} is unreadable ({type(err).__name__}); "
                         "training it again")
        self.log(f"fold {self.fold}: stage {kind}/{stage.name} training")
        t0 = time.perf_counter()
        torch.manual_seed(mix_seed(self.seed, self.fold, 7919))
        stage.train(StageContext(train_loader, self.device, self.model, self.seed, self.log,
                                 fold=self.fold, cache_dir=self.cache_dir))
        atomic_torch_save(stage.module.state_dict(), path)
        self.log(f"fold {self.fold}: stage {kind}/{stage.name} trained in {format_seconds(time.perf_counter() - t0)}")

    def _train_epoch(self, loader: DataLoader, epoch: int) -> dict[str, float]:
        self.model.train()
        for module in self.auxiliary.values():
            module.train()
        runner = self.step_runner
        runner.train()
        # running sums stay on the device (no synchronisation per step): loss*B, correct, n, kept weight
        total = torch.zeros((), dtype=torch.float64, device=self.device)
        correct = torch.zeros((), dtype=torch.int64, device=self.device)
        weight_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        n = 0
        extra_sums: dict[str, torch.Tensor] = {}
        bar = tqdm(loader, desc=f"fold {self.fold} epoch {epoch + 1}/{self.options.epochs}", leave=False,
                   disable=not self.progress)
        clock = StepClock(self.step_times, self.device, self.profile)
        for step, batch in enumerate(bar):
            batch = batch.to(self.device)
            clock.lap("data")
            loss, logits, weights, extras = self.train_step(batch, epoch, clock=clock)
            b = len(batch)
            total += loss.double() * b
            correct += (logits.argmax(1) == batch.label).sum()
            n += b
            weight_sum += weights.sum().double()
            for k, v in extras.items():
                extra_sums[k] = extra_sums.get(k, 0.0) + v.double() * b
            if self.progress and step % 10 == 0:
                bar.set_postfix(loss=f"{float(total) / n:.3f}", acc=f"{100 * int(correct) / n:.1f}")
        keys = list(extra_sums)  # the same order on every rank
        sums = all_reduce_sums([float(total), float(correct), float(n), float(weight_sum),
                                *(float(extra_sums[k]) for k in keys)], self.device)
        total_f, correct_f, n_f, weight_f = sums[:4]
        n_f = max(n_f, 1)
        stats = {"loss": total_f / n_f, "train_acc": 100.0 * correct_f / n_f, "kept": weight_f / n_f}
        stats.update({f"loss_{k}": v / n_f for k, v in zip(keys, sums[4:])})
        for module in self.auxiliary.values():
            if hasattr(module, "epoch_stats"):
                stats.update(module.epoch_stats())
        return stats

    def train_step(self, batch: Batch, epoch: int = 0, *, clock: StepClock | None = None
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """One optimisation step on ``batch`` (already on the device): forward with the run's losses
        (DistributedDataParallel under torchrun), backward, gradient clipping, optimiser step.

        Returns the detached loss, logits [B, K], selector weights [B] and extra losses.
        ``clock`` marks the end of the forward and of the backward part.
        """
        runner = self.step_runner
        with autocast(self.amp):
            loss, logits, weights, extras = runner(batch, epoch)
        if clock is not None:
            clock.lap("forward")
        self.optimizer.zero_grad(set_to_none=True)
        (loss * batch_share(len(batch), self.device) if runner is not self.step else loss).backward()
        if self.options.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(
                [p for g in self.optimizer.param_groups for p in g["params"]], self.options.grad_clip
            )
        self.optimizer.step()
        if clock is not None:
            clock.lap("backward")
        return loss.detach(), logits.detach(), weights.detach(), {k: v.detach() for k, v in extras.items()}

    def evaluate(self, loader: DataLoader, *, embeddings: bool = False) -> Evaluation:
        """Predictions of the current model on ``loader`` (gathered from every rank under torchrun);
        see :func:`~ferbench.engine.evaluation.evaluate_model`."""
        return evaluate_model(self.model, loader, device=self.device, amp=self.amp, embeddings=embeddings,
                              gather=is_active())

    def _log_epoch(self, epoch: int, stats: dict[str, float], epoch_s: list[float]) -> None:
        left = self.options.epochs - epoch - 1
        fold_left = left * float(np.mean(epoch_s[-3:]))
        eta = f"ETA fold {format_seconds(fold_left)}"
        if self.run_eta is not None:
            eta += f", run {format_seconds(self.run_eta(fold_left))}"
        self.log(
            f"fold {self.fold} epoch {epoch + 1}/{self.options.epochs} "
            + " ".join(f"{k} {v:.4g}" for k, v in stats.items() if k != "epoch")
            + f" | {eta}"
        )

    # ------------------------------------------------------------- public
    def load_state(self, state: dict[str, Any]) -> None:
        """Load a full training state (``last.pt``): model, auxiliary components, optimiser, scheduler."""
        self.model.load_state_dict(state["model"])
        for kind, module in self.auxiliary.items():
            if kind in state:
                module.load_state_dict(state[kind])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])

    def fit(
        self,
        train_loader: DataLoader,
        val_loader: DataLoader | None,
        *,
        resume: bool = False,
        on_epoch_end: EpochCallback | None = None,
        stage_loader: DataLoader | None = None,
    ) -> FoldTraining:
        """Train all epochs (continuing from ``last.pt`` when ``resume``) and load
        the state to score: the last epoch, or the best validation epoch.

        ``stage_loader``: what stages train on (default ``train_loader``; under torchrun the
        unsharded training set, as rank 0 trains them alone).
        """
        start_epoch, history, best = 0, [], {"epoch": -1, "score": -1.0}
        self.step_times = StepTimes()
        last = self.run_dir / "last.pt"
        if resume and last.is_file():
            state = load_checkpoint(last, self.device)
            try:
                self.load_state(state)
            except (KeyError, RuntimeError, ValueError) as err:
                raise CheckpointError(f"checkpoint {last} does not fit this configuration ({type(err).__name__}); "
                                      f"delete {self.run_dir} or run without --resume") from None
            start_epoch, history, best = state["epoch"], list(state["history"]), dict(state["best"])
            self.log(f"fold {self.fold}: resuming after epoch {start_epoch}")
        t0 = time.perf_counter()
        if start_epoch < self.options.epochs:
            self._run_stages(stage_loader if stage_loader is not None else train_loader)
        stage_s = time.perf_counter() - t0
        epoch_s: list[float] = []
        for epoch in range(start_epoch, self.options.epochs):
            if self.options.patience and best["epoch"] >= 0 and epoch - 1 - best["epoch"] >= self.options.patience:
                self.log(f"fold {self.fold}: early stop after epoch {epoch}, no validation gain since epoch {best['epoch'] + 1}")
                break
            t_epoch = time.perf_counter()
            torch.manual_seed(mix_seed(self.seed, self.fold, epoch))
            set_epoch(train_loader, epoch)
            stats = self._train_epoch(train_loader, epoch)
            stats["lr"] = self.optimizer.param_groups[0]["lr"]
            self.scheduler.step()
            if val_loader is not None:
                val = metrics_of(self.evaluate(val_loader), self.parts.context.num_classes)
                stats["val_war"], stats["val_uar"] = val.war, val.uar
                if self.options.select == "best-val" and val.war > best["score"]:
                    best = {"epoch": epoch, "score": val.war}
                    self._save("best.pt", {"model": self.model.state_dict(), "epoch": epoch + 1, **self.meta})
            stats["epoch"] = epoch + 1
            history.append(stats)
            self._save("last.pt", self._state(epoch + 1, history, best))
            epoch_s.append(time.perf_counter() - t_epoch)
            self._log_epoch(epoch, stats, epoch_s)
            if on_epoch_end is not None:
                on_epoch_end(epoch, stats)
        train_s = time.perf_counter() - t0 - stage_s
        if self.options.select == "best-val" and best["epoch"] >= 0:
            barrier()  # rank 0 has written best.pt
            state = load_checkpoint(self.run_dir / "best.pt", self.device)
            self.model.load_state_dict(state["model"])
            return FoldTraining("best-val", best["epoch"] + 1, history, train_s, stage_s)
        return FoldTraining("last", self.options.epochs, history, train_s, stage_s)


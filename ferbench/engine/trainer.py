"""Training and evaluation of one fold, with per-epoch checkpoints and resume.

Determinism: every epoch reseeds torch from (seed, fold, epoch), the sampler
and per-item generators are seeded the same way, so a run resumed from the
checkpoint of epoch e reproduces the uninterrupted run exactly.
Checkpoints are state_dicts plus the config, loaded with ``weights_only=True``;
one that cannot be loaded is a :class:`~ferbench.errors.CheckpointError` line
naming the file and the fix.
"""

from __future__ import annotations

import contextlib
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

from ..components import Evaluation, StageContext
from ..data.loading import EpochSampler, FERDataset, collate
from ..seeding import mix_seed
from ..errors import CheckpointError, FerbenchError
from ..fileio import atomic_torch_save
from ..kinds import STAGE_KINDS
from ..metrics import ClassificationMetrics, classification_metrics
from ..options import stable_hash
from .assemble import Assembled
from .config import TrainOptions
from .optim import make_criterion, make_optimizer, make_scheduler

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


def make_loader(
    dataset: FERDataset, t: TrainOptions, *, train: bool, seed: int, num_classes: int, rank: int = 0, world_size: int = 1
) -> DataLoader:
    sampler = EpochSampler(
        dataset.labels(),
        t.batch_size,
        shuffle=train,
        seed=seed,
        balanced=train and t.balanced_sampling,
        num_classes=num_classes,
        rank=rank,
        world_size=world_size,
    )
    return DataLoader(dataset, batch_sampler=sampler, collate_fn=collate, num_workers=t.num_workers)


def set_epoch(loader: DataLoader, epoch: int) -> None:
    loader.batch_sampler.set_epoch(epoch)
    loader.dataset.set_epoch(epoch)


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


def format_seconds(seconds: float) -> str:
    """``75`` -> ``"1m15s"``, ``3725`` -> ``"1h02m"``."""
    s = int(round(max(seconds, 0)))
    if s >= 3600:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


def metrics_of(evaluation: Evaluation, num_classes: int) -> ClassificationMetrics:
    """WAR, UAR, macro-F1 and the confusion matrix of an evaluation."""
    return classification_metrics(evaluation.labels, evaluation.predictions, num_classes)


def _autocast(amp: bool):
    return torch.autocast("cuda", dtype=torch.bfloat16) if amp else contextlib.nullcontext()


@torch.no_grad()
def evaluate_model(model: nn.Module, loader: DataLoader, *, device: torch.device, amp: bool = False,
                   embeddings: bool = False) -> Evaluation:
    """Predictions of ``model`` on ``loader`` (eval mode, no augmentation).

    Keeps the aggregator's extras, the inputs' ``frame_index`` when they report it,
    and (``embeddings=True``) the video embeddings z. ``amp``: bf16 autocast (CUDA).
    """
    model.eval()
    probs, labels, indices, frames, embs = [], [], [], [], []
    extras: dict[str, list[np.ndarray]] = {}
    for batch in loader:
        batch = batch.to(device)
        with _autocast(amp):
            out = model(batch.x, batch.side)
        probs.append(out.logits.float().softmax(1).cpu().numpy())
        labels.append(batch.label.cpu().numpy())
        indices.append(batch.index.cpu().numpy())
        if "frame_index" in batch.side:
            frames.append(batch.side["frame_index"].long().cpu().numpy())
        if embeddings:
            embs.append(out.embedding.float().cpu().numpy())
        for k, v in out.extras.items():
            extras.setdefault(k, []).append(v.float().cpu().numpy())
    return Evaluation(
        probs=np.concatenate(probs),
        labels=np.concatenate(labels),
        indices=np.concatenate(indices),
        extras={k: np.concatenate(v) for k, v in extras.items()},
        frame_index=np.concatenate(frames) if frames and len(frames) == len(probs) else None,
        embeddings=np.concatenate(embs) if embs else None,
    )


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
    remaining seconds; both are printed with every epoch line.
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

    # ------------------------------------------------------------- internals
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
        atomic_torch_save(state, path)
        return path

    def _components(self) -> list[tuple[str, nn.Module]]:
        """Components that may declare stages, in :data:`~ferbench.kinds.STAGE_KINDS` order."""
        modules = {"backbone": self.model.backbone, "aggregator": self.model.aggregator, **self.auxiliary}
        return [(kind, modules[kind]) for kind in STAGE_KINDS if kind in modules]

    def _run_stages(self, train_loader: DataLoader) -> None:
        for kind, component in self._components():
            for stage in component.stages() if hasattr(component, "stages") else []:
                path = stage_path(self.stage_dir, kind, stage.name, self.stage_key[kind], stage.key, self.fold)
                if path.is_file():
                    try:
                        state = torch.load(path, map_location=self.device, weights_only=True)
                        stage.module.load_state_dict(state)
                        self.log(f"fold {self.fold}: stage {kind}/{stage.name} loaded from cache")
                        continue
                    except Exception as err:  # noqa: BLE001 - a torn or stale cache file is retrained
                        self.log(f"fold {self.fold}: cached stage {path} is unreadable ({type(err).__name__}); "
                                 "training it again")
                self.log(f"fold {self.fold}: stage {kind}/{stage.name} training")
                torch.manual_seed(mix_seed(self.seed, self.fold, 7919))
                stage.train(StageContext(train_loader, self.device, self.model, self.seed, self.log,
                                         fold=self.fold, cache_dir=self.cache_dir))
                atomic_torch_save(stage.module.state_dict(), path)

    def _train_epoch(self, loader: DataLoader, epoch: int) -> dict[str, float]:
        self.model.train()
        for module in self.auxiliary.values():
            module.train()
        losses = [m for m in self.auxiliary.values() if hasattr(m, "losses")]
        weighters = [m for m in self.auxiliary.values() if hasattr(m, "weights")]
        total, correct, n, weight_sum = 0.0, 0, 0, 0.0
        extra_sums: dict[str, float] = {}
        bar = tqdm(loader, desc=f"fold {self.fold} epoch {epoch + 1}/{self.options.epochs}", leave=False,
                   disable=not self.progress)
        for batch in bar:
            batch = batch.to(self.device)
            with _autocast(self.amp):
                out = self.model(batch.x, batch.side)
                per_sample = self.model.aggregator.classification_loss(out, batch.label)
                if per_sample is None:
                    per_sample = self.criterion(out.logits, batch.label)
                weights = torch.ones_like(per_sample)
                with torch.no_grad():
                    for module in weighters:
                        weights = weights * module.weights(batch, out, self.model).to(per_sample.dtype)
                loss = (weights * per_sample).mean()
                extras: dict[str, torch.Tensor] = {}
                for module in losses:
                    extras.update(module.losses(batch, out, epoch))
                for v in extras.values():
                    loss = loss + v
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.options.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(
                    [p for g in self.optimizer.param_groups for p in g["params"]], self.options.grad_clip
                )
            self.optimizer.step()
            b = len(batch)
            total += float(loss.detach()) * b
            correct += int((out.logits.argmax(1) == batch.label).sum())
            n += b
            weight_sum += float(weights.sum())
            for k, v in extras.items():
                extra_sums[k] = extra_sums.get(k, 0.0) + float(v.detach()) * b
            bar.set_postfix(loss=f"{total / n:.3f}", acc=f"{100 * correct / n:.1f}")
        stats = {"loss": total / max(n, 1), "train_acc": 100.0 * correct / max(n, 1), "kept": weight_sum / max(n, 1)}
        stats.update({f"loss_{k}": v / max(n, 1) for k, v in extra_sums.items()})
        for module in self.auxiliary.values():
            if hasattr(module, "epoch_stats"):
                stats.update(module.epoch_stats())
        return stats

    def evaluate(self, loader: DataLoader, *, embeddings: bool = False) -> Evaluation:
        """Predictions of the current model on ``loader``; see :func:`evaluate_model`."""
        return evaluate_model(self.model, loader, device=self.device, amp=self.amp, embeddings=embeddings)

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
    ) -> FoldTraining:
        """Train all epochs (continuing from ``last.pt`` when ``resume``) and load
        the state to score: the last epoch, or the best validation epoch."""
        start_epoch, history, best = 0, [], {"epoch": -1, "score": -1.0}
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
            self._run_stages(train_loader)
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
            state = load_checkpoint(self.run_dir / "best.pt", self.device)
            self.model.load_state_dict(state["model"])
            return FoldTraining("best-val", best["epoch"] + 1, history, train_s, stage_s)
        return FoldTraining("last", self.options.epochs, history, train_s, stage_s)

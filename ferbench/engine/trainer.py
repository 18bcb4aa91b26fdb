"""Training and evaluation of one fold, with per-epoch checkpoints and resume.

Determinism: every epoch reseeds torch from (seed, fold, epoch), the sampler
and per-item generators are seeded the same way, so a run resumed from the
checkpoint of epoch e reproduces the uninterrupted run exactly.
Checkpoints are state_dicts plus the config, loaded with ``weights_only=True``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from ..components import Batch, Stage, StageContext
from ..data.loading import EpochSampler, FERDataset, collate, mix_seed
from ..metrics import ClassificationMetrics, classification_metrics
from ..options import stable_hash
from .assemble import Assembled
from .config import TrainOptions
from .optim import make_criterion, make_optimizer, make_scheduler

EpochCallback = Callable[[int, dict[str, float]], None]


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


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


@dataclasses.dataclass
class Evaluation:
    """Predictions on one split: ``probs`` [N, K], ``labels`` [N], ``indices`` [N] (manifest positions)."""

    probs: np.ndarray
    labels: np.ndarray
    indices: np.ndarray
    extras: dict[str, np.ndarray]

    @property
    def predictions(self) -> np.ndarray:
        return self.probs.argmax(1)

    def metrics(self, num_classes: int) -> ClassificationMetrics:
        return classification_metrics(self.labels, self.predictions, num_classes)


@dataclasses.dataclass
class FoldTraining:
    """Result of :meth:`FoldTrainer.fit`: the scored state and its history."""

    selection: str
    selected_epoch: int
    history: list[dict[str, float]]
    train_s: float
    stage_s: float


class FoldTrainer:
    """Trains one fold's model; owns its checkpoints under ``run_dir``."""

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
    ) -> None:
        self.parts = parts
        self.t = train_options
        self.seed, self.fold = seed, fold
        self.run_dir, self.stage_dir, self.stage_key = run_dir, stage_dir, stage_key
        self.cache_dir = cache_dir
        self.meta = checkpoint_meta
        self.device = device
        self.log, self.progress = log, progress
        self.model = parts.model.to(device)
        self.disentangler = parts.disentangler.to(device)
        self.selector = parts.selector.to(device)
        self.criterion = make_criterion(train_options)
        self.optimizer = make_optimizer(
            list(self.model.parameters()) + list(self.disentangler.parameters()), train_options
        )
        self.scheduler = make_scheduler(self.optimizer, train_options)
        self.amp = train_options.amp and device.type == "cuda"

    # ------------------------------------------------------------- internals
    def _autocast(self):
        if self.amp:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _state(self, epoch: int, history: list[dict[str, float]], best: dict[str, Any]) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "disentangler": self.disentangler.state_dict(),
            "selector": self.selector.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "epoch": epoch,
            "history": history,
            "best": best,
            **self.meta,
        }

    def _save(self, name: str, state: dict[str, Any]) -> Path:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        path = self.run_dir / name
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        torch.save(state, tmp)
        os.replace(tmp, path)  # atomic: an interruption never leaves half a checkpoint
        return path

    def _run_stages(self, train_loader: DataLoader) -> None:
        for component_name, component in (
            ("backbone", self.model.backbone),
            ("aggregator", self.model.aggregator),
            ("disentangler", self.disentangler),
            ("selector", self.selector),
        ):
            stages: list[Stage] = component.stages() if hasattr(component, "stages") else []
            for stage in stages:
                key = stable_hash([self.stage_key[component_name], stage.key, self.fold])
                path = self.stage_dir / f"fold{self.fold}" / f"{component_name}-{stage.name}-{key}.pt"
                if path.is_file():
                    stage.module.load_state_dict(torch.load(path, map_location=self.device, weights_only=True))
                    self.log(f"fold {self.fold}: stage {component_name}/{stage.name} loaded from cache")
                    continue
                self.log(f"fold {self.fold}: stage {component_name}/{stage.name} training")
                torch.manual_seed(mix_seed(self.seed, self.fold, 7919))
                stage.train(StageContext(train_loader, self.device, self.model, self.seed, self.log,
                                         fold=self.fold, cache_dir=self.cache_dir))
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".tmp{os.getpid()}")
                torch.save(stage.module.state_dict(), tmp)
                os.replace(tmp, path)

    def _train_epoch(self, loader: DataLoader, epoch: int) -> dict[str, float]:
        self.model.train()
        self.disentangler.train()
        total, correct, n, weight_sum = 0.0, 0, 0, 0.0
        extra_sums: dict[str, float] = {}
        bar = tqdm(loader, desc=f"fold {self.fold} epoch {epoch + 1}/{self.t.epochs}", leave=False, disable=not self.progress)
        for batch in bar:
            batch = batch.to(self.device)
            with self._autocast():
                out = self.model(batch.x, batch.side)
                per_sample = self.model.aggregator.classification_loss(out, batch.label)
                if per_sample is None:
                    per_sample = self.criterion(out.logits, batch.label)
                with torch.no_grad():
                    weights = self.selector.weights(batch, out, self.model).to(per_sample.dtype)
                loss = (weights * per_sample).mean()
                extras = self.disentangler.losses(batch, out, epoch)
                for v in extras.values():
                    loss = loss + v
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.t.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(
                    [p for g in self.optimizer.param_groups for p in g["params"]], self.t.grad_clip
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
        stats.update(self.selector.epoch_stats())
        return stats

    @torch.no_grad()
    def evaluate(self, loader: DataLoader) -> Evaluation:
        """Predictions of the current model on ``loader`` (eval mode, no augmentation)."""
        self.model.eval()
        probs, labels, indices = [], [], []
        extras: dict[str, list[np.ndarray]] = {}
        for batch in loader:
            batch = batch.to(self.device)
            with self._autocast():
                out = self.model(batch.x, batch.side)
            probs.append(out.logits.float().softmax(1).cpu().numpy())
            labels.append(batch.label.cpu().numpy())
            indices.append(batch.index.cpu().numpy())
            for k, v in out.extras.items():
                extras.setdefault(k, []).append(v.float().cpu().numpy())
        return Evaluation(
            probs=np.concatenate(probs),
            labels=np.concatenate(labels),
            indices=np.concatenate(indices),
            extras={k: np.concatenate(v) for k, v in extras.items()},
        )

    # ------------------------------------------------------------- public
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
            state = torch.load(last, map_location=self.device, weights_only=True)
            self.model.load_state_dict(state["model"])
            self.disentangler.load_state_dict(state["disentangler"])
            self.selector.load_state_dict(state["selector"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            start_epoch, history, best = state["epoch"], list(state["history"]), dict(state["best"])
            self.log(f"fold {self.fold}: resuming after epoch {start_epoch}")
        t0 = time.perf_counter()
        if start_epoch < self.t.epochs:
            self._run_stages(train_loader)
        stage_s = time.perf_counter() - t0
        for epoch in range(start_epoch, self.t.epochs):
            if self.t.patience and best["epoch"] >= 0 and epoch - 1 - best["epoch"] >= self.t.patience:
                self.log(f"fold {self.fold}: early stop after epoch {epoch}, no validation gain since epoch {best['epoch'] + 1}")
                break
            torch.manual_seed(mix_seed(self.seed, self.fold, epoch))
            set_epoch(train_loader, epoch)
            stats = self._train_epoch(train_loader, epoch)
            stats["lr"] = self.optimizer.param_groups[0]["lr"]
            self.scheduler.step()
            if val_loader is not None:
                val = self.evaluate(val_loader).metrics(self.parts.context.num_classes)
                stats["val_war"], stats["val_uar"] = val.war, val.uar
                if self.t.select == "best-val" and val.war > best["score"]:
                    best = {"epoch": epoch, "score": val.war}
                    self._save("best.pt", {"model": self.model.state_dict(), "epoch": epoch + 1, **self.meta})
            stats["epoch"] = epoch + 1
            history.append(stats)
            self._save("last.pt", self._state(epoch + 1, history, best))
            self.log(
                f"fold {self.fold} epoch {epoch + 1}/{self.t.epochs} "
                + " ".join(f"{k} {v:.4g}" for k, v in stats.items() if k != "epoch")
            )
            if on_epoch_end is not None:
                on_epoch_end(epoch, stats)
        train_s = time.perf_counter() - t0 - stage_s
        if self.t.select == "best-val" and best["epoch"] >= 0:
            state = torch.load(self.run_dir / "best.pt", map_location=self.device, weights_only=True)
            self.model.load_state_dict(state["model"])
            return FoldTraining("best-val", best["epoch"] + 1, history, train_s, stage_s)
        return FoldTraining("last", self.t.epochs, history, train_s, stage_s)


def batch_from_dummy(x: torch.Tensor, side: dict[str, torch.Tensor]) -> Batch:
    """A Batch of zeros-labelled samples around ``x`` (for profiling and conformance checks)."""
    b = x.shape[0]
    zeros = torch.zeros(b, dtype=torch.long)
    return Batch(x=x, label=zeros, subject=zeros, index=torch.arange(b), side=side)

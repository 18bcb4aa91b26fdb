"""Run a combination under a dataset's protocol and record every fold.

``Runner(config, registry).run()`` resolves the components, loads the
manifest, checks the combination before any training, then for each fold
trains (resumable), scores the test fold with the selected checkpoint (never
chosen on test), measures cost (params, MACs, throughput) and writes one
record to the results store (rank 0 only) plus a confusion-matrix PNG.
"""

from __future__ import annotations

import dataclasses
import platform
import socket
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from tabulate import tabulate

from .. import __version__
from ..data.loading import FERDataset, InputCache
from ..data.manifest import Manifest
from ..data.protocols import Fold, make_folds, protocol_name
from ..errors import FerbenchError
from ..metrics import count_parameters, format_mean_std, macs_of, save_confusion_png, summarize, throughput
from ..options import stable_hash
from ..plugins import Registry
from ..results import FoldRecord, ResultsStore
from .assemble import Resolved, assemble, build_input, dummy_input, resolve
from .config import RunConfig
from .trainer import EpochCallback, FoldTrainer, make_loader, resolve_device


@dataclasses.dataclass
class FoldOutcome:
    """One scored fold."""

    fold: int
    metrics: dict[str, Any]
    selection: str
    predictions_csv: Path
    confusion_png: Path


@dataclasses.dataclass
class RunResult:
    run_id: str
    config_hash: str
    combination: str
    dataset: str
    protocol: str
    folds: list[FoldOutcome]
    skipped: list[int]
    setup: str = ""


def load_manifest(config: RunConfig, resolved: Resolved) -> Manifest:
    """Build the dataset adapter and return its manifest."""
    spec = resolved.specs["dataset"]
    root = Path(config.root).expanduser() if config.root else None
    adapter = spec.factory(resolved.options["dataset"], root, Path(config.cache_dir).expanduser())
    manifest = adapter.manifest()
    if not manifest.samples:
        raise FerbenchError(f"dataset '{spec.name}' has no samples (root {root}); check the path and layout")
    return manifest


def _versions(registry: Registry) -> dict[str, Any]:
    return {
        "ferbench": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "plugins": {p.name: p.version for p in registry.plugins.values() if not p.broken},
    }


class Runner:
    """Runs one :class:`RunConfig`."""

    def __init__(
        self,
        config: RunConfig,
        registry: Registry,
        *,
        log: Callable[[str], None] = print,
        progress: bool = True,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        self.config = config
        self.registry = registry
        self.log = log
        self.progress = progress
        self.rank, self.world_size = rank, world_size
        self.resolved = resolve(config, registry)
        self.input = build_input(self.resolved)
        self.manifest = load_manifest(config, self.resolved)
        self.config_hash = config.config_hash(self.resolved.options_dict(runtime=False))
        self.combination = self.resolved.combination
        self.dataset_label = self.resolved.label("dataset")
        self.output_dir = Path(config.output_dir).expanduser()
        self.cache_dir = Path(config.cache_dir).expanduser()
        # Fail before any training when the combination cannot work.
        assemble(self.resolved, self.input.signature, self.manifest)
        self.folds = make_folds(self.manifest, seed=config.seed, val_fraction=config.train.val_fraction)
        wanted = config.folds
        if wanted is not None:
            bad = [f for f in wanted if not 0 <= f < len(self.folds)]
            if bad:
                raise FerbenchError(
                    f"--folds {','.join(map(str, bad))} out of range: dataset '{self.manifest.dataset}' has "
                    f"{len(self.folds)} folds (0..{len(self.folds) - 1})"
                )
        self.cache = InputCache(self.cache_dir / "inputs" / self.manifest.dataset, config.choice("input").name, self.input)

    @property
    def run_dir(self) -> Path:
        return self.output_dir / "runs" / self.config_hash

    @property
    def store_path(self) -> Path:
        return self.output_dir / "results.sqlite"

    def _stage_keys(self) -> dict[str, str]:
        """Per component kind, the key of its cached stages: components, options, seed, and the
        dataset's content (sample ids, paths, labels, subjects), so a regenerated or re-prepared
        dataset under the same name never reuses a stage trained on other data."""
        opts = self.resolved.options_dict(runtime=False)
        content = stable_hash([[s.id, s.path, s.label, s.subject] for s in self.manifest.samples])
        base = [self.config.dataset, opts["dataset"], content, self.config.choice("input").name, opts["input"],
                self.config.seed]
        return {
            kind: stable_hash(base + [self.config.choice(kind).name, opts[kind]])
            for kind in ("backbone", "aggregator", "disentangler", "selector")
        }

    def _dataset(self, ids: tuple[str, ...], *, train: bool) -> FERDataset:
        by_id = self.manifest.by_id()
        pos = {s.id: i for i, s in enumerate(self.manifest.samples)}
        subjects = {s: i for i, s in enumerate(sorted({x.subject for x in self.manifest.samples}))}
        return FERDataset(
            [by_id[i] for i in ids],
            self.cache,
            train=train,
            seed=self.config.seed,
            subject_index=subjects,
            positions=[pos[i] for i in ids],
            score_labels=not train,
        )

    def run(self, *, resume: bool = False, on_epoch_end: EpochCallback | None = None) -> RunResult:
        """Train and score every selected fold; returns the scored folds."""
        store = ResultsStore(self.store_path) if self.rank == 0 else None
        done = store.completed_folds(self.config_hash) if (store is not None and resume) else set()
        run_id = uuid.uuid4().hex[:12]
        outcomes, skipped = [], []
        device = resolve_device(self.config.train.device)
        indices = self.config.folds if self.config.folds is not None else range(len(self.folds))
        self.log(
            f"run {run_id}: {self.combination} on {self.dataset_label} "
            f"({protocol_name(self.manifest)}, {len(self.manifest.samples)} samples, device {device}); "
            f"config {self.config_hash}"
        )
        for f in indices:
            if f in done:
                self.log(f"fold {f}: already recorded for config {self.config_hash}, skipped (--resume)")
                skipped.append(f)
                continue
            outcome = self._run_fold(self.folds[f], device, run_id, store, resume, on_epoch_end)
            outcomes.append(outcome)
        result = RunResult(
            run_id, self.config_hash, self.combination, self.dataset_label,
            protocol_name(self.manifest), outcomes, skipped, self.config.setup,
        )
        if outcomes:
            self.log(summary_table(result))
        return result

    def _run_fold(
        self,
        fold: Fold,
        device: torch.device,
        run_id: str,
        store: ResultsStore | None,
        resume: bool,
        on_epoch_end: EpochCallback | None,
    ) -> FoldOutcome:
        t_start = time.perf_counter()
        torch.manual_seed(self.config.seed * 1000 + fold.index)
        parts = assemble(self.resolved, self.input.signature, self.manifest)
        fold_dir = self.run_dir / f"fold{fold.index}"
        t = self.config.train
        K = self.manifest.num_classes
        trainer = FoldTrainer(
            parts, t, seed=self.config.seed, fold=fold.index, run_dir=fold_dir,
            stage_dir=self.cache_dir / "stages" / self.manifest.dataset, stage_key=self._stage_keys(),
            cache_dir=self.cache_dir,
            checkpoint_meta={"config": self.config.to_dict(), "options": self.resolved.options_dict(), "fold": fold.index},
            device=device, log=self.log, progress=self.progress,
        )
        make = lambda ids, train: make_loader(  # noqa: E731
            self._dataset(ids, train=train), t, train=train, seed=self.config.seed * 1000 + fold.index,
            num_classes=K, rank=self.rank if train else 0, world_size=self.world_size if train else 1,
        )
        train_loader = make(fold.train, True)
        val_loader = make(fold.val, False) if fold.val else None
        test_loader = make(fold.test, False)
        training = trainer.fit(train_loader, val_loader, resume=resume, on_epoch_end=on_epoch_end)
        t_eval = time.perf_counter()
        evaluation = trainer.evaluate(test_loader)
        eval_s = time.perf_counter() - t_eval
        metrics = evaluation.metrics(K).to_dict()
        metrics.update(self._cost(trainer, device))
        metrics["epochs"] = t.epochs
        metrics["selected_epoch"] = training.selected_epoch
        metrics["final_train_loss"] = training.history[-1]["loss"] if training.history else None
        fold_dir.mkdir(parents=True, exist_ok=True)
        png = save_confusion_png(
            metrics["confusion"], self.manifest.classes, fold_dir / "confusion.png",
            title=f"{self.combination} | {self.dataset_label} fold {fold.index}",
        )
        preds = fold_dir / "predictions.csv"
        self._write_predictions(preds, evaluation)
        timings = {
            "stage_s": training.stage_s, "train_s": training.train_s, "eval_s": eval_s,
            "wall_s": time.perf_counter() - t_start,
        }
        if store is not None:
            store.add(
                FoldRecord(
                    run_id=run_id, config_hash=self.config_hash, combination=self.combination,
                    dataset=self.dataset_label, protocol=protocol_name(self.manifest), fold=fold.index,
                    seed=self.config.seed, status="ok", selection=training.selection,
                    config={**self.config.to_dict(), "resolved_options": self.resolved.options_dict()},
                    metrics=metrics, timings=timings, versions=_versions(self.registry),
                    host=socket.gethostname(),
                )
            )
        self.log(
            f"fold {fold.index}: WAR {metrics['war']:.2f} UAR {metrics['uar']:.2f} "
            f"macro-F1 {metrics['macro_f1']:.2f} ({training.selection} checkpoint, {len(fold.test)} test samples)"
        )
        return FoldOutcome(fold.index, metrics, training.selection, preds, png)

    def _cost(self, trainer: FoldTrainer, device: torch.device) -> dict[str, float]:
        """Parameters (backbone + aggregator: what runs at test time), MACs per
        sample and forward throughput on a batch of the configured size."""
        model = trainer.model
        model.eval()
        sig = self.input.signature
        x1, side1 = dummy_input(sig, batch=1)
        macs = macs_of(lambda: model(x1.to(device), {k: v.to(device) for k, v in side1.items()}))
        b = self.config.train.batch_size
        xb, sideb = dummy_input(sig, batch=b)
        xb, sideb = xb.to(device), {k: v.to(device) for k, v in sideb.items()}
        with torch.no_grad():
            speed = throughput(lambda: model(xb, sideb), n_samples=b, n_frames=b * sig.frames, warmup=1, repeats=2)
        return {
            "params": count_parameters(model),
            "macs": macs,
            "samples_per_s": speed["samples_per_s"],
            "frames_per_s": speed["frames_per_s"],
        }

    def _write_predictions(self, path: Path, evaluation) -> None:
        samples = self.manifest.samples
        lines = ["sample_id,label,prediction," + ",".join(f"p_{c}" for c in self.manifest.classes)]
        for idx, label, pred, probs in zip(evaluation.indices, evaluation.labels, evaluation.predictions, evaluation.probs):
            lines.append(f"{samples[idx].id},{label},{pred}," + ",".join(f"{p:.5f}" for p in probs))
        path.write_text("\n".join(lines) + "\n")


def summary_table(result: RunResult) -> str:
    """Per-fold table plus a mean ± std line."""
    rows = [
        [o.fold, f"{o.metrics['war']:.2f}", f"{o.metrics['uar']:.2f}", f"{o.metrics['macro_f1']:.2f}", o.selection]
        for o in result.folds
    ]
    n = len(result.folds)
    agg = [format_mean_std(*summarize([o.metrics[m] for o in result.folds]), n) for m in ("war", "uar", "macro_f1")]
    rows.append(["mean ± std", *agg, ""])
    setup = f"; training: {result.setup}" if result.setup else ""
    title = f"{result.combination} on {result.dataset} ({result.protocol}{setup}), run {result.run_id}"
    return title + "\n" + tabulate(rows, headers=["fold", "WAR %", "UAR %", "macro-F1 %", "checkpoint"], tablefmt="github")

"""Run a combination under a dataset's protocol and record every fold.

``Runner(config, registry).run()`` resolves the components, checks the
device, loads the manifest, checks the combination before any training, then
decodes every sample once into the input cache (a sample that cannot be read
is left out and listed in ``failures.json`` beside the run, never silently
dropped). For each fold it trains (resumable), scores the test fold with the
selected checkpoint (never chosen on test), measures cost (params, MACs,
throughput), asks the components for their own fold metrics, and writes one
record (rank 0 only) plus a confusion-matrix PNG and ``predictions.csv``.

A fold already recorded for the same config hash and seed is skipped with a
note (``force=True`` retrains it and replaces the record); two processes
running the same fold at once take turns (:mod:`.locks`).

Under torchrun (``rank``/``world_size``, process group joined by the caller, see
:mod:`.distributed`) every rank runs the same folds: rank 0 decides which folds
are due and holds the fold locks, the input check is shared between the ranks,
training runs in DistributedDataParallel, evaluation is gathered, and only rank
0 writes records, checkpoints, PNGs and CSVs.

Public surface for sweeps, claims and benchmarks: :meth:`Runner.dataset`,
:meth:`Runner.loader`, :meth:`Runner.checkpoint_path`, :meth:`Runner.load_model`,
:meth:`Runner.evaluate`, :meth:`Runner.stage_cache_path`.
"""

from __future__ import annotations

import contextlib
import socket
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterable, Literal, Protocol

import torch
from tabulate import tabulate

from ..components import Evaluation, FoldReport, Stage
from ..data.disk_cache import CacheInfo
from ..data.loading import FERDataset, InputCache
from ..data.memory_cache import memory_budget
from ..data.manifest import Manifest
from ..data.protocols import Fold, protocol_name
from ..errors import DuplicateRecordError, FerbenchError
from ..fileio import atomic_write_json, write_csv
from ..kinds import STAGE_KINDS
from ..metrics import save_confusion_png
from ..options import options_to_dict, stable_hash
from ..plugins import Registry
from ..results import FoldRecord, ResultsStore
from .assemble import FERModel, assemble
from .config import RunConfig
from .cost import model_cost
from .distributed import broadcast_object, context_from_env, is_active
from .input_check import check_samples
from .locks import fold_lock
from .plan import RunPlan, versions
from .probes import identity_probe
from .run_result import FoldOutcome, RunResult, summary_table
from .trainer import (EpochCallback, FoldTrainer, evaluate_model, load_checkpoint, make_loader, metrics_of,
                      resolve_device, stage_path)


class RecordSink(Protocol):
    """Where a run's fold records go: the results store, or files a sweep driver collects."""

    def completed_folds(self, config_hash: str, seed: int | None = None) -> set[int]: ...

    def add(self, record: FoldRecord, *, replace: bool = False) -> Any: ...


class Runner(RunPlan):
    """Runs one :class:`RunConfig` (see :class:`RunPlan` for what is checked first).

    Args:
        config: the run.
        registry: installed components.
        log: one line of progress at a time.
        progress: tqdm bars for epochs and the input check.
        rank, world_size: DistributedDataParallel position (only rank 0 writes); with
            world_size > 1 the caller has joined the process group.
        records: where fold records go; default: the results store under ``output_dir``.
        manifest: the dataset's manifest when the caller has it already.
        local_rank, local_world_size: position on this machine (CUDA device, CPU cores for
            loader workers); default: torchrun's variables, else rank and world_size.
    """

    def __init__(
        self,
        config: RunConfig,
        registry: Registry,
        *,
        log: Callable[[str], None] = print,
        progress: bool = True,
        rank: int = 0,
        world_size: int = 1,
        records: RecordSink | None = None,
        manifest: Manifest | None = None,
        local_rank: int | None = None,
        local_world_size: int | None = None,
    ) -> None:
        if world_size > 1 and not is_active():
            raise FerbenchError(f"rank {rank} of {world_size}: no process group is joined; start several processes "
                                "with 'ferbench run --nproc N' or 'torchrun --nproc_per_node N -m ferbench run ...'")
        env = context_from_env()
        self.local_rank = local_rank if local_rank is not None else (env.local_rank if env.active else rank)
        self.local_world_size = local_world_size or (env.local_world_size if env.active else world_size)
        self.device = resolve_device(config.train.device)
        if world_size > 1 and self.device.type == "cuda" and self.device.index is None:
            self.device = torch.device("cuda", self.local_rank)
        super().__init__(config, registry, manifest=manifest)
        self.log = log
        self.progress = progress
        self.rank, self.world_size = rank, world_size
        train_opts = config.train
        self.cache = InputCache(
            self.cache_dir / "inputs" / self.manifest.dataset, config.choice("input").name, self.input, log=self.log,
            mode=train_opts.cache, memory_bytes=memory_budget(train_opts.cache_mem, mode=train_opts.cache) // max(self.local_world_size, 1),
            info=CacheInfo("inputs", self.manifest.dataset, config.choice("input").name,
                           self._non_default_options("input"), self.input.cache_key()),
        )
        self._records = records
        self._positions = {s.id: i for i, s in enumerate(self.manifest.samples)}
        self._subjects = {s: i for i, s in enumerate(sorted({x.subject for x in self.manifest.samples}))}
        self.failures: dict[str, str] = {}

    def _non_default_options(self, kind: str) -> dict[str, Any]:
        chosen = self.resolved.options_dict(runtime=False)[kind]
        defaults = options_to_dict(self.resolved.specs[kind].options(), runtime=False)
        return {k: v for k, v in chosen.items() if defaults.get(k) != v}

    # ------------------------------------------------------------------ stages
    def stage_keys(self) -> dict[str, str]:
        """Per component kind, the key of its cached stages: components, options, seed, and the
        dataset's content (sample ids, paths, labels, subjects), so a regenerated or re-prepared
        dataset under the same name never reuses a stage trained on other data."""
        opts = self.resolved.options_dict(runtime=False)
        content = stable_hash([[s.id, s.path, s.label, s.subject] for s in self.manifest.samples])
        base = [self.config.dataset, opts["dataset"], content, self.config.choice("input").name, opts["input"],
                self.config.seed]
        return {kind: stable_hash(base + [self.config.choice(kind).name, opts[kind]]) for kind in STAGE_KINDS}

    @property
    def stage_dir(self) -> Path:
        return self.cache_dir / "stages" / self.manifest.dataset

    def stage_cache_path(self, kind: str, stage: Stage, fold: int) -> Path:
        """Where the engine caches ``stage`` (declared by this run's ``kind`` component) for ``fold``."""
        return stage_path(self.stage_dir, kind, stage.name, self.stage_keys()[kind], stage.key, fold)

    def checkpoint_path(self, fold: int, which: Literal["selected", "last", "best"] = "selected") -> Path:
        """A fold's checkpoint: ``last.pt``, ``best.pt``, or the one scored (``selected``)."""
        fold_dir = self.run_dir / f"fold{fold}"
        if which == "selected":
            best = fold_dir / "best.pt"
            return best if self.config.train.select == "best-val" and best.is_file() else fold_dir / "last.pt"
        return fold_dir / f"{which}.pt"

    # ------------------------------------------------------------------ data
    def dataset(self, ids: Iterable[str], *, train: bool) -> FERDataset:
        """A dataset of manifest samples ``ids``: training draws (random frames, augmentation)
        when ``train``, else evaluation draws scored against ``Sample.eval_label``."""
        by_id = self.manifest.by_id()
        ids = list(ids)
        return FERDataset([by_id[i] for i in ids], self.cache, train=train, seed=self.config.seed,
                          subject_index=self._subjects, positions=[self._positions[i] for i in ids],
                          score_labels=not train)

    def loader(self, ids: Iterable[str], *, train: bool, fold: int = 0, shard: bool = True):
        """A DataLoader of :class:`~ferbench.components.Batch` objects over ``ids``.

        Under torchrun (``shard=True``) training batches are split between the ranks and
        evaluation batches dealt to them (gather the evaluation); ``shard=False``: every
        sample on this rank.
        """
        ranks = (self.rank, self.world_size) if shard else (0, 1)
        return make_loader(
            self.dataset(ids, train=train), self.config.train, train=train, seed=self.config.seed * 1000 + fold,
            num_classes=self.manifest.num_classes, rank=ranks[0], world_size=ranks[1], device=self.device,
            processes_per_node=self.local_world_size,
        )

    def _fold_ids(self, fold: Fold, split: str) -> list[str]:
        return [i for i in getattr(fold, split) if i not in self.failures]

    def check_inputs(self, ids: Iterable[str]) -> dict[str, str]:
        """Check every sample of ``ids`` once (:func:`~ferbench.engine.input_check.check_samples`: decode
        into the disk cache, or a cheap look with ``cache=none``); returns all failures so far
        (id -> reason). Under torchrun the ranks share the work and every rank returns all failures."""
        by_id = self.manifest.by_id()
        todo = [by_id[i] for i in dict.fromkeys(ids) if i not in self.failures]
        what = f"the input cache of {self.resolved.label('input')} for {self.dataset_label}"
        self.failures.update(check_samples(self.cache, todo, what=what, rank=self.rank, world_size=self.world_size,
                                           progress=self.progress))
        return self.failures

    # ------------------------------------------------------------------ trained models
    def load_model(self, fold: int, which: Literal["selected", "last", "best"] = "selected") -> FERModel:
        """The fold's trained model (backbone + aggregator) in eval mode, on the run's device."""
        parts = assemble(self.resolved, self.input.signature, self.manifest, self.cache_dir)
        state = load_checkpoint(self.checkpoint_path(fold, which), self.device)
        parts.model.load_state_dict(state["model"])
        return parts.model.to(self.device).eval()

    def evaluate(self, fold: int, split: Literal["test", "val", "train"] = "test", *, ids: Iterable[str] | None = None,
                 which: Literal["selected", "last", "best"] = "selected", embeddings: bool = False) -> Evaluation:
        """Score a fold's checkpoint on one of its splits (or on ``ids``), keeping the
        aggregator's extras (attention, clip scores, P_e), the inputs' frame indices and,
        with ``embeddings=True``, the video embeddings."""
        model = self.load_model(fold, which)
        chosen = list(ids) if ids is not None else self._fold_ids(self.folds[fold], split)
        return evaluate_model(model, self.loader(chosen, train=False, fold=fold), device=self.device,
                              amp=self.config.train.amp and self.device.type == "cuda", embeddings=embeddings,
                              gather=self.world_size > 1)

    def fold_trainer(self, fold: int, *, run_eta: Callable[[float], float] | None = None,
                     profile: bool = False) -> FoldTrainer:
        """A fresh trainer of ``fold``'s model (seeded as the run seeds it), writing under the run folder.

        ``profile``: see :class:`~ferbench.engine.trainer.FoldTrainer`.
        """
        torch.manual_seed(self.config.seed * 1000 + fold)
        parts = assemble(self.resolved, self.input.signature, self.manifest, self.cache_dir)
        return FoldTrainer(
            parts, self.config.train, seed=self.config.seed, fold=fold, run_dir=self.run_dir / f"fold{fold}",
            stage_dir=self.stage_dir, stage_key=self.stage_keys(), cache_dir=self.cache_dir,
            checkpoint_meta={"config": self.config.to_dict(), "options": self.resolved.options_dict(), "fold": fold},
            device=self.device, log=self.log, progress=self.progress, run_eta=run_eta, is_main=self.rank == 0,
            profile=profile,
        )

    # ------------------------------------------------------------------ running
    def run(self, *, resume: bool = False, force: bool = False,
            on_epoch_end: EpochCallback | None = None) -> RunResult:
        """Train and score every selected fold; returns the scored folds.

        Args:
            resume: continue an unfinished fold from its ``last.pt``.
            force: retrain folds that are already recorded and replace their records.
            on_epoch_end: called with (epoch, stats) after every epoch.
        """
        records = self._records
        if records is None and self.rank == 0:
            records = ResultsStore(self.store_path)
        run_id = uuid.uuid4().hex[:12]
        outcomes, skipped = [], []
        indices = self.fold_indices
        self.log(
            f"run {run_id}: {self.combination} on {self.dataset_label} "
            f"({protocol_name(self.manifest)}, {len(self.manifest.samples)} samples, device {self.device}); "
            f"config {self.config_hash}"
        )
        done = records.completed_folds(self.config_hash, self.config.seed) if records is not None and not force else set()
        done = broadcast_object(done)  # rank 0 holds the records
        todo = [f for f in indices if f not in done]
        for f in indices:
            if f in done:
                self.log(f"fold {f}: already recorded for config {self.config_hash}, skipped (--force retrains it)")
                skipped.append(f)
        if todo:
            self._check_and_report_inputs(todo)
        started = time.perf_counter()
        for n, f in enumerate(todo):
            def run_eta(fold_left: float, n=n) -> float:
                per_fold = (time.perf_counter() - started) / n if n else None
                return fold_left + (len(todo) - n - 1) * (per_fold if per_fold is not None else fold_left)

            lock = (fold_lock(self.run_dir / f"fold{f}.lock", log=self.log, what=f"fold {f} of config {self.config_hash}")
                    if self.rank == 0 else contextlib.nullcontext())
            with lock:  # rank 0 takes the fold's lock for all ranks
                recorded = records is not None and not force and f in records.completed_folds(self.config_hash, self.config.seed)
                if broadcast_object(recorded):
                    self.log(f"fold {f}: recorded by another process meanwhile, skipped")
                    skipped.append(f)
                    continue
                outcomes.append(self._run_fold(self.folds[f], run_id, records, resume, force, on_epoch_end, run_eta))
        result = RunResult(
            run_id, self.config_hash, self.combination, self.dataset_label, protocol_name(self.manifest),
            outcomes, skipped, self.config.setup,
            failures=[{"id": i, "reason": r} for i, r in sorted(self.failures.items())],
        )
        if outcomes:
            self.log(summary_table(result))
        return result

    def _check_and_report_inputs(self, folds: list[int]) -> None:
        ids = [i for f in folds for split in ("train", "val", "test") for i in getattr(self.folds[f], split)]
        failures = self.check_inputs(ids)
        if not failures:
            return
        if self.rank == 0:
            atomic_write_json(self.run_dir / "failures.json", [{"id": i, "reason": r} for i, r in sorted(failures.items())])
        rows = [[i, r[:110]] for i, r in sorted(failures.items())]
        self.log(f"{len(failures)} sample(s) could not be read and are left out of this run "
                 f"(listed in {self.run_dir / 'failures.json'}):\n"
                 + tabulate(rows, headers=["sample", "reason"], tablefmt="simple"))

    def _run_fold(self, fold: Fold, run_id: str, records: RecordSink | None, resume: bool, force: bool,
                  on_epoch_end: EpochCallback | None, run_eta: Callable[[float], float]) -> FoldOutcome:
        t_start = time.perf_counter()
        fold_dir = self.run_dir / f"fold{fold.index}"
        options = self.config.train
        num_classes = self.manifest.num_classes
        trainer = self.fold_trainer(fold.index, run_eta=run_eta)
        train_ids, val_ids, test_ids = (self._fold_ids(fold, s) for s in ("train", "val", "test"))
        if not train_ids or not test_ids:
            raise FerbenchError(f"fold {fold.index} has {len(train_ids)} readable training and {len(test_ids)} readable "
                                f"test samples; fix the unreadable files listed in {self.run_dir / 'failures.json'}")
        if self.rank == 0:
            atomic_write_json(fold_dir / "fold.json", {"dataset": self.dataset_label, "protocol": protocol_name(self.manifest),
                                                      "seed": self.config.seed, "fold": fold.index, "train": train_ids,
                                                      "val": val_ids, "test": test_ids})
        train_loader = self.loader(train_ids, train=True, fold=fold.index)
        val_loader = self.loader(val_ids, train=False, fold=fold.index) if val_ids else None
        test_loader = self.loader(test_ids, train=False, fold=fold.index)
        stage_loader = self.loader(train_ids, train=True, fold=fold.index, shard=False) if self.world_size > 1 else None
        training = trainer.fit(train_loader, val_loader, resume=resume and not force, on_epoch_end=on_epoch_end,
                               stage_loader=stage_loader)
        t_eval = time.perf_counter()
        evaluation = trainer.evaluate(test_loader)
        eval_s = time.perf_counter() - t_eval
        metrics = metrics_of(evaluation, num_classes).to_dict()
        metrics.update(model_cost(trainer.model, self.input.signature, self.config.train.batch_size, self.device))
        metrics.update(epochs=options.epochs, selected_epoch=training.selected_epoch,
                       final_train_loss=training.history[-1]["loss"] if training.history else None,
                       n_scored=len(test_ids), n_left_out=len(fold.test) - len(test_ids))
        metrics.update(self._component_metrics(trainer, FoldReport(fold.index, evaluation, self.manifest, training.history)))
        if options.identity_probe:
            metrics.update(self._identity_probe(trainer, fold.index))
        png, preds = fold_dir / "confusion.png", fold_dir / "predictions.csv"
        if self.rank == 0:
            png = save_confusion_png(metrics["confusion"], self.manifest.classes, png,
                                     title=f"{self.combination} | {self.dataset_label} fold {fold.index}")
            preds = self._write_predictions(preds, evaluation)
        timings = {"stage_s": training.stage_s, "train_s": training.train_s, "eval_s": eval_s,
                   "wall_s": time.perf_counter() - t_start}
        record = FoldRecord(
            run_id=run_id, config_hash=self.config_hash, combination=self.combination,
            dataset=self.dataset_label, protocol=protocol_name(self.manifest), fold=fold.index,
            seed=self.config.seed, status="ok", selection=training.selection,
            config={**self.config.to_dict(), "resolved_options": self.resolved.options_dict()},
            metrics=metrics, timings=timings, versions=versions(self.registry), host=socket.gethostname(),
            history=training.history, sweep=self.config.sweep,
        )
        if records is not None and self.rank == 0:
            try:
                records.add(record, replace=force)
            except DuplicateRecordError:
                self.log(f"fold {fold.index}: another process recorded it first; kept that record")
        left_out = f", {metrics['n_left_out']} unreadable left out" if metrics["n_left_out"] else ""
        self.log(
            f"fold {fold.index}: WAR {metrics['war']:.2f} UAR {metrics['uar']:.2f} "
            f"macro-F1 {metrics['macro_f1']:.2f} ({training.selection} checkpoint, {len(test_ids)} test samples{left_out})"
        )
        return FoldOutcome(fold.index, metrics, training.selection, preds, png, evaluation, record)

    def _component_metrics(self, trainer: FoldTrainer, report: FoldReport) -> dict[str, float]:
        out: dict[str, float] = {}
        modules = [("aggregator", trainer.model.aggregator), ("backbone", trainer.model.backbone),
                   *trainer.auxiliary.items()]
        for kind, module in modules:
            fn = getattr(module, "fold_metrics", None)
            if fn is None:
                continue
            for key, value in (fn(report) or {}).items():
                if not isinstance(value, (int, float)) or isinstance(value, bool):
                    raise FerbenchError(f"{kind} '{self.resolved.specs[kind].name}' fold_metrics()['{key}'] is "
                                        f"{type(value).__name__}, not a number; fix the plugin")
                out[key] = float(value)
        return out

    def _identity_probe(self, trainer: FoldTrainer, fold: int) -> dict[str, float]:
        ids = [s.id for s in self.manifest.samples if not s.train_only and s.id not in self.failures]
        evaluation = trainer.evaluate(self.loader(ids, train=False, fold=fold), embeddings=True)
        subjects = [self.manifest.samples[int(i)].subject for i in evaluation.indices]
        return identity_probe(evaluation.embeddings, subjects, seed=self.config.seed)

    def _write_predictions(self, path: Path, evaluation: Evaluation) -> Path:
        samples = self.manifest.samples
        rows = ([samples[i].id, label, pred, *(f"{p:.5f}" for p in probs)]
                for i, label, pred, probs in zip(evaluation.indices, evaluation.labels, evaluation.predictions,
                                                  evaluation.probs))
        return write_csv(path, ["sample_id", "label", "prediction", *(f"p_{c}" for c in self.manifest.classes)], rows)

"""The sweep driver: expand, check, launch, and write every record (the store's one writer).

1. Expand the spec into runs and check each one as ``ferbench run`` would
   (components, options, the combination on a dummy batch, the folds): a run
   that cannot work fails the sweep before any training, naming the run.
2. Ingest records that jobs of an earlier, interrupted attempt left as files.
3. Launch a job per run with folds still unrecorded; runs already recorded are
   skipped, so re-issuing a sweep after a crash or a cancelled job continues it.
4. As jobs finish, ingest their records; a failed job marks its run failed
   (with the job's last error line, also stored as ``failed`` fold records).
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any, Callable

from tabulate import tabulate

from ..engine.config import config_from_dict, merge_config_dicts
from ..engine.plan import RunPlan, versions
from ..errors import ConfigError, FerbenchError
from ..metrics import format_mean_std, summarize
from ..plugins import Registry
from ..results import FoldRecord, ResultsStore
from .jobs import RunJob, ingest_records, read_record_files
from .launchers import Launcher
from .spec import PlannedRun, SweepSpec


@dataclasses.dataclass
class SweepRun:
    """One expanded run of a sweep and where it stands.

    Attributes:
        planned: the run's label, axis values and config dict.
        plan: the checked run (config hash, folds, combination, dataset, protocol).
        recorded: folds that already have an "ok" record.
        status: "recorded" (nothing to train), "pending", "done" or "failed".
        error: the failed job's last error line.
        seconds: wall time of its job.
    """

    planned: PlannedRun
    plan: RunPlan
    recorded: set[int]
    status: str = "pending"
    error: str = ""
    seconds: float = 0.0

    @property
    def folds(self) -> list[int]:
        return self.plan.fold_indices

    @property
    def missing(self) -> list[int]:
        return [f for f in self.folds if f not in self.recorded]


def check_sweep(spec: SweepSpec, registry: Registry, *, overrides: dict[str, Any] | None = None) -> list[SweepRun]:
    """Expand ``spec`` and check every run before any training.

    Raises:
        ConfigError: a run cannot work; the message names the run and the problem.
    """
    planned = spec.expand()
    if not planned:
        raise ConfigError(f"sweep '{spec.name}': every combination is excluded; nothing to run")
    manifests: dict[str, Any] = {}
    runs = []
    for run in planned:
        raw = merge_config_dicts(run.config, overrides or {})
        try:
            config = config_from_dict(raw, registry, where=f"{spec.source} run '{run.label}'", sweep=spec.name)
            key = json.dumps([config.dataset, config.choice("dataset").options, config.root, config.cache_dir],
                             sort_keys=True, default=str)
            plan = RunPlan(config, registry, manifest=manifests.get(key))
            manifests[key] = plan.manifest
        except FerbenchError as err:
            raise ConfigError(f"sweep '{spec.name}': run '{run.label}' cannot work: {err}") from None
        runs.append(SweepRun(run, plan, set()))
    refresh_recorded(runs)
    return runs


def _stores(runs: list[SweepRun]) -> dict[Path, ResultsStore]:
    paths = {r.plan.store_path for r in runs}
    return {p: ResultsStore(p) for p in paths if p.is_file()}


def refresh_recorded(runs: list[SweepRun]) -> None:
    """Look up which folds of each run are already recorded."""
    stores = _stores(runs)
    for run in runs:
        store = stores.get(run.plan.store_path)
        run.recorded = store.completed_folds(run.plan.config_hash, run.plan.config.seed) if store else set()
        if not run.missing:
            run.status = "recorded"


def dry_run_table(runs: list[SweepRun]) -> str:
    """One row per expanded run: label, dataset, folds, how many are recorded, config hash."""
    rows = [[i + 1, r.planned.label, r.plan.dataset_label, ",".join(map(str, r.folds)),
             f"{len(set(r.folds) & r.recorded)}/{len(r.folds)}", "yes" if not r.missing else "no", r.plan.config_hash]
            for i, r in enumerate(runs)]
    return tabulate(rows, headers=["#", "run", "dataset", "folds", "recorded folds", "recorded", "config"],
                    tablefmt="github")


def _job(spec: SweepSpec, run: SweepRun) -> RunJob:
    config = {**run.planned.config, "folds": run.missing}
    config.update({k: getattr(run.plan.config, k) for k in ("cache_dir", "output_dir")})
    return RunJob(spec.name, run.planned.label, config, run.plan.config_hash, str(run.plan.run_dir))


def _failed_records(run: SweepRun, error: str) -> list[FoldRecord]:
    plan = run.plan
    return [FoldRecord(run_id=f"sweep-{int(time.time())}", config_hash=plan.config_hash, combination=plan.combination,
                       dataset=plan.dataset_label, protocol=plan.protocol, fold=f, seed=plan.config.seed,
                       status="failed", selection=plan.config.train.select, config=plan.config.to_dict(), metrics={},
                       timings={}, versions=versions(plan.registry), host="", error=error, sweep=plan.config.sweep)
            for f in run.missing]


def run_sweep(spec: SweepSpec, registry: Registry, launcher: Launcher, *, overrides: dict[str, Any] | None = None,
              log: Callable[[str], None] = print, progress: bool = True,
              runs: list[SweepRun] | None = None) -> list[SweepRun]:
    """Run every expanded run that still has unrecorded folds; returns every run with its status."""
    from tqdm.auto import tqdm

    runs = runs if runs is not None else check_sweep(spec, registry, overrides=overrides)
    stores = {}
    for run in runs:  # records of jobs an earlier attempt lost track of
        path = run.plan.store_path
        stores.setdefault(path, ResultsStore(path))
        ingest_records(stores[path], read_record_files(run.plan.run_dir))
    refresh_recorded(runs)
    todo = [r for r in runs if r.missing]
    done_before = len(runs) - len(todo)
    log(f"sweep '{spec.name}': {len(runs)} runs, {done_before} already recorded, {len(todo)} to run")
    by_label = {r.planned.label: r for r in todo}
    bar = tqdm(total=len(runs), initial=done_before, desc=f"sweep {spec.name}", unit="run", disable=not progress)
    finished = done_before
    for result in launcher.launch([_job(spec, r) for r in todo]):
        run = by_label[result.label]
        store = stores[run.plan.store_path]
        ingest_records(store, [FoldRecord.from_json(text) for text in result.records])
        ingest_records(store, read_record_files(run.plan.run_dir))
        run.recorded = store.completed_folds(run.plan.config_hash, run.plan.config.seed)
        run.seconds = result.seconds
        finished += 1
        if run.missing:
            run.status, run.error = "failed", result.error or "the job ended without recording every fold"
            for record in _failed_records(run, run.error):
                store.add(record)
        else:
            run.status = "done"
        bar.update(1)
        log(f"[{finished}/{len(runs)}] {run.planned.label}: {_run_line(run, store)}")
    bar.close()
    return runs


def _run_line(run: SweepRun, store: ResultsStore) -> str:
    if run.status == "failed":
        return f"FAILED after {run.seconds:.0f} s: {run.error} (log: {Path(run.plan.run_dir) / ('sweep-' + run.plan.config.sweep + '.log')})"
    wars = _wars(run, store)
    return (f"WAR {format_mean_std(*summarize(wars), len(wars))} over {len(wars)} fold(s) "
            f"in {run.seconds:.0f} s ({run.plan.combination})")


def _wars(run: SweepRun, store: ResultsStore | None) -> list[float]:
    if store is None:
        return []
    return [r.metrics["war"] for r in store.records() if r.config_hash == run.plan.config_hash
            and r.seed == run.plan.config.seed and r.fold in run.folds]


def summary_table(runs: list[SweepRun]) -> str:
    """The sweep's runs with their status, fold count, WAR and the error of failed ones."""
    stores = _stores(runs)
    rows = []
    for r in runs:
        wars = _wars(r, stores.get(r.plan.store_path))
        rows.append([r.planned.label, r.status, f"{len(wars)}/{len(r.folds)}",
                     format_mean_std(*summarize(wars), len(wars)) if wars else "", r.error[:100]])
    return tabulate(rows, headers=["run", "status", "folds", "WAR %", "error"], tablefmt="github")


def sweep_records(runs: list[SweepRun]):
    """The results-store frame of the sweep's records ("ok" ones, every store the runs write to)."""
    import pandas as pd

    stores = _stores(runs)
    hashes = {r.plan.config_hash for r in runs}
    frames = [s.dataframe() for s in stores.values()]
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return df[df["config_hash"].isin(hashes)] if len(df) else df


def sweep_leaderboard(runs: list[SweepRun]):
    """The leaderboard of the sweep's own records (measured rows only, seeds pooled)."""
    from ..leaderboard import build_leaderboard

    return build_leaderboard(sweep_records(runs))


def sweep_comparison(spec: SweepSpec, runs: list[SweepRun]):
    """The paired comparison of the spec's ``compare`` selections, or None when it has none.

    Raises:
        FerbenchError: a selection matches no run, or runs of several leaderboard rows.
    """
    if not spec.compare:
        return None
    from ..compare import compare_rows

    records = sweep_records(runs)
    board = sweep_leaderboard(runs)
    ids = []
    for selection in spec.compare:
        chosen = {p.label for p in spec.select(selection, [r.planned for r in runs])}
        plans = [r.plan for r in runs if r.planned.label in chosen]
        rows = {(p.dataset_label, p.combination, p.config.setup) for p in plans}
        if len(rows) != 1:
            raise FerbenchError(f"sweep '{spec.name}': compare selection '{selection}' matches {len(rows)} leaderboard "
                                "rows; name one value for every axis but seed")
        dataset, combination, setup = rows.pop()
        hit = board[(board["dataset"] == dataset) & (board["combination"] == combination) & (board["setup"] == setup)]
        if hit.empty:
            raise FerbenchError(f"sweep '{spec.name}': '{selection}' has no records yet")
        ids.append(hit["id"].iloc[0])
    return compare_rows(records, board, ids[0], ids[1])

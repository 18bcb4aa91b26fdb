"""Sweep jobs: what a launcher runs, and how fold records get back to the driver.

A :class:`RunJob` is one expanded run with the folds still to train. A
launcher calls :func:`run_job` wherever it runs jobs (a local worker process,
a Slurm array task). The job never opens the results store: each scored fold
is written as ``<run dir>/fold<k>/record.json`` (:class:`RecordFiles`) and
also returned in the :class:`JobResult`. The driver, the store's only writer,
ingests both (:func:`ingest_records`), so a job killed after two of five folds
still hands those two back, and SQLite is never written from several machines.
"""

from __future__ import annotations

import dataclasses
import os
import time
import traceback
from pathlib import Path
from typing import Any

from ..errors import DuplicateRecordError
from ..fileio import atomic_write_text, read_json
from ..results import FoldRecord, ResultsStore


@dataclasses.dataclass
class RunJob:
    """One run for a launcher (plain data: picklable, JSON-able).

    Attributes:
        sweep: the sweep's name.
        label: the run's label in the sweep.
        config: the run's config dict, ``folds`` set to the folds to train.
        config_hash: the run's config hash (where its run directory is).
        run_dir: ``<output_dir>/runs/<config_hash>``.
        threads: torch intra-op threads for the job (0 = leave torch's default).
    """

    sweep: str
    label: str
    config: dict[str, Any]
    config_hash: str
    run_dir: str
    threads: int = 0

    @property
    def log_path(self) -> Path:
        """The job's log file (every line the run prints)."""
        return Path(self.run_dir) / f"sweep-{self.sweep}.log"


@dataclasses.dataclass
class JobResult:
    """What a job hands back.

    Attributes:
        label, config_hash: the job's run.
        records: the records of the folds it scored, as JSON text.
        error: the job's last error line ('' when it finished).
        seconds: wall time of the job.
    """

    label: str
    config_hash: str
    records: list[str] = dataclasses.field(default_factory=list)
    error: str = ""
    seconds: float = 0.0


class RecordFiles:
    """A record sink that writes ``fold<k>/record.json`` under a run directory instead of the store."""

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        self.written: list[FoldRecord] = []

    def completed_folds(self, config_hash: str, seed: int | None = None) -> set[int]:
        out = set()
        for record in read_record_files(self.run_dir):
            if record.config_hash == config_hash and record.status == "ok" and (seed is None or record.seed == seed):
                out.add(record.fold)
        return out

    def add(self, record: FoldRecord, *, replace: bool = False) -> None:  # noqa: ARG002 - the driver decides
        atomic_write_text(self.run_dir / f"fold{record.fold}" / "record.json", record.to_json())
        self.written.append(record)


def read_record_files(run_dir: str | Path) -> list[FoldRecord]:
    """The records a job wrote under ``run_dir`` (unreadable files skipped)."""
    out = []
    for path in sorted(Path(run_dir).glob("fold*/record.json")):
        raw = read_json(path)
        if isinstance(raw, dict):
            try:
                out.append(FoldRecord.from_json(path.read_text()))
            except (TypeError, ValueError):
                continue
    return out


def ingest_records(store: ResultsStore, records: list[FoldRecord]) -> int:
    """Add the records the store lacks (one "ok" record per config, seed and fold); returns how many were added."""
    added = 0
    for record in records:
        if record.status == "ok" and record.fold in store.completed_folds(record.config_hash, record.seed):
            continue
        try:
            store.add(record)
            added += 1
        except DuplicateRecordError:
            continue
    return added


def run_job(job: RunJob, registry: Any = None) -> JobResult:
    """Train and score a job's folds (in whatever process the launcher chose); never raises for run errors.

    Logs go to :attr:`RunJob.log_path`; records go to ``fold<k>/record.json`` and into the result.
    An unfinished fold from an earlier attempt continues from its last epoch checkpoint.
    ``registry``: an in-process caller's registry; other processes load the installed plugins.
    """
    from ..engine.config import config_from_dict
    from ..engine.runner import Runner
    from ..plugins import Registry

    start = time.perf_counter()
    if job.threads:
        import torch

        torch.set_num_threads(job.threads)
    log_path = job.log_path
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sink = RecordFiles(job.run_dir)
    with open(log_path, "a", buffering=1) as log_file:
        def log(line: str) -> None:
            log_file.write(line + "\n")

        log(f"== job {job.label} (pid {os.getpid()}) started")
        try:
            registry = registry if registry is not None else Registry()
            config = config_from_dict(job.config, registry, sweep=job.sweep)
            runner = Runner(config, registry, log=log, progress=False, records=sink)
            runner.run(resume=True)
            error = ""
        except Exception as err:  # noqa: BLE001 - a failed run is reported, the sweep goes on
            log(traceback.format_exc())
            error = (str(err).strip().splitlines() or [type(err).__name__])[-1]
            error = f"{type(err).__name__}: {error}" if not isinstance(err, _user_errors()) else error
        log(f"== job {job.label} {'failed: ' + error if error else 'finished'}")
    return JobResult(job.label, job.config_hash, [r.to_json() for r in sink.written], error,
                     time.perf_counter() - start)


def _user_errors() -> tuple[type, ...]:
    from ..errors import FerbenchError

    return (FerbenchError,)

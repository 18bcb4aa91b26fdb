"""Launchers: where a sweep's runs execute.

A launcher takes a list of :class:`~ferbench.sweep.jobs.RunJob` and yields a
:class:`~ferbench.sweep.jobs.JobResult` per job as jobs finish, in any order.
It never touches the results store (the driver ingests the records). A job
that crashes or is killed yields a result with its last error line; the other
jobs carry on.

Launchers are plugins: the ``ferbench_launchers`` hook returns
:class:`LauncherSpec` objects; the core registers ``local`` and ``slurm``.

* ``local``: ``jobs`` worker processes on this machine, each with
  ``cores // jobs`` torch threads and, when there are several GPUs, its own GPU
  (``CUDA_VISIBLE_DEVICES``). One job runs in-process.
* ``slurm``: a Slurm job array through submitit (``pip install 'ferbench[slurm]'``),
  one array task per run; partition, time, GPUs, CPUs and memory are options.
  ``executor=local`` runs the same submitit code path with submitit's local
  executor (tests, a workstation without Slurm).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import multiprocessing
import os
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Literal, Protocol

from ..errors import FerbenchError
from .jobs import JobResult, RunJob, run_job


class Launcher(Protocol):
    """Runs jobs somewhere and yields their results as they finish."""

    def launch(self, jobs: list[RunJob]) -> Iterator[JobResult]: ...


@dataclasses.dataclass(frozen=True)
class LauncherSpec:
    """What a plugin registers for one launcher.

    Attributes:
        name: what users type (``--launcher slurm``).
        factory: ``factory(options, jobs: int, folder: Path) -> Launcher``; ``jobs`` is ``--jobs``
            (concurrent runs), ``folder`` a scratch folder for the launcher's own files.
        options: dataclass type of the launcher's options (``--launcher-opt key=value``).
        description: one line for ``ferbench sweep --help`` and the docs.
        plugin: filled in by the registry.
    """

    name: str
    factory: Callable[[Any, int, Path], Launcher]
    options: type
    description: str
    plugin: str = ""


# --------------------------------------------------------------------------- local


@dataclasses.dataclass(frozen=True)
class LocalOptions:
    """Options of the ``local`` launcher.

    Attributes:
        threads: torch threads per job; 0 = cores / jobs.
    """

    threads: int = 0


def _init_worker(queue: Any) -> None:
    gpu = queue.get() if queue is not None else None
    if gpu is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(gpu)


class LocalLauncher:
    """``jobs`` worker processes (spawned) on this machine; one job runs in this process."""

    def __init__(self, options: LocalOptions, jobs: int, folder: Path) -> None:  # noqa: ARG002 - no files needed
        if jobs < 1:
            raise FerbenchError(f"--jobs must be at least 1, got {jobs}")
        self.jobs = jobs
        self.threads = options.threads or max(1, (os.cpu_count() or 1) // jobs)

    def launch(self, jobs: list[RunJob]) -> Iterator[JobResult]:
        jobs = [dataclasses.replace(j, threads=self.threads) for j in jobs]
        if self.jobs == 1 or len(jobs) <= 1:
            for job in jobs:
                yield run_job(job)
            return
        ctx = multiprocessing.get_context("spawn")
        gpus = _gpu_count()
        queue = None
        if gpus > 1:
            queue = ctx.Queue()
            for i in range(self.jobs):
                queue.put(i % gpus)
        with concurrent.futures.ProcessPoolExecutor(self.jobs, mp_context=ctx, initializer=_init_worker,
                                                    initargs=(queue,)) as pool:
            futures = {pool.submit(run_job, job): job for job in jobs}
            for future in concurrent.futures.as_completed(futures):
                job = futures[future]
                try:
                    yield future.result()
                except Exception as err:  # noqa: BLE001 - a worker killed mid-job fails its job only
                    yield JobResult(job.label, job.config_hash, error=f"worker process died: {type(err).__name__}: {err}")


def _gpu_count() -> int:
    try:
        import torch

        return torch.cuda.device_count()
    except Exception:  # noqa: BLE001 - no CUDA build, no driver: no GPUs
        return 0


# --------------------------------------------------------------------------- slurm (submitit)


@dataclasses.dataclass(frozen=True)
class SlurmOptions:
    """Options of the ``slurm`` launcher (a submitit job array, one task per run).

    Attributes:
        partition: Slurm partition ('' = the cluster's default).
        time: time limit per task, minutes.
        gpus: GPUs per task.
        cpus: CPUs per task.
        mem: memory per task, GB.
        account: Slurm account ('' = none).
        setup: shell lines run before each task (e.g. "module load cuda; source venv/bin/activate"), ';'-separated.
        executor: "slurm" (sbatch), or "local" (submitit's local executor: same code path, this machine).
        poll: seconds between status checks of the array.
    """

    partition: str = ""
    time: int = 60
    gpus: int = 0
    cpus: int = 4
    mem: int = 16
    account: str = ""
    setup: str = ""
    executor: Literal["slurm", "local"] = "slurm"
    poll: float = 5.0


class SlurmLauncher:
    """One submitit job array; ``--jobs`` caps how many tasks run at once (array parallelism)."""

    def __init__(self, options: SlurmOptions, jobs: int, folder: Path) -> None:
        try:
            import submitit
        except ImportError:
            raise FerbenchError("the slurm launcher needs submitit: pip install 'ferbench[slurm]'") from None
        self.submitit = submitit
        self.options = options
        self.jobs = max(1, jobs)
        self.folder = Path(folder) / "submitit"

    def _executor(self):
        o = self.options
        executor = self.submitit.AutoExecutor(folder=str(self.folder / "%j"),
                                              cluster="local" if o.executor == "local" else "slurm")
        params: dict[str, Any] = {"timeout_min": o.time, "gpus_per_node": o.gpus, "cpus_per_task": o.cpus,
                                  "mem_gb": o.mem, "name": "ferbench-sweep", "slurm_array_parallelism": self.jobs}
        if o.partition:
            params["slurm_partition"] = o.partition
        if o.account:
            params["slurm_account"] = o.account
        if o.setup:
            params["slurm_setup"] = [line.strip() for line in o.setup.split(";") if line.strip()]
        executor.update_parameters(**params)
        return executor

    def launch(self, jobs: list[RunJob]) -> Iterator[JobResult]:
        if not jobs:
            return
        executor = self._executor()
        threads = max(1, self.options.cpus)
        submitted = executor.map_array(run_job, [dataclasses.replace(j, threads=threads) for j in jobs])
        pending = dict(zip(submitted, jobs))
        while pending:
            for handle in [h for h in pending if h.done()]:
                job = pending.pop(handle)
                yield self._result(handle, job)
            if pending:
                time.sleep(self.options.poll if self.options.executor == "slurm" else min(self.options.poll, 1.0))

    def _result(self, handle: Any, job: RunJob) -> JobResult:
        try:
            return handle.result()
        except Exception as err:  # noqa: BLE001 - a killed or crashed task fails its run only
            lines = [line for line in str(err).splitlines() if line.strip()]
            stderr = ""
            try:
                stderr = handle.stderr() or ""
            except Exception:  # noqa: BLE001 - the log may be gone
                pass
            tail = [line for line in stderr.splitlines() if line.strip()]
            last = (tail or lines or [type(err).__name__])[-1].strip()
            return JobResult(job.label, job.config_hash, error=f"job {handle.job_id} failed: {last}")


def builtin_launchers() -> list[LauncherSpec]:
    """The core's launchers (registered by the ``core`` plugin's ``ferbench_launchers`` hook)."""
    return [
        LauncherSpec("local", LocalLauncher, LocalOptions, "worker processes on this machine (--jobs N, a GPU each)"),
        LauncherSpec("slurm", SlurmLauncher, SlurmOptions, "a Slurm job array via submitit, one task per run"),
    ]

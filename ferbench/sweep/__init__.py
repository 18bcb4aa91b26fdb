"""Sweeps: a run config plus axes, expanded into ordinary runs and executed by a launcher.

* :mod:`.spec`: the TOML spec (axes, zip groups, excludes) and its expansion;
* :mod:`.jobs`: what a launcher runs (:class:`RunJob`, :func:`run_job`) and how
  records get back to the driver;
* :mod:`.launchers`: ``local`` and ``slurm`` (submitit), and the
  :class:`LauncherSpec` that plugins register through ``ferbench_launchers``;
* :mod:`.driver`: check, launch, ingest (the results store's one writer).
"""

from .driver import SweepRun, check_sweep, dry_run_table, run_sweep, summary_table
from .jobs import JobResult, RecordFiles, RunJob, run_job
from .launchers import Launcher, LauncherSpec, LocalLauncher, LocalOptions, SlurmLauncher, SlurmOptions
from .spec import Axis, PlannedRun, SweepSpec, load_sweep, parse_sweep

__all__ = [
    "Axis", "JobResult", "Launcher", "LauncherSpec", "LocalLauncher", "LocalOptions", "PlannedRun", "RecordFiles",
    "RunJob", "SlurmLauncher", "SlurmOptions", "SweepRun", "SweepSpec", "check_sweep", "dry_run_table",
    "load_sweep", "parse_sweep", "run_job", "run_sweep", "summary_table",
]

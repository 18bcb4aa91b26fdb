"""``ferbench sweep SPEC``: run a grid of combinations (or show it with ``--dry-run``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..options import build_options, parse_key_values
from ..paths import default_output_dir


def add_launcher_arguments(p: argparse.ArgumentParser) -> None:
    """``--launcher``, ``--launcher-opt`` and ``--jobs`` (shared by ``sweep`` and ``claims``)."""
    p.add_argument("--launcher", default="local", help="where runs execute: local (default), slurm, or a plugin's")
    p.add_argument("--launcher-opt", action="append", metavar="KEY=VALUE",
                   help="launcher option (repeatable), e.g. partition=gpu time=120 gpus=1 (slurm)")
    p.add_argument("--jobs", type=int, default=1, help="runs at once (local: worker processes; slurm: array parallelism)")
    p.add_argument("--output-dir", help="results and run folders (overrides the spec)")
    p.add_argument("--cache-dir", help="cache folder (overrides the spec)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def make_launcher(args: argparse.Namespace, registry, folder: Path):
    """The launcher chosen by ``--launcher`` with its ``--launcher-opt`` values."""
    spec = registry.launcher(args.launcher)
    options = build_options(spec.options, parse_key_values(args.launcher_opt or [], flag="--launcher-opt"),
                            owner=f"launcher '{spec.name}'")
    return spec.factory(options, args.jobs, folder)


def path_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The config layer of ``--output-dir`` / ``--cache-dir`` when given."""
    return {k: getattr(args, k) for k in ("output_dir", "cache_dir") if getattr(args, k, None)}


def cmd_sweep(args: argparse.Namespace) -> int:
    from ..leaderboard import render_leaderboard
    from ..sweep import check_sweep, dry_run_table, load_sweep, run_sweep, summary_table
    from ..sweep.driver import sweep_comparison, sweep_leaderboard
    from .components import registry as make_registry

    registry = make_registry()
    spec = load_sweep(args.spec)
    overrides = path_overrides(args)
    runs = check_sweep(spec, registry, overrides=overrides)
    if args.dry_run:
        print(f"sweep '{spec.name}' ({args.spec}): {len(runs)} runs\n{dry_run_table(runs)}")
        return 0
    output_dir = Path(runs[0].plan.output_dir if runs else (args.output_dir or default_output_dir()))
    launcher = make_launcher(args, registry, output_dir / "sweeps" / spec.name)
    progress = not args.no_progress and sys.stderr.isatty()
    runs = run_sweep(spec, registry, launcher, overrides=overrides, runs=runs, progress=progress)
    print(summary_table(runs))
    board = sweep_leaderboard(runs)
    if len(board):
        print(f"\nleaderboard of sweep '{spec.name}' (seeds pooled):")
        print(render_leaderboard(board, "md"), end="")
    failed = [r for r in runs if r.status == "failed"]
    if spec.compare and not failed:
        print("\n" + sweep_comparison(spec, runs).line())
    print(f"records: {output_dir / 'results.sqlite'}; see them with 'ferbench leaderboard --output-dir {output_dir}'"
          + (f"; {len(failed)} run(s) failed, re-issue the same command to retry them" if failed else ""))
    return 1 if failed else 0


def register(sub) -> None:
    p = sub.add_parser("sweep", help="run a grid of combinations from a TOML sweep spec (--dry-run to list it)")
    p.add_argument("spec", help="sweep spec: a run config plus [sweep] axes (see docs/sweeps-and-claims.md)")
    p.add_argument("--dry-run", action="store_true", help="print the expanded runs and whether each is recorded, then exit")
    add_launcher_arguments(p)
    p.set_defaults(func=cmd_sweep)

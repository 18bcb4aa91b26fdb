"""``ferbench folds``, ``ferbench prepare`` and ``ferbench synth preview``: datasets on disk."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..errors import FerbenchError
from ..options import parse_key_values
from ..paths import default_cache_dir


def _dataset_options(args: argparse.Namespace, spec):
    from ..options import build_options

    values = parse_key_values(args.dataset_opt or [], flag="--dataset-opt")
    return build_options(spec.options, values, owner=f"dataset '{spec.name}'")


def _dataset_manifest(args: argparse.Namespace):
    from ..engine.assemble import resolve
    from ..engine.config import make_config
    from ..engine.plan import load_manifest
    from .components import registry

    opts = {"dataset": parse_key_values(args.dataset_opt or [], flag="--dataset-opt")}
    config = make_config({"dataset": args.dataset}, opts, root=args.root, cache_dir=args.cache_dir or default_cache_dir())
    resolved = resolve(config, registry())
    return load_manifest(config, resolved)


def cmd_folds(args: argparse.Namespace) -> int:
    from ..data.protocols import export_folds, make_folds

    manifest = _dataset_manifest(args)
    folds = make_folds(manifest, seed=args.seed, val_fraction=args.val_fraction)
    export_folds(manifest, folds, args.out, seed=args.seed)
    print(f"wrote {len(folds)} folds of {manifest.dataset} to {args.out}")
    return 0


def cmd_synth_preview(args: argparse.Namespace) -> int:
    from ..datasets.synthetic.preview import write_preview
    from .components import registry

    spec = registry().get("dataset", args.dataset)
    if not spec.name.startswith("synthetic"):
        raise FerbenchError(f"'{args.dataset}' is not a synthetic dataset; choose one of the synthetic-* presets")
    for p in write_preview(_dataset_options(args, spec), Path(args.out)):
        print(f"wrote {p}")
    return 0


def cmd_prepare(args: argparse.Namespace) -> int:
    from ..datasets.adapters.base import RealDataset
    from ..prepare.pipeline import prepare_dataset
    from .components import registry

    spec = registry().get("dataset", args.dataset)
    options = _dataset_options(args, spec)
    cache_dir = Path(args.cache_dir or default_cache_dir()).expanduser()
    adapter = spec.factory(options, Path(args.root).expanduser() if args.root else None, cache_dir)
    if not isinstance(adapter, RealDataset):
        raise FerbenchError(f"dataset '{spec.name}' has nothing to prepare (its videos are generated face crops); "
                            f"prepare works on real datasets such as afew, ckplus or folder")
    if args.workers < 1:
        raise FerbenchError(f"--workers must be at least 1, got {args.workers}")
    report = prepare_dataset(adapter, workers=args.workers, progress=not args.no_progress and sys.stderr.isatty())
    print(report.summary())
    if report.failed:
        print(f"{len(report.failed)} items failed (listed in {report.dir / 'failures.json'}); they are left out of runs")
    print(f"prepared data: {report.dir}  (used by '{adapter.run_command()}')")
    return 0


def register(sub) -> None:
    p = sub.add_parser("folds", help="export a dataset's folds (ids per fold) as JSON")
    p.add_argument("--dataset", required=True)
    p.add_argument("--dataset-opt", action="append", metavar="KEY=VALUE")
    p.add_argument("--root")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--val-fraction", type=float, default=0.0)
    p.add_argument("--out", required=True)
    p.add_argument("--cache-dir", help="cache folder (default $FERBENCH_CACHE or ~/.cache/ferbench)")
    p.set_defaults(func=cmd_folds)

    p = sub.add_parser("prepare", help="detect, align and crop faces of a real dataset and re-encode them (once, resumable)")
    p.add_argument("--dataset", required=True)
    p.add_argument("--root", help="dataset root in its official layout")
    p.add_argument("--dataset-opt", action="append", metavar="KEY=VALUE", help="dataset / prepare option (repeatable)")
    p.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 1), help="worker processes")
    p.add_argument("--cache-dir", help="cache folder (default $FERBENCH_CACHE or ~/.cache/ferbench)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_prepare)

    p = sub.add_parser("synth", help="SynthFER tools")
    ss = p.add_subparsers(dest="synth_command", required=True, metavar="SUBCOMMAND")
    q = ss.add_parser("preview", help="write a contact sheet (subjects x expressions) and an apex-vs-neutral strip")
    q.add_argument("--dataset", default="synthetic")
    q.add_argument("--dataset-opt", action="append", metavar="KEY=VALUE")
    q.add_argument("--out", default="synth-preview")
    q.set_defaults(func=cmd_synth_preview)

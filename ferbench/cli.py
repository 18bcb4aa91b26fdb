"""The ``ferbench`` command line.

``ferbench list [KIND]``, ``info NAME``, ``plugins``, ``run``, ``leaderboard``,
``folds``, ``synth preview``, ``prepare``. User errors print one line (no traceback) and
exit with status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path
from typing import Any, Sequence

from .components import KINDS
from .errors import FerbenchError
from .options import option_fields, parse_key_values

DEFAULT_CACHE = os.environ.get("FERBENCH_CACHE", "~/.cache/ferbench")
DEFAULT_OUTPUT = os.environ.get("FERBENCH_OUTPUT", "ferbench-out")

#: run flags that map onto TrainOptions fields
TRAIN_FLAGS = {
    "epochs": int, "batch_size": int, "lr": float, "optimizer": str, "schedule": str, "loss": str,
    "device": str, "val_fraction": float, "select": str, "weight_decay": float, "num_workers": int,
}


def _registry():
    from .plugins import Registry

    return Registry()


# ----------------------------------------------------------------- list / info / plugins
def cmd_list(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    reg = _registry()
    kinds = [args.kind] if args.kind else list(KINDS)
    rows = [[s.kind, s.name, s.plugin, s.paper, s.description] for k in kinds for s in reg.components(k)]
    print(tabulate(rows, headers=["kind", "name", "plugin", "paper", "description"], tablefmt="simple"))
    broken = [p for p in reg.plugins.values() if p.broken]
    for p in broken:
        print(f"\nbroken plugin '{p.name}' ({p.module}): {p.error}")
    return 0


def _option_help(doc: str) -> dict[str, str]:
    """Field help from an options docstring's ``Attributes:`` section (continuation lines joined)."""
    helps: dict[str, str] = {}
    lines = doc.splitlines()
    start = next((i + 1 for i, l in enumerate(lines) if l.strip() == "Attributes:"), len(lines))
    current, indent = None, None
    for line in lines[start:]:
        stripped = line.strip()
        if not stripped:
            continue
        lead = len(line) - len(line.lstrip())
        indent = lead if indent is None else indent
        name, sep, text = stripped.partition(":")
        if lead == indent and sep and name.isidentifier():
            current = name
            helps[name] = text.strip()
        elif lead > indent and current is not None:
            helps[current] += " " + stripped
        else:
            break
    return helps


def cmd_info(args: argparse.Namespace) -> int:
    reg = _registry()
    specs = [reg.get(args.kind, args.name)] if args.kind else reg.find(args.name)
    if not specs:
        names = sorted({s.name for s in reg.components()})
        import difflib

        close = difflib.get_close_matches(args.name, names, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise FerbenchError(f"no component named '{args.name}'.{hint} See 'ferbench list'.")
    for spec in specs:
        print(f"{spec.kind} '{spec.name}' (plugin {spec.plugin}, paper {spec.paper})")
        print(f"  {spec.description}")
        if spec.companions:
            brings = " ".join(f"--{k} {v}" for k, v in spec.companions.items())
            print(f"  brings, unless chosen otherwise: {brings}")
        helps = _option_help(spec.options.__doc__ or "")
        print(f"  options ({spec.options.__name__}):")
        defaults = spec.options()
        for name, typ in option_fields(spec.options).items():
            tname = getattr(typ, "__name__", str(typ)).replace("typing.", "")
            print(f"    {name} = {getattr(defaults, name)!r}  [{tname}]  {helps.get(name, '')}")
        if not option_fields(spec.options):
            print("    (none)")
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    reg = _registry()
    rows = [
        [p.name, p.version or "-", p.module, "BROKEN: " + p.error if p.broken else ", ".join(h.replace("ferbench_", "") for h in p.hooks)]
        for p in reg.plugins.values()
    ]
    print(tabulate(rows, headers=["plugin", "version", "module", "hooks"], tablefmt="simple"))
    return 0


# ----------------------------------------------------------------- run
def config_from_args(args: argparse.Namespace, registry):
    from .engine.config import load_config_file, make_config

    base: dict[str, Any] = load_config_file(args.config) if args.config else {}
    components = dict(base.get("components", {}))
    options = {k: dict(v) for k, v in base.get("component_options", {}).items()}
    train = dict(base.get("train", {}))
    for kind in KINDS:
        name = getattr(args, kind)
        if name:
            components[kind] = name
        pairs = getattr(args, f"{kind}_opt") or []
        if pairs:
            options.setdefault(kind, {}).update(parse_key_values(pairs, flag=f"--{kind}-opt"))
    train.update(parse_key_values(args.train_opt or [], flag="--train-opt"))
    for field in TRAIN_FLAGS:
        value = getattr(args, field)
        if value is not None:
            train[field] = value
    if args.balanced:
        train["balanced_sampling"] = True
    fields: dict[str, Any] = {k: base[k] for k in ("seed", "folds", "root", "cache_dir", "output_dir") if k in base}
    if args.seed is not None:
        fields["seed"] = args.seed
    if args.folds:
        try:
            fields["folds"] = tuple(int(f) for f in args.folds.split(","))
        except ValueError:
            raise FerbenchError(f"--folds expects comma-separated fold indices like 0,2, got {args.folds!r}") from None
    if args.root:
        fields["root"] = args.root
    fields.setdefault("cache_dir", args.cache_dir)
    fields.setdefault("output_dir", args.output_dir)
    if args.cache_dir != DEFAULT_CACHE:
        fields["cache_dir"] = args.cache_dir
    if args.output_dir != DEFAULT_OUTPUT:
        fields["output_dir"] = args.output_dir
    try:
        return make_config(components, options, train, registry=registry, **fields)
    except (TypeError, ValueError) as err:
        raise FerbenchError(f"invalid run configuration: {err}") from None


def cmd_run(args: argparse.Namespace) -> int:
    from .engine.runner import Runner

    registry = _registry()
    config = config_from_args(args, registry)
    runner = Runner(config, registry, progress=not args.no_progress and sys.stderr.isatty())
    result = runner.run(resume=args.resume)
    print(f"records: {runner.store_path}  checkpoints and confusion matrices: {runner.run_dir}")
    if not result.folds and result.skipped:
        print("every selected fold was already recorded; nothing to do")
    return 0


# ----------------------------------------------------------------- leaderboard / folds / synth
def cmd_leaderboard(args: argparse.Namespace) -> int:
    from .leaderboard import build_leaderboard, render_leaderboard
    from .results import ResultsStore

    store_path = Path(args.output_dir).expanduser() / "results.sqlite"
    reg = _registry()
    if store_path.is_file():
        df = ResultsStore(store_path).dataframe(dataset=args.dataset)
    else:
        import pandas as pd

        print(f"note: no results yet at {store_path}; showing reported rows only", file=sys.stderr)
        df = pd.DataFrame()
    board = build_leaderboard(df, reg.reported_results(), dataset=args.dataset)
    text = render_leaderboard(board, args.format)
    if args.out:
        Path(args.out).write_text(text)
        print(f"wrote {args.out} ({len(board)} rows)")
    else:
        print(text)
    return 0


def _dataset_manifest(args: argparse.Namespace):
    from .engine.assemble import resolve
    from .engine.config import make_config
    from .engine.runner import load_manifest

    opts = {"dataset": parse_key_values(args.dataset_opt or [], flag="--dataset-opt")}
    config = make_config({"dataset": args.dataset}, opts, root=args.root, cache_dir=args.cache_dir)
    resolved = resolve(config, _registry())
    return load_manifest(config, resolved)


def cmd_folds(args: argparse.Namespace) -> int:
    from .data.protocols import export_folds, make_folds

    manifest = _dataset_manifest(args)
    folds = make_folds(manifest, seed=args.seed, val_fraction=args.val_fraction)
    export_folds(manifest, folds, args.out, seed=args.seed)
    print(f"wrote {len(folds)} folds of {manifest.dataset} to {args.out}")
    return 0


def cmd_synth_preview(args: argparse.Namespace) -> int:
    from .datasets.synthetic.preview import write_preview
    from .options import build_options

    reg = _registry()
    spec = reg.get("dataset", args.dataset)
    if not spec.name.startswith("synthetic"):
        raise FerbenchError(f"'{args.dataset}' is not a synthetic dataset; choose one of the synthetic-* presets")
    options = build_options(spec.options, parse_key_values(args.dataset_opt or [], flag="--dataset-opt"), owner=f"dataset '{spec.name}'")
    paths = write_preview(options, Path(args.out))
    for p in paths:
        print(f"wrote {p}")
    return 0


# ----------------------------------------------------------------- prepare
def cmd_prepare(args: argparse.Namespace) -> int:
    from .datasets.adapters.base import RealDataset
    from .options import build_options
    from .prepare.pipeline import prepare_dataset

    spec = _registry().get("dataset", args.dataset)
    options = build_options(spec.options, parse_key_values(args.dataset_opt or [], flag="--dataset-opt"), owner=f"dataset '{spec.name}'")
    adapter = spec.factory(options, Path(args.root).expanduser() if args.root else None, Path(args.cache_dir).expanduser())
    if not isinstance(adapter, RealDataset):
        raise FerbenchError(f"dataset '{spec.name}' has nothing to prepare (its videos are generated face crops); "
                            f"prepare works on real datasets such as afew, ckplus or folder")
    if args.workers < 1:
        raise FerbenchError(f"--workers must be at least 1, got {args.workers}")
    report = prepare_dataset(adapter, workers=args.workers, progress=not args.no_progress and sys.stderr.isatty())
    print(report.summary())
    if report.failed:
        print(f"{len(report.failed)} items failed (listed in {report.dir / 'failures.json'}); they are left out of runs")
    print(f"prepared data: {report.dir}  (used by 'ferbench run --dataset {spec.name} --root {args.root}' with the same --dataset-opt)")
    return 0


# ----------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ferbench", description="Plugin-based facial expression recognition benchmark.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="list components (optionally of one kind)")
    p.add_argument("kind", nargs="?", choices=KINDS)
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("info", help="show a component's description and options")
    p.add_argument("name")
    p.add_argument("--kind", choices=KINDS)
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("plugins", help="list installed plugins, versions and hooks")
    p.set_defaults(func=cmd_plugins)

    p = sub.add_parser("run", help="train and evaluate a combination under the dataset's protocol")
    p.add_argument("--config", help="TOML file with the same settings (flags override it)")
    for kind in KINDS:
        p.add_argument(f"--{kind}", help=f"{kind} component name")
        p.add_argument(f"--{kind}-opt", action="append", metavar="KEY=VALUE", help=f"{kind} option (repeatable)")
    p.add_argument("--train-opt", action="append", metavar="KEY=VALUE", help="any training option (repeatable)")
    for field, typ in TRAIN_FLAGS.items():
        p.add_argument(f"--{field.replace('_', '-')}", dest=field, type=typ, help=f"training option {field}")
    p.add_argument("--balanced", action="store_true", help="class-balanced batches")
    p.add_argument("--seed", type=int)
    p.add_argument("--folds", help="comma-separated fold indices to run, e.g. 1,3")
    p.add_argument("--root", help="dataset root (real datasets)")
    p.add_argument("--cache-dir", default=DEFAULT_CACHE)
    p.add_argument("--output-dir", default=DEFAULT_OUTPUT)
    p.add_argument("--resume", action="store_true", help="continue an interrupted run of the same configuration")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("leaderboard", help="one row per (dataset, protocol, combination), with reported rows")
    p.add_argument("--dataset")
    p.add_argument("--format", choices=("csv", "md"), default="md")
    p.add_argument("--out")
    p.add_argument("--output-dir", default=DEFAULT_OUTPUT)
    p.set_defaults(func=cmd_leaderboard)

    p = sub.add_parser("folds", help="export a dataset's folds (ids per fold) as JSON")
    p.add_argument("--dataset", required=True)
    p.add_argument("--dataset-opt", action="append", metavar="KEY=VALUE")
    p.add_argument("--root")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--val-fraction", type=float, default=0.0)
    p.add_argument("--out", required=True)
    p.add_argument("--cache-dir", default=DEFAULT_CACHE)
    p.set_defaults(func=cmd_folds)

    p = sub.add_parser("prepare", help="detect, align and crop faces of a real dataset and re-encode them (once, resumable)")
    p.add_argument("--dataset", required=True)
    p.add_argument("--root", help="dataset root in its official layout")
    p.add_argument("--dataset-opt", action="append", metavar="KEY=VALUE", help="dataset / prepare option (repeatable)")
    p.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 1), help="worker processes")
    p.add_argument("--cache-dir", default=DEFAULT_CACHE)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_prepare)

    p = sub.add_parser("synth", help="SynthFER tools")
    ss = p.add_subparsers(dest="synth_command", required=True, metavar="SUBCOMMAND")
    q = ss.add_parser("preview", help="write a contact sheet (subjects x expressions) and an apex-vs-neutral strip")
    q.add_argument("--dataset", default="synthetic")
    q.add_argument("--dataset-opt", action="append", metavar="KEY=VALUE")
    q.add_argument("--out", default="synth-preview")
    q.set_defaults(func=cmd_synth_preview)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except FerbenchError as err:
        print(f"ferbench: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ferbench: interrupted; finished folds are recorded, continue with the same command plus --resume", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""``ferbench run``: train and score one combination under its dataset's protocol.

Settings come in layers (see :mod:`ferbench.engine.config`): a TOML file
(``--config``), then the flags that were actually given. Flags left unset
never override the file.

Several processes (DistributedDataParallel): ``torchrun --nproc_per_node N -m
ferbench run ...``; ``ferbench run --nproc N ...`` starts exactly that
(``python -m torch.distributed.run --standalone``) with the same arguments.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from typing import Any, Sequence

from ..kinds import KIND_SPECS
from ..options import parse_key_values

#: run flags that map onto TrainOptions fields
TRAIN_FLAGS = {
    "epochs": int, "batch_size": int, "lr": float, "optimizer": str, "schedule": str, "loss": str,
    "device": str, "val_fraction": float, "select": str, "weight_decay": float, "num_workers": str,
}


def add_config_arguments(p: argparse.ArgumentParser) -> None:
    """The flags that set a run config (shared by ``run`` and ``sweep``'s overrides). Every default is unset."""
    for kind in KIND_SPECS:
        p.add_argument(kind.flag, help=f"{kind.title} (default {kind.default}; 'ferbench list {kind.name}')")
        p.add_argument(f"{kind.flag}-opt", action="append", metavar="KEY=VALUE", help=f"{kind.name} option (repeatable)")
    p.add_argument("--train-opt", action="append", metavar="KEY=VALUE", help="any training option (repeatable)")
    for field, typ in TRAIN_FLAGS.items():
        p.add_argument(f"--{field.replace('_', '-')}", dest=field, type=typ, help=f"training option {field}")
    p.add_argument("--balanced", action="store_true", default=None, help="class-balanced batches")
    p.add_argument("--seed", type=int)
    p.add_argument("--folds", help="comma-separated fold indices to run, e.g. 1,3")
    p.add_argument("--root", help="dataset root (real datasets)")
    p.add_argument("--cache-dir", help="cache folder (default $FERBENCH_CACHE or ~/.cache/ferbench)")
    p.add_argument("--output-dir", help="results and run folders (default $FERBENCH_OUTPUT or ferbench-out)")


def config_layer_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The config dict of the flags that were given (unset flags are absent)."""
    from ..errors import ConfigError

    layer: dict[str, Any] = {}
    components = {k.name: getattr(args, k.name) for k in KIND_SPECS if getattr(args, k.name)}
    options = {}
    for kind in KIND_SPECS:
        pairs = getattr(args, f"{kind.name}_opt") or []
        if pairs:
            options[kind.name] = parse_key_values(pairs, flag=f"{kind.flag}-opt")
    train = parse_key_values(args.train_opt or [], flag="--train-opt")
    train.update({f: getattr(args, f) for f in TRAIN_FLAGS if getattr(args, f) is not None})
    if args.balanced:
        train["balanced_sampling"] = True
    for key, value in (("components", components), ("options", options), ("train", train)):
        if value:
            layer[key] = value
    if args.seed is not None:
        layer["seed"] = args.seed
    if args.folds:
        try:
            layer["folds"] = [int(f) for f in args.folds.split(",")]
        except ValueError:
            raise ConfigError(f"--folds expects comma-separated fold indices like 0,2, got {args.folds!r}") from None
    for key in ("root", "cache_dir", "output_dir"):
        if getattr(args, key):
            layer[key] = getattr(args, key)
    return layer


def config_from_args(args: argparse.Namespace, registry):
    """The run config of ``--config FILE`` overridden by the given flags (validated before any work)."""
    from ..engine.config import check_config_dict, config_from_dict, load_config_file, merge_config_dicts

    base = load_config_file(args.config) if getattr(args, "config", None) else {}
    layer = check_config_dict(config_layer_from_args(args), "command line")
    return config_from_dict(merge_config_dicts(base, layer), registry)


def torchrun_command(nproc: int, argv: Sequence[str]) -> list[str]:
    """The torchrun command line that runs ``ferbench`` with ``argv`` (``--nproc`` removed) in ``nproc`` processes."""
    rest, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            rest.append(arg)
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
            "-m", "ferbench", *rest]


def _launch(args: argparse.Namespace) -> int:
    from ..engine.distributed import context_from_env
    from ..errors import FerbenchError

    if args.nproc < 1:
        raise FerbenchError(f"--nproc must be >= 1, got {args.nproc}")
    if context_from_env().active:
        raise FerbenchError("--nproc inside a torchrun process; drop --nproc (torchrun already started the processes)")
    return subprocess.call(torchrun_command(args.nproc, args.argv))


def cmd_run(args: argparse.Namespace) -> int:
    if getattr(args, "nproc", None) not in (None, 1):
        return _launch(args)
    import torch

    from ..engine.distributed import context_from_env, process_group
    from ..engine.runner import Runner
    from ..engine.trainer import resolve_device
    from .components import registry as make_registry

    ctx = context_from_env()
    registry = make_registry()
    config = config_from_args(args, registry)
    device = resolve_device(config.train.device)
    if ctx.active and device.type == "cuda":
        if ctx.local_world_size > torch.cuda.device_count():
            from ..errors import FerbenchError

            raise FerbenchError(f"{ctx.local_world_size} processes on this machine but {torch.cuda.device_count()} "
                                f"CUDA device(s); start at most one process per GPU (--nproc / --nproc_per_node)")
        if device.index is None:
            device = torch.device("cuda", ctx.local_rank)
    main = ctx.rank == 0
    with process_group(ctx, device):
        runner = Runner(config, registry, progress=main and not args.no_progress and sys.stderr.isatty(),
                        log=print if main else (lambda line: None), rank=ctx.rank, world_size=ctx.world_size)
        result = runner.run(resume=args.resume, force=args.force)
    if main:
        print(f"records: {runner.store_path}  checkpoints and confusion matrices: {runner.run_dir}")
        if not result.folds and result.skipped:
            print("every selected fold was already recorded; nothing to do (--force retrains them)")
    return 0


def register(sub) -> None:
    p = sub.add_parser("run", help="train and evaluate a combination under the dataset's protocol")
    p.add_argument("--config", help="TOML file with the same settings (flags given override it)")
    add_config_arguments(p)
    p.add_argument("--resume", action="store_true", help="continue an unfinished fold from its last epoch checkpoint")
    p.add_argument("--force", action="store_true", help="retrain folds that are already recorded and replace their records")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--nproc", type=int, help="train in N processes with DistributedDataParallel (starts torchrun; "
                   "one per GPU, or gloo on CPU)")
    p.set_defaults(func=cmd_run)

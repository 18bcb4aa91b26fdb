"""Where a plugin's default command spends its time on a CPU: decode, sampling, forward, backward, stages.

For each command (components as the plugin's README runs them, every option
at its default) on fold 0 of ``--dataset``, in one process, loader in the main
process (``num_workers=0``, so every part is timed where it runs), with a cold
input cache and a cold stage cache:

* decode: the up-front check that decodes every sample of the fold into the disk cache;
* sampling: one pass of ``input.sample`` over the training samples (from the warm cache);
* data / forward / backward per epoch: the engine's own step timers (``FoldTrainer(profile=True)``):
  data = loader (cache read, sampling, collation), forward = forward pass and losses,
  backward = backward pass and optimiser step;
* stages: the stages the components declare (autoencoder, GAN), trained once per fold.

Each part is given in wall seconds and in CPU seconds of the process (all its
threads): on a machine shared with others the CPU seconds are the steadier
figure. OpenMP threads sleep while waiting (``OMP_WAIT_POLICY=PASSIVE``, as
the CLI sets it) unless the environment says otherwise. The fold's projected total is decode + stages + epochs x (data + forward + backward).
``--epochs`` epochs are timed (default 1; the commands train 20).

    python benchmarks/profile_commands.py                           # all commands
    python benchmarks/profile_commands.py --command relgan --command-opt relgan:disentangler.steps=30
"""

from __future__ import annotations

import argparse
import datetime
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the ferbench CLI does (before torch is imported)
import tempfile
import time
from pathlib import Path

import torch

from ferbench.engine.config import TrainOptions, make_config
from ferbench.engine.runner import Runner
from ferbench.paths import cache_path
from ferbench.plugins import Registry

#: command name -> components, as the plugins' READMEs run them
COMMANDS = {
    "default": {},
    "sna": {"input": "gray112", "backbone": "sna-multiscale", "selector": "sna"},
    "relgan": {"disentangler": "relgan"},
    "recentral3d": {"input": "shading3d", "backbone": "recentral3d-fusion"},
}


class Timer:
    """Wall and CPU seconds of a block."""

    def __enter__(self) -> "Timer":
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def profile(name: str, args: argparse.Namespace, registry: Registry, tmp: Path) -> dict:
    cache = tmp / name / "cache"
    cache.mkdir(parents=True)
    shared = cache_path(args.cache_dir) / "synthetic"
    if shared.is_dir():  # reuse the generated videos, nothing else
        (cache / "synthetic").symlink_to(shared)
    options: dict[str, dict[str, str]] = {}
    for spec in args.command_opt:  # COMMAND:KIND.KEY=VALUE
        cmd, rest = spec.split(":", 1)
        target, value = rest.split("=", 1)
        kind, key = target.split(".", 1)
        if cmd == name:
            options.setdefault(kind, {})[key] = value
    config = make_config({"dataset": args.dataset, **COMMANDS[name]}, options,
                         {"epochs": args.epochs, "num_workers": 0}, registry=registry, cache_dir=str(cache),
                         output_dir=str(tmp / name / "out"), folds=(0,))
    runner = Runner(config, registry, progress=False, log=(print if args.verbose else lambda line: None))
    fold = runner.folds[0]
    train_ids = list(fold.train)
    with Timer() as decode:
        runner.check_inputs(train_ids + list(fold.val) + list(fold.test))
    by_id = runner.manifest.by_id()
    gen = torch.Generator().manual_seed(0)
    with Timer() as sampling:
        for i in train_ids:
            runner.input.sample(runner.cache.get(by_id[i]), train=True, generator=gen)
    trainer = runner.fold_trainer(0, profile=True)
    with Timer() as fit:
        training = trainer.fit(runner.loader(train_ids, train=True, fold=0), None)
    st = trainer.step_times
    steps_cpu = st.data_cpu_s + st.forward_cpu_s + st.backward_cpu_s
    steps_wall = st.data_s + st.forward_s + st.backward_s
    e = args.epochs
    return {
        "command": name, "combination": runner.combination, "train_clips": len(train_ids),
        "decode": (decode.wall, decode.cpu), "sampling": (sampling.wall, sampling.cpu),
        "data": (st.data_s / e, st.data_cpu_s / e), "forward": (st.forward_s / e, st.forward_cpu_s / e),
        "backward": (st.backward_s / e, st.backward_cpu_s / e),
        # everything in fit() that is not a timed step: the stages, plus per-epoch checkpoint writes
        "stages": (training.stage_s, fit.cpu - steps_cpu if training.stage_s else 0.0),
        "other": (fit.wall - training.stage_s - steps_wall, 0.0),
        "default_epochs": TrainOptions().epochs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--command", action="append", choices=sorted(COMMANDS), help="(repeatable; default: all)")
    parser.add_argument("--command-opt", action="append", default=[], metavar="COMMAND:KIND.KEY=VALUE",
                        help="a component option of one command, e.g. relgan:disentangler.steps=30")
    parser.add_argument("--dataset", default="synthetic")
    parser.add_argument("--epochs", type=int, default=1, help="epochs timed")
    parser.add_argument("--cache-dir", help="where the generated dataset is (default $FERBENCH_CACHE or ~/.cache/ferbench)")
    parser.add_argument("--verbose", action="store_true", help="print the runs' own lines")
    args = parser.parse_args()
    registry = Registry()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.command or list(COMMANDS):
            rows.append(profile(name, args, registry, Path(tmp)))
            r = rows[-1]
            print(f"{name}: done ({r['combination']})", flush=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\n{datetime.date.today()} | {args.dataset} fold 0 | torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{os.cpu_count()} CPUs, load average {load:.1f} | {args.epochs} epoch(s) timed; options: "
          f"{' '.join(args.command_opt) or 'defaults'}")
    parts = ["decode", "sampling", "data", "forward", "backward", "stages"]
    head = "| command | " + " | ".join(f"{p} s (CPU s)" for p in parts) + " | fold projected s (CPU s) |"
    print(head)
    print("|" + "---|" * (len(parts) + 2))
    for r in rows:
        n = r["default_epochs"]
        proj = [r["decode"][i] + r["stages"][i] + n * (r["data"][i] + r["forward"][i] + r["backward"][i]) for i in (0, 1)]
        cells = " | ".join(f"{r[p][0]:.1f} ({r[p][1]:.1f})" for p in parts)
        print(f"| {r['command']} | {cells} | {proj[0]:.0f} ({proj[1]:.0f}) |")
    print("decode: once per fold's clips (cold cache); sampling: one pass over the training clips; data, forward, "
          f"backward: per epoch; stages: once per fold; projected: {rows[0]['default_epochs']} epochs (the default).")


if __name__ == "__main__":
    main()

"""Does the data pipeline keep the model busy? Training and inference rates, model alone vs. full pipeline.

For each ``--combo`` (a leaderboard label such as ``rgb[sampling=clips,size=224]+resnet18+eian``;
kinds not named take their defaults) on fold 0 of ``--dataset``, in one process:

(a) training steps/s of the model alone, on one batch resident on the device;
(b) training steps/s of the full pipeline from the warm disk cache (loader workers, collation,
    copies to the device, the step); (a) and (b) alternate in rounds so that a machine whose
    load changes (shared with others) favours neither;
(c) the same with cold decoding: ``cache=none`` and no memory cache, every clip decoded from
    its video in the loader workers on every draw;
(d) inference clips/s at the evaluation batch size, model alone (resident batch) and through
    the pipeline (``evaluate_model`` over a loader of the test clips, cache warm).

It prints P1 = (b)/(a) and P2 = pipeline inference / model-only inference. Goals:
on a GPU P1 >= 0.85 and P2 >= 0.90; on 2 CPU cores P1 >= 0.9 (data never the bottleneck).

    python benchmarks/throughput.py                       # the default combination
    python benchmarks/throughput.py --combo "rgb[sampling=clips,size=224]+resnet18+eian" \\
        --combo "residual+ifercv-cnn+lstm" --combo "rgb+small-cnn+mean" --train-opt compile=true
"""

from __future__ import annotations

import argparse
import datetime
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the ferbench CLI does (before torch is imported)
import platform
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from ferbench.engine.config import make_config
from ferbench.engine.evaluation import autocast, evaluate_model
from ferbench.engine.loaders import eval_batch_size, resolve_workers, set_epoch
from ferbench.engine.runner import Runner
from ferbench.kinds import COMBINATION_KINDS
from ferbench.plugins import Registry

DEFAULT_COMBO = "rgb+small-cnn+mean"


def parse_combo(label: str) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """``"rgb[size=224,sampling=clips]+resnet18+eian"`` -> components and options, in combination-kind order."""
    parts, depth, cur = [], 0, ""
    for ch in label:
        depth += ch == "["
        depth -= ch == "]"
        if ch == "+" and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    components, options = {}, {}
    for kind, part in zip(COMBINATION_KINDS, parts):
        m = re.fullmatch(r"\s*([\w.-]+)\s*(?:\[(.*)\])?\s*", part)
        if not m:
            raise SystemExit(f"cannot read combination part {part!r} of {label!r}")
        components[kind] = m.group(1)
        if m.group(2):
            options[kind] = dict(kv.split("=", 1) for kv in m.group(2).split(","))
    return components, options


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _rate(fn, warmup: int, n: int, device: torch.device) -> float:
    for _ in range(warmup):
        fn()
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    _sync(device)
    return n / (time.perf_counter() - t0)


def _batches(loader):
    """The loader's batches, epoch after epoch, with their epoch."""
    epoch = 0
    while True:
        set_epoch(loader, epoch)
        for batch in loader:
            yield batch, epoch
        epoch += 1


def _pipeline_rate(trainer, loader, warmup: int, n: int, device: torch.device) -> float:
    stream = _batches(loader)
    for _ in range(warmup):
        batch, epoch = next(stream)
        trainer.train_step(batch.to(device), epoch)
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(n):
        batch, epoch = next(stream)
        trainer.train_step(batch.to(device), epoch)
    _sync(device)
    return n / (time.perf_counter() - t0)


def _alternating_rates(trainer, resident, loader, warmup: int, n: int, rounds: int, device: torch.device):
    """(a) and (b) measured in alternating rounds of n / rounds steps, so that a machine whose load
    drifts (shared with others) biases neither: total steps / total seconds of each."""
    stream = _batches(loader)

    def step_pipeline():
        batch, epoch = next(stream)
        trainer.train_step(batch.to(device), epoch)

    for _ in range(warmup):
        trainer.train_step(resident)
        step_pipeline()
    k = max(1, n // rounds)
    spent = {"a": 0.0, "b": 0.0}
    for _ in range(rounds):
        for key, fn in (("a", lambda: trainer.train_step(resident)), ("b", step_pipeline)):
            _sync(device)
            t0 = time.perf_counter()
            for _ in range(k):
                fn()
            _sync(device)
            spent[key] += time.perf_counter() - t0
    return k * rounds / spent["a"], k * rounds / spent["b"]


def measure(label: str, args: argparse.Namespace, registry: Registry, cache_dir: Path, out_dir: Path) -> dict:
    components, options = parse_combo(label)
    components["dataset"] = args.dataset
    train = {"epochs": 1, "device": args.device, **dict(kv.split("=", 1) for kv in args.train_opt)}
    if args.batch_size:
        train["batch_size"] = args.batch_size

    def config_with(extra_train: dict) -> Any:
        return make_config(components, options, {**train, **extra_train}, cache_dir=str(cache_dir),
                           output_dir=str(out_dir), folds=(0,))

    def quiet(line: str) -> None:
        pass

    runner = Runner(config_with({}), registry, progress=False, log=quiet)
    cold = Runner(config_with({"cache": "none", "cache_mem": "0"}), registry, progress=False, log=quiet)
    device, train_opts = runner.device, runner.config.train
    fold = runner.folds[0]
    train_ids, test_ids = list(fold.train), list(fold.test)
    t0 = time.perf_counter()
    runner.check_inputs(train_ids + test_ids)  # fills the disk cache
    decode_s = time.perf_counter() - t0
    trainer = runner.fold_trainer(0)
    trainer.model.train()
    loader = runner.loader(train_ids, train=True, fold=0)
    resident = next(iter(loader)).to(device)
    a, b = _alternating_rates(trainer, resident, loader, args.warmup, args.steps, args.rounds, device)
    c = _pipeline_rate(trainer, cold.loader(train_ids, train=True, fold=0), args.warmup, args.steps, device)
    # inference
    model = trainer.model.eval()
    eval_loader = runner.loader(test_ids, train=False, fold=0)
    eb = next(iter(eval_loader)).to(device)

    def forward():
        with torch.inference_mode(), autocast(trainer.amp):
            model(eb.x, eb.side)

    d_model = _rate(forward, args.warmup, args.steps, device) * len(eb)
    repeat = max(1, -(-args.infer_clips // len(test_ids)))
    clips_loader = runner.loader(test_ids * repeat, train=False, fold=0)
    evaluate_model(model, clips_loader, device=device, amp=trainer.amp)  # warm-up pass
    _sync(device)
    t0 = time.perf_counter()
    evaluation = evaluate_model(model, clips_loader, device=device, amp=trainer.amp)
    _sync(device)
    d_pipe = len(evaluation.labels) / (time.perf_counter() - t0)
    return {"combo": runner.combination, "batch": train_opts.batch_size, "eval_batch": eval_batch_size(train_opts, device),
            "frames": runner.input.signature.frames, "decode_clips_s": len(train_ids + test_ids) / decode_s,
            "a": a, "b": b, "c": c, "d_model": d_model, "d_pipe": d_pipe,
            "workers": resolve_workers(train_opts.num_workers, device=device), "device": device}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--combo", action="append", help=f"combination label (repeatable; default {DEFAULT_COMBO})")
    parser.add_argument("--dataset", default="synthetic")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int, help="training batch size (default: the run default)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per rate")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps before each rate")
    parser.add_argument("--rounds", type=int, default=4, help="(a) and (b) alternate in this many rounds")
    parser.add_argument("--infer-clips", type=int, default=256, help="clips of the pipeline inference pass")
    parser.add_argument("--train-opt", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--cache-dir", help="dataset and input caches (default $FERBENCH_CACHE or ~/.cache/ferbench)")
    args = parser.parse_args()
    from ferbench.paths import cache_path

    registry = Registry()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for combo in args.combo or [DEFAULT_COMBO]:
            rows.append(measure(combo, args, registry, cache_path(args.cache_dir), Path(tmp)))
    dev = rows[0]["device"]
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else platform.processor() or platform.machine()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{datetime.date.today()} | device {dev} ({name}) | torch {torch.__version__}, {torch.get_num_threads()} "
          f"threads, {os.cpu_count()} CPUs, load average {load:.1f} | loader workers {rows[0]['workers']} | "
          f"train opts: {' '.join(args.train_opt) or 'defaults'}")
    for r in rows:
        print(f"\n{r['combo']}  (T={r['frames']} frames, batch {r['batch']}, eval batch {r['eval_batch']})")
        print(f"  decode into the disk cache       {r['decode_clips_s']:9.1f} clips/s")
        print(f"  (a) train, model alone           {r['a']:9.2f} steps/s")
        print(f"  (b) train, pipeline, warm cache  {r['b']:9.2f} steps/s")
        print(f"  (c) train, pipeline, cold decode {r['c']:9.2f} steps/s")
        print(f"  (d) inference, model alone       {r['d_model']:9.1f} clips/s")
        print(f"  (d) inference, pipeline          {r['d_pipe']:9.1f} clips/s")
        print(f"  P1 = (b)/(a) = {r['b'] / r['a']:.3f}   P2 = pipeline/model inference = {r['d_pipe'] / r['d_model']:.3f}"
              f"   cold/warm = {r['c'] / r['b']:.3f}")


if __name__ == "__main__":
    main()

"""Peak memory of one training epoch on SynthFER and on a variant with k x the videos (goal: ratio <= 1.2).

Each variant is first generated (and its input cache filled) by a separate
process that is not measured; then a fresh process runs the same one-epoch
run (``ferbench run --epochs 1 --folds 0``, with the options given here) and
is measured. Two figures per variant:

* peak RSS of the main process (``ru_maxrss``), as ``/usr/bin/time`` reports it;
* peak PSS of the whole process tree (main process + loader workers), sampled
  every 0.1 s from ``/proc/<pid>/smaps_rollup`` (proportional set size: pages
  shared between the processes are counted once), Linux only.

    python benchmarks/memory.py [--scale 4] [--dataset synthetic] [--train-opt cache=none ...]
    python benchmarks/memory.py --measure -- run --dataset synthetic ...   # one ferbench command, measured as is
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def _children(pid: int) -> list[int]:
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out += [int(c) for c in fh.read().split()]
    except OSError:
        return out
    return out + [g for c in out for g in _children(c)]


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeSampler(threading.Thread):
    """Samples the summed PSS of a process and its descendants until stopped."""

    def __init__(self, pid: int, every: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid, self.every, self.peak_kb = pid, every, 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            total = sum(_pss_kb(p) for p in [self.pid, *_children(self.pid)])
            self.peak_kb = max(self.peak_kb, total)
            self._halt.wait(self.every)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def child(args: argparse.Namespace) -> None:
    """The measured (or preparing) process: one ferbench run, then its own peak RSS as JSON."""
    from ferbench.cli import main

    rc = main(args.run_args)
    import gc

    gc.collect()  # ends loader workers still held, so that their peak counts below
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest ended child (loader worker)
    print(json.dumps({"rc": rc, "maxrss_kb": peak, "worker_maxrss_kb": workers}))


def measure(run_args: list[str]) -> dict:
    """Run one ferbench command in a fresh process; its peak RSS and the tree's peak PSS (MB), and seconds."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--child", "--", *run_args], stdout=subprocess.PIPE, text=True)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    lines = []
    for line in proc.stdout:  # pass the run's own lines through
        print(line, end="", flush=True)
        lines.append(line)
    proc.wait()
    sampler.stop()
    if proc.returncode:
        sys.exit(f"the measured command failed (exit {proc.returncode})")
    report = json.loads(lines[-1])
    return {"maxrss_mb": report["maxrss_kb"] / 1024, "tree_pss_mb": sampler.peak_kb / 1024,
            "worker_rss_mb": report["worker_maxrss_kb"] / 1024, "seconds": time.perf_counter() - start}


def run_variant(label: str, dataset_opts: list[str], args: argparse.Namespace, cache: Path, out: Path) -> dict:
    run_args = ["run", "--dataset", args.dataset, "--epochs", "1", "--folds", "0", "--no-progress",
                "--cache-dir", str(cache), "--output-dir", str(out / label), "--force"]
    for opt in dataset_opts:
        run_args += ["--dataset-opt", opt]
    for opt in args.train_opt:
        run_args += ["--train-opt", opt]
    cmd = [sys.executable, __file__, "--child", "--", *run_args]
    # not measured: generates the videos and fills the input cache
    prep = subprocess.run(cmd, capture_output=True, text=True)
    if prep.returncode:
        sys.exit(f"{label}: preparing run failed:\n{prep.stderr[-2000:]}")
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    stdout, stderr = proc.communicate()
    sampler.stop()
    if proc.returncode:
        sys.exit(f"{label}: measured run failed:\n{stderr[-2000:]}")
    report = json.loads(stdout.strip().splitlines()[-1])
    samples = next((line for line in stdout.splitlines() if line.startswith("run ")), "")
    return {"label": label, "maxrss_mb": report["maxrss_kb"] / 1024, "tree_pss_mb": sampler.peak_kb / 1024,
            "seconds": time.perf_counter() - start, "run_line": samples}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="synthetic", help="a SynthFER preset")
    parser.add_argument("--scale", type=float, default=4.0, help="video multiplier of the big variant")
    parser.add_argument("--videos-per-class", type=float, default=1.0, help="videos_per_class of the base variant")
    parser.add_argument("--train-opt", action="append", default=[], metavar="KEY=VALUE", help="training option")
    parser.add_argument("--cache-dir", help="where the datasets and input caches go (default: a temporary folder)")
    parser.add_argument("--measure", action="store_true", help="measure the ferbench command given after --")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("run_args", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.measure:
        r = measure(args.run_args)
        print(f"ferbench {' '.join(args.run_args)}")
        print(f"peak RSS {r['maxrss_mb']:.1f} MB (main process), {r['worker_rss_mb']:.1f} MB (largest child process: loader workers, generator pool); "
              f"peak PSS {r['tree_pss_mb']:.1f} MB (process tree); {r['seconds']:.0f} s")
        return
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(args.cache_dir).expanduser() if args.cache_dir else Path(tmp) / "cache"
        base = run_variant("base", [f"videos_per_class={args.videos_per_class}"], args, cache, Path(tmp))
        big = run_variant(f"x{args.scale:g}", [f"videos_per_class={args.videos_per_class * args.scale}"], args, cache,
                          Path(tmp))
    opts = " ".join(f"--train-opt {o}" for o in args.train_opt) or "(default training options)"
    print(f"one epoch of fold 0, {args.dataset}, {opts}")
    for r in (base, big):
        print(f"{r['label']:>6}: peak RSS {r['maxrss_mb']:7.1f} MB (main process), peak PSS {r['tree_pss_mb']:7.1f} MB "
              f"(process tree), {r['seconds']:.0f} s | {r['run_line'][:110]}")
    print(f"ratio x{args.scale:g} / base: RSS {big['maxrss_mb'] / base['maxrss_mb']:.3f}, "
          f"PSS {big['tree_pss_mb'] / max(base['tree_pss_mb'], 1e-9):.3f} (goal <= 1.2)")


if __name__ == "__main__":
    main()

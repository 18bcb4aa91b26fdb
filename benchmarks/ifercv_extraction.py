"""IFERCV extraction throughput on one core: residual / mv extraction vs plain PyAV RGB decode (frames/s).

Usage: python benchmarks/ifercv_extraction.py [--preset synthetic] [--videos 20] [--repeats 3] [--cache-dir DIR]

Decodes the same SynthFER videos (H.264, I+P, GOP 8) single-threaded
(``thread_count=1``, ``torch/numpy`` one thread) and prints frames/s of:
plain decode to RGB arrays; ``extract`` with mv only; residual (+mv, as the
``residual`` input needs the vectors); accumulated residual; and the ratio to
plain decode (target: residual >= 0.5x). Timed with CPU time of the
process (everything runs on one thread), so other load on the machine does
not skew the ratios.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

from ferbench.data.compressed import decode_rgb, extract  # noqa: E402
from ferbench.datasets.synthetic import generate, preset_options  # noqa: E402


def rates(fns: dict, paths, frames, repeats) -> dict:
    """frames/s of each method from this process's CPU time (single-threaded, so one core;
    robust to other processes sharing the machine), best of ``repeats`` rounds, methods alternating."""
    best = {k: float("inf") for k in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.process_time()
            for p in paths:
                fn(p)
            best[name] = min(best[name], time.process_time() - t0)
    return {k: frames / v for k, v in best.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="synthetic")
    ap.add_argument("--videos", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--codec", default="h264")
    ap.add_argument("--cache-dir", default=os.path.expanduser(os.environ.get("FERBENCH_CACHE", "~/.cache/ferbench")))
    a = ap.parse_args()
    torch.set_num_threads(1)
    m = generate(preset_options(a.preset, codec=a.codec), a.preset if a.codec == "h264" else f"{a.preset}-{a.codec}", a.cache_dir)
    paths = [s.path for s in m.samples[: a.videos]]
    frames = sum(len(decode_rgb(p, threads=1)) for p in paths)
    fns = {
        "rgb decode (PyAV, rgb24)": lambda p: decode_rgb(p, threads=1),
        "mv maps": lambda p: extract(p, want_mv=True, want_residual=False, want_iframes=False, threads=1),
        "residual": lambda p: extract(p, want_mv=False, want_residual=True, want_iframes=False, threads=1),
        "residual + mv + iframes (what the input caches)": lambda p: extract(p, threads=1),
        "accumulated residual": lambda p: extract(p, want_mv=False, want_residual=False, accumulate=True, want_iframes=False, threads=1),
        "residual, refs=3": lambda p: extract(p, want_mv=False, want_residual=True, want_iframes=False, refs=3, threads=1),
    }
    measured = rates(fns, paths, frames, a.repeats)
    base = measured["rgb decode (PyAV, rgb24)"]
    rows = list(measured.items())
    opts = m.info["options"]
    print(f"{len(paths)} videos of {a.preset} ({opts['codec']}, {opts['size']}x{opts['size']}, {opts['frames']} frames, GOP {opts['gop']}), {frames} frames, one core")
    print("| extraction | frames/s | x rgb decode |\n|---|---|---|")
    for name, r in rows:
        print(f"| {name} | {r:.0f} | {r / base:.2f} |")


if __name__ == "__main__":
    main()

"""IFERCV extraction throughput on one core: residual / mv extraction vs plain PyAV RGB decode (frames/s).

Usage: python benchmarks/ifercv_extraction.py [--preset synthetic] [--videos 20] [--repeats 5] [--cache-dir DIR]

Decodes the same SynthFER videos (H.264, I+P, GOP 8) single-threaded
(``thread_count=1``, torch one thread) and prints frames/s of two RGB decode
baselines and of ``extract``:

* rgb decode, PyAV plain: ``frame.to_ndarray(format="rgb24")`` per frame (PyAV sets
  up a new swscale context for every frame; what ``ferbench.data.video.read_video`` does);
* rgb decode, shared swscale context: one ``VideoReformatter`` per video, the
  conversion ``extract`` uses (same pixels, about half the conversion cost);
* mv maps; residual of EVERY P-frame; what the ``residual`` input caches; the
  accumulated residual; residual with ``refs=3``.

The target (residual >= 0.5x the RGB-decode rate) is read against both
baselines. Timed with the process's CPU time, best of ``--repeats`` rounds
with the methods alternating, so other load on the machine does not skew the
ratios much.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

from ferbench.data.compressed import decode_rgb, extract  # noqa: E402
from ferbench.datasets.synthetic import generate, preset_options  # noqa: E402

PLAIN = "rgb decode, PyAV plain (to_ndarray rgb24)"
SHARED = "rgb decode, shared swscale context"


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
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--codec", default="h264")
    ap.add_argument("--cache-dir", default=os.path.expanduser(os.environ.get("FERBENCH_CACHE", "~/.cache/ferbench")))
    a = ap.parse_args()
    torch.set_num_threads(1)
    m = generate(preset_options(a.preset, codec=a.codec), a.preset if a.codec == "h264" else f"{a.preset}-{a.codec}", a.cache_dir)
    paths = [s.path for s in m.samples[: a.videos]]
    frames = sum(len(decode_rgb(p, threads=1)) for p in paths)
    p_frames = sum(len(extract(p, want_mv=False, want_residual=False, want_iframes=False, threads=1).p_index) for p in paths)
    fns = {
        PLAIN: lambda p: decode_rgb(p, threads=1, shared_context=False),
        SHARED: lambda p: decode_rgb(p, threads=1),
        "mv maps": lambda p: extract(p, want_mv=True, want_residual=False, want_iframes=False, threads=1),
        "residual (every P-frame)": lambda p: extract(p, want_mv=False, want_residual=True, want_iframes=False, threads=1),
        "residual + iframes (what the `residual` input caches)": lambda p: extract(p, want_mv=False, keep_frames=(-1,), threads=1),
        "accumulated residual": lambda p: extract(p, want_mv=False, want_residual=False, accumulate=True, want_iframes=False, threads=1),
        "residual, refs=3": lambda p: extract(p, want_mv=False, want_residual=True, want_iframes=False, refs=3, threads=1),
    }
    measured = rates(fns, paths, frames, a.repeats)
    opts = m.info["options"]
    print(f"{len(paths)} videos of {a.preset} ({opts['codec']}, {opts['size']}x{opts['size']}, {opts['frames']} frames, "
          f"GOP {opts['gop']}): {frames} frames, {p_frames} P-frames; one core, CPU time, best of {a.repeats}")
    print("| extraction | frames/s | x plain rgb decode | x shared-context rgb decode |\n|---|---|---|---|")
    for name, r in measured.items():
        print(f"| {name} | {r:.0f} | {r / measured[PLAIN]:.2f} | {r / measured[SHARED]:.2f} |")


if __name__ == "__main__":
    main()

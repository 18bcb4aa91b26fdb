"""SynthFER generation speed: frames rendered+encoded per second, 1 vs 2 workers.

Generates the default ``synthetic`` preset into a temporary folder with 2
workers (the total time is the preset's generation time), and a subset of
its subjects with 1 worker (``--full`` for all of them).

    python benchmarks/synth_generation.py [--subjects-single 8] [--full]
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time

from ferbench.datasets.synthetic.generate import generate
from ferbench.datasets.synthetic.options import SynthOptions


def timed(options: SynthOptions) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        manifest = generate(options, "synthetic", tmp)
        elapsed = time.perf_counter() - start
    return elapsed, sum(s.num_frames for s in manifest.samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects-single", type=int, default=8, help="subjects for the 1-worker run")
    parser.add_argument("--full", action="store_true", help="1-worker run on the full preset")
    args = parser.parse_args()
    base = SynthOptions()
    single = base if args.full else dataclasses.replace(base, subjects=args.subjects_single)
    t1, n1 = timed(dataclasses.replace(single, workers=1))
    print(f"1 worker : {n1:5d} frames ({single.subjects} subjects) in {t1:6.1f} s = {n1 / t1:6.1f} frames/s")
    t2, n2 = timed(dataclasses.replace(base, workers=2))
    print(f"2 workers: {n2:5d} frames ({base.subjects} subjects) in {t2:6.1f} s = {n2 / t2:6.1f} frames/s")
    print(f"default preset 'synthetic' ({base.subjects} subjects x {len(base.classes)} classes x "
          f"{base.frames} frames, {base.size}px): total generation time {t2:.1f} s with 2 workers, "
          f"speed-up 2 vs 1 worker {(n2 / t2) / (n1 / t1):.2f}x")


if __name__ == "__main__":
    main()

"""REL-GAN's pair augmentation per GAN step (3 x 64 views at 96 px): one rotation per image (the
implementation before issue 15) vs. one rotation call per angle (now), CPU and wall seconds, same output.

The relgan command's GAN stage augments x_s, x_t and x_tg of 64 pairs on every step
(crop, rotation, flip per image); this was its largest cost that is not the networks' arithmetic.

    python benchmarks/relgan_augment_speed.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import time

import torch

from ferbench_relgan.pairs import augment, augment_per_image, random_views


def timed(fn, x, views, repeats: int) -> tuple[float, float, list[torch.Tensor]]:
    fn(x, 96, views[0])  # warm-up
    t, c = time.perf_counter(), time.process_time()
    outs = [fn(x, 96, v) for _ in range(repeats) for v in views]
    return (time.process_time() - c) / repeats, (time.perf_counter() - t) / repeats, outs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    g = torch.Generator().manual_seed(0)
    x = torch.rand(64, 3, 96, 96, generator=g).half()
    views = [random_views(64, g) for _ in range(3)]
    before = timed(augment_per_image, x, views, args.repeats)
    after = timed(augment, x, views, args.repeats)
    same = all(torch.equal(a, b) for a, b in zip(before[2], after[2]))
    print(f"per GAN step (3 x 64 views at 96 px), mean of {args.repeats}, {torch.get_num_threads()} threads:")
    print(f"  per image (before): {before[0]:.3f} CPU s, {before[1]:.3f} wall s")
    print(f"  per angle (now):    {after[0]:.3f} CPU s, {after[1]:.3f} wall s   ({before[0] / after[0]:.1f}x less CPU; "
          f"outputs identical: {same})")


if __name__ == "__main__":
    main()

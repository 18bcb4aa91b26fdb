"""Cost of REL-GAN's pair augmentation per GAN step (3 x 64 views at 96 px), in CPU and wall seconds.

The relgan command's GAN stage augments x_s, x_t and x_tg of 64 pairs on every step
(crop, rotation, flip per image). ``--save FILE`` keeps the augmented tensors, so the
outputs of two versions of ``augment`` can be compared for equality.

    python benchmarks/relgan_augment_speed.py [--save out.pt]
"""

import argparse
import time

import torch

from ferbench_relgan.pairs import augment, random_views


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--save", help="write the augmented tensors of the first repeat here")
    args = parser.parse_args()
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(64, 3, 96, 96).half()
    views = [random_views(64, g) for _ in range(3)]
    augment(x, 96, views[0])  # warm-up
    t, c = time.perf_counter(), time.process_time()
    outs = [augment(x, 96, v) for _ in range(args.repeats) for v in views]
    cpu, wall = (time.process_time() - c) / args.repeats, (time.perf_counter() - t) / args.repeats
    print(f"augment, 3 x 64 views at 96 px: {cpu:.3f} CPU s, {wall:.3f} wall s per GAN step "
          f"(mean of {args.repeats}), {torch.get_num_threads()} threads")
    if args.save:
        torch.save(outs[:3], args.save)


if __name__ == "__main__":
    main()

"""Does the CPU-sized REL-GAN learn? Trains stage 1 alone and tracks it on held-out data.

Builds the fold-0 training set of a SynthFER configuration exactly as
``ferbench run`` does (through :class:`Runner`), trains the REL-GAN generator
with :func:`ferbench_relgan.training.train_gan`, and every ``--eval-every``
steps (and before training) reports:

* ``l1_*`` on fixed pairs without augmentation, in the input's normalised pixel
  space: ``fake`` = L1(G(x_s, x_t), x_tg), ``copy_t`` = L1(x_t, x_tg) (copy the
  target face), ``copy_s`` = L1(x_s, x_tg). ``train`` pairs come from the
  fold's training frames (seen identities), ``heldout`` pairs (with
  ``identity_bias`` > 0) from the training subjects' scored-only uniform videos
  (seen identities, unseen videos), ``test`` pairs from the fold's test
  subjects (identities neither G nor D has seen). x_t is the target subject's
  neutral apex frame when it has one, as in the reenactment grid.
* linear probes of f(e) = G_es(x) on the test subjects' apex frames
  (``relgan_synthetic.probes``): ``expr`` (fitted on half of the subjects,
  scored on the others; chance 1/7) and ``ident`` (fitted on half of each
  subject's videos, scored on the rest; chance 1/subjects).

Usage (one thread, as measured in the README)::

    python examples/studies/relgan_learning.py --steps 2000 --size 32 --base 8 --threads 1 --eval-every 250 \\
        --gan-opt lr=5e-4 --gan-opt pixel_warmup=500 --out plugins/ferbench_relgan/results/learning/run.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from types import SimpleNamespace

import torch

from ferbench.engine.config import make_config
from ferbench.engine.runner import Runner
from ferbench.options import build_options
from ferbench.plugins import Registry
from ferbench_relgan.networks import Generator, fit_to
from ferbench_relgan.options import RelGANOptions
from ferbench_relgan.pairs import FrameBank
from ferbench_relgan.training import train_gan
from relgan_common import CLEAN, DATASET, DATASET_OPTS, encode, fixed_pairs, l1_report, probes


@torch.no_grad()
def evaluate(gen: Generator, banks: dict[str, FrameBank], pairs: dict, size: int) -> dict:
    out = {f"l1_{k}": l1_report(gen, banks[k], pairs[k], size) for k in pairs}
    test = banks["probe"]
    p = probes(encode(lambda x: gen.g_es(fit_to(x, size)), test.frames), test)
    out["expr_probe"], out["ident_probe"] = p["expression_probe_acc"], p["identity_probe_acc"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--base", type=int, default=8)
    ap.add_argument("--gan-batch", type=int, default=16)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--frames", type=int, default=2, help="input frames per video (the apex window is within them)")
    ap.add_argument("--dataset-opt", action="append", default=[], help="k=v over the benchmark's SynthFER options")
    ap.add_argument("--gan-opt", action="append", default=[], help="k=v RelGANOptions over the CPU-sized ones")
    ap.add_argument("--cache", default="/tmp/relgan_cache")
    ap.add_argument("--out", default="")
    ap.add_argument("--holdout-videos", action="store_true",
                    help="keep every second training video per (subject, class) out of GAN training, for held-out pairs")
    ap.add_argument("--save", default="", help="write the trained generator's state_dict here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dataset_opts = {**DATASET_OPTS, **CLEAN, **dict(kv.split("=", 1) for kv in args.dataset_opt)}
    gan_opts = {"base_channels": str(args.base), "image_size": str(args.size), "steps": str(args.steps),
                "batch_size": str(args.gan_batch), "log_every": str(args.eval_every),
                **dict(kv.split("=", 1) for kv in args.gan_opt)}
    o = build_options(RelGANOptions, gan_opts)
    cfg = make_config({"dataset": DATASET, "backbone": "relgan-encoder", "aggregator": "relgan-mlp", "disentangler": "relgan"},
                      {"dataset": dataset_opts, "input": {"frames": str(args.frames), "size": str(args.size)}},
                      {"device": "cpu"}, seed=args.seed, folds=(0,), cache_dir=args.cache, output_dir="/tmp/relgan_learning")
    runner = Runner(cfg, Registry(), progress=False, log=print)
    fold = runner.folds[0]
    train_ids, heldout = fold.train, ()
    if args.holdout_videos:  # every second video of each (subject, class) stays out of GAN training
        samples, count, keep, out = runner.manifest.by_id(), {}, [], []
        for i in fold.train:
            key = (samples[i].subject, samples[i].label)
            count[key] = count.get(key, 0) + 1
            (keep if count[key] % 2 else out).append(i)
        train_ids, heldout = tuple(keep), tuple(out)
    train_ds = runner.dataset(train_ids, train=False)
    banks = {"train": FrameBank.from_dataset(train_ds, o.apex_frames),
             "test": FrameBank.from_dataset(runner.dataset(fold.test, train=False), 1),
             "probe": FrameBank.from_dataset(runner.dataset(fold.test, train=False), 3)}
    # identity_bias: the training subjects' uniform videos are scored-only, never trained on
    seen = {s.subject for s in train_ds.samples}
    heldout = heldout or tuple(s.id for s in runner.manifest.samples if s.subject in seen and s.test_only)
    if heldout:
        banks["heldout"] = FrameBank.from_dataset(runner.dataset(heldout, train=False), 1)
    pairs = {k: fixed_pairs(b, 96, 7) for k, b in banks.items() if k != "probe"}
    torch.manual_seed(args.seed)
    gen = Generator(3, o.base_channels, o.expression_dim, o.identity_dim, o.image_size).eval()
    history = [{"step": 0, **evaluate(gen, banks, pairs, o.image_size)}]
    print(json.dumps(history[-1]), flush=True)
    t0 = time.time()

    def monitor(step: int, g: Generator) -> None:
        history.append({"step": step, "wall_s": time.time() - t0, **evaluate(g, banks, pairs, o.image_size)})
        print(json.dumps(history[-1]), flush=True)

    logs: list[str] = []

    def log(line: str) -> None:
        logs.append(line)
        print(line, flush=True)

    ctx = SimpleNamespace(train_loader=SimpleNamespace(dataset=train_ds), device=torch.device("cpu"), seed=args.seed,
                          log=log, fold=0, cache_dir=None, model=None)
    train_gan(gen, ctx, o, len(runner.manifest.classes), monitor=monitor)
    wall = time.time() - t0
    print(f"wall {wall:.0f}s, {wall / max(o.steps, 1):.2f} s/step")
    if args.save:
        torch.save(gen.state_dict(), args.save)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"dataset": DATASET, "dataset_opts": dataset_opts, "gan": gan_opts, "seed": args.seed,
                                   "frames": args.frames, "wall_s": wall, "history": history, "log": logs}, indent=1))


if __name__ == "__main__":
    main()

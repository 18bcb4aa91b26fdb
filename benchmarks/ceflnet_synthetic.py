"""CEFLNet on SynthFER: eian vs mean vs lstm, emotion-rich clip localisation (Table 7), Figure 6.

For each aggregator and seed, trains ``rgb(sampling=clips) + <backbone> + <aggregator>``
on one fold of a SynthFER preset through the engine (``Runner``), and reports
the fold's WAR/UAR. For ``eian`` it then reloads the scored checkpoint, runs
the test fold and measures how often the emotion-rich clip P_e (Eq. 6, for the
predicted class) is the clip that holds the annotated apex frame: the ground
truth clip is the one whose evaluation-sampled source frames come closest to
``Sample.apex`` (``ferbench.data.clip_sampling.clip_of_frame``). "+-1" also
accepts a neighbouring clip (consecutive clips share 5 of their 15 frames).
With ``--plot DIR`` it writes the emotional activation map (Figure 6) of a few
test videos per seed.

All aggregators see the same input (7 clips x 5 frames, the paper's sampling)
and the same training recipe, so only the aggregation differs.

Example (CPU, small frames; the numbers in the plugin README)::

    python benchmarks/ceflnet_synthetic.py --dataset synthetic-afew --aggregators eian,mean,lstm \\
        --seeds 0,1,2 --epochs 8 --size 64 --out /tmp/ceflnet-afew --plot /tmp/ceflnet-afew/maps
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from ferbench.data.clip_sampling import clip_indices, clip_of_frame
from ferbench.engine.assemble import assemble
from ferbench.engine.config import make_config
from ferbench.engine.runner import Runner
from ferbench.engine.trainer import make_loader
from ferbench.plugins import Registry
from ferbench_ceflnet.plots import plot_activation_map

PAPER_TABLE7 = {"bu3dfe": 55.83, "mmi": 67.57, "afew": 45.00, "dfew": 47.65}


def _config(args, aggregator: str, seed: int):
    return make_config(
        {"dataset": args.dataset, "input": "rgb", "backbone": args.backbone, "aggregator": aggregator},
        {
            "dataset": {"size": args.data_size, **dict(kv.split("=", 1) for kv in args.dataset_opt)},
            "input": {"sampling": "clips", "size": args.size, "hflip": "true", "clip_frames": args.clip_frames},
            "aggregator": {"clips": 7} if aggregator == "eian" else {},
        },
        {"epochs": args.epochs, "batch_size": args.batch_size, "optimizer": "adam", "lr": args.lr,
         "weight_decay": 1e-4, "schedule": "cosine", "warmup_epochs": 1},
        seed=seed, folds=(args.fold,), cache_dir=args.cache_dir, output_dir=args.out,
    )


@torch.no_grad()
def localisation(runner: Runner, fold: int, plot_dir: Path | None, seed: int, n_plots: int) -> dict:
    """Load the fold's last checkpoint, evaluate the test fold, compare P_e with the apex clip."""
    parts = assemble(runner.resolved, runner.input.signature, runner.manifest)
    model = parts.model
    state = torch.load(runner.run_dir / f"fold{fold}" / "last.pt", map_location="cpu", weights_only=True)
    model.load_state_dict(state["model"])
    model.eval()
    clip_opts = runner.input.clips
    ids = runner.folds[fold].test
    loader = make_loader(runner._dataset(ids, train=False), runner.config.train, train=False, seed=0,
                         num_classes=runner.manifest.num_classes)
    rows = []
    for batch in loader:
        out = model(batch.x, batch.side)
        a = out.extras["clip_scores"]  # [B, n, K]
        pred = out.logits.argmax(1)
        for i in range(len(batch)):
            sample = runner.manifest.samples[int(batch.index[i])]
            frames = runner.cache.get(sample)["frames"]
            idx = clip_indices(frames.shape[0], clip_opts, train=False, generator=torch.Generator())
            truth = clip_of_frame(idx, clip_opts.clips, sample.apex)
            in_window = int(idx.min()) <= sample.apex <= int(idx.max())
            p_pred = int(out.extras["emotion_clip"][i])
            p_label = int(a[i, :, int(batch.label[i])].argmax())
            rows.append((truth, p_pred, p_label, in_window, int(pred[i]) == int(batch.label[i])))
            if plot_dir is not None and len(rows) <= n_plots:
                thumbs = frames[idx.reshape(clip_opts.clips, -1)[:, clip_opts.clip_frames // 2]].permute(0, 2, 3, 1).numpy()
                plot_activation_map(
                    a[i].numpy(), plot_dir / f"seed{seed}-{sample.id}.png", classes=runner.manifest.classes,
                    shown_class=int(pred[i]), selected_clip=p_pred, thumbnails=thumbs, apex_clip=truth,
                    title=f"{sample.id}: label {runner.manifest.classes[sample.label]}, predicted "
                          f"{runner.manifest.classes[int(pred[i])]}; P_e = clip {p_pred + 1} (orange), apex clip {truth + 1} (green)",
                )
    r = np.array(rows)
    truth, p_pred, p_label = r[:, 0], r[:, 1], r[:, 2]
    counts = np.bincount(truth, minlength=clip_opts.clips)
    return {
        "n": len(rows),
        "loc_acc": 100 * float((p_pred == truth).mean()),
        "loc_acc_pm1": 100 * float((np.abs(p_pred - truth) <= 1).mean()),
        "loc_acc_label_class": 100 * float((p_label == truth).mean()),
        "loc_acc_correctly_classified": 100 * float((p_pred == truth)[r[:, 4] == 1].mean()) if r[:, 4].any() else float("nan"),
        "apex_in_window": 100 * float(r[:, 3].mean()),
        "chance_majority": 100 * float(counts.max() / counts.sum()),
        "chance_uniform": 100 / clip_opts.clips,
        "pred_clip_histogram": np.bincount(p_pred, minlength=clip_opts.clips).tolist(),
        "apex_clip_histogram": counts.tolist(),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="synthetic-afew")
    p.add_argument("--dataset-opt", action="append", default=[], metavar="KEY=VALUE", help="SynthFER option (repeatable)")
    p.add_argument("--aggregators", default="eian,mean,lstm")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--size", type=int, default=64, help="input frame side (rgb resize), pixels")
    p.add_argument("--data-size", type=int, default=64, help="SynthFER frame side (generation), pixels")
    p.add_argument("--backbone", default="small-cnn")
    p.add_argument("--clip-frames", type=int, default=5, help="frames per clip (7 clips)")
    p.add_argument("--fold", type=int, default=0)
    p.add_argument("--out", default="/tmp/ceflnet-bench")
    p.add_argument("--cache-dir", default="~/.cache/ferbench")
    p.add_argument("--plot", default="", help="folder for Figure-6 activation maps (eian)")
    p.add_argument("--plots-per-seed", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    registry = Registry()
    results = []
    for agg in args.aggregators.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            runner = Runner(_config(args, agg, seed), registry, progress=False, log=lambda s: None)
            fold = runner.run().folds[0]
            row = {"aggregator": agg, "seed": seed, "war": fold.metrics["war"], "uar": fold.metrics["uar"]}
            if agg == "eian":
                row.update(localisation(runner, args.fold, Path(args.plot) if args.plot else None, seed, args.plots_per_seed))
            results.append(row)
            print(json.dumps(row), flush=True)
    print(f"\n{args.dataset}, fold {args.fold}, {args.backbone} at {args.size}x{args.size}, 7 clips x {args.clip_frames} frames, "
          f"{args.epochs} epochs, adam lr {args.lr}, batch {args.batch_size}")
    print("| aggregator | seeds | WAR % (mean ± std) | UAR % (mean ± std) |\n|---|---|---|---|")
    for agg in args.aggregators.split(","):
        rs = [r for r in results if r["aggregator"] == agg]
        war, uar = np.array([r["war"] for r in rs]), np.array([r["uar"] for r in rs])
        print(f"| {agg} | {len(rs)} | {war.mean():.2f} ± {war.std(ddof=1) if len(rs) > 1 else 0:.2f} | "
              f"{uar.mean():.2f} ± {uar.std(ddof=1) if len(rs) > 1 else 0:.2f} |")
    loc = [r for r in results if "loc_acc" in r]
    if loc:
        keys = ("loc_acc", "loc_acc_pm1", "loc_acc_label_class", "apex_in_window", "chance_majority", "chance_uniform")
        print("\n| localisation (eian) | " + " | ".join(keys) + " |\n|---|" + "---|" * len(keys))
        print("| mean over seeds | " + " | ".join(f"{np.mean([r[k] for r in loc]):.1f}" for k in keys) + " |")
        print(f"paper Table 7 (real datasets): {PAPER_TABLE7}")


if __name__ == "__main__":
    main()

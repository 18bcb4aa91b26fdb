"""CEFLNet on SynthFER: eian vs mean vs lstm, emotion-rich clip localisation (Table 7), Figure 6.

For each aggregator and seed, trains ``<input> + <backbone> + <aggregator>`` on
the chosen folds of a SynthFER preset through the engine (``Runner``), and
reports WAR/UAR (mean over the folds). The input is ``rgb`` with the paper's
clip sampling (7 clips x ``--clip-frames``) by default. It can also be another
frame input with its own sampler (``--input residual --input-opt frames=14``,
the ifercv plugin's P-frame residuals, T frames that eian splits into 7 clips).
For ``eian`` it then reloads each fold's scored checkpoint, runs the test fold
and measures how often the emotion-rich clip P_e (Eq. 6, for the predicted
class) is the clip that holds the annotated apex frame, pooled over the folds.
The ground-truth clip is the one whose evaluation-sampled source frames come
closest to ``Sample.apex`` (``ferbench.data.clip_sampling.clip_of_frame``). For
``residual`` those frames are the evaluation P-frames mapped to source frames.
"+-1" also accepts a neighbouring clip. With ``--plot DIR`` (rgb input) it
writes the emotional activation map (Figure 6) of a few test videos per fold.

All aggregators see the same input and the same training recipe, so only the
aggregation differs (``--aggregator-opt AGG:KEY=VALUE`` sets one arm's options).

Example (the numbers in the plugin README; about 2 CPU minutes per arm)::

    OMP_NUM_THREADS=1 python benchmarks/ceflnet_synthetic.py --dataset synthetic --data-size 0 \\
        --input residual --input-opt frames=14 --backbone ifercv-cnn --aggregators eian,mean,lstm \\
        --aggregator-opt lstm:hidden=512 --seeds 0 --folds 0,1,2,3,4 --epochs 10 --batch-size 16 \\
        --optimizer adam --lr 1e-3 --out /tmp/ceflnet-synth
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from ferbench.data.clip_sampling import clip_indices, clip_of_frame
from ferbench.data.frame_sampling import segment_indices
from ferbench.engine.assemble import assemble
from ferbench.engine.config import make_config
from ferbench.engine.runner import Runner
from ferbench.engine.trainer import make_loader
from ferbench.plugins import Registry
from ferbench_ceflnet.plots import plot_activation_map

PAPER_TABLE7 = {"bu3dfe": 55.83, "mmi": 67.57, "afew": 45.00, "dfew": 47.65}


def _pairs(items: list[str]) -> dict[str, str]:
    return dict(kv.split("=", 1) for kv in items)


def _config(args, aggregator: str, seed: int):
    """The run config of one arm: only the aggregator (and its ``--aggregator-opt``) differs between arms."""
    dataset_opts = _pairs(args.dataset_opt)
    if args.data_size:
        dataset_opts["size"] = args.data_size
    if args.input == "rgb":
        input_opts = {"sampling": "clips", "size": args.size, "hflip": "true", "clip_frames": args.clip_frames}
    else:  # a frame input with its own sampler (e.g. the ifercv plugin's ``residual``): T frames, eian splits them into 7 clips
        input_opts = {"size": args.size}
    input_opts.update(_pairs(args.input_opt))
    agg_opts = {"clips": 7} if aggregator == "eian" else {}
    agg_opts.update(_pairs([kv.split(":", 1)[1] for kv in args.aggregator_opt if kv.split(":", 1)[0] == aggregator]))
    train = {"epochs": args.epochs, "batch_size": args.batch_size, "optimizer": args.optimizer, "lr": args.lr,
             "weight_decay": args.weight_decay, "schedule": args.schedule}
    if args.schedule == "cosine":
        train["warmup_epochs"] = args.warmup_epochs
    return make_config(
        {"dataset": args.dataset, "input": args.input, "backbone": args.backbone, "aggregator": aggregator},
        {"dataset": dataset_opts, "input": input_opts, "aggregator": agg_opts},
        train, seed=seed, folds=tuple(int(f) for f in args.folds.split(",")),
        cache_dir=args.cache_dir, output_dir=args.out,
    )


def _eval_source_frames(runner: Runner, sample) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Source-frame index of every evaluation frame [T] (clip-major for ``sampling=clips``), and rgb frames or None.

    ``rgb``: the clip sampler's evaluation indices. Inputs that cache P-frame maps
    (``residual``): the evaluation segment positions over the P-frames, mapped to
    source frames through the cached ``p_index``.
    """
    loaded = runner.cache.get(sample)
    if "frames" in loaded:
        frames = loaded["frames"]
        return clip_indices(frames.shape[0], runner.input.clips, train=False, generator=torch.Generator()), frames
    pos = segment_indices(loaded["p_index"].shape[0], runner.input.options.frames, train=False, generator=torch.Generator())
    return loaded["p_index"][pos].long(), None


@torch.no_grad()
def localisation(runner: Runner, fold: int, plot_dir: Path | None, seed: int, n_plots: int) -> list[tuple]:
    """Load the fold's last checkpoint, evaluate the test fold; one row per test video.

    Row: (apex clip, P_e for the predicted class, P_e for the labelled class,
    apex inside the sampled span, correctly classified). With an input that is
    not clip-sampled, the T evaluation frames are filled to the aggregator's
    clips exactly as ``eian`` fills them (nearest index in temporal order).
    """
    parts = assemble(runner.resolved, runner.input.signature, runner.manifest)
    model = parts.model
    if getattr(model.aggregator, "eian", None) is None:  # eian=false (Table 6 ablation): no clip scores, nothing to localise
        return []
    state = torch.load(runner.run_dir / f"fold{fold}" / "last.pt", map_location="cpu", weights_only=True)
    model.load_state_dict(state["model"])
    model.eval()
    n_clips = model.aggregator.options.clips
    ids = runner.folds[fold].test
    loader = make_loader(runner.dataset(ids, train=False), runner.config.train, train=False, seed=0,
                         num_classes=runner.manifest.num_classes)
    rows = []
    for batch in loader:
        out = model(batch.x, batch.side)
        a = out.extras["clip_scores"]  # [B, n, K]
        pred = out.logits.argmax(1)
        for i in range(len(batch)):
            sample = runner.manifest.samples[int(batch.index[i])]
            idx, frames = _eval_source_frames(runner, sample)
            if idx.numel() % n_clips:  # eian's fill: ceil(T / n) frames per clip, nearest index
                fill = -(-idx.numel() // n_clips) * n_clips
                idx = idx[torch.linspace(0, idx.numel() - 1, fill).round().long()]
            truth = clip_of_frame(idx, n_clips, sample.apex)
            in_window = int(idx.min()) <= sample.apex <= int(idx.max())
            p_pred = int(out.extras["emotion_clip"][i])
            p_label = int(a[i, :, int(batch.label[i])].argmax())
            rows.append((truth, p_pred, p_label, in_window, int(pred[i]) == int(batch.label[i])))
            if plot_dir is not None and frames is not None and len(rows) <= n_plots:
                per_clip = idx.reshape(n_clips, -1)
                thumbs = frames[per_clip[:, per_clip.shape[1] // 2]].permute(0, 2, 3, 1).numpy()
                plot_activation_map(
                    a[i].numpy(), plot_dir / f"seed{seed}-{sample.id}.png", classes=runner.manifest.classes,
                    shown_class=int(pred[i]), selected_clip=p_pred, thumbnails=thumbs, apex_clip=truth,
                    title=f"{sample.id}: label {runner.manifest.classes[sample.label]}, predicted "
                          f"{runner.manifest.classes[int(pred[i])]}; P_e = clip {p_pred + 1} (orange), apex clip {truth + 1} (green)",
                )
    return rows


def localisation_summary(rows: list[tuple], n_clips: int = 7) -> dict:
    """Localisation figures (%) over test videos (rows of :func:`localisation`, pooled over folds)."""
    r = np.array(rows)
    truth, p_pred, p_label = r[:, 0], r[:, 1], r[:, 2]
    counts = np.bincount(truth, minlength=n_clips)
    return {
        "n": len(rows),
        "loc_acc": 100 * float((p_pred == truth).mean()),
        "loc_acc_pm1": 100 * float((np.abs(p_pred - truth) <= 1).mean()),
        "loc_acc_label_class": 100 * float((p_label == truth).mean()),
        "loc_acc_correctly_classified": 100 * float((p_pred == truth)[r[:, 4] == 1].mean()) if r[:, 4].any() else float("nan"),
        "apex_in_window": 100 * float(r[:, 3].mean()),
        "chance_majority": 100 * float(counts.max() / counts.sum()),
        "chance_uniform": 100 / n_clips,
        "pred_clip_histogram": np.bincount(p_pred, minlength=n_clips).tolist(),
        "apex_clip_histogram": counts.tolist(),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="synthetic-afew")
    p.add_argument("--dataset-opt", action="append", default=[], metavar="KEY=VALUE", help="SynthFER option (repeatable)")
    p.add_argument("--input", default="rgb", help="rgb (with sampling=clips) or a frame input with its own sampler, e.g. residual")
    p.add_argument("--input-opt", action="append", default=[], metavar="KEY=VALUE", help="input option (repeatable)")
    p.add_argument("--aggregators", default="eian,mean,lstm")
    p.add_argument("--aggregator-opt", action="append", default=[], metavar="AGG:KEY=VALUE",
                   help="option of one arm's aggregator, e.g. lstm:hidden=512 (repeatable)")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--optimizer", default="adam")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--schedule", default="cosine")
    p.add_argument("--warmup-epochs", type=int, default=1)
    p.add_argument("--size", type=int, default=64, help="input frame side (rgb resize), pixels")
    p.add_argument("--data-size", type=int, default=64, help="SynthFER frame side (generation), pixels; 0 = the preset's")
    p.add_argument("--backbone", default="small-cnn")
    p.add_argument("--clip-frames", type=int, default=5, help="frames per clip (7 clips; rgb input)")
    p.add_argument("--folds", "--fold", default="0", help="comma-separated folds")
    p.add_argument("--out", default="/tmp/ceflnet-bench")
    p.add_argument("--cache-dir", default="~/.cache/ferbench")
    p.add_argument("--plot", default="", help="folder for Figure-6 activation maps (eian, rgb input)")
    p.add_argument("--plots-per-seed", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    registry = Registry()
    results = []
    for agg in args.aggregators.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            runner = Runner(_config(args, agg, seed), registry, progress=False, log=lambda s: None)
            folds = runner.run().folds
            row = {"aggregator": agg, "seed": seed, "folds": [f.fold for f in folds],
                   "war": float(np.mean([f.metrics["war"] for f in folds])),
                   "uar": float(np.mean([f.metrics["uar"] for f in folds])),
                   "war_per_fold": [round(f.metrics["war"], 2) for f in folds]}
            if agg == "eian":
                rows = []
                for f in folds:
                    plot = Path(args.plot) / f"fold{f.fold}" if args.plot else None
                    rows += localisation(runner, f.fold, plot, seed, args.plots_per_seed)
                if rows:
                    row.update(localisation_summary(rows))
            results.append(row)
            print(json.dumps(row), flush=True)
    print(f"\n{args.dataset} {args.dataset_opt}, folds {args.folds}, {args.input} {args.input_opt} + {args.backbone}, "
          f"size {args.size}, {args.epochs} epochs, {args.optimizer} lr {args.lr} wd {args.weight_decay} "
          f"{args.schedule}, batch {args.batch_size}, aggregator opts {args.aggregator_opt}")
    print("| aggregator | seeds | WAR % per seed | WAR % (mean ± std) | UAR % (mean ± std) |\n|---|---|---|---|---|")
    for agg in args.aggregators.split(","):
        rs = [r for r in results if r["aggregator"] == agg]
        war, uar = np.array([r["war"] for r in rs]), np.array([r["uar"] for r in rs])
        print(f"| {agg} | {len(rs)} | {' / '.join(f'{w:.1f}' for w in war)} | "
              f"{war.mean():.2f} ± {war.std(ddof=1) if len(rs) > 1 else 0:.2f} | "
              f"{uar.mean():.2f} ± {uar.std(ddof=1) if len(rs) > 1 else 0:.2f} |")
    loc = [r for r in results if "loc_acc" in r]
    if loc:
        keys = ("loc_acc", "loc_acc_pm1", "loc_acc_label_class", "loc_acc_correctly_classified",
                "apex_in_window", "chance_majority", "chance_uniform")
        print("\n| localisation (eian) | " + " | ".join(keys) + " |\n|---|" + "---|" * len(keys))
        for r in loc:
            print(f"| seed {r['seed']} | " + " | ".join(f"{r[k]:.1f}" for k in keys) + " |")
        print("| mean over seeds | " + " | ".join(f"{np.mean([r[k] for r in loc]):.1f}" for k in keys) + " |")
        print(f"paper Table 7 (real datasets): {PAPER_TABLE7}")


if __name__ == "__main__":
    main()

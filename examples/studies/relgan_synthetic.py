"""REL-GAN on SynthFER, CPU-sized: identity-biased accuracy, identity leakage, reenactment grid.

For each seed, two runs on fold 0 of SynthFER (``relgan_common``: 15
subjects, clean CK+-like faces, ``identity_bias=0.8``): REL-GAN
(``relgan-encoder + relgan-mlp + relgan``) and the paper's CNN baseline
(``relgan-cnn + mean + none``, the G_es architecture plus one FC layer
trained end to end). Then:

* did the generator learn? L1 (normalised pixel space) of G(x_s, x_t) to the
  exact SynthFER ground truth x_tg next to copying x_t / x_s, on fixed pairs of
  the GAN's training frames (``train``), of the training subjects' scored-only
  uniform videos (``heldout``: seen people, unseen videos, every expression)
  and of the test subjects (``test``: unseen people); and transfer retrieval
  (``relgan_common.transfer_retrieval``: is the reenacted face nearest the
  target person's frame of the source expression among that person's frames of
  all expressions; chance 1/7), which scores the expression alone;
* linear probes on per-frame features of the last three frames of scored videos
  (never trained on): f(e) of the frozen G_es, the baseline's 30-d
  layer, and a randomly initialised G_es (control). Identity (lower = less
  leakage; fitted on half of each subject's videos, scored on the others) on
  the same frames, whose background is the subject's (scene per subject, so
  almost any feature finds the subject), on a twin rendering of the same
  test subjects and videos with a scene per video (``scene=video``: the
  face tells who it is), and on the twin rendering of all 15 subjects' scored
  videos (the training subjects' people were seen, these videos were not).
  Expression: leave one subject out;
* (first seed) reenactment grids (Figure 3): rows = source expressions of one
  subject, columns = target identities, for the test subjects and for the
  training subjects' held-out videos.

Usage (one process per seed, one thread, as measured in the README)::

    python examples/studies/relgan_synthetic.py --seeds 0 --threads 1 --results /tmp/relgan_s0
    python examples/studies/relgan_synthetic.py --merge /tmp/relgan_s0/summary.json,... \\
        --results plugins/ferbench_relgan/results/synthetic_32px

Writes ``summary.json`` and ``reenactment_grid_*.png`` into ``--results``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from ferbench.engine.assemble import assemble
from ferbench.engine.config import make_config
from ferbench.engine.runner import Runner
from ferbench.plugins import Registry
from ferbench_relgan.networks import Encoder, fit_to
from ferbench_relgan.pairs import FrameBank
from relgan_common import (CLEAN, DATASET, DATASET_OPTS, NEUTRAL, encode, fixed_pairs, l1_report, probes, to_image,
                           transfer_retrieval)

RESULTS = Path(__file__).resolve().parents[2] / "plugins" / "ferbench_relgan" / "results" / "synthetic_32px"
#: CPU-sized (2 shared cores): 32 px faces, all 8 frames (the GAN bank takes the last three, as the paper)
INPUT = {"frames": "8", "size": "32"}
#: G_es / G_et / G_de at a quarter of the paper's width (16, 32, 64, 128, 128)
ARCH = {"base_channels": "16", "image_size": "32"}
TRAIN = {"epochs": 8, "batch_size": 16, "optimizer": "adam", "lr": 1e-3, "device": "cpu"}


def run(tag: str, comps: dict[str, str], opts: dict[str, dict[str, str]], seed: int, args) -> tuple[Runner, object]:
    cfg = make_config({"dataset": DATASET, **comps}, {"dataset": {**DATASET_OPTS, **CLEAN}, "input": INPUT, **opts}, TRAIN,
                      seed=seed, folds=(0,), cache_dir=args.cache, output_dir=f"{args.out}/{tag}")
    lines: list[str] = []

    def log(line: str) -> None:
        lines.append(line)
        print(f"  [{tag} s{seed}] {line}", flush=True)

    runner = Runner(cfg, Registry(), progress=False, log=log)
    result = runner.run()
    runner.gan_log = [x for x in lines if x.startswith("relgan")]
    return runner, result


def trained_model(runner: Runner) -> torch.nn.Module:
    model = assemble(runner.resolved, runner.input.signature, runner.manifest).model
    state = torch.load(runner.run_dir / "fold0" / "last.pt", map_location="cpu", weights_only=True)["model"]
    model.load_state_dict(state)
    return model.eval()


def generator_of(runner: Runner):
    """The fold-0 REL-GAN generator from the engine's stage cache."""
    parts = assemble(runner.resolved, runner.input.signature, runner.manifest)
    stage = parts.disentangler.stages()[0]
    path = runner.stage_cache_path("disentangler", stage, 0)
    stage.module.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return stage.module.eval()


def banks(runner: Runner, apex_frames: int) -> dict[str, FrameBank]:
    """Frame banks of fold 0: ``train`` (the GAN's training frames: last three of each training
    video), ``heldout`` (the training subjects' scored-only videos), ``test`` (the test subjects'
    videos); the last two with ``apex_frames`` frames nearest the apex per video."""
    fold = runner.folds[0]
    train = runner.dataset(fold.train, train=False)
    seen = {s.subject for s in train.samples}
    heldout = tuple(s.id for s in runner.manifest.samples if s.subject in seen and s.test_only)
    out = {"train": FrameBank.from_dataset(train, 3),
           "test": FrameBank.from_dataset(runner.dataset(fold.test, train=False), apex_frames)}
    if heldout:
        out["heldout"] = FrameBank.from_dataset(runner.dataset(heldout, train=False), apex_frames)
    return out


def twin_banks(runner: Runner, args) -> dict[str, FrameBank]:
    """The dataset's scored videos (uniform views) rendered again with a scene (background, light) per
    video: ``test`` = the fold's test subjects, ``all`` = every subject (the training subjects' videos
    here were never trained on, their people were)."""
    cfg = make_config({"dataset": DATASET, "backbone": "relgan-cnn", "aggregator": "mean"},
                      {"dataset": {**DATASET_OPTS, **CLEAN, "scene": "video"}, "input": INPUT}, TRAIN,
                      seed=runner.config.seed, folds=(0,), cache_dir=args.cache, output_dir=f"{args.out}/twin")
    twin = Runner(cfg, Registry(), progress=False, log=lambda s: None)
    test_subjects = {runner.manifest.by_id()[i].subject for i in runner.folds[0].test}
    scored = [s for s in twin.manifest.samples if not s.train_only]
    return {name: FrameBank.from_dataset(twin.dataset(tuple(s.id for s in pick), train=False), 3)
            for name, pick in (("test", [s for s in scored if s.subject in test_subjects]), ("all", scored))}


@torch.no_grad()
def grid(gen, bank: FrameBank, classes: list[str], path: Path, title: str, targets: int = 5) -> dict[str, float]:
    """Reenactment grid PNG (rows: source expressions of the bank's first subject, columns: the next
    ``targets`` subjects' neutral frames) and the cells' L1 to the exact ground truth."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frames = fit_to(bank.frames.float(), gen.image_size)
    subjects = sorted(set(bank.subjects.tolist()))
    src_subject, tgt_subjects = subjects[0], subjects[1 : 1 + targets]

    def frame(subject: int, label: int) -> int:
        hits = ((bank.subjects == subject) & (bank.labels == label)).nonzero().flatten()
        return int(hits[-1]) if len(hits) else -1

    errs: dict[str, list[float]] = {"reenacted": [], "copy_target": [], "copy_source": []}
    fig, axes = plt.subplots(len(classes) + 1, len(tgt_subjects) + 2,
                             figsize=(1.1 * (len(tgt_subjects) + 2), 1.15 * (len(classes) + 1)))
    for ax in axes.flat:
        ax.axis("off")
    for j, b in enumerate(tgt_subjects):
        axes[0, j + 1].imshow(to_image(frames[frame(b, NEUTRAL)]))
        axes[0, j + 1].set_title(f"target {bank.subject_names[b]}", fontsize=6)
    axes[0, -1].set_title(f"truth ({bank.subject_names[tgt_subjects[0]]})", fontsize=6)
    for i, e in enumerate(classes):
        s = frame(src_subject, i)
        if s < 0:
            continue
        axes[i + 1, 0].imshow(to_image(frames[s]))
        axes[i + 1, 0].set_title(f"source: {e}", fontsize=6)
        for j, b in enumerate(tgt_subjects):
            t, g = frame(b, NEUTRAL), frame(b, i)
            fake = gen(frames[s : s + 1], frames[t : t + 1])[0]
            axes[i + 1, j + 1].imshow(to_image(fake))
            if g >= 0:
                if j == 0:
                    axes[i + 1, -1].imshow(to_image(frames[g]))
                if i != NEUTRAL:
                    errs["reenacted"].append(float((fake - frames[g]).abs().mean()))
                    errs["copy_target"].append(float((frames[t] - frames[g]).abs().mean()))
                    errs["copy_source"].append(float((frames[s] - frames[g]).abs().mean()))
    fig.suptitle(title, fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return {f"l1_{k}": float(np.mean(v)) for k, v in errs.items()}


def one_seed(seed: int, args, gan: dict[str, str], results: Path) -> dict:
    t0 = time.time()
    rel_runner, rel = run("relgan", {"backbone": "relgan-encoder", "aggregator": "relgan-mlp", "disentangler": "relgan"},
                          {"backbone": ARCH, "disentangler": gan}, seed, args)
    t1 = time.time()
    cnn_runner, cnn = run("cnn", {"backbone": "relgan-cnn", "aggregator": "mean"}, {"backbone": ARCH}, seed, args)
    t2 = time.time()
    gen = generator_of(rel_runner)
    size = gen.image_size
    fold_banks = banks(rel_runner, 3)
    l1 = {k: l1_report(gen, b, fixed_pairs(b, 96, 7), size) for k, b in fold_banks.items()}
    torch.manual_seed(seed)
    random_g_es = Encoder(3, int(ARCH["base_channels"]), 30, size).eval()
    encoders = {"relgan": trained_model(rel_runner).backbone, "cnn": trained_model(cnn_runner).backbone,
                "random_g_es": lambda x: random_g_es(fit_to(x, size))}
    twin = twin_banks(rel_runner, args)
    probe_banks = {"test_same_scene": fold_banks["test"], "test_scene_per_video": twin["test"], "all_scene_per_video": twin["all"]}
    with torch.no_grad():
        feature = {name: {b: probes(encode(enc, bank.frames), bank) for b, bank in probe_banks.items()}
                   for name, enc in encoders.items()}
    row = {"seed": seed, "relgan_war": rel.folds[0].metrics["war"], "cnn_war": cnn.folds[0].metrics["war"],
           "relgan_uar": rel.folds[0].metrics["uar"], "cnn_uar": cnn.folds[0].metrics["uar"],
           "relgan_wall_s": t1 - t0, "cnn_wall_s": t2 - t1, "test_samples": len(rel_runner.folds[0].test),
           "l1": l1, "probes": feature, "gan_log": rel_runner.gan_log}
    apex = banks(rel_runner, 1)
    row["transfer_retrieval"] = {k: transfer_retrieval(gen, apex[k], size) for k in ("heldout", "test") if k in apex}
    if seed == args.grid_seed:
        classes = rel_runner.manifest.classes
        row["grid"] = {"test": grid(gen, apex["test"], classes, results / "reenactment_grid_test.png",
                                    "REL-GAN reenactment, unseen test subjects (rows: source expression; last column: ground truth)")}
        if "heldout" in apex:
            row["grid"]["heldout"] = grid(gen, apex["heldout"], classes, results / "reenactment_grid_heldout.png",
                                          "REL-GAN reenactment, training subjects' held-out videos (last column: ground truth)")
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--steps", type=int, default=3500, help="GAN steps, warm-up included")
    p.add_argument("--warmup", type=int, default=3000, help="pixel_warmup steps (G on lambda_2 L_pixel alone)")
    p.add_argument("--gan-lr", type=float, default=1e-3, help="Adam learning rate of G and D (paper 1e-4)")
    p.add_argument("--gan-batch", type=int, default=16)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--size", type=int, default=int(INPUT["size"]), help="face side in pixels (input size = image_size)")
    p.add_argument("--base", type=int, default=int(ARCH["base_channels"]), help="base_channels of G_es / G_et / G_de")
    p.add_argument("--gan-opt", action="append", default=[], help="k=v further RelGANOptions (e.g. lambda_de=0.5)")
    p.add_argument("--epochs", type=int, default=TRAIN["epochs"], help="classifier epochs (stage 2 and the baseline)")
    p.add_argument("--grid-seed", type=int, default=0, help="seed whose generator draws the reenactment grids")
    p.add_argument("--cache", default="/tmp/relgan_cache")
    p.add_argument("--out", default="/tmp/relgan_out")
    p.add_argument("--results", default=str(RESULTS))
    p.add_argument("--merge", default="", help="comma-separated summary.json files of per-seed runs to merge into --results")
    args = p.parse_args()
    if args.merge:
        parts = [json.loads(Path(f).read_text()) for f in args.merge.split(",")]
        write_summary(Path(args.results), {k: v for k, v in parts[0].items() if k != "rows" and not k.startswith("mean")},
                      [r for part in parts for r in part["rows"]])
        return
    torch.set_num_threads(args.threads)
    TRAIN["epochs"] = args.epochs
    INPUT["size"] = ARCH["image_size"] = str(args.size)
    ARCH["base_channels"] = str(args.base)
    results = Path(args.results)
    gan = {**ARCH, "steps": str(args.steps), "pixel_warmup": str(args.warmup), "lr": str(args.gan_lr),
           "batch_size": str(args.gan_batch), "log_every": "250", **dict(kv.split("=", 1) for kv in args.gan_opt)}
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        rows.append(one_seed(seed, args, gan, results))
        print(json.dumps({k: v for k, v in rows[-1].items() if k != "gan_log"}), flush=True)
    setup = {"dataset": DATASET, "dataset_opts": {**DATASET_OPTS, **CLEAN}, "input": INPUT, "arch": ARCH, "gan": gan, "train": TRAIN}
    write_summary(results, setup, rows)


def write_summary(results: Path, setup: dict, rows: list[dict]) -> None:
    def mean(get) -> float:
        return float(np.mean([get(r) for r in rows]))

    encoders = rows[0]["probes"].keys()
    summary = {
        **setup,
        "mean": {k: mean(lambda r: r[k]) for k in ("relgan_war", "cnn_war", "relgan_uar", "cnn_uar")},
        "mean_l1": {b: {k: mean(lambda r: r["l1"][b][k]) for k in ("fake", "copy_t", "copy_s")} for b in rows[0]["l1"]},
        "mean_probes": {e: {b: {k: mean(lambda r: r["probes"][e][b][k]) for k in ("identity_probe_acc", "expression_probe_acc")}
                            for b in rows[0]["probes"][e]} for e in encoders},
        "mean_transfer_retrieval": {k: mean(lambda r: r["transfer_retrieval"][k]["accuracy"]) for k in rows[0].get("transfer_retrieval", {})},
        "rows": sorted(rows, key=lambda r: r["seed"]),
    }
    results.mkdir(parents=True, exist_ok=True)
    (results / "summary.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps({k: summary[k] for k in ("mean", "mean_l1", "mean_probes", "mean_transfer_retrieval")}, indent=1))


if __name__ == "__main__":
    main()

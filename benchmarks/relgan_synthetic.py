"""REL-GAN on SynthFER, CPU-sized: identity-biased accuracy, identity leakage, reenactment grid.

For each seed, two runs on the same fold of SynthFER with ``identity_bias=0.8``:
REL-GAN (``relgan-encoder + relgan-mlp + relgan``) and the paper's CNN
baseline (``relgan-cnn + mean + none``, the G_es architecture plus one FC
layer trained end to end). Then, on the fold's *test* subjects (never seen by
either encoder):

* identity leakage: a linear probe (logistic regression) predicting the
  subject from per-frame features, trained on some of each subject's videos
  and scored on its other videos (other expressions): f(e) of the frozen
  G_es versus the baseline's 30-d layer. Lower is better; chance = 1/subjects.
* a linear expression probe on the same split, for reference;
* (first seed) the reenactment grid: rows = source expressions of one test
  subject, columns = target test identities, cells = G(x_s, x_t), plus the
  L1 error to the exact SynthFER ground truth (the target subject's video of
  the source expression) next to copying x_t or x_s.

Usage::

    python benchmarks/relgan_synthetic.py --seeds 0,1,2 --steps 60 --gan-batch 16 --threads 1

(or one process per seed with ``--results DIR_k``, then ``--merge DIR_0/summary.json,...``).
Writes ``plugins/ferbench_relgan/results/summary.json`` and ``reenactment_grid.png``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from ferbench.builtin.input_rgb import IMAGENET_MEAN, IMAGENET_STD
from ferbench.engine.assemble import assemble
from ferbench.engine.config import make_config
from ferbench.engine.runner import Runner
from ferbench.options import stable_hash
from ferbench.plugins import Registry
from ferbench_relgan.networks import fit_to
from ferbench_relgan.pairs import FrameBank

RESULTS = Path(__file__).resolve().parents[1] / "plugins" / "ferbench_relgan" / "results"
DATASET = "synthetic"
DATASET_OPTS = {"subjects": "15", "frames": "8", "size": "64", "identity_bias": "0.8", "folds": "3"}
#: CPU-sized (2 shared cores): 32 px faces, channels / 8 of the paper (8, 16, 32, 64, 64)
INPUT = {"frames": "2", "size": "32"}
ARCH = {"base_channels": "8", "image_size": "32"}
TRAIN = {"epochs": 8, "batch_size": 16, "optimizer": "adam", "lr": 1e-3, "device": "cpu"}


def run(tag: str, comps: dict[str, str], opts: dict[str, dict[str, str]], seed: int, args) -> tuple[Runner, object]:
    cfg = make_config({"dataset": DATASET, **comps}, {"dataset": DATASET_OPTS, "input": INPUT, **opts}, TRAIN,
                      seed=seed, folds=(0,), cache_dir=args.cache, output_dir=f"{args.out}/{tag}")
    runner = Runner(cfg, Registry(), progress=False, log=lambda s: print(f"  [{tag} s{seed}] {s}", flush=True))
    return runner, runner.run()


def trained_model(runner: Runner, result) -> torch.nn.Module:
    model = assemble(runner.resolved, runner.input.signature, runner.manifest).model
    state = torch.load(runner.run_dir / "fold0" / "last.pt", map_location="cpu", weights_only=True)["model"]
    model.load_state_dict(state)
    return model.eval()


def test_bank(runner: Runner) -> FrameBank:
    return FrameBank.from_dataset(runner._dataset(runner.folds[0].test, train=False), apex_frames=int(INPUT["frames"]))


@torch.no_grad()
def probes(features: np.ndarray, bank: FrameBank) -> dict[str, float]:
    """Linear probes on per-frame features [M, D].

    Identity: each subject's videos (one per expression on SynthFER's scored videos) alternate
    between probe-fit and probe-score, so the probe must recognise a person under expressions it
    was not fitted on. Expression: fitted on half of the subjects, scored on the others.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    owner = bank.sample_of.numpy()
    subj = bank.subjects.numpy()
    fit_video = {}
    for s in np.unique(subj):
        videos = sorted({int(o) for o, b in zip(owner, subj) if b == s})
        fit_video.update({v: i % 2 == 0 for i, v in enumerate(videos)})
    by_video = np.array([fit_video[int(o)] for o in owner])
    fit_subjects = np.unique(subj)[::2]
    by_subject = np.isin(subj, fit_subjects)
    out = {}
    for name, y, fit in (("identity", subj, by_video), ("expression", bank.labels.numpy(), by_subject)):
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
        clf.fit(features[fit], y[fit])
        out[f"{name}_probe_acc"] = 100.0 * float((clf.predict(features[~fit]) == y[~fit]).mean())
        out[f"{name}_probe_scored"] = int((~fit).sum())
    out["identity_chance"] = 100.0 / len(np.unique(subj))
    return out


@torch.no_grad()
def encode(backbone: torch.nn.Module, bank: FrameBank) -> np.ndarray:
    return torch.cat([backbone(bank.frames[i : i + 64].float()) for i in range(0, len(bank.frames), 64)]).numpy()


def generator_of(runner: Runner):
    """The fold-0 REL-GAN generator from the engine's stage cache."""
    parts = assemble(runner.resolved, runner.input.signature, runner.manifest)
    stage = parts.disentangler.stages()[0]
    key = stable_hash([runner._stage_keys()["disentangler"], stage.key, 0])
    path = runner.cache_dir / "stages" / runner.manifest.dataset / "fold0" / f"disentangler-{stage.name}-{key}.pt"
    stage.module.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return stage.module.eval()


def to_image(x: torch.Tensor) -> np.ndarray:
    mean, std = torch.tensor(IMAGENET_MEAN).view(3, 1, 1), torch.tensor(IMAGENET_STD).view(3, 1, 1)
    return (x.float() * std + mean).clamp(0, 1).permute(1, 2, 0).numpy()


@torch.no_grad()
def grid(runner: Runner, path: Path, targets: int = 5) -> dict[str, float]:
    """Reenactment grid PNG and L1 errors against SynthFER's exact ground truth."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gen = generator_of(runner)
    bank = FrameBank.from_dataset(runner._dataset(runner.folds[0].test, train=False), apex_frames=1)
    size = gen.image_size
    frames = fit_to(bank.frames.float(), size)
    classes = runner.manifest.classes
    subjects = sorted(set(bank.subjects.tolist()))
    src_subject, tgt_subjects = subjects[0], subjects[1 : 1 + targets]
    neutral = classes.index("neutral") if "neutral" in classes else 0

    def frame(subject: int, label: int) -> int:
        hits = ((bank.subjects == subject) & (bank.labels == label)).nonzero().flatten()
        return int(hits[0]) if len(hits) else -1

    errs = {"reenacted": [], "copy_target": [], "copy_source": []}
    fig, axes = plt.subplots(len(classes) + 1, len(tgt_subjects) + 1, figsize=(1.3 * (len(tgt_subjects) + 1), 1.3 * (len(classes) + 1)))
    for ax in axes.flat:
        ax.axis("off")
    for j, b in enumerate(tgt_subjects):
        axes[0, j + 1].imshow(to_image(frames[frame(b, neutral)]))
        axes[0, j + 1].set_title(f"target {bank.subject_names[b]}", fontsize=6)
    for i, e in enumerate(classes):
        s = frame(src_subject, i)
        if s < 0:
            continue
        axes[i + 1, 0].imshow(to_image(frames[s]))
        axes[i + 1, 0].set_title(f"source: {e}", fontsize=6)
        for j, b in enumerate(tgt_subjects):
            t, g = frame(b, neutral), frame(b, i)
            fake = gen(frames[s : s + 1], frames[t : t + 1])[0]
            axes[i + 1, j + 1].imshow(to_image(fake))
            if g >= 0:
                errs["reenacted"].append(float((fake - frames[g]).abs().mean()))
                errs["copy_target"].append(float((frames[t] - frames[g]).abs().mean()))
                errs["copy_source"].append(float((frames[s] - frames[g]).abs().mean()))
    fig.suptitle("REL-GAN reenactment on held-out SynthFER subjects (rows: source expression, columns: target)", fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return {f"l1_{k}": float(np.mean(v)) for k, v in errs.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--steps", type=int, default=150)
    p.add_argument("--gan-batch", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--size", type=int, default=int(INPUT["size"]), help="face side in pixels (input size = image_size)")
    p.add_argument("--base", type=int, default=int(ARCH["base_channels"]), help="base_channels of G_es / G_et / G_de")
    p.add_argument("--cache", default="/tmp/relgan_cache")
    p.add_argument("--out", default="/tmp/relgan_out")
    p.add_argument("--results", default=str(RESULTS))
    p.add_argument("--merge", default="", help="comma-separated summary.json files of per-seed runs to merge into --results")
    args = p.parse_args()
    if args.merge:
        parts = [json.loads(Path(f).read_text()) for f in args.merge.split(",")]
        write_summary(Path(args.results), {k: v for k, v in parts[0].items() if k != "rows"}, [r for part in parts for r in part["rows"]])
        return
    torch.set_num_threads(args.threads)
    INPUT["size"] = ARCH["image_size"] = str(args.size)
    ARCH["base_channels"] = str(args.base)
    results = Path(args.results)
    gan = {**ARCH, "steps": str(args.steps), "batch_size": str(args.gan_batch), "log_every": "25"}
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        t0 = time.time()
        rel_runner, rel = run("relgan", {"backbone": "relgan-encoder", "aggregator": "relgan-mlp", "disentangler": "relgan"},
                              {"backbone": ARCH, "disentangler": gan}, seed, args)
        t1 = time.time()
        cnn_runner, cnn = run("cnn", {"backbone": "relgan-cnn", "aggregator": "mean"}, {"backbone": ARCH}, seed, args)
        t2 = time.time()
        bank = test_bank(rel_runner)
        row = {"seed": seed, "relgan_war": rel.folds[0].metrics["war"], "cnn_war": cnn.folds[0].metrics["war"],
               "relgan_uar": rel.folds[0].metrics["uar"], "cnn_uar": cnn.folds[0].metrics["uar"],
               "relgan_wall_s": t1 - t0, "cnn_wall_s": t2 - t1, "test_samples": len(rel_runner.folds[0].test),
               "relgan": probes(encode(trained_model(rel_runner, rel).backbone, bank), bank),
               "cnn": probes(encode(trained_model(cnn_runner, cnn).backbone, bank), bank)}
        if seed == 0:
            row["grid"] = grid(rel_runner, results / "reenactment_grid.png")
        rows.append(row)
        print(json.dumps(row), flush=True)
    write_summary(results, {"dataset": DATASET, "dataset_opts": DATASET_OPTS, "input": INPUT, "arch": ARCH, "gan": gan, "train": TRAIN}, rows)


def write_summary(results: Path, setup: dict, rows: list[dict]) -> None:
    summary = {
        **setup,
        "rows": sorted(rows, key=lambda r: r["seed"]),
        "mean": {k: float(np.mean([r[k] for r in rows])) for k in ("relgan_war", "cnn_war", "relgan_uar", "cnn_uar")},
        "mean_identity_probe": {m: float(np.mean([r[m]["identity_probe_acc"] for r in rows])) for m in ("relgan", "cnn")},
        "mean_expression_probe": {m: float(np.mean([r[m]["expression_probe_acc"] for r in rows])) for m in ("relgan", "cnn")},
    }
    results.mkdir(parents=True, exist_ok=True)
    (results / "summary.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps({k: summary[k] for k in ("mean", "mean_identity_probe", "mean_expression_probe")}, indent=1))


if __name__ == "__main__":
    main()

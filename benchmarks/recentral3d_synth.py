"""recentral3d on SynthFER with wide pose and lighting: shading3d + fusion versus 2D baselines.

Same dataset, same folds (the fold split depends only on the seed), same
training setup for every model; Accuracy (WAR) and Class Accuracy (UAR).

    python benchmarks/recentral3d_synth.py run --model fusion --seeds 0,1 --folds 0
    python benchmarks/recentral3d_synth.py run --model rgb --seeds 0,1 --folds 0
    python benchmarks/recentral3d_synth.py table

Models:
    fusion      shading3d + recentral3d-fusion (whole) + mean (apex frame, paper architecture)
    fusion-nonoise  the same without the training-time Gaussian input noise (noise_var=0)
    base3d      shading3d + recentral3d-fusion[branches=base+3d] (Table 6 ablation)
    baselm      landmarks + recentral3d-fusion[branches=base+landmark]
    base        landmarks + recentral3d-fusion[branches=base] (2D branch only)
    rgb         rgb[frames=4,size=64] + resnet18 + mean (the core 2D baseline, whole frames)
    crop        landmarks + resnet18 + mean (ResNet-18 on the same apex face crop)
Results: plugins/ferbench_recentral3d/results/synth_<model>.json; ``table`` prints the summary.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from ferbench.engine.config import make_config
from ferbench.engine.runner import Runner
from ferbench.plugins import Registry

CACHE = Path("/tmp/recentral3d_cache")
OUT = Path("/tmp/recentral3d_out")
RESULTS = Path(__file__).resolve().parents[1] / "plugins" / "ferbench_recentral3d" / "results"

DATASET = "synthetic"
DATASET_OPTS = {"pose": "40", "lighting": "1.0"}  # yaw/pitch/roll up to +-40 deg, light up to 70 deg off-axis
TRAIN = {"epochs": 12, "batch_size": 16, "optimizer": "adam", "lr": 1e-3, "weight_decay": 0.0,
         "schedule": "cosine", "warmup_epochs": 1, "loss": "ce", "device": "cpu"}

MODELS = {
    "fusion": ("shading3d", "recentral3d-fusion", {}, {}),
    "fusion-nonoise": ("shading3d", "recentral3d-fusion", {}, {"noise_var": "0"}),
    "base3d": ("shading3d", "recentral3d-fusion", {}, {"branches": "base+3d"}),
    "baselm": ("landmarks", "recentral3d-fusion", {}, {"branches": "base+landmark"}),
    "base": ("landmarks", "recentral3d-fusion", {}, {"branches": "base"}),
    "rgb": ("rgb", "resnet18", {"frames": "4", "size": "64"}, {}),
    "crop": ("landmarks", "resnet18", {}, {}),
}


def run(model: str, seeds: list[int], folds: list[int], threads: int) -> Path:
    torch.set_num_threads(threads)
    inp, backbone, in_opts, bb_opts = MODELS[model]
    rows = []
    for seed in seeds:
        cfg = make_config(
            {"dataset": DATASET, "input": inp, "backbone": backbone, "aggregator": "mean"},
            {"dataset": DATASET_OPTS, "input": in_opts, "backbone": bb_opts}, TRAIN,
            seed=seed, folds=tuple(folds), cache_dir=str(CACHE), output_dir=str(OUT / model),
        )
        t0 = time.time()
        runner = Runner(cfg, Registry(), progress=False, log=lambda s: print(f"[{model} s{seed}] {s}", flush=True))
        result = runner.run()
        for f in result.folds:
            rows.append({"seed": seed, "fold": f.fold, "war": f.metrics["war"], "uar": f.metrics["uar"],
                         "macro_f1": f.metrics["macro_f1"]})
        print(f"[{model} s{seed}] done in {time.time() - t0:.0f}s", flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"synth_{model}.json"
    if path.exists():  # keep the rows of other seeds/folds measured earlier with the same setup
        old = json.loads(path.read_text())
        if old.get("train") == TRAIN and old.get("dataset_opts") == DATASET_OPTS:
            done = {(r["seed"], r["fold"]) for r in rows}
            rows = [r for r in old["rows"] if (r["seed"], r["fold"]) not in done] + rows
            rows.sort(key=lambda r: (r["seed"], r["fold"]))
    path.write_text(json.dumps({"model": model, "input": inp, "backbone": backbone, "input_opts": in_opts,
                                "backbone_opts": bb_opts, "dataset": DATASET, "dataset_opts": DATASET_OPTS,
                                "train": TRAIN, "rows": rows}, indent=1))
    return path


def table() -> str:
    lines = ["| model | combination | runs | Acc (WAR) % | C-Acc (UAR) % | macro-F1 % | per run WAR |",
             "|---|---|---|---|---|---|---|"]
    for model in MODELS:
        path = RESULTS / f"synth_{model}.json"
        if not path.exists():
            continue
        d = json.loads(path.read_text())
        war, uar = [r["war"] for r in d["rows"]], [r["uar"] for r in d["rows"]]
        f1 = [r["macro_f1"] for r in d["rows"] if "macro_f1" in r]
        sd = lambda v: statistics.stdev(v) if len(v) > 1 else 0.0  # noqa: E731
        label = lambda name, o: name + (f"[{','.join(f'{k}={v}' for k, v in o.items())}]" if o else "")  # noqa: E731
        comb = f"{label(d['input'], d['input_opts'])}+{label(d['backbone'], d['backbone_opts'])}+mean"
        lines.append(f"| {model} | {comb} | {len(war)} | {statistics.mean(war):.2f} ± {sd(war):.2f} "
                     f"| {statistics.mean(uar):.2f} ± {sd(uar):.2f} "
                     f"| {(f'{statistics.mean(f1):.2f} ± {sd(f1):.2f}' if len(f1) == len(war) else '-')} "
                     f"| {', '.join(f'{w:.1f}' for w in war)} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--model", choices=sorted(MODELS), required=True)
    r.add_argument("--seeds", default="0,1")
    r.add_argument("--folds", default="0")
    r.add_argument("--threads", type=int, default=1)
    sub.add_parser("table")
    a = ap.parse_args()
    if a.cmd == "run":
        print(run(a.model, [int(s) for s in a.seeds.split(",")], [int(f) for f in a.folds.split(",")], a.threads))
    else:
        print(table())


if __name__ == "__main__":
    main()

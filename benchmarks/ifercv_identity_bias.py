"""IFERCV on SynthFER with identity_bias: test accuracy with the ``ifercv`` disentangler versus ``none``,
and a linear probe of subject id from z_E (lower is better), over several seeds.

Usage: python benchmarks/ifercv_identity_bias.py [--preset synthetic-tiny] [--bias 0.8] [--seeds 0,1] [--epochs 6] [--fold 0]

Each run trains residual + ifercv-cnn + lstm on one subject-independent fold.
The probe: z_E of every scoreable video (all folds' subjects, eval sampling) is
embedded by the trained FER branch; a logistic regression predicts the subject
under 3-fold stratified cross-validation over videos (chance = 1 / subjects).
"""

from __future__ import annotations

import argparse
import os
import statistics

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

from ferbench.engine.assemble import assemble
from ferbench.engine.config import make_config
from ferbench.engine.runner import Runner
from ferbench.plugins import Registry


def probe(runner: Runner, fold: int) -> float:
    model = assemble(runner.resolved, runner.input.signature, runner.manifest).model
    state = torch.load(runner.run_dir / f"fold{fold}" / "last.pt", map_location="cpu", weights_only=True)
    model.load_state_dict(state["model"])
    model.eval()
    feats, subjects = [], []
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for s in runner.manifest.samples:
            if s.train_only:
                continue
            x = runner.input.sample(runner.cache.get(s), train=False, generator=gen)["x"]
            feats.append(model(x[None]).embedding[0].numpy())
            subjects.append(s.subject)
    y = np.array(subjects)
    clf = LogisticRegression(max_iter=2000)
    return 100.0 * float(cross_val_score(clf, np.stack(feats), y, cv=3).mean())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="synthetic-tiny")
    ap.add_argument("--bias", default="0.8")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--fold", type=int, default=0)
    ap.add_argument("--cache-dir", default=os.path.expanduser(os.environ.get("FERBENCH_CACHE", "~/.cache/ferbench")))
    ap.add_argument("--output-dir", default="ferbench-out/ifercv-identity-bias")
    ap.add_argument("--disentangler-opt", action="append", default=[])
    a = ap.parse_args()
    torch.set_num_threads(1)
    registry = Registry()
    extra = dict(kv.split("=", 1) for kv in a.disentangler_opt)
    rows = {}
    for dis in ("none", "ifercv"):
        for seed in map(int, a.seeds.split(",")):
            cfg = make_config(
                {"dataset": a.preset, "input": "residual", "backbone": "ifercv-cnn", "aggregator": "lstm", "disentangler": dis},
                {"dataset": {"identity_bias": a.bias}, "aggregator": {"hidden": "512"}, **({"disentangler": extra} if dis == "ifercv" else {})},
                {"epochs": a.epochs, "batch_size": 16, "optimizer": "adam", "lr": 1e-3},
                seed=seed, folds=(a.fold,), cache_dir=a.cache_dir, output_dir=a.output_dir,
            )
            runner = Runner(cfg, registry, progress=False, log=lambda s: None)
            result = runner.run(resume=True)
            if result.folds:
                acc = result.folds[0].metrics["war"]
            else:  # finished earlier (resume): read the stored record
                from ferbench.results import ResultsStore

                recs = [r for r in ResultsStore(runner.store_path).records() if r.config_hash == runner.config_hash and r.fold == a.fold]
                acc = recs[-1].metrics["war"] if recs else float("nan")
            rows.setdefault(dis, []).append((seed, acc, probe(runner, a.fold)))
            print(f"{dis} seed {seed}: test WAR {acc:.2f}  subject probe {rows[dis][-1][2]:.2f}", flush=True)
    print(f"\n{a.preset}, identity_bias={a.bias}, fold {a.fold}, {a.epochs} epochs, seeds {a.seeds}")
    print("| disentangler | test WAR % (mean ± std) | subject probe from z_E % |\n|---|---|---|")
    for dis, r in rows.items():
        w, p = [x[1] for x in r], [x[2] for x in r]
        sd = lambda v: statistics.stdev(v) if len(v) > 1 else 0.0  # noqa: E731
        print(f"| {dis} | {statistics.mean(w):.2f} ± {sd(w):.2f} | {statistics.mean(p):.2f} ± {sd(p):.2f} |")


if __name__ == "__main__":
    main()

"""SNA on SynthFER with label_noise=0.3: accuracy of sna (T, BT) vs none, and masking precision vs base rate.

Then the batch-size sensitivity of BT vs T (the paper's Table VI trend: LR scaled with the batch size).

    python benchmarks/sna_noise.py [--seeds 0,1] [--folds 0] [--epochs 6] [--bs 7,14,28] [--skip-bs | --only-bs]
    python benchmarks/sna_noise.py --clean-ref [--seeds ...] [--folds ...] [--epochs ...]   # none, no label noise

Writes plugins/ferbench_sna/results/noise.json and batch_size.json (noise_clean_reference.json). Ours(T)
uses a fixed T equal to the mean Div the BT run of the same seed observed (the paper does not give its T).
"""

from __future__ import annotations

import argparse
import statistics

from sna_common import TRAIN, epoch_mean, run, save

NOISY = {"label_noise": "0.3"}


def summarise(r):
    return {k: r[k] for k in ("tag", "seed", "selector", "selector_opts", "war", "uar", "wall_s")} | {
        "masked": epoch_mean(r["history"], "sna_masked"),
        "precision": epoch_mean(r["history"], "sna_precision"),
        "flip_rate": epoch_mean(r["history"], "sna_flip_rate"),
        "div": epoch_mean(r["history"], "sna_div"),
        "history": r["history"],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--bs", default="7,14,28")
    ap.add_argument("--skip-bs", action="store_true")
    ap.add_argument("--only-bs", action="store_true")
    ap.add_argument("--folds", default="0", help="comma-separated folds of every run")
    ap.add_argument("--epochs", type=int, default=TRAIN["epochs"], help="training epochs of every arm")
    ap.add_argument("--clean-ref", action="store_true",
                    help="only the reference: selector none without label noise (same seeds, folds, epochs)")
    a = ap.parse_args()
    folds = tuple(int(f) for f in a.folds.split(","))
    train = {"epochs": a.epochs}
    if a.only_bs:
        return batch_sizes(int(a.seeds.split(",")[0]), [int(b) for b in a.bs.split(",")], train)
    if a.clean_ref:
        return clean_reference([int(s) for s in a.seeds.split(",")], folds, train)
    rows, thresholds = [], {}
    for seed in [int(s) for s in a.seeds.split(",")]:
        kw = {"seed": seed, "dataset_opts": NOISY, "folds": folds, "train": train}
        bt = summarise(run(f"bt-s{seed}", "sna", {"threshold": "batch"}, **kw))
        thresholds[seed] = round(bt["div"], 6)
        t = summarise(run(f"t-s{seed}", "sna", {"threshold": str(thresholds[seed])}, **kw))
        none = summarise(run(f"none-s{seed}", "none", **kw))
        rows += [none, t, bt]
        for r in (none, t, bt):
            print(f"seed {seed} {r['tag']}: WAR {r['war']} masked {r['masked']} precision {r['precision']} base {r['flip_rate']}", flush=True)
        save("noise.json", {"rows": rows, "thresholds": thresholds, "folds": folds, "train": train})
    table = {}
    for name in ("none", "t", "bt"):
        sel = [r for r in rows if r["tag"].startswith(name + "-")]
        wars = [w for r in sel for w in r["war"]]
        table[name] = {"war_mean": statistics.mean(wars), "war_std": statistics.pstdev(wars), "n": len(wars),
                       "masked": statistics.mean(r["masked"] for r in sel) if name != "none" else 0.0,
                       "precision": statistics.mean(r["precision"] for r in sel) if name != "none" else None,
                       "flip_rate": statistics.mean(r["flip_rate"] for r in sel) if name != "none" else None}
    save("noise.json", {"rows": rows, "thresholds": thresholds, "folds": folds, "train": train, "table": table})
    print(table, flush=True)
    if a.skip_bs:
        return
    batch_sizes(int(a.seeds.split(",")[0]), [int(b) for b in a.bs.split(",")], train)


def clean_reference(seeds: list[int], folds: tuple[int, ...], train: dict) -> None:
    """selector none on the same preset without label noise: how much the 30 % noise costs the baseline."""
    rows = []
    for seed in seeds:
        r = run(f"clean-none-s{seed}", "none", seed=seed, folds=folds, train=train)
        rows.append({k: r[k] for k in ("tag", "seed", "war", "uar", "wall_s")})
        print(f"seed {seed} clean none: WAR {r['war']}", flush=True)
    wars = [w for r in rows for w in r["war"]]
    save("noise_clean_reference.json", {"rows": rows, "folds": folds, "train": train,
                                        "war_mean": statistics.mean(wars), "war_std": statistics.pstdev(wars)})


def batch_sizes(seed: int, sizes: list[int], train: dict) -> None:
    """BT, T and none at each batch size; T = the mean Div of the BT run at the first (largest) batch size."""
    bs_rows, thresholds = [], {}
    for bs in sizes:
        lr = TRAIN["lr"] * bs / 14  # the paper scales the LR with the batch size (Table VI)
        for name in ("bt", "t", "none"):
            thr = "batch" if name == "bt" else str(thresholds.get(seed))
            r = summarise(run(f"bs{bs}-{name}-s{seed}", "none" if name == "none" else "sna",
                              None if name == "none" else {"threshold": thr}, seed=seed, dataset_opts=NOISY,
                              train={**train, "batch_size": bs, "lr": lr}))
            if name == "bt":
                thresholds.setdefault(seed, round(r["div"], 6))
            bs_rows.append(r | {"batch_size": bs, "lr": lr})
            print(f"bs {bs} {name}: WAR {r['war']} masked {r['masked']} precision {r['precision']}", flush=True)
            save("batch_size.json", {"rows": bs_rows, "threshold": thresholds[seed]})


if __name__ == "__main__":
    main()

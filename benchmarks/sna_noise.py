"""SNA on SynthFER with label_noise=0.3: accuracy of sna (T, BT) vs none, and masking precision vs base rate.

Then the batch-size sensitivity of BT vs T (the paper's Table VI trend: LR scaled with the batch size).

    python benchmarks/sna_noise.py [--seeds 0,1] [--bs 7,14,28]

Writes plugins/ferbench_sna/results/noise.json and batch_size.json. Ours(T) uses a fixed T equal to the
mean Div the BT run of the same seed observed (the paper does not give its T).
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
    a = ap.parse_args()
    if a.only_bs:
        return batch_sizes(int(a.seeds.split(",")[0]), [int(b) for b in a.bs.split(",")])
    rows, thresholds = [], {}
    for seed in [int(s) for s in a.seeds.split(",")]:
        bt = summarise(run(f"bt-s{seed}", "sna", {"threshold": "batch"}, seed=seed, dataset_opts=NOISY))
        thresholds[seed] = round(bt["div"], 6)
        t = summarise(run(f"t-s{seed}", "sna", {"threshold": str(thresholds[seed])}, seed=seed, dataset_opts=NOISY))
        none = summarise(run(f"none-s{seed}", "none", seed=seed, dataset_opts=NOISY))
        rows += [none, t, bt]
        for r in (none, t, bt):
            print(f"seed {seed} {r['tag']}: WAR {r['war']} masked {r['masked']} precision {r['precision']} base {r['flip_rate']}", flush=True)
        save("noise.json", {"rows": rows, "thresholds": thresholds})
    table = {}
    for name in ("none", "t", "bt"):
        sel = [r for r in rows if r["tag"].startswith(name + "-")]
        wars = [w for r in sel for w in r["war"]]
        table[name] = {"war_mean": statistics.mean(wars), "war_std": statistics.pstdev(wars), "n": len(wars),
                       "masked": statistics.mean(r["masked"] for r in sel) if name != "none" else 0.0,
                       "precision": statistics.mean(r["precision"] for r in sel) if name != "none" else None,
                       "flip_rate": statistics.mean(r["flip_rate"] for r in sel) if name != "none" else None}
    save("noise.json", {"rows": rows, "thresholds": thresholds, "table": table})
    print(table, flush=True)
    if a.skip_bs:
        return
    batch_sizes(int(a.seeds.split(",")[0]), [int(b) for b in a.bs.split(",")])


def batch_sizes(seed: int, sizes: list[int]) -> None:
    """BT and T at each batch size; T = the mean Div of the BT run at the first (largest) batch size."""
    bs_rows, thresholds = [], {}
    for bs in sizes:
        lr = TRAIN["lr"] * bs / 14  # the paper scales the LR with the batch size (Table VI)
        for name in ("bt", "t"):
            thr = "batch" if name == "bt" else str(thresholds[seed])
            r = summarise(run(f"bs{bs}-{name}-s{seed}", "sna", {"threshold": thr}, seed=seed, dataset_opts=NOISY,
                              train={"batch_size": bs, "lr": lr}))
            thresholds.setdefault(seed, round(r["div"], 6))
            bs_rows.append(r | {"batch_size": bs, "lr": lr})
            print(f"bs {bs} {name}: WAR {r['war']} masked {r['masked']} precision {r['precision']}", flush=True)
            save("batch_size.json", {"rows": bs_rows, "threshold": thresholds[seed]})


if __name__ == "__main__":
    main()

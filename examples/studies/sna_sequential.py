"""Sequential-consistency check (the paper's Table VII) on SynthFER.

Train on apex frames only (gray112 apex_window=1), then test every test video's
four frames before the apex (apex-4 .. apex-1). A group is a Failure Case (FC)
when any of its four frames is misclassified, a Consistent Failure Case (CFC)
when all four are misclassified as the same class. With and without sna.

    python examples/studies/sna_sequential.py [--seeds 0] [--epochs 6]

Writes plugins/ferbench_sna/results/sequential.json.
"""

from __future__ import annotations

import argparse

import torch

from ferbench.engine.assemble import assemble
from sna_common import run, save

NOISY = {"label_noise": "0.3"}
APEX_ONLY = {"apex_window": "1"}


@torch.no_grad()
def failure_cases(runner, fold: int = 0, before: int = 4) -> dict[str, int]:
    parts = assemble(runner.resolved, runner.input.signature, runner.manifest)
    state = torch.load(runner.run_dir / f"fold{fold}" / "last.pt", map_location="cpu", weights_only=True)
    model = parts.model
    model.load_state_dict(state["model"])
    model.eval()
    by_id = runner.manifest.by_id()
    fc = cfc = groups = 0
    for sid in runner.folds[fold].test:
        sample = by_id[sid]
        loaded = runner.input.load(sample)
        frames = loaded["frames"]
        apex = int(loaded["apex"]) if int(loaded["apex"]) >= 0 else frames.shape[0] - 1
        idx = [max(0, apex - k) for k in range(before, 0, -1)]
        x = frames[idx].float().div(127.5).sub(1.0).unsqueeze(1)  # 4 clips of T=1: [4, 1, 1, H, W]
        pred = model(x).logits.argmax(1)
        wrong = pred != sample.eval_label
        groups += 1
        fc += int(wrong.any())
        cfc += int(wrong.all() and bool((pred == pred[0]).all()))
    return {"groups": groups, "fc": fc, "cfc": cfc}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--epochs", type=int, default=6, help="training epochs of both arms (fold 0)")
    a = ap.parse_args()
    rows = []
    for seed in [int(s) for s in a.seeds.split(",")]:
        for selector, opts in (("none", None), ("sna", {"threshold": "batch"})):
            r = run(f"seq-{selector}-s{seed}", selector, opts, seed=seed, dataset_opts=NOISY, input_opts=APEX_ONLY,
                    train={"epochs": a.epochs})
            counts = failure_cases(r["runner"])
            rows.append({"seed": seed, "selector": selector, "apex_war": r["war"], **counts})
            print(rows[-1], flush=True)
            save("sequential.json", {"rows": rows, "epochs": a.epochs})


if __name__ == "__main__":
    main()

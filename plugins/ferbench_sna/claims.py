"""The SNA paper's central effects, declared as data for ``ferbench claims``.

Both run on SynthFER with ``label_noise=0.3`` (30 % of the training labels
flipped, scoring on the true ones) with the recipe of the README's measurements:
``gray112`` apex frames at 64 px, ``sna-multiscale`` at width 0.25, ``sna-fusion``
(focal loss, three heads), class-balanced batches of 14, Adam 1e-3 cosine, 15
epochs; the selector's autoencoder at CPU size (25 + 1 epochs).
"""

from __future__ import annotations

from ferbench.claims import Arm, Claim, Scale

PAPER = "sna"

RECIPE = {
    "components": {"input": "gray112", "backbone": "sna-multiscale", "aggregator": "sna-fusion"},
    "options": {"input": {"frames": 1, "size": 64, "apex_window": 3}, "backbone": {"width": 0.25}},
    "train": {"epochs": 15, "batch_size": 14, "optimizer": "adam", "lr": 1e-3, "schedule": "cosine",
              "loss": "focal", "balanced_sampling": True},
}
SELECTOR = {"threshold": "batch", "ae_epochs": 25, "ae_batch_size": 8, "refine_epochs": 1, "refine_batch_size": 16,
            "perceptual_epochs": 1}
NOISY = {"components": {"dataset": "synthetic"}, "options": {"dataset": {"label_noise": 0.3}}}
AFFECTNET = {"components": {"dataset": "affectnet"}}
GPU = {"options": {"input": {"size": 112}, "backbone": {"width": 1.0}}, "train": {"epochs": 50}}
BT = Arm("sna(BT)", {"components": {"selector": "sna"}, "options": {"selector": SELECTOR}})


def claims() -> list[Claim]:
    return [
        Claim(
            name="masking-precision-above-base-rate",
            paper=PAPER,
            statement="we can distinguish the unreliable samples (including noise samples) according to the "
                      "neighborhood smoothness with the help of semantic neighbors",
            source="Sec. I; Sec. III-C, Eq. 11-14",
            paper_effect="not measured in the paper (its datasets mark no flipped labels)",
            metric="sna_precision", baseline_metric="sna_flip_rate", direction="greater", min_effect=5.0,
            arms=(BT,), base=RECIPE, synthetic=NOISY, real=AFFECTNET,
            scales={"cpu": Scale(seeds=(0, 1, 2), folds=(0, 1)), "gpu": Scale(seeds=(0, 1, 2), config=GPU)},
        ),
        Claim(
            name="bt-beats-none-under-label-noise",
            paper=PAPER,
            statement="reduce the bad effect of those unreliable samples to enhance both the consistency and the "
                      "performance",
            source="Sec. I; Table VIII (w/o Ours 61.3 %, Ours(BT) 62.7 %, AffectNet)",
            paper_effect="+1.4 accuracy (62.7 vs 61.3, AffectNet, Table VIII)",
            metric="war", direction="greater", min_effect=1.0,
            arms=(BT, Arm("none")), base=RECIPE, synthetic=NOISY, real=AFFECTNET,
            scales={"cpu": Scale(seeds=(0, 1, 2), folds=(0, 1)), "gpu": Scale(seeds=(0, 1, 2), config=GPU)},
        ),
    ]

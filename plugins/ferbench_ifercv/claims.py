"""The IFERCV paper's central effects, declared as data for ``ferbench claims``.

Both run on SynthFER with ``identity_bias=0.8`` (each training subject shows
mostly one expression, so identity predicts the label), the confound the paper
targets, with the front end of the README's measurements: T = 8 frames at 64
px, ifercv-cnn (D = 512), an LSTM of 512, Adam 1e-3, batch 16.
"""

from __future__ import annotations

from ferbench.claims import Arm, Claim, Scale

PAPER = "ifercv"

RECIPE = {
    "components": {"backbone": "ifercv-cnn", "aggregator": "lstm"},
    "options": {"input": {"frames": 8, "size": 64}, "aggregator": {"hidden": 512}},
    "train": {"epochs": 10, "batch_size": 16, "optimizer": "adam", "lr": 1e-3},
}
BIASED = {"components": {"dataset": "synthetic"}, "options": {"dataset": {"identity_bias": 0.8}}}
CKPLUS = {"components": {"dataset": "ckplus"}}
GPU = {"options": {"input": {"frames": 16, "size": 112}}, "train": {"epochs": 30}}


def claims() -> list[Claim]:
    return [
        Claim(
            name="residual-beats-rgb-under-identity-bias",
            paper=PAPER,
            statement="the expression feature is expected to be purer for the expression and be robust to identity "
                      "shifts ... In testing, only the compressed residual frames are required",
            source="Abstract; Table I",
            paper_effect="97.44 (IFERCV, residual) vs 97.42 (mode variational LSTM, decoded frames) on CK+",
            metric="war", direction="greater", min_effect=2.0,
            arms=(Arm("residual", {"components": {"input": "residual"}}),
                  Arm("rgb", {"components": {"input": "rgb"}, "options": {"input": {"hflip": False}}})),
            base=RECIPE, synthetic=BIASED, real=CKPLUS,
            scales={"cpu": Scale(seeds=(0, 1, 2), folds=(0, 1, 2, 3, 4)),
                    "gpu": Scale(seeds=(0, 1, 2, 3, 4), config=GPU)},
        ),
        Claim(
            name="independence-lowers-identity-probe",
            paper=PAPER,
            statement="By enforcing the marginal independent of them, the expression feature is expected to be purer "
                      "for the expression",
            source="Abstract; Sec. III-B, Eq. 2",
            paper_effect="not measured as leakage; +0.94 WAR on CK+ with the adversarial critic (98.38 vs 97.44)",
            metric="identity_probe", direction="less", min_effect=2.0,
            arms=(Arm("ifercv", {"components": {"disentangler": "ifercv"}}), Arm("none")),
            base={**RECIPE, "components": {**RECIPE["components"], "input": "residual"},
                  "train": {**RECIPE["train"], "identity_probe": True}},
            synthetic=BIASED, real=CKPLUS,
            scales={"cpu": Scale(seeds=(0, 1, 2), folds=(0, 1)),
                    "gpu": Scale(seeds=(0, 1, 2, 3, 4), config=GPU)},
        ),
    ]

"""The CEFLNet paper's central effects, declared as data for ``ferbench claims``.

All arms share the front end that learns on SynthFER at CPU scale (the README's
measurements): the ifercv plugin's P-frame ``residual`` input with T = 14
frames (eian splits them into 7 clips x 2), ``ifercv-cnn`` (D = 512), 10 epochs,
Adam 1e-3, batch 16. Only the aggregator differs.
"""

from __future__ import annotations

from ferbench.claims import Arm, Claim, Scale

PAPER = "ceflnet"

RECIPE = {
    "components": {"input": "residual", "backbone": "ifercv-cnn"},
    "options": {"input": {"frames": 14, "size": 64}},
    "train": {"epochs": 10, "batch_size": 16, "optimizer": "adam", "lr": 1e-3},
}
GPU = {"components": {"input": "rgb", "backbone": "resnet18"},
       "options": {"input": {"sampling": "clips", "size": 224, "frames": 4}}, "train": {"epochs": 60, "lr": 1e-4}}


def claims() -> list[Claim]:
    return [
        Claim(
            name="eian-beats-mean-in-the-wild",
            paper=PAPER,
            statement="CEFLNet ... emotional-intensity activation network ... for untrimmed in-the-wild videos; "
                      "Table 6: ResNet-18 62.77 < CNN-LSTM 79.17 < CEFLNet 85.33",
            source="Table 6 (BU-3DFE); Table 4 (AFEW)",
            paper_effect="+22.56 accuracy over mean-pooled ResNet-18 (85.33 vs 62.77, BU-3DFE)",
            metric="war", direction="greater", min_effect=2.0,
            arms=(Arm("eian", {"components": {"aggregator": "eian"}}), Arm("mean", {"components": {"aggregator": "mean"}})),
            base=RECIPE,
            synthetic={"components": {"dataset": "synthetic-afew"}, "options": {"dataset": {"size": 64}}},
            real={"components": {"dataset": "afew"}},
            scales={"cpu": Scale(seeds=(0, 1, 2), folds=(0, 1, 2, 3, 4)), "gpu": Scale(seeds=(0, 1, 2), config=GPU)},
        ),
        Claim(
            name="pe-finds-the-apex-clip",
            paper=PAPER,
            statement="the EIAN method effectively locates the emotion-rich clip in the untrimmed videos",
            source="Sec. 4, Table 7",
            paper_effect="67.57 % of MMI videos (Table 7; no baseline given)",
            metric="pe_apex_hit", baseline_metric="pe_apex_chance", direction="greater", min_effect=10.0,
            arms=(Arm("eian", {"components": {"aggregator": "eian"}}),),
            base=RECIPE,
            synthetic={"components": {"dataset": "synthetic-mmi"}, "options": {"dataset": {"size": 64}}},
            real={"components": {"dataset": "mmi"}},
            scales={"cpu": Scale(seeds=(0, 1), folds=(0, 1, 2, 3, 4)), "gpu": Scale(seeds=(0, 1, 2), config=GPU)},
        ),
        Claim(
            name="paper-and-code-variants-agree",
            paper=PAPER,
            statement="(ferbench's check, not the paper's words) the authors' public code implements the model the "
                      "paper describes, although its SAL, LRL, EIAN, head and loss differ (README, Fidelity)",
            source="Sec. 3 vs models/Model.py",
            paper_effect="none reported: the code is the paper's implementation",
            metric="war", direction="equal", min_effect=3.0,
            arms=(Arm("paper", {"components": {"aggregator": "eian"}}),
                  Arm("code", {"components": {"aggregator": "eian"},
                               "options": {"aggregator": {"variant": "code", "loss": "ce"}}})),
            base=RECIPE,
            synthetic={"components": {"dataset": "synthetic"}},
            real={"components": {"dataset": "bu3dfe"}},
            scales={"cpu": Scale(seeds=(0, 1, 2), folds=(0, 1, 2, 3, 4)), "gpu": Scale(seeds=(0, 1, 2), config=GPU)},
        ),
    ]

"""Numbers the paper reports (Tables 1-4: accuracy, in percent), as leaderboard ``reported`` rows.

Both rows of every table classify peak images (the last three frames of a
sequence, or a still image), i.e. input ``rgb-peak`` at 96 px:

* REL-GAN: frozen pre-trained G_es per frame + MLP (``relgan-encoder`` +
  ``relgan-mlp`` + the ``relgan`` disentangler);
* the paper's CNN baseline: the G_es architecture + one FC, trained directly
  (``relgan-cnn`` + the core ``mean`` aggregator, whose FC is that layer).

The paper gives no MACs or parameter counts.
"""

from __future__ import annotations

from ferbench.components import ReportedResult

PAPER = "relgan"
OURS = {"input": "rgb-peak", "backbone": "relgan-encoder", "aggregator": "relgan-mlp", "disentangler": "relgan"}
BASELINE = {"input": "rgb-peak", "backbone": "relgan-cnn", "aggregator": "mean"}

CK = "10-fold subject-independent, last 3 frames per sequence, 7 classes"
OULU = "10-fold subject-independent, VIS strong light, last 3 frames, 6 classes"
BU = "10-fold subject-independent, two highest intensities, 6 classes"
SFEW = "official validation split, 7 classes"


def reported_results() -> list[ReportedResult]:
    def r(method: str, components: dict[str, str], dataset: str, protocol: str, value: float, source: str) -> ReportedResult:
        return ReportedResult(PAPER, method, "", dataset, protocol, "war", value, source, components=components)

    return [
        r("REL-GAN", OURS, "ckplus", CK, 97.41, "Table 1"),
        r("CNN (baseline)", BASELINE, "ckplus", CK, 90.34, "Table 1"),
        r("REL-GAN", OURS, "oulu", OULU, 88.93, "Table 2"),
        r("CNN (baseline)", BASELINE, "oulu", OULU, 73.14, "Table 2"),
        r("REL-GAN", OURS, "bu3dfe", BU, 83.46, "Table 3"),
        r("CNN (baseline)", BASELINE, "bu3dfe", BU, 72.74, "Table 3"),
        r("REL-GAN", OURS, "sfew", SFEW, 45.82, "Table 4"),
        r("CNN (baseline)", BASELINE, "sfew", SFEW, 29.75, "Table 4"),
    ]

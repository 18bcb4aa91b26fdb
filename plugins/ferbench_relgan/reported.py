"""Numbers the paper reports (Tables 1-4: accuracy, in percent)."""

from __future__ import annotations

from ferbench.components import ReportedResult

PAPER = "relgan"
#: REL-GAN: frozen pre-trained G_es per frame (the paper classifies single frames) + MLP
OURS = "rgb[frames=1,size=96]+relgan-encoder+relgan-mlp+relgan+none"
#: the paper's CNN baseline: G_es + one FC layer, trained directly
BASELINE = "rgb[frames=1,size=96]+relgan-cnn+mean+none+none"

CK = "10-fold subject-independent, last 3 frames per sequence, 7 classes"
OULU = "10-fold subject-independent, VIS strong light, last 3 frames, 6 classes"
BU = "10-fold subject-independent, two highest intensities, 6 classes"
SFEW = "official validation split, 7 classes"


def reported_results() -> list[ReportedResult]:
    r = lambda method, comb, ds, proto, value, source: ReportedResult(PAPER, method, comb, ds, proto, "war", value, source)  # noqa: E731
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

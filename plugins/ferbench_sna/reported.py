"""Numbers the paper reports (Tables III-VI, VIII), in percent."""

from __future__ import annotations

from ferbench.components import ReportedResult

PAPER = "sna"
OURS = "gray112+sna-multiscale+sna-fusion+none+sna"
BASELINE = "gray112+sna-multiscale+sna-fusion+none+none"
AFFECTNET = "official val, 7 classes (3500 images)"


def reported_results() -> list[ReportedResult]:
    r = lambda method, comb, ds, proto, value, source: ReportedResult(PAPER, method, comb, ds, proto, "war", value, source)  # noqa: E731
    return [
        r("Ours(BT)", OURS, "affectnet", AFFECTNET, 62.7, "Table III, Table VI (BS 63), Table VIII"),
        r("Ours(T)", OURS, "affectnet", AFFECTNET, 62.1, "Table VI (BS 63), Table VIII"),
        r("Multi-scale baseline (FL, BB, w/o Ours)", BASELINE, "affectnet", AFFECTNET, 61.3, "Sec. IV-D, Table VIII"),
        r("Ours", OURS, "ckplus", "10-fold subject-independent, last 3 frames, 6 classes", 98.58, "Table IV"),
        r("Ours", OURS, "oulu", "10-fold subject-independent, last 3 frames, 6 classes", 87.6, "Table V"),
    ]

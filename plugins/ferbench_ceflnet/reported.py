"""Numbers the CEFLNet paper reports (accuracy = WAR, percent)."""

from __future__ import annotations

from ferbench.components import ReportedResult

PAPER = "ceflnet"
FULL = "rgb+resnet18+eian+none+none"


def _r(method: str, combination: str, dataset: str, protocol: str, value: float, source: str) -> ReportedResult:
    return ReportedResult(PAPER, method, combination, dataset, protocol, "war", value, source)


def reported_results() -> list[ReportedResult]:
    """Tables 2-6 and 9 of Liu et al., Information Sciences 2022."""
    bu = "10-fold"
    return [
        _r("CEFLNet", FULL, "bu3dfe", bu, 85.33, "Table 2"),
        _r("CEFLNet", FULL, "mmi", "10-fold", 91.00, "Table 3"),
        _r("CEFLNet", FULL, "afew", "AFEW 8.0 train/val", 53.98, "Table 4"),
        _r("CEFLNet", FULL, "dfew", "5-fold", 65.35, "Table 5"),
        # Table 6 ablation on BU-3DFE (eian options sal/lrl/eian switch the modules)
        _r("ResNet-18", "rgb+resnet18+mean+none+none", "bu3dfe", bu, 62.77, "Table 6"),
        _r("CNN-LSTM", "rgb+resnet18+lstm+none+none", "bu3dfe", bu, 79.17, "Table 6"),
        _r("CEFLNet +SAL (lrl=false eian=false)", FULL, "bu3dfe", bu, 84.17, "Table 6"),
        _r("CEFLNet +SAL+LRL (eian=false)", FULL, "bu3dfe", bu, 84.67, "Table 6"),
        # Table 9: frames per clip on BU-3DFE (7 clips)
        _r("CEFLNet 7x2 frames", FULL, "bu3dfe", bu, 85.00, "Table 9"),
        _r("CEFLNet 7x10 frames", FULL, "bu3dfe", bu, 84.17, "Table 9"),
        _r("CEFLNet 7x15 frames", FULL, "bu3dfe", bu, 84.17, "Table 9"),
    ]

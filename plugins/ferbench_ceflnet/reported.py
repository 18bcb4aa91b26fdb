"""Numbers the CEFLNet paper reports (accuracy = WAR, percent), as leaderboard ``reported`` rows.

Each row names the combination a run of ``ceflnet.toml`` chooses (components
and options); the registry turns them into the leaderboard label. The paper
variant of ``eian`` is the default; the authors' code (``variant=code``)
reports no numbers of its own.
"""

from __future__ import annotations

from typing import Any

from ferbench.components import ReportedResult

PAPER = "ceflnet"

#: the paper's input (Sec. 4.1, Table 1): 7 clips x 5 frames of 224 px RGB, no flips (none named)
INPUT = {"sampling": "clips", "size": 224, "hflip": False}
BU = "10-fold"


def combination(clip_frames: int = 5, aggregator: str = "eian", **aggregator_options: Any) -> dict[str, Any]:
    """``components`` and ``options`` of the paper's setup: ``clip_frames`` per clip, ResNet-18, ``aggregator``."""
    frames = {"clip_frames": clip_frames} if clip_frames != 5 else {}
    return {
        "components": {"input": "rgb", "backbone": "resnet18", "aggregator": aggregator},
        "options": {"input": {**INPUT, **frames}, "aggregator": dict(aggregator_options)},
    }


FULL = combination()


def _r(method: str, setup: dict[str, Any], dataset: str, protocol: str, value: float, source: str,
       macs: float | None = None, params: float | None = None) -> ReportedResult:
    return ReportedResult(PAPER, method, "", dataset, protocol, "war", value, source, macs=macs, params=params, **setup)


def reported_results() -> list[ReportedResult]:
    """Tables 2-6, 8 and 9 of Liu et al., Information Sciences 2022 (MACs per video, Tables 8-9)."""
    return [
        _r("CEFLNet", FULL, "bu3dfe", BU, 85.33, "Table 2, Table 6, Table 8", macs=63.80e9, params=12.83e6),
        _r("CEFLNet", FULL, "mmi", "10-fold", 91.00, "Table 3"),
        _r("CEFLNet", FULL, "afew", "AFEW 8.0 train/val", 53.98, "Table 4"),
        _r("CEFLNet", FULL, "dfew", "5-fold", 65.35, "Table 5"),
        # Table 6 ablation on BU-3DFE (eian options sal/lrl/eian switch the modules)
        _r("ResNet-18", combination(aggregator="mean"), "bu3dfe", BU, 62.77, "Table 6"),
        _r("CNN-LSTM", combination(aggregator="lstm"), "bu3dfe", BU, 79.17, "Table 6"),
        _r("CEFLNet +SAL", combination(lrl=False, eian=False), "bu3dfe", BU, 84.17, "Table 6"),
        _r("CEFLNet +SAL+LRL", combination(eian=False), "bu3dfe", BU, 84.67, "Table 6"),
        # Table 9: frames per clip on BU-3DFE (7 clips); the paper gives parameters only for 5 frames (Table 8)
        _r("CEFLNet 7x2 frames", combination(clip_frames=2), "bu3dfe", BU, 85.00, "Table 9", macs=25.52e9),
        _r("CEFLNet 7x10 frames", combination(clip_frames=10), "bu3dfe", BU, 84.17, "Table 9", macs=127.59e9),
        _r("CEFLNet 7x15 frames", combination(clip_frames=15), "bu3dfe", BU, 84.17, "Table 9", macs=191.39e9),
    ]

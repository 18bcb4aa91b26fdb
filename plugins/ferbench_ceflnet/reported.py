"""Numbers the CEFLNet paper reports (accuracy = WAR, percent)."""

from __future__ import annotations

from ferbench.components import ReportedResult

PAPER = "ceflnet"


def _label(name: str, **options: object) -> str:
    """A component label as the leaderboard writes it: name plus sorted non-default options."""
    return f"{name}[{','.join(f'{k}={v}' for k, v in sorted(options.items()))}]" if options else name


def combination(clip_frames: int = 5, aggregator: str = "eian", **aggregator_options: object) -> str:
    """The paper's setup as a ferbench combination: 7 clips x ``clip_frames`` RGB frames at 224, ResNet-18."""
    rgb = {"sampling": "clips", "size": 224, **({"clip_frames": clip_frames} if clip_frames != 5 else {})}
    return "+".join([_label("rgb", **rgb), "resnet18", _label(aggregator, **aggregator_options), "none", "none"])


FULL = combination()


def _r(method: str, combination: str, dataset: str, protocol: str, value: float, source: str,
       macs: float | None = None, params: float | None = None) -> ReportedResult:
    return ReportedResult(PAPER, method, combination, dataset, protocol, "war", value, source, macs=macs, params=params)


def reported_results() -> list[ReportedResult]:
    """Tables 2-6 and 9 of Liu et al., Information Sciences 2022; costs (MACs per video, parameters) from
    Tables 8 and 9, measured by the paper on BU-3DFE."""
    bu = "10-fold"
    return [
        _r("CEFLNet", FULL, "bu3dfe", bu, 85.33, "Table 2", macs=63.80e9, params=12.83e6),  # cost: Table 8
        _r("CEFLNet", FULL, "mmi", "10-fold", 91.00, "Table 3"),
        _r("CEFLNet", FULL, "afew", "AFEW 8.0 train/val", 53.98, "Table 4"),
        _r("CEFLNet", FULL, "dfew", "5-fold", 65.35, "Table 5"),
        # Table 6 ablation on BU-3DFE (eian options sal/lrl/eian switch the modules)
        _r("ResNet-18", combination(aggregator="mean"), "bu3dfe", bu, 62.77, "Table 6"),
        _r("CNN-LSTM", combination(aggregator="lstm"), "bu3dfe", bu, 79.17, "Table 6"),
        _r("CEFLNet +SAL", combination(lrl=False, eian=False), "bu3dfe", bu, 84.17, "Table 6"),
        _r("CEFLNet +SAL+LRL", combination(eian=False), "bu3dfe", bu, 84.67, "Table 6"),
        # Table 9: frames per clip on BU-3DFE (7 clips)
        _r("CEFLNet 7x2 frames", combination(clip_frames=2), "bu3dfe", bu, 85.00, "Table 9", macs=25.52e9),
        _r("CEFLNet 7x10 frames", combination(clip_frames=10), "bu3dfe", bu, 84.17, "Table 9", macs=127.59e9),
        _r("CEFLNet 7x15 frames", combination(clip_frames=15), "bu3dfe", bu, 84.17, "Table 9", macs=191.39e9),
    ]

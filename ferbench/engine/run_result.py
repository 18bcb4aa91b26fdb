"""What a run returns: one :class:`FoldOutcome` per scored fold in a :class:`RunResult`, and the
per-fold table the runner prints (:func:`summary_table`)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from tabulate import tabulate

from ..components import Evaluation
from ..metrics import format_mean_std, summarize
from ..results import FoldRecord


@dataclasses.dataclass
class FoldOutcome:
    """One scored fold.

    Attributes:
        fold: fold index.
        metrics: what the record stores under ``metrics``.
        selection: ``"last"`` or ``"best-val"``.
        predictions_csv: per-sample predictions of the test fold.
        confusion_png: the fold's confusion matrix.
        evaluation: the test fold's predictions with the aggregator's extras.
        record: the record written for the fold.
    """

    fold: int
    metrics: dict[str, Any]
    selection: str
    predictions_csv: Path
    confusion_png: Path
    evaluation: Evaluation | None = None
    record: FoldRecord | None = None


@dataclasses.dataclass
class RunResult:
    run_id: str
    config_hash: str
    combination: str
    dataset: str
    protocol: str
    folds: list[FoldOutcome]
    skipped: list[int]
    setup: str = ""
    failures: list[dict[str, str]] = dataclasses.field(default_factory=list)


def summary_table(result: RunResult) -> str:
    """Per-fold table plus a mean ± std line."""
    rows = [
        [o.fold, f"{o.metrics['war']:.2f}", f"{o.metrics['uar']:.2f}", f"{o.metrics['macro_f1']:.2f}", o.selection]
        for o in result.folds
    ]
    n = len(result.folds)
    agg = [format_mean_std(*summarize([o.metrics[m] for o in result.folds]), n) for m in ("war", "uar", "macro_f1")]
    rows.append(["mean ± std", *agg, ""])
    setup = f"; training: {result.setup}" if result.setup else ""
    title = f"{result.combination} on {result.dataset} ({result.protocol}{setup}), run {result.run_id}"
    return title + "\n" + tabulate(rows, headers=["fold", "WAR %", "UAR %", "macro-F1 %", "checkpoint"], tablefmt="github")

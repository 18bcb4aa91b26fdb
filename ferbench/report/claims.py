"""The claims table the report shows: ``<output_dir>/claims.json`` as typed rows.

``ferbench claims`` writes a JSON list with one object per claim of a paper
plugin (:meth:`ferbench.claims.ClaimResult.as_dict`; see :class:`ClaimRow` for
the keys; NaN stands for "not measured"). The report reads it as is: a
missing key shows as an empty cell, a file that is not such a list gives a
one-line problem instead of a table (the rest of the site is still built).
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

__all__ = ["VERDICTS", "ClaimRow", "read_claims"]

VERDICTS = ("reproduced", "contradicted", "inconclusive", "not run")


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return None if math.isnan(float(value)) else float(value)


@dataclasses.dataclass(frozen=True)
class ClaimRow:
    """One claim and its verdict.

    Attributes:
        plugin: the plugin that states the claim.
        paper: the paper it comes from.
        name: short name of the claim.
        statement: the claim in words.
        source: where in the paper (``"Table 6"``).
        paper_effect: the effect the paper reports, as text.
        metric: the record metric compared (``"war"``, ``"uar"``, ``"macro_f1"`` or a component's).
        baseline_metric: for one-arm claims, the metric ``metric`` is compared with.
        direction: which way the effect should go: ``"greater"`` (A > B), ``"less"`` or ``"equal"``.
        min_effect: smallest difference that counts, in units of the metric.
        scale: the scale the claim was tested at (``"cpu"``, ``"gpu"``).
        dataset: the dataset it was tested on.
        arms: the arm labels compared: (A, B), or (A,) for a one-arm claim.
        n: paired (seed, fold) differences.
        mean_a, mean_b: the arms' means over the pairs (B: the baseline metric of a one-arm claim).
        mean_diff: mean paired difference A - B (None when not run).
        ci_low, ci_high: the 95% confidence interval of ``mean_diff`` (None when not run).
        p_value: the test's p-value (None when not run).
        verdict: ``"reproduced"``, ``"contradicted"``, ``"inconclusive"`` or ``"not run"`` (lower case;
            another word is shown as written).
        note: why a claim was not checked, or what was left out.
        command: the command that reproduces the verdict.
    """

    plugin: str = ""
    paper: str = ""
    name: str = ""
    statement: str = ""
    source: str = ""
    paper_effect: str = ""
    metric: str = ""
    baseline_metric: str = ""
    direction: str = ""
    min_effect: float | None = None
    scale: str = ""
    dataset: str = ""
    arms: tuple[str, ...] = ()
    n: int | None = None
    mean_a: float | None = None
    mean_b: float | None = None
    mean_diff: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    verdict: str = "not run"
    note: str = ""
    command: str = ""

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> "ClaimRow":
        """A row from one object of ``claims.json`` (unknown keys ignored, missing ones empty)."""
        text = lambda key: "" if raw.get(key) is None else str(raw.get(key))  # noqa: E731
        arms = raw.get("arms") or ()
        if isinstance(arms, str):
            arms = (arms,)
        n = raw.get("n")
        verdict = text("verdict").strip().lower() or "not run"
        return cls(
            plugin=text("plugin"), paper=text("paper"), name=text("name"), statement=text("statement"),
            source=text("source"), paper_effect=text("paper_effect"), metric=text("metric"),
            baseline_metric=text("baseline_metric"), direction=text("direction"),
            min_effect=_float(raw.get("min_effect")), scale=text("scale"), dataset=text("dataset"),
            arms=tuple(str(a) for a in arms) if isinstance(arms, (list, tuple)) else (str(arms),),
            n=int(n) if isinstance(n, (int, float)) and not isinstance(n, bool) and not math.isnan(n) else None,
            mean_a=_float(raw.get("mean_a")), mean_b=_float(raw.get("mean_b")),
            mean_diff=_float(raw.get("mean_diff")), ci_low=_float(raw.get("ci_low")),
            ci_high=_float(raw.get("ci_high")), p_value=_float(raw.get("p_value")),
            verdict=verdict, note=text("note"), command=text("command"),
        )


def read_claims(path: str | Path) -> tuple[tuple[ClaimRow, ...] | None, str]:
    """``(rows, "")`` from a claims file, or ``(None, problem)`` with one line saying what is wrong."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as err:
        return None, f"{path} is not readable JSON ({type(err).__name__}); rerun 'ferbench claims' to rewrite it"
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        return None, f"{path} is not a JSON list of claim objects; rerun 'ferbench claims' to rewrite it"
    return tuple(ClaimRow.from_json(item) for item in raw), ""

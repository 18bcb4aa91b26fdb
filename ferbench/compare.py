"""Paired comparison of two leaderboard rows: mean difference, bootstrap CI, Wilcoxon test.

Two rows are compared on the folds they share: records are paired by
(dataset, protocol, seed, fold), so every difference is between two models
trained and tested on exactly the same split. Rows on different datasets or
protocols, or with no (seed, fold) in common, are refused with one line
saying what differs.

Statistics of the paired differences d = A - B (metric in percentage points):
the mean, a 95 % percentile bootstrap confidence interval of the mean
(``scipy.stats.bootstrap``, 10 000 resamples, fixed seed), and the two-sided
Wilcoxon signed-rank p-value (``scipy.stats.wilcoxon``; 1.0 when every
difference is 0). Fewer than 2 pairs give no interval.
"""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from typing import Any, Literal, Sequence

import numpy as np
import pandas as pd
from tabulate import tabulate

from .errors import FerbenchError
from .fileio import csv_text

#: --metric spellings -> record column
METRIC_ALIASES = {"war": "war", "uar": "uar", "f1": "macro_f1", "macro_f1": "macro_f1", "macro-f1": "macro_f1"}


@dataclasses.dataclass(frozen=True)
class PairedEffect:
    """Statistics of paired differences.

    Attributes:
        n: number of pairs.
        mean: mean difference.
        ci_low, ci_high: 95 % bootstrap confidence interval of the mean (NaN for n < 2).
        p_value: Wilcoxon signed-rank p-value, two-sided (NaN for n < 1).
    """

    n: int
    mean: float
    ci_low: float
    ci_high: float
    p_value: float


def paired_effect(diffs: Sequence[float], *, confidence: float = 0.95, seed: int = 0) -> PairedEffect:
    """Mean, bootstrap CI and Wilcoxon p-value of paired differences ``diffs``."""
    from scipy import stats

    d = np.asarray([x for x in diffs if x is not None and not math.isnan(x)], dtype=float)
    n = len(d)
    if n == 0:
        return PairedEffect(0, math.nan, math.nan, math.nan, math.nan)
    mean = float(d.mean())
    lo = hi = math.nan
    if n >= 2:
        if np.allclose(d, d[0]):
            lo = hi = float(d[0])
        else:
            res = stats.bootstrap((d,), np.mean, confidence_level=confidence, n_resamples=10_000, method="percentile",
                                  rng=np.random.default_rng(seed))
            lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if np.all(d == 0):
        p = 1.0
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # small-n and ties notes
            p = float(stats.wilcoxon(d).pvalue)
    return PairedEffect(n, mean, lo, hi, p)


@dataclasses.dataclass(frozen=True)
class Comparison:
    """A paired comparison of rows A and B on one metric.

    Attributes:
        metric: the record column compared (``war``, ``uar``, ``macro_f1`` or a component's metric).
        a, b: the rows' labels (combination, plus the training setup when it is not the default).
        a_id, b_id: the rows' leaderboard ids.
        dataset, protocol: what both rows share.
        mean_a, mean_b: means of A and B over the paired folds.
        effect: statistics of A - B.
        unpaired: records of either row left out because the other row lacks that (seed, fold).
    """

    metric: str
    a: str
    b: str
    a_id: str
    b_id: str
    dataset: str
    protocol: str
    mean_a: float
    mean_b: float
    effect: PairedEffect
    unpaired: int = 0

    def line(self) -> str:
        """One sentence: ``A vs B (WAR, synthetic): +12.30 points [95% CI +8.10, +16.40], Wilcoxon p=0.002, n=10``."""
        e = self.effect
        ci = f" [95% CI {e.ci_low:+.2f}, {e.ci_high:+.2f}]" if not math.isnan(e.ci_low) else ""
        extra = f"; {self.unpaired} unpaired record(s) left out" if self.unpaired else ""
        return (f"{self.a} vs {self.b} ({metric_title(self.metric)}, {self.dataset}, {self.protocol}): "
                f"{e.mean:+.2f} points{ci}, Wilcoxon p={e.p_value:.3g}, n={e.n} paired folds{extra}")

    def as_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "a": self.a, "b": self.b, "a_id": self.a_id, "b_id": self.b_id,
                "dataset": self.dataset, "protocol": self.protocol, "mean_a": self.mean_a, "mean_b": self.mean_b,
                "mean_diff": self.effect.mean, "ci_low": self.effect.ci_low, "ci_high": self.effect.ci_high,
                "p_value": self.effect.p_value, "n": self.effect.n, "unpaired": self.unpaired}


def metric_title(metric: str) -> str:
    return {"war": "WAR", "uar": "UAR", "macro_f1": "macro-F1"}.get(metric, metric)


def metric_column(name: str) -> str:
    """``f1`` -> ``macro_f1``; other names pass unchanged (component metrics such as ``identity_probe``)."""
    return METRIC_ALIASES.get(name.lower(), name)


def _row_label(row: pd.Series) -> str:
    setup = f" ({row['setup']})" if isinstance(row.get("setup"), str) and row["setup"] else ""
    return f"{row['combination']}{setup}"


def find_row(board: pd.DataFrame, key: str) -> pd.Series:
    """The measured leaderboard row whose id is ``key``, or whose combination label is ``key``.

    Raises:
        FerbenchError: no such row, or a label that names several rows (the message lists their ids).
    """
    measured = board[board["kind"] == "measured"]
    hit = measured[measured["id"] == key]
    if hit.empty:
        hit = measured[measured["combination"] == key]
    if hit.empty:
        raise FerbenchError(f"no measured leaderboard row with id or combination '{key}'; "
                            "see the ids in 'ferbench leaderboard'")
    if len(hit) > 1:
        listed = "; ".join(f"{r['id']} = {r['dataset']} {_row_label(r)}" for _, r in hit.iterrows())
        raise FerbenchError(f"'{key}' names {len(hit)} leaderboard rows ({listed}); use one id (or --dataset)")
    return hit.iloc[0]


def row_records(records: pd.DataFrame, row: pd.Series) -> pd.DataFrame:
    """The "ok" fold records behind a measured leaderboard row, one per (seed, fold) (newest kept)."""
    df = records[records["status"] == "ok"] if "status" in records else records
    mask = (df["dataset"] == row["dataset"]) & (df["protocol"] == row["protocol"]) & \
        (df["combination"] == row["combination"]) & (df["setup"].fillna("") == (row["setup"] or "")) & \
        (df["selection"] == row["selection"])
    out = df[mask]
    key = ["dataset", "seed", "fold"]
    return out.sort_values("id").drop_duplicates(key, keep="last") if "id" in out else out.drop_duplicates(key, keep="last")


def compare_records(a: pd.DataFrame, b: pd.DataFrame, metric: str, *, labels: tuple[str, str] = ("A", "B"),
                    ids: tuple[str, str] = ("", "")) -> Comparison:
    """Pair two sets of fold records by (dataset, protocol, seed, fold) and compare ``metric``.

    Raises:
        FerbenchError: the sets are on different datasets or protocols, share no (seed, fold), or lack the metric.
    """
    metric = metric_column(metric)
    for side, df in zip(labels, (a, b)):
        if df.empty:
            raise FerbenchError(f"{side} has no fold records")
        if metric not in df.columns or df[metric].isna().all():
            raise FerbenchError(f"{side} has no '{metric}' in its records; choose war, uar, f1 or a metric its runs record")
    for field, what in (("dataset", "datasets"), ("protocol", "protocols")):
        va, vb = sorted(set(a[field])), sorted(set(b[field]))
        if va != vb:
            raise FerbenchError(f"cannot pair {labels[0]} and {labels[1]}: different {what} ({', '.join(va)} vs "
                                f"{', '.join(vb)}); compare rows of the same dataset and protocol")
    key = ["dataset", "protocol", "seed", "fold"]
    merged = a[key + [metric]].merge(b[key + [metric]], on=key, suffixes=("_a", "_b")).dropna()
    if merged.empty:
        fa = sorted(set(zip(a["seed"], a["fold"])))
        fb = sorted(set(zip(b["seed"], b["fold"])))
        raise FerbenchError(f"cannot pair {labels[0]} and {labels[1]}: no (seed, fold) in common ({labels[0]} has "
                            f"{_pairs(fa)}, {labels[1]} has {_pairs(fb)}); run both on the same seeds and folds")
    xa, xb = merged[f"{metric}_a"].to_numpy(float), merged[f"{metric}_b"].to_numpy(float)
    unpaired = len(a) + len(b) - 2 * len(merged)
    return Comparison(metric, labels[0], labels[1], ids[0], ids[1], ", ".join(sorted(set(a["dataset"]))),
                      ", ".join(sorted(set(a["protocol"]))), float(xa.mean()), float(xb.mean()),
                      paired_effect(xa - xb), unpaired)


def _pairs(pairs: list[tuple]) -> str:
    return "seed/fold " + ", ".join(f"{s}/{f}" for s, f in pairs[:8]) + (" ..." if len(pairs) > 8 else "")


def compare_rows(records: pd.DataFrame, board: pd.DataFrame, a: str, b: str, metric: str = "war") -> Comparison:
    """Compare leaderboard rows ``a`` and ``b`` (ids or combination labels) on ``metric``."""
    ra, rb = find_row(board, a), find_row(board, b)
    if ra["id"] == rb["id"]:
        raise FerbenchError(f"'{a}' and '{b}' are the same leaderboard row; compare two different rows")
    for field, what in (("dataset", "datasets"), ("protocol", "protocols")):
        if ra[field] != rb[field]:
            raise FerbenchError(f"cannot pair {ra['id']} and {rb['id']}: different {what} ({ra[field]} vs {rb[field]}); "
                                "compare rows of the same dataset and protocol")
    same_setup = (ra["setup"] or "") == (rb["setup"] or "")
    labels = (ra["combination"], rb["combination"]) if same_setup else (_row_label(ra), _row_label(rb))
    return compare_records(row_records(records, ra), row_records(records, rb), metric,
                           labels=labels, ids=(ra["id"], rb["id"]))


def render_comparison(c: Comparison, fmt: Literal["md", "csv", "json"] = "md") -> str:
    """The comparison as a Markdown table plus its one-line summary, as CSV, or as JSON."""
    if fmt == "json":
        return json.dumps(c.as_dict(), indent=1, default=str)
    if fmt == "csv":
        d = c.as_dict()
        return csv_text(list(d), [list(d.values())])
    if fmt != "md":
        raise FerbenchError(f"unknown format '{fmt}'; use md, csv or json")
    e = c.effect
    ci = f"[{e.ci_low:+.2f}, {e.ci_high:+.2f}]" if not math.isnan(e.ci_low) else "n < 2"
    table = tabulate([[f"{c.a_id} {c.a}", f"{c.b_id} {c.b}", f"{c.mean_a:.2f}", f"{c.mean_b:.2f}",
                       f"{e.mean:+.2f}", ci, f"{e.p_value:.3g}", e.n]],
                     headers=["A", "B", f"A {metric_title(c.metric)} %", f"B {metric_title(c.metric)} %",
                              "A - B", "95% CI", "Wilcoxon p", "n"],
                     tablefmt="github", disable_numparse=True)
    return table + "\n\n" + c.line() + "\n"

"""Leaderboard: measured fold records grouped per combination, beside paper numbers.

:func:`build_leaderboard` turns the store's per-fold frame
(:meth:`ferbench.results.ResultsStore.dataframe`) into one row per
(dataset, protocol, combination, selection) and adds a row per reported paper
result; :func:`render_leaderboard` writes it as CSV or Markdown.

Definitions (all metric values are **percent**):

* ``war``, ``uar``, ``macro_f1``: mean over **all** "ok" fold records of the
  group, i.e. over folds *and* seeds together (3 seeds x 5 folds = 15 values).
* ``*_std``: sample standard deviation (ddof=1) over those same fold records,
  so it mixes fold-to-fold and seed-to-seed spread; 0.0 for a single record.
  It is *not* the std of per-seed means.
* ``folds``: number of fold records in the group (empty for reported rows).
* ``params``: parameters (count), ``macs``: multiply-accumulates per sample,
  ``frames_per_s``: inference throughput — means over the group's records.
* ``seeds``: sorted, comma-separated distinct seeds.
* ``id``: a short, stable id of the row (a hash of its identity columns), what
  ``ferbench compare`` and the report site accept in place of a label.

A fold counts once: records are de-duplicated on (config hash, seed, fold),
keeping the newest, before grouping.

The (dataset, combination, setup) strings are the group's identity: the
engine writes non-default component and dataset options into the labels
(``rgb[frames=16]+resnet18+...``, ``synthetic[identity_bias=0.8]``) and
non-default training options into ``setup`` (``epochs=2, lr=0.0001``), so
runs that differ only by seed are pooled and other variants stay apart. Records evaluated with different
checkpoint ``selection`` ("last" vs "best-val") are never pooled: the
``selection`` column tells them apart (empty for reported rows).
"""

from __future__ import annotations

import math
from typing import Any, Literal, Mapping, Sequence

import pandas as pd
from tabulate import tabulate

from .components import ReportedResult
from .fileio import neutralise_cell
from .metrics import format_mean_std, summarize
from .options import stable_hash

__all__ = ["LEADERBOARD_COLUMNS", "build_leaderboard", "render_leaderboard"]

METRICS = ("war", "uar", "macro_f1")
COSTS = ("params", "macs", "frames_per_s")
LEADERBOARD_COLUMNS = [
    "id", "dataset", "protocol", "combination", "setup", "kind", "selection", "folds",
    "war", "war_std", "uar", "uar_std", "macro_f1", "macro_f1_std",
    "params", "macs", "frames_per_s", "seeds", "source",
]
# ReportedResult.metric -> leaderboard column
_REPORTED_METRIC = {"war": "war", "uar": "uar", "f1": "macro_f1", "macro_f1": "macro_f1"}
#: the columns that identify a leaderboard row (its ``id`` hashes them)
ROW_IDENTITY = ("dataset", "protocol", "combination", "setup", "selection", "kind", "source")


def dataset_name(label: str) -> str:
    """``"synthetic[identity_bias=0.8]"`` -> ``"synthetic"`` (records label dataset variants)."""
    return str(label).split("[", 1)[0]


def _nan() -> float:
    return float("nan")


def _measured_rows(df: pd.DataFrame) -> list[dict[str, Any]]:
    if df is None or len(df) == 0:
        return []
    df = df.copy()
    if "status" in df.columns:
        df = df[df["status"] == "ok"]
    for name in ("selection", "setup"):
        if name not in df.columns:
            df[name] = ""
        df[name] = df[name].fillna("")
    rows = []
    keys = ["dataset", "protocol", "combination", "setup", "selection"]
    fold_key = (["config_hash"] if "config_hash" in df.columns else keys) + ["seed", "fold"]
    if all(k in df.columns for k in fold_key):
        order = "id" if "id" in df.columns else None
        df = (df.sort_values(order, kind="mergesort") if order else df).drop_duplicates(fold_key, keep="last")
    for key, group in df.groupby(keys, sort=True, dropna=False):
        row: dict[str, Any] = dict(zip(keys, key))
        row.update(kind="measured", folds=len(group), source="ferbench")
        for name in METRICS:
            values = pd.to_numeric(group[name], errors="coerce").dropna() if name in group else []
            mean, std = summarize(list(values))
            row[name], row[f"{name}_std"] = mean, std
        for name in COSTS:
            values = pd.to_numeric(group[name], errors="coerce").dropna() if name in group else []
            row[name] = float(values.mean()) if len(values) else _nan()
        seeds = sorted({int(s) for s in group["seed"].dropna()}) if "seed" in group else []
        row["seeds"] = ",".join(str(s) for s in seeds)
        rows.append(row)
    return rows


def _reported_rows(reported: Sequence[ReportedResult], dataset: str | None) -> list[dict[str, Any]]:
    merged: dict[tuple, dict[str, Any]] = {}
    for r in reported:
        if dataset is not None and r.dataset != dataset:
            continue
        column = _REPORTED_METRIC.get(r.metric.lower())
        if column is None:
            raise ValueError(
                f"reported result {r.paper} {r.method}: unknown metric {r.metric!r} "
                f"(use one of {', '.join(sorted(_REPORTED_METRIC))})"
            )
        key = (r.dataset, r.protocol, r.combination, r.paper, r.method, r.source)
        row = merged.get(key)
        if row is None:
            row = merged[key] = {
                "dataset": r.dataset, "protocol": r.protocol, "combination": r.combination,
                "kind": "reported", "setup": "", "selection": "", "folds": None, "seeds": "",
                "source": f"{r.paper} {r.source} ({r.method})",
                **{m: _nan() for m in METRICS}, **{f"{m}_std": _nan() for m in METRICS},
                **{c: _nan() for c in COSTS},
            }
            if r.macs is not None:
                row["macs"] = float(r.macs)
            if r.params is not None:
                row["params"] = float(r.params)
        row[column] = float(r.value)
    return list(merged.values())


def build_leaderboard(
    records_df: pd.DataFrame | None,
    reported: Sequence[ReportedResult] = (),
    dataset: str | None = None,
    headline: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Build the leaderboard frame (columns :data:`LEADERBOARD_COLUMNS`).

    Args:
        records_df: per-fold frame from ``ResultsStore.dataframe()``; needs
            ``dataset, protocol, combination, seed, war, uar, macro_f1`` and
            optionally ``params, macs, frames_per_s, selection, status``
            (rows whose status is not "ok" are dropped).
        reported: paper numbers; each becomes (part of) a ``kind="reported"``
            row, its value in the column of its metric ("f1" -> ``macro_f1``);
            results with the same dataset, protocol, combination, paper,
            method and source share one row.
        dataset: keep only this dataset (measured and reported).
        headline: dataset -> "war" | "uar" | "macro_f1" to sort by (default "war").

    Returns:
        One row per measured (dataset, protocol, combination, selection) and
        per reported result; datasets in alphabetical order, within a dataset
        sorted by the headline metric descending (measured and reported
        interleaved by value, missing values last).
    """
    headline = dict(headline or {})
    for name, metric in headline.items():
        if metric not in METRICS:
            raise ValueError(f"headline metric for {name!r} must be one of {METRICS}, got {metric!r}")
    df = records_df
    if df is not None and dataset is not None and len(df):
        df = df[df["dataset"].map(dataset_name) == dataset]
    rows = _measured_rows(df) + _reported_rows(reported, dataset)
    for row in rows:
        row["id"] = row_id(row)
    board = pd.DataFrame(rows, columns=LEADERBOARD_COLUMNS)
    if board.empty:
        return board.reset_index(drop=True)

    board["_key"] = [
        row[headline.get(row["dataset"], "war")] for _, row in board.iterrows()
    ]
    board["_key"] = pd.to_numeric(board["_key"], errors="coerce")
    board["_reported"] = (board["kind"] == "reported").astype(int)
    board = board.sort_values(
        ["dataset", "_key", "_reported", "combination"],
        ascending=[True, False, True, True],
        na_position="last",
        kind="mergesort",
    )
    board = board.drop(columns=["_key", "_reported"]).reset_index(drop=True)
    board["folds"] = board["folds"].astype("Int64")
    for name in ("params", "macs"):
        board[name] = pd.to_numeric(board[name], errors="coerce").round().astype("Int64")
    for name in [*METRICS, *(f"{m}_std" for m in METRICS), "frames_per_s"]:
        board[name] = pd.to_numeric(board[name], errors="coerce").astype("float64")
    return board


def row_id(row: Mapping[str, Any]) -> str:
    """The short id of a leaderboard row: a hash of its :data:`ROW_IDENTITY` columns (6 hex digits)."""
    return stable_hash([str(row.get(k) or "") for k in ROW_IDENTITY], length=6)


# --------------------------------------------------------------------------- rendering


def human_count(value: Any, digits: int = 2) -> str:
    """1234567 -> ``"1.23M"``, 63.8e9 -> ``"63.80G"``; missing (None, NaN, NA) -> ``""``."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    v = float(value)
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(v) >= size:
            return f"{v / size:.{digits}f}{suffix}"
    return f"{v:.0f}"


def _cell(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).replace("|", "\\|").replace("\n", " ")


def render_leaderboard(df: pd.DataFrame, fmt: Literal["csv", "md"]) -> str:
    """Render a :func:`build_leaderboard` frame as text.

    ``"csv"``: every column, metrics rounded to 4 decimals, via ``to_csv``;
    string cells starting with ``= + - @``, tab or CR get a leading ``'`` so
    spreadsheets do not run them as formulas (numeric cells are untouched).

    ``"md"``: GitHub table via tabulate; metrics as ``"87.50 ± 2.10"``
    (std = sample std over fold records; just the mean for one record or a
    reported row), params and MACs per sample in K/M/G, frames/s with one decimal.
    """
    if fmt == "csv":
        out = df.copy()
        for name in out.columns:
            if out[name].dtype == "float64":
                out[name] = out[name].round(4)
            elif not pd.api.types.is_numeric_dtype(out[name]):
                out[name] = out[name].map(neutralise_cell)
        return out.to_csv(index=False)
    if fmt != "md":
        raise ValueError(f"unknown leaderboard format {fmt!r}; use 'csv' or 'md'")
    headers = ["id", "dataset", "protocol", "combination", "training", "kind", "selection", "folds",
               "WAR %", "UAR %", "macro-F1 %", "params", "MACs/sample", "frames/s", "seeds", "source"]
    table = []
    for _, row in df.iterrows():
        n = 1 if row["kind"] == "reported" or pd.isna(row["folds"]) else int(row["folds"])
        table.append([
            _cell(row["id"]), _cell(row["dataset"]), _cell(row["protocol"]), _cell(row["combination"]),
            _cell(row["setup"]), _cell(row["kind"]), _cell(row["selection"]), _cell(row["folds"]),
            *(_cell(format_mean_std(row[m], row[f"{m}_std"], n)) for m in METRICS),
            human_count(row["params"]), human_count(row["macs"]),
            "" if pd.isna(row["frames_per_s"]) else f"{row['frames_per_s']:.1f}",
            _cell(row["seeds"]), _cell(row["source"]),
        ])
    return tabulate(table, headers=headers, tablefmt="github", disable_numparse=True) + "\n"

"""Tests for ferbench.leaderboard: grouping, sorting, reported rows, rendering."""

from __future__ import annotations

import csv
import io
import math

import pandas as pd
import pytest

from ferbench.components import ReportedResult
from ferbench.leaderboard import LEADERBOARD_COLUMNS, build_leaderboard, render_leaderboard

PROTO = "5-fold subject-independent"


def rec(combination, seed, fold, war, uar, *, dataset="synthetic", status="ok", selection="last"):
    return {
        "dataset": dataset, "protocol": PROTO, "combination": combination, "seed": seed,
        "fold": fold, "status": status, "selection": selection, "war": war, "uar": uar,
        "macro_f1": war - 10, "params": 1000, "macs": 2_000_000, "frames_per_s": 50.0 + fold,
    }


def records() -> pd.DataFrame:
    return pd.DataFrame([
        # combination A: 2 seeds x 2 folds; war 80, 90, 70, 100 -> mean 85,
        # sample std sqrt((25 + 25 + 225 + 225) / 3) = sqrt(500/3); uar 60..90 -> mean 75
        rec("rgb+cnn+mean+none+none", 0, 0, 80.0, 60.0),
        rec("rgb+cnn+mean+none+none", 0, 1, 90.0, 70.0),
        rec("rgb+cnn+mean+none+none", 1, 0, 70.0, 80.0),
        rec("rgb+cnn+mean+none+none", 1, 1, 100.0, 90.0),
        # combination B: war 88, 92 -> mean 90, std sqrt(8); uar 50, 60 -> mean 55
        rec("residual+cnn+lstm+none+none", 0, 0, 88.0, 50.0),
        rec("residual+cnn+lstm+none+none", 0, 1, 92.0, 60.0),
        # a failed fold must not count
        rec("residual+cnn+lstm+none+none", 0, 2, 0.0, 0.0, status="failed"),
        # another dataset
        rec("rgb+cnn+mean+none+none", 0, 0, 40.0, 30.0, dataset="afew"),
    ])


REPORTED = [
    ReportedResult("ifercv", "IFERCV", "residual+ifercv-cnn+lstm+ifercv+none", "synthetic",
                   PROTO, "war", 87.0, "Table I"),
    ReportedResult("sna", "SNA", "rgb+sna+mean+none+sna", "afew", "official split", "uar", 35.0, "Table 2"),
]


def test_grouping_mean_std_over_folds_and_seeds():
    board = build_leaderboard(records(), dataset="synthetic")
    assert list(board.columns) == LEADERBOARD_COLUMNS
    a = board[board["combination"] == "rgb+cnn+mean+none+none"].iloc[0]
    assert a["kind"] == "measured" and a["folds"] == 4 and a["seeds"] == "0,1"
    assert a["war"] == pytest.approx(85.0)
    assert a["war_std"] == pytest.approx(math.sqrt(500 / 3))
    assert a["uar"] == pytest.approx(75.0)
    assert a["macro_f1"] == pytest.approx(75.0)
    assert a["params"] == 1000 and a["macs"] == 2_000_000
    assert a["frames_per_s"] == pytest.approx(50.5)
    b = board[board["combination"] == "residual+cnn+lstm+none+none"].iloc[0]
    assert b["folds"] == 2  # failed fold dropped
    assert (b["war"], b["war_std"]) == (pytest.approx(90.0), pytest.approx(math.sqrt(8)))
    assert set(board["dataset"]) == {"synthetic"}


def test_sorting_by_headline_with_reported_interleaved():
    board = build_leaderboard(records(), REPORTED, dataset="synthetic")
    # war: B 90 > reported 87 > A 85
    assert list(board["kind"]) == ["measured", "reported", "measured"]
    assert list(board["war"]) == [90.0, 87.0, 85.0]
    by_uar = build_leaderboard(records(), REPORTED, dataset="synthetic", headline={"synthetic": "uar"})
    # uar: A 75 > B 55 > reported (no uar: last)
    assert list(by_uar["combination"]) == [
        "rgb+cnn+mean+none+none", "residual+cnn+lstm+none+none", "residual+ifercv-cnn+lstm+ifercv+none"]
    with pytest.raises(ValueError):
        build_leaderboard(records(), headline={"synthetic": "speed"})


def test_reported_rows_present_and_marked():
    board = build_leaderboard(records(), REPORTED)
    assert list(board["dataset"]) == ["afew", "afew", "synthetic", "synthetic", "synthetic"]
    rep = board[board["kind"] == "reported"]
    assert len(rep) == 2
    ifercv = rep[rep["dataset"] == "synthetic"].iloc[0]
    assert ifercv["source"].startswith("ifercv Table I")
    assert ifercv["war"] == 87.0 and math.isnan(ifercv["uar"]) and pd.isna(ifercv["folds"])
    sna = rep[rep["dataset"] == "afew"].iloc[0]
    assert sna["uar"] == 35.0 and math.isnan(sna["war"])
    only_reported = build_leaderboard(pd.DataFrame(), REPORTED, dataset="afew")
    assert list(only_reported["kind"]) == ["reported"]


def test_selection_never_pooled():
    df = pd.DataFrame([rec("x", 0, 0, 80.0, 80.0), rec("x", 0, 0, 90.0, 90.0, selection="best-val")])
    board = build_leaderboard(df)
    assert sorted(board["selection"]) == ["best-val", "last"]


def test_csv_neutralises_formula_cells():
    df = pd.DataFrame([rec("=cmd()", 0, 0, 80.0, 70.0), rec("+1", 0, 0, 60.0, 50.0),
                       rec("-rgb", 0, 0, 50.0, 40.0)])
    text = render_leaderboard(build_leaderboard(df), "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["combination"] for r in rows] == ["'=cmd()", "'+1", "'-rgb"]
    assert rows[0]["war"] == "80.0"  # numbers untouched
    assert rows[0]["folds"] == "1" and rows[0]["params"] == "1000"
    assert "=cmd()" not in text.replace("'=cmd()", "")


def test_markdown_has_mean_std():
    text = render_leaderboard(build_leaderboard(records(), REPORTED), "md")
    assert "±" in text
    assert "90.00 ± 2.83" in text  # B: mean 90, std sqrt(8)
    assert "| 87.00 " in text  # reported: value only
    assert "2.00M" in text  # MACs per sample
    assert text.splitlines()[1].startswith("|--")
    with pytest.raises(ValueError):
        render_leaderboard(build_leaderboard(records()), "xlsx")  # type: ignore[arg-type]


def test_empty_inputs():
    board = build_leaderboard(pd.DataFrame())
    assert board.empty and list(board.columns) == LEADERBOARD_COLUMNS
    assert render_leaderboard(board, "csv").startswith("id,dataset,protocol")
    assert "combination" in render_leaderboard(board, "md")


def test_from_results_store(tmp_path):
    from ferbench.results import FoldRecord, ResultsStore

    store = ResultsStore(tmp_path / "r.db")
    for fold, war in enumerate([80.0, 82.0]):
        store.add(FoldRecord(
            run_id="r1", config_hash="h", combination="rgb+cnn+mean+none+none", dataset="synthetic",
            protocol=PROTO, fold=fold, seed=3, status="ok", selection="best-val", config={},
            metrics={"war": war, "uar": war, "macro_f1": war, "params": 10, "macs": 40,
                     "frames_per_s": 5.0},
            timings={"wall_s": 1.0}, versions={}, host="h"))
    board = build_leaderboard(store.dataframe())
    row = board.iloc[0]
    assert (row["folds"], row["war"], row["seeds"], row["selection"]) == (2, 81.0, "3", "best-val")
    assert "81.00 ± 1.41" in render_leaderboard(board, "md")


def test_row_ids_are_short_stable_and_distinct():
    board = build_leaderboard(records(), REPORTED)
    assert board["id"].str.fullmatch(r"[0-9a-f]{6}").all()
    assert board["id"].is_unique
    assert build_leaderboard(records(), REPORTED)["id"].tolist() == board["id"].tolist()


def test_a_fold_recorded_twice_counts_once():
    """Duplicate fold records (same config hash, seed and fold; e.g. from an old store) never inflate ``folds``."""
    df = records()
    df["config_hash"] = df["combination"]
    twice = pd.concat([df, df.iloc[[0, 1]].assign(war=[0.0, 0.0])], ignore_index=True)
    twice["id"] = range(len(twice))
    a = build_leaderboard(twice, dataset="synthetic")
    row = a[a["combination"] == "rgb+cnn+mean+none+none"].iloc[0]
    assert row["folds"] == 4  # not 6
    assert row["war"] == pytest.approx((0.0 + 0.0 + 70.0 + 100.0) / 4)  # the newest record of each fold

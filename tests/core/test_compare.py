"""ferbench compare: pairing by (dataset, protocol, seed, fold), paired statistics, refusals."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy import stats

from ferbench.compare import compare_records, compare_rows, paired_effect, render_comparison
from ferbench.errors import FerbenchError
from ferbench.leaderboard import build_leaderboard

PROTO = "5-fold subject-independent"


def rec(combination, seed, fold, war, *, dataset="synthetic", protocol=PROTO, i=[0]):
    i[0] += 1
    return {"id": i[0], "dataset": dataset, "protocol": protocol, "combination": combination, "setup": "",
            "selection": "last", "status": "ok", "seed": seed, "fold": fold, "war": war, "uar": war - 1.0,
            "macro_f1": war - 2.0, "config_hash": combination + dataset}


def frame(rows):
    return pd.DataFrame(rows)


def test_paired_effect_matches_scipy():
    d = [1.0, 2.0, 3.5, -0.5, 4.0, 2.5]
    e = paired_effect(d)
    assert e.n == 6 and e.mean == pytest.approx(sum(d) / 6)
    assert e.p_value == pytest.approx(stats.wilcoxon(d).pvalue)
    assert e.ci_low < e.mean < e.ci_high and e.ci_low >= min(d) and e.ci_high <= max(d)
    assert paired_effect(d).ci_low == e.ci_low  # fixed bootstrap seed: reproducible
    same = paired_effect([2.0, 2.0, 2.0])
    assert (same.ci_low, same.ci_high) == (2.0, 2.0)
    zero = paired_effect([0.0, 0.0])
    assert zero.p_value == 1.0
    one = paired_effect([3.0])
    assert one.n == 1 and math.isnan(one.ci_low)


def _two_rows():
    rows = [rec("a+x", s, f, 80.0 + f + s) for s in (0, 1) for f in range(3)]
    rows += [rec("b+x", s, f, 70.0 + f) for s in (0, 1) for f in range(3)]
    return frame(rows)


def test_rows_are_paired_by_seed_and_fold_and_found_by_id_or_label():
    records = _two_rows()
    board = build_leaderboard(records)
    a_id = board[board["combination"] == "a+x"]["id"].iloc[0]
    c = compare_rows(records, board, a_id, "b+x")
    # A - B per pair: seed 0: 10, 10, 10; seed 1: 11, 11, 11
    assert c.effect.n == 6 and c.effect.mean == pytest.approx(10.5)
    assert c.mean_a == pytest.approx(81.5) and c.mean_b == pytest.approx(71.0)
    text = render_comparison(c, "md")
    assert "+10.50" in text and "n=6 paired folds" in text and a_id in text
    assert '"mean_diff": 10.5' in render_comparison(c, "json")
    assert render_comparison(c, "csv").splitlines()[0].startswith("metric,a,b")
    uar = compare_rows(records, board, "a+x", "b+x", "uar")
    assert uar.metric == "uar" and uar.effect.mean == pytest.approx(10.5)


def test_only_shared_folds_are_paired_and_the_rest_is_counted():
    records = frame([rec("a+x", 0, f, 80.0) for f in range(3)] + [rec("b+x", 0, f, 70.0) for f in range(2)])
    c = compare_rows(records, build_leaderboard(records), "a+x", "b+x")
    assert c.effect.n == 2 and c.unpaired == 1 and "1 unpaired record" in c.line()


@pytest.mark.parametrize("rows,needle", [
    ([rec("a+x", 0, 0, 1.0), rec("b+x", 0, 0, 1.0, dataset="afew")], "different datasets"),
    ([rec("a+x", 0, 0, 1.0), rec("b+x", 0, 0, 1.0, protocol="official")], "different protocols"),
    ([rec("a+x", 0, 0, 1.0), rec("b+x", 1, 0, 1.0)], r"no \(seed, fold\) in common"),
])
def test_unpaired_comparisons_are_refused_with_one_line(rows, needle):
    records = frame(rows)
    board = build_leaderboard(records)
    with pytest.raises(FerbenchError, match=needle) as err:
        compare_rows(records, board, board[board["combination"] == "a+x"]["id"].iloc[0],
                     board[board["combination"] == "b+x"]["id"].iloc[0])
    assert "\n" not in str(err.value)


def test_ambiguous_or_unknown_rows_and_missing_metrics():
    records = frame([rec("a+x", 0, 0, 1.0), rec("a+x", 0, 0, 1.0, dataset="afew"), rec("b+x", 0, 0, 2.0)])
    board = build_leaderboard(records)
    with pytest.raises(FerbenchError, match="names 2 leaderboard rows"):
        compare_rows(records, board, "a+x", "b+x")
    with pytest.raises(FerbenchError, match="no measured leaderboard row"):
        compare_rows(records, board, "zzz", "b+x")
    with pytest.raises(FerbenchError, match="no 'identity_probe'"):
        compare_records(records[records["combination"] == "a+x"], records[records["combination"] == "b+x"],
                        "identity_probe")

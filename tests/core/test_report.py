"""Tests for ferbench.report: gathering rows, class statistics, the Pareto front, reproduction,
claims, HTML escaping and writing the site (fold records written directly, no training)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from ferbench.cli import main
from ferbench.components import ComponentSpec, ReportedResult
from ferbench.engine.assemble import resolve
from ferbench.engine.config import config_from_dict, load_config_file, make_config, merge_config_dicts
from ferbench.errors import FerbenchError
from ferbench.fileio import atomic_write_json, write_csv
from ferbench.report import MARKER, ReportOptions, build_report
from ferbench.report.claims import read_claims
from ferbench.report.gather import gather_report
from ferbench.report.reproduce import reproduction
from ferbench.report.stats import class_summary, pareto_front
from ferbench.results import FoldRecord, ResultsStore

PROTO = "5-fold subject-independent"
EVIL = "<script>window.pwned=1</script>"
CLASSES = ["anger", "joy", "calm"]


class FakeRegistry:
    """What the report asks of a registry: reported results and each component's plugin."""

    def __init__(self, reported=()):
        self._reported = list(reported)

    def reported_results(self):
        return list(self._reported)

    def get(self, kind, name):
        if name == "unknown-thing":
            raise FerbenchError(f"unknown {kind} '{name}'")
        plugin = {"eian": "ceflnet", "sna": "sna"}.get(name, "core")
        return ComponentSpec(kind=kind, name=name, factory=lambda *a: None, options=object, description="",
                             plugin=plugin)


def make_record(combination="rgb+small-cnn+mean+none+none", *, seed=0, fold=0, war=50.0, dataset="synthetic",
                confusion=None, history=None, config_hash=None, setup="", folds=(0, 1), selection="last",
                aggregator="mean"):
    confusion = confusion if confusion is not None else [[2, 0, 0], [1, 1, 0], [0, 0, 2]]
    config = make_config({"dataset": "synthetic-tiny", "aggregator": aggregator},
                         train={"epochs": 2} if setup else None, seed=seed, folds=folds).to_dict()
    return FoldRecord(
        run_id="r", config_hash=config_hash or f"h{combination}{seed}{setup}", combination=combination,
        dataset=dataset, protocol=PROTO, fold=fold, seed=seed, status="ok", selection=selection,
        config={**config, "setup": setup},
        metrics={"war": war, "uar": war - 5, "macro_f1": war - 10, "confusion": confusion, "params": 1000,
                 "macs": 2e6, "frames_per_s": 100.0, "n_scored": 6, "selected_epoch": 2},
        timings={"train_s": 1.0}, versions={"ferbench": "0.1.0", "plugins": {"core": "0.1.0"}}, host="h",
        history=history if history is not None else [{"epoch": 1, "loss": 1.0, "train_acc": 40.0},
                                                     {"epoch": 2, "loss": 0.5, "train_acc": 60.0}],
    )


def write_fold_files(out: Path, record: FoldRecord, classes=CLASSES, samples=("s01_v000", "s01_v001")) -> None:
    fold_dir = out / "runs" / record.config_hash / f"fold{record.fold}"
    atomic_write_json(fold_dir / "fold.json", {"train": ["t1", "t2"], "val": [], "test": list(samples)})
    write_csv(fold_dir / "predictions.csv", ["sample_id", "label", "prediction", *(f"p_{c}" for c in classes)],
              [[s, 0, 0, *([0.5] * len(classes))] for s in samples])


def store_with(out: Path, records) -> ResultsStore:
    store = ResultsStore(out / "results.sqlite")
    for r in records:
        store.add(r)
    return store


# --------------------------------------------------------------------------- statistics


def test_class_summary_is_the_mean_of_row_normalised_fold_matrices():
    a = make_record(confusion=[[2, 0, 0], [1, 1, 0], [0, 0, 0]])      # class 2 not tested in this fold
    b = make_record(fold=1, confusion=[[1, 1, 0], [0, 2, 0], [0, 1, 3]])
    s = class_summary([a, b], 3)
    assert s.folds_used == 2
    np.testing.assert_allclose(s.confusion[0], [75.0, 25.0, 0.0])
    np.testing.assert_allclose(s.confusion[1], [25.0, 75.0, 0.0])
    np.testing.assert_allclose(s.confusion[2], [0.0, 25.0, 75.0])   # only the fold that tests it
    np.testing.assert_allclose(s.recall_mean, [75.0, 75.0, 75.0])
    assert s.recall_std[0] == pytest.approx(np.std([100.0, 50.0], ddof=1))
    assert s.recall_std[2] == 0.0
    np.testing.assert_array_equal(s.support, [4, 4, 4])
    assert class_summary([make_record(confusion=[[1]])], 3) is None


def test_pareto_front_keeps_only_undominated_points_by_cost():
    costs = [10, 20, 30, 40, 5]
    scores = [50, 70, 60, 80, 40]
    assert pareto_front(costs, scores) == [4, 0, 1, 3]
    assert pareto_front([1, 1], [5, 9]) == [1]


# --------------------------------------------------------------------------- gathering


def test_rows_are_tied_to_their_records_and_fold_folders(tmp_path):
    out = tmp_path / "out"
    good = [make_record(seed=s, fold=f, war=60 + s + f) for s in (0, 1) for f in (0, 1)]
    other = make_record("rgb+small-cnn+eian+none+none", war=70.0, aggregator="eian")
    store_with(out, good + [other])
    write_fold_files(out, good[0])
    reported = [ReportedResult("ceflnet", "CEFLNet", "rgb+resnet18+eian+none+none", "synthetic", "10-fold", "war",
                               85.0, "Table 2", macs=6.4e10)]
    data = gather_report(out, FakeRegistry(reported))
    assert [r.kind for r in data.rows] == ["reported", "measured", "measured"]
    row = data.measured[data.rows[2].id]
    assert row.row.folds == 4 and row.row.seeds == (0, 1)
    assert [(f.record.seed, f.record.fold) for f in row.folds] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert row.folds[0].fold_dir is not None and row.folds[1].fold_dir is None
    assert row.class_names == tuple(CLASSES)
    assert data.measured[data.rows[1].id].row.plugins == ("ceflnet", "core")
    assert data.rows[0].plugins == ("ceflnet",) and data.rows[0].macs == 6.4e10
    assert data.claims is None and data.datasets() == ["synthetic"]


def test_class_names_fall_back_when_no_predictions_file(tmp_path):
    out = tmp_path / "out"
    store_with(out, [make_record()])
    data = gather_report(out, FakeRegistry())
    assert next(iter(data.measured.values())).class_names == ("class 0", "class 1", "class 2")


def test_dataset_filter_and_unknown_dataset(tmp_path):
    out = tmp_path / "out"
    store_with(out, [make_record(), make_record(dataset="afew", config_hash="x")])
    data = gather_report(out, FakeRegistry(), datasets=["afew"])
    assert {r.dataset for r in data.rows} == {"afew"}
    with pytest.raises(FerbenchError, match="no measured or reported rows for dataset.*nope"):
        gather_report(out, FakeRegistry(), datasets=["nope"])


def test_missing_store_gives_reported_rows_and_a_note(tmp_path):
    reported = [ReportedResult("sna", "SNA", "gray112+sna+none", "ckplus", "10-fold", "war", 98.0, "Table 3")]
    data = gather_report(tmp_path / "empty", FakeRegistry(reported))
    assert len(data.rows) == 1 and not data.measured
    assert any("no results yet" in n for n in data.notes)


# --------------------------------------------------------------------------- reproduction


def test_reproduce_toml_rebuilds_the_recorded_config_hash(registry, tmp_path):
    config = make_config({"dataset": "toy", "aggregator": "lstm"}, {"input": {"frames": 4}},
                         {"epochs": 3, "lr": 0.001}, seed=2, folds=(0, 2))
    chash = config.config_hash(resolve(config, registry).options_dict(runtime=False))
    records = [FoldRecord("r", chash, "c", "toy", PROTO, f, s, "ok", "last",
                          {**config.to_dict(), "seed": s}, {}, {}, {}, "h") for s in (2, 5) for f in (0, 2)]
    rep = reproduction(records, "reproduce.toml")
    assert rep.commands == ("ferbench run --config reproduce.toml", "ferbench run --config reproduce.toml --seed 5")
    path = tmp_path / "reproduce.toml"
    path.write_text(rep.toml)
    again = config_from_dict(load_config_file(path), registry)
    assert again.folds == (0, 2) and again.seed == 2
    assert again.config_hash(resolve(again, registry).options_dict(runtime=False)) == chash
    seed5 = config_from_dict(merge_config_dicts(load_config_file(path), {"seed": 5}), registry)
    assert seed5.train == config.train and seed5.components == config.components


def test_reproduce_leaves_folds_out_when_a_run_covered_all_folds():
    records = [make_record(folds=None), make_record(fold=1, folds=(1,))]
    assert "folds" not in reproduction(records, "r.toml").toml


# --------------------------------------------------------------------------- claims


def test_claims_file_read_and_bad_files_give_one_line(tmp_path):
    path = tmp_path / "claims.json"
    path.write_text(json.dumps([{
        "plugin": "sna", "paper": "sna", "name": "sna helps", "statement": "SNA beats none", "source": "Table 5",
        "metric": "war", "direction": "greater", "min_effect": 1.0, "scale": "tiny", "dataset": "synthetic",
        "arms": ["a+sna", "a+none"], "n": 10, "mean_diff": 2.5, "ci_low": 0.5, "ci_high": 4.5, "p_value": 0.01,
        "verdict": "reproduced", "command": "ferbench claims --plugin sna", "extra": "ignored"}]))
    claims, problem = read_claims(path)
    assert problem == "" and claims[0].arms == ("a+sna", "a+none") and claims[0].ci_high == 4.5
    assert claims[0].verdict == "reproduced" and claims[0].n == 10
    path.write_text("{not json")
    claims, problem = read_claims(path)
    assert claims is None and "not readable JSON" in problem and "\n" not in problem
    path.write_text('{"a": 1}')
    assert "not a JSON list" in read_claims(path)[1]


def test_claims_written_by_ferbench_claims_are_shown(tmp_path):
    from ferbench.claims import Arm, Claim, ClaimResult, Scale
    from ferbench.compare import PairedEffect
    from ferbench.report.claims_page import claims_html

    SYNTHETIC = {"components": {"dataset": "synthetic"}}
    claim = Claim("residual-helps", "ifercv", "residual beats rgb", "Table I", "+2.9 WAR points", "war", "greater",
                  1.0, (Arm("residual"), Arm("rgb")), {}, SYNTHETIC, {"cpu": Scale(seeds=(0, 1))}, plugin="ifercv")
    one_arm = Claim("probe", "ifercv", "identity is removed", "Sec. IV", "lower", "identity_probe", "less", 5.0,
                    (Arm("adv"),), {}, SYNTHETIC, {"cpu": Scale(seeds=(0,))}, baseline_metric="identity_chance",
                    plugin="ifercv")
    results = [ClaimResult(claim, "cpu", "synthetic", PairedEffect(6, 3.1, 1.2, 5.0, 0.03), 60.0, 56.9, "reproduced"),
               ClaimResult(one_arm, "cpu", verdict="not run", note="no records: run ferbench claims --run")]
    atomic_write_json(tmp_path / "claims.json", [r.as_dict("ferbench claims") for r in results])
    claims, problem = read_claims(tmp_path / "claims.json")
    assert problem == "" and [c.verdict for c in claims] == ["reproduced", "not run"]
    assert claims[0].mean_diff == 3.1 and claims[0].mean_a == 60.0 and claims[0].arms == ("residual", "rgb")
    assert claims[1].mean_diff is None and claims[1].ci_low is None and claims[1].baseline_metric == "identity_chance"
    page = claims_html(claims, "", tmp_path / "claims.json", "now")
    assert "[1.20, 5.00]" in page and "A &gt; B by ≥ 1.00" in page and "+2.9 WAR points" in page
    assert "identity_chance of adv" in page and "no records: run ferbench claims --run" in page


# --------------------------------------------------------------------------- the site


def _planted_store(out: Path):
    """A store whose dataset, combination, class and sample names carry markup."""
    evil = make_record(f"rgb+{EVIL}+mean+none+none", dataset=EVIL, config_hash="evil")
    write_fold_files(out, evil, classes=[f"<b>{c}</b>" for c in CLASSES], samples=(EVIL, '"><img src=x>'))
    plain = make_record(war=80.0)
    write_fold_files(out, plain)
    store_with(out, [evil, plain])
    return evil, plain


def test_site_escapes_every_name(tmp_path):
    out = tmp_path / "out"
    _planted_store(out)
    site = tmp_path / "site"
    summary = build_report(ReportOptions(out=str(site), output_dir=str(out)), FakeRegistry())
    assert summary.row_pages == 2 and (site / MARKER).is_file()
    pages = [site / "index.html", site / "cost.html", site / "claims.html", *sorted((site / "rows").glob("*.html"))]
    for page in pages:
        text = page.read_text()
        # our own script is the only one; the planted markup is text
        assert len(re.findall(r"<script", text, flags=re.I)) == 1, page
        assert "<img" not in text and "<b>" not in text, page
    index = (site / "index.html").read_text()
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in index
    row_page = next(p for p in pages if p.parent.name == "rows" and "pwned" in p.read_text())
    assert "&lt;b&gt;anger&lt;/b&gt;" in row_page.read_text()      # class names from predictions.csv, escaped
    downloads = list((site / "rows").glob("*/seed0-fold0.json"))
    assert len(downloads) == 2 and any(EVIL in p.read_text() for p in downloads)


def test_site_pages_link_rows_and_carry_the_plots(tmp_path):
    out = tmp_path / "out"
    _, plain = _planted_store(out)
    atomic_write_json(out / "claims.json", [{"plugin": "sna", "name": "c1", "arms": ["x", "y"],
                                             "verdict": "inconclusive", "ci_low": -1.0, "ci_high": 2.0}])
    site = tmp_path / "site"
    summary = build_report(ReportOptions(out=str(site), output_dir=str(out), datasets=("synthetic",)), FakeRegistry())
    assert summary.claims == 1 and summary.datasets == ("synthetic",)
    index = (site / "index.html").read_text()
    ids = re.findall(r'href="rows/([0-9a-f]{6})\.html"', index)
    assert len(ids) == 1
    page = (site / "rows" / f"{ids[0]}.html").read_text()
    assert 'id="confusion"' in page and 'id="curves"' in page and page.count("<svg") == 3
    assert "ferbench run --config reproduce.toml" in page
    toml = (site / "rows" / ids[0] / "reproduce.toml").read_text()
    assert 'dataset = "synthetic-tiny"' in toml and "epochs" not in toml
    folds_csv = (site / "rows" / ids[0] / "folds.csv").read_text().splitlines()
    assert folds_csv[0] == "seed,fold,split,sample_id" and "0,0,test,s01_v000" in folds_csv
    assert "<svg" in (site / "cost.html").read_text()
    claims = (site / "claims.html").read_text()
    assert "inconclusive" in claims and "[-1.00, 2.00]" in claims


def test_row_without_history_says_no_curve(tmp_path):
    out = tmp_path / "out"
    store_with(out, [make_record(history=[])])
    site = tmp_path / "site"
    build_report(ReportOptions(out=str(site), output_dir=str(out)), FakeRegistry())
    page = next((site / "rows").glob("*.html")).read_text()
    assert "No curve recorded" in page and "fold folder missing" in page


def test_out_folder_with_other_files_is_refused_and_kept(tmp_path):
    out = tmp_path / "out"
    store_with(out, [make_record()])
    site = tmp_path / "site"
    site.mkdir()
    (site / "notes.txt").write_text("mine")
    with pytest.raises(FerbenchError, match="not a ferbench report"):
        build_report(ReportOptions(out=str(site), output_dir=str(out)), FakeRegistry())
    assert (site / "notes.txt").read_text() == "mine"
    (site / "notes.txt").unlink()
    build_report(ReportOptions(out=str(site), output_dir=str(out)), FakeRegistry())
    (site / "index.html").write_text("old")
    build_report(ReportOptions(out=str(site), output_dir=str(out)), FakeRegistry())   # an earlier report is replaced
    assert "Leaderboards" in (site / "index.html").read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".site")] == []


def test_cli_report_errors_are_one_line(tmp_path, capsys):
    out = tmp_path / "out"
    store_with(out, [make_record()])
    assert main(["report", "--output-dir", str(out), "--out", str(tmp_path / "s"), "--dataset", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ferbench: error: no measured or reported rows") and "\n" not in err


def test_two_configs_with_the_same_seed_and_fold_keep_both_fold_lists(tmp_path):
    out = tmp_path / "out"
    a, b = make_record(config_hash="aaaa"), make_record(config_hash="bbbb", war=70.0)
    for r in (a, b):
        write_fold_files(out, r, samples=(f"only-in-{r.config_hash}",))
    store_with(out, [a, b])
    site = tmp_path / "site"
    assert build_report(ReportOptions(out=str(site), output_dir=str(out)), FakeRegistry()).row_pages == 1
    files = sorted(p.name for p in (site / "rows").glob("*/*.json"))
    assert files == ["seed0-fold0-aaaa.json", "seed0-fold0-bbbb.json"]

"""``ferbench evaluate``: cross-dataset scoring with class matching, its own record and leaderboard row."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ferbench.bundle.export import export_bundle
from ferbench.cli import main
from ferbench.cross_dataset import match_classes
from ferbench.errors import FerbenchError
from ferbench.leaderboard import build_leaderboard
from ferbench.results import ResultsStore
from bundle_fixtures import CKPLUS_OPTS, MMI_OPTS, trained_run


def opts(values: dict) -> list[str]:
    return [x for k, v in values.items() for x in ("--dataset-opt", f"{k}={v}")]


def test_match_classes_by_canonical_name():
    m = match_classes(["Angry", "Happy", "Contempt", "Neutral"], ["neutral", "anger", "happiness", "fear"])
    assert m.shared == ["neutral", "anger", "happiness"] and m.source_only == ["Contempt"] and m.target_only == ["fear"]
    assert m.source_index == [3, 0, 1] and m.target_index == [0, 1, 2]
    with pytest.raises(FerbenchError, match="share no canonical class"):
        match_classes(["anger"], ["fear"])


@pytest.fixture(scope="module")
def ckplus_bundle(tmp_path_factory):
    run = trained_run(tmp_path_factory, "ckplus")
    out = tmp_path_factory.mktemp("ck-bundle") / "ck.zip"
    export_bundle(run.runner.config_hash, out, output_dir=run.output_dir, cache_dir=run.cache_dir, log=lambda _: None)
    return run, out


def test_ckplus_to_mmi_writes_a_cross_dataset_record_and_leaderboard_row(ckplus_bundle, capsys):
    run, bundle = ckplus_bundle
    out, cache = str(run.output_dir), str(run.cache_dir)
    args = ["evaluate", str(bundle), "--dataset", "synthetic-mmi", *opts(MMI_OPTS), "--output-dir", out, "--cache-dir", cache]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "model classes the target lacks (dropped from its output): contempt" in text
    records = [r for r in ResultsStore(run.output_dir / "results.sqlite").records() if r.protocol.startswith("cross")]
    assert len(records) == 1
    rec = records[0]
    assert rec.protocol == (f"cross-dataset: {run.runner.dataset_label}/3-fold subject-independent → "
                            f"synthetic-mmi[folds=2,frames=8,gop=4,size=64,subjects=4]")
    assert rec.config_hash != run.runner.config_hash and rec.combination == run.runner.combination
    classes = rec.config["cross_dataset"]["classes"]
    assert classes["source_only"] == ["contempt"] and classes["target_only"] == [] and len(classes["shared"]) == 7
    assert rec.metrics["n_scored"] > 0 and rec.metrics["source_only_classes"] == 1
    assert np.array(rec.metrics["confusion"]).shape == (7, 7) and np.array(rec.metrics["confusion"]).sum() == rec.metrics["n_scored"]
    board = build_leaderboard(ResultsStore(run.output_dir / "results.sqlite").dataframe())
    cross = board[board["protocol"] == rec.protocol]
    assert len(cross) == 1 and cross["dataset"].iloc[0].startswith("synthetic-mmi") and cross["folds"].iloc[0] == 1
    assert len(board[board["protocol"] == "3-fold subject-independent"]) == 1  # the training row stays its own
    # the same evaluation again is refused (one line), --force replaces it
    assert main(args) == 2
    assert "already recorded" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0
    assert len([r for r in ResultsStore(run.output_dir / "results.sqlite").records() if r.protocol == rec.protocol]) == 1


def test_target_classes_the_model_lacks_are_left_out_and_a_fold_can_be_chosen(tmp_path_factory, capsys):
    run = trained_run(tmp_path_factory, "tiny")  # 7 classes, no contempt
    bundle = tmp_path_factory.mktemp("tiny-bundle") / "tiny.ferbench"
    export_bundle(run.runner.config_hash, bundle, output_dir=run.output_dir, cache_dir=run.cache_dir, log=lambda _: None)
    ck = trained_run(tmp_path_factory, "ckplus")  # its generated dataset is the target
    out = tmp_path_factory.mktemp("eval-out")
    base = ["evaluate", str(bundle), "--dataset", "synthetic-ckplus", *opts(CKPLUS_OPTS), "--output-dir", str(out),
            "--cache-dir", str(ck.cache_dir)]
    assert main([*base, "--fold", "1"]) == 0
    text = capsys.readouterr().out
    assert "target classes the model lacks" in text and "contempt" in text
    rec = ResultsStore(out / "results.sqlite").records()[0]
    assert rec.fold == 1 and rec.config["cross_dataset"]["subset"] == "fold 1 test"
    assert rec.config["cross_dataset"]["classes"]["target_only"] == ["contempt"]
    contempt = ck.runner.manifest.classes.index("contempt")
    fold_ids = set(ck.runner.folds[1].test)
    n_contempt = sum(1 for s in ck.runner.manifest.samples if s.id in fold_ids and s.label == contempt)
    assert rec.metrics["n_left_out_classes"] == n_contempt and rec.metrics["n_scored"] == len(fold_ids) - n_contempt
    notes = json.loads((out / "evaluations" / rec.config_hash / "classes.json").read_text())
    assert notes["target_only"] == ["contempt"] and (out / "evaluations" / rec.config_hash / "confusion.png").is_file()
    assert main([*base, "--split", "test"]) == 2
    assert "has no 'test' split" in capsys.readouterr().err

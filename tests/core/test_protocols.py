"""Subject-independent k-fold, official splits, validation carving, fold export."""

from __future__ import annotations

import json

import pytest

from ferbench.data.manifest import Manifest, ProtocolSpec, Sample
from ferbench.data.protocols import export_folds, make_folds
from ferbench.errors import FerbenchError


def _manifest(subjects=10, per_subject=7, k=5, train_only_every=0, test_only_every=0):
    samples = []
    for s in range(subjects):
        for v in range(per_subject):
            samples.append(
                Sample(
                    id=f"s{s}_v{v}", path="", label=(s + v) % 7, subject=f"s{s}",
                    train_only=bool(train_only_every and v % train_only_every == 0),
                    test_only=bool(test_only_every and v % test_only_every == 1),
                )
            )
    return Manifest("m", [str(i) for i in range(7)], samples, ProtocolSpec("kfold", folds=k))


def test_kfold_has_no_subject_in_two_folds_and_covers_everyone():
    m = _manifest()
    folds = make_folds(m, seed=3)
    subj = {s.id: s.subject for s in m.samples}
    assert len(folds) == 5
    test_subjects = [{subj[i] for i in f.test} for f in folds]
    for i, a in enumerate(test_subjects):
        for b in test_subjects[i + 1 :]:
            assert not a & b
        train_subjects = {subj[x] for x in folds[i].train}
        assert not a & train_subjects
    assert set().union(*test_subjects) == {f"s{i}" for i in range(10)}
    assert sorted(x for f in folds for x in f.test) == sorted(s.id for s in m.samples)


def test_folds_depend_only_on_seed():
    m = _manifest()
    assert make_folds(m, seed=1) == make_folds(m, seed=1)
    assert make_folds(m, seed=1) != make_folds(m, seed=2)


def test_train_only_samples_are_never_scored():
    m = _manifest(train_only_every=3)
    folds = make_folds(m, seed=0)
    by_id = m.by_id()
    assert all(not by_id[i].train_only for f in folds for i in f.test)
    assert any(by_id[i].train_only for f in folds for i in f.train)


def test_test_only_samples_are_never_trained_on_but_scored_and_validated():
    m = _manifest(train_only_every=3, test_only_every=3)
    by_id = m.by_id()
    folds = make_folds(m, seed=0, val_fraction=0.25)
    assert all(not by_id[i].test_only for f in folds for i in f.train)
    assert all(not by_id[i].train_only for f in folds for i in f.val)
    assert any(by_id[i].test_only for f in folds for i in f.val)
    assert sorted(x for f in folds for x in f.test) == sorted(s.id for s in m.samples if not s.train_only)


def test_validation_is_carved_from_training_subjects():
    m = _manifest()
    for f in make_folds(m, seed=0, val_fraction=0.25):
        subj = m.by_id()
        val_s = {subj[i].subject for i in f.val}
        assert val_s and not val_s & {subj[i].subject for i in f.train}
        assert not val_s & {subj[i].subject for i in f.test}


def test_too_few_subjects_is_a_clear_error():
    with pytest.raises(FerbenchError, match="at least 5 subjects"):
        make_folds(_manifest(subjects=3))


def test_official_split():
    samples = [Sample(id=f"a{i}", path="", label=i % 2, subject=f"s{i}", split="train" if i < 6 else "val") for i in range(8)]
    m = Manifest("afew-like", ["x", "y"], samples, ProtocolSpec("official", eval_split="val"))
    (fold,) = make_folds(m)
    assert fold.train == tuple(f"a{i}" for i in range(6)) and fold.test == ("a6", "a7")


def test_export(tmp_path):
    m = _manifest()
    folds = make_folds(m, seed=0)
    export_folds(m, folds, tmp_path / "f.json", seed=0)
    data = json.loads((tmp_path / "f.json").read_text())
    assert data["protocol"] == "5-fold subject-independent"
    assert [f["test"] for f in data["folds"]] == [list(f.test) for f in folds]


def test_kfold_falls_back_to_grouping_when_no_class_can_be_stratified():
    samples = [Sample(id=f"s{i}", path="", label=i % 7, subject=f"s{i}") for i in range(10)]  # every class < 10 members
    m = Manifest("m", [str(i) for i in range(7)], samples, ProtocolSpec("kfold", folds=10))
    folds = make_folds(m)
    assert sorted(len(f.test) for f in folds) == [1] * 10


def test_a_class_with_one_item_is_one_ferbench_note_not_a_sklearn_warning(capsys):
    import warnings

    m = _manifest(subjects=10, per_subject=7)
    m.classes[6] = "rare"
    m.samples.append(Sample(id="lonely", path="", label=6, subject="s99"))
    m.samples[:] = [s for s in m.samples if s.label != 6 or s.id == "lonely"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scikit-learn's "least populated class" UserWarning would raise here
        folds = make_folds(m, seed=0)
    assert len(folds) == 5
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["note: class 'rare' (1 sample) has fewer samples than the 5 folds, so some test folds have none of it; "
                   "add samples or lower the fold count (dataset option folds=N)"]

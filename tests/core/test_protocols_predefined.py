"""The predefined-folds protocol (DFEW's official 5 folds): ``meta["fold"]`` per sample."""

from __future__ import annotations

import pytest

from ferbench.data.manifest import Manifest, ProtocolSpec, Sample
from ferbench.data.protocols import make_folds, protocol_name
from ferbench.errors import FerbenchError


def manifest(folds: list, k: int = 3) -> Manifest:
    samples = [Sample(id=f"v{i}", path=f"/x/{i}.mp4", label=i % 2, subject=f"v{i}", meta={"fold": f})
               for i, f in enumerate(folds)]
    return Manifest("d", ["a", "b"], samples, ProtocolSpec("predefined", folds=k))


def test_folds_follow_meta_exactly_and_ignore_the_seed():
    m = manifest([0, 1, 2, 0, 1, 2, 2])
    folds = make_folds(m, seed=0)
    assert [f.test for f in folds] == [("v0", "v3"), ("v1", "v4"), ("v2", "v5", "v6")]
    assert folds[2].train == ("v0", "v1", "v3", "v4")
    assert make_folds(m, seed=7) == folds
    assert protocol_name(m) == "3 official folds"
    assert Manifest.from_json(m.to_json()).protocol.kind == "predefined"


def test_val_carved_from_training_subjects():
    folds = make_folds(manifest([0, 1, 2] * 4), seed=0, val_fraction=0.25)
    for f in folds:
        assert f.val and not set(f.val) & set(f.train) and not set(f.val) & set(f.test)


@pytest.mark.parametrize("bad", [None, 3, -1, "1", True])
def test_bad_fold_is_one_clear_error(bad):
    with pytest.raises(FerbenchError, match=r"meta fold .* integer in \[0, 3\)"):
        make_folds(manifest([0, 1, bad]))


def test_empty_fold_is_reported():
    with pytest.raises(FerbenchError, match="fold 2 has no samples"):
        make_folds(manifest([0, 1, 0, 1]))

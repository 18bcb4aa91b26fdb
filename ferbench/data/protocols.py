"""Evaluation protocols: subject-independent k-fold and official splits.

A :class:`Fold` lists sample ids for training, (optional) validation and
scoring. Folds are a pure function of the manifest and the seed, so they can
be exported (``ferbench folds``) and reproduced elsewhere.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import sys
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold

from ..errors import FerbenchError
from .manifest import Manifest, Sample


@dataclasses.dataclass(frozen=True)
class Fold:
    """One train/test partition.

    Attributes:
        index: 0-based fold number.
        train: ids of training samples (never ``test_only`` ones).
        test: ids of scored samples (never ``train_only`` ones).
        val: ids of a validation split carved from training subjects (may be empty).
    """

    index: int
    train: tuple[str, ...]
    test: tuple[str, ...]
    val: tuple[str, ...] = ()


def protocol_name(manifest: Manifest) -> str:
    """Human-readable protocol, as stored with every result."""
    p = manifest.protocol
    if p.kind == "kfold":
        return f"{p.folds}-fold subject-independent"
    if p.kind == "predefined":
        return f"{p.folds} official folds"
    return f"official train->{p.eval_split}"


def small_classes_note(samples: Sequence[Sample], k: int, classes: Sequence[str] | None = None) -> str | None:
    """One line naming the classes with fewer samples than ``k`` folds (some test folds lack them), or None."""
    counts = collections.Counter(s.label for s in samples)
    few = sorted((label, n) for label, n in counts.items() if n < k)
    if not few:
        return None
    name = (lambda i: classes[i]) if classes is not None else (lambda i: f"label {i}")  # noqa: E731
    listed = ", ".join(f"'{name(label)}' ({n} sample{'s' if n > 1 else ''})" for label, n in few)
    return (f"note: class{'es' if len(few) > 1 else ''} {listed} ha{'ve' if len(few) > 1 else 's'} fewer samples than the "
            f"{k} folds, so some test folds have none of {'them' if len(few) > 1 else 'it'}; add samples or lower the "
            f"fold count (dataset option folds=N)")


def subject_kfold(samples: Sequence[Sample], k: int, seed: int,
                  classes: Sequence[str] | None = None) -> list[tuple[list[int], list[int]]]:
    """Split sample positions into k folds with no subject in two folds.

    Stratified by label where the subjects allow it (scikit-learn's
    StratifiedGroupKFold). Returns (train_positions, test_positions) per fold.
    Classes with fewer than ``k`` samples get one ferbench note on stderr
    (:func:`small_classes_note`, naming them by ``classes``) instead of scikit-learn's warning.
    """
    subjects = sorted({s.subject for s in samples})
    if len(subjects) < k:
        raise FerbenchError(
            f"{k}-fold subject-independent protocol needs at least {k} subjects, the dataset has "
            f"{len(subjects)}; lower the fold count (dataset option folds=N)"
        )
    labels = np.array([s.label for s in samples])
    groups = np.array([subjects.index(s.subject) for s in samples])
    x = np.zeros(len(samples))
    note = small_classes_note(samples, k, classes)
    if note:
        print(note, file=sys.stderr)
    try:
        with warnings.catch_warnings():  # said once, in ferbench's words, above
            warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
            splits = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed).split(x, labels, groups)
            return [(list(tr), list(te)) for tr, te in splits]
    except ValueError:  # no class has k members: stratification impossible, group only
        splits = GroupKFold(n_splits=k, shuffle=True, random_state=seed).split(x, labels, groups)
        return [(list(tr), list(te)) for tr, te in splits]


def predefined_folds(samples: Sequence[Sample], k: int) -> list[tuple[list[int], list[int]]]:
    """Split sample positions by each sample's ``meta["fold"]`` (0-based, < k).

    Returns (train_positions, test_positions) per fold: fold f tests the samples
    with ``meta["fold"] == f`` and trains on every other sample.
    """
    assigned = []
    for s in samples:
        fold = s.meta.get("fold")
        if not isinstance(fold, int) or isinstance(fold, bool) or not 0 <= fold < k:
            raise FerbenchError(
                f"sample '{s.id}' has meta fold {fold!r}; a predefined {k}-fold protocol needs an integer in "
                f"[0, {k}) on every sample (fix the dataset adapter)"
            )
        assigned.append(fold)
    splits = []
    for f in range(k):
        test = [i for i, a in enumerate(assigned) if a == f]
        if not test:
            raise FerbenchError(f"predefined fold {f} has no samples; the dataset's fold files are incomplete")
        splits.append(([i for i, a in enumerate(assigned) if a != f], test))
    return splits


def _carve_val(
    samples: Sequence[Sample], train: list[int], fraction: float, seed: int
) -> tuple[list[int], list[int]]:
    """Move the samples of a random ``fraction`` of training subjects to validation."""
    if fraction <= 0:
        return train, []
    subjects = sorted({samples[i].subject for i in train})
    rng = np.random.default_rng(seed)
    n_val = max(1, int(round(fraction * len(subjects))))
    if n_val >= len(subjects):
        raise FerbenchError(
            f"val_fraction={fraction} leaves no training subjects ({len(subjects)} in the fold); lower it"
        )
    val_subjects = set(rng.choice(subjects, size=n_val, replace=False).tolist())
    keep = [i for i in train if samples[i].subject not in val_subjects]
    val = [i for i in train if samples[i].subject in val_subjects]
    return keep, val


def make_folds(manifest: Manifest, seed: int = 0, val_fraction: float = 0.0) -> list[Fold]:
    """All folds of the manifest's protocol.

    Args:
        manifest: the dataset.
        seed: shuffles subject-to-fold assignment (k-fold) and validation subjects.
        val_fraction: fraction of each fold's training subjects held out for
            validation (model selection); 0 means none.
    """
    samples = manifest.samples
    ids = [s.id for s in samples]
    folds: list[Fold] = []
    p = manifest.protocol
    if p.kind == "kfold":
        splits = subject_kfold(samples, p.folds, seed, manifest.classes)
    elif p.kind == "predefined":
        splits = predefined_folds(samples, p.folds)
    else:
        train = [i for i, s in enumerate(samples) if s.split == "train"]
        test = [i for i, s in enumerate(samples) if s.split == p.eval_split]
        if not train or not test:
            raise FerbenchError(
                f"dataset '{manifest.dataset}' has {len(train)} 'train' and {len(test)} "
                f"'{p.eval_split}' samples; the official protocol needs both (check the dataset root)"
            )
        splits = [(train, test)]
    for index, (train, test) in enumerate(splits):
        train, val = _carve_val(samples, train, val_fraction, seed + index)
        train = [i for i in train if not samples[i].test_only]
        val = [i for i in val if not samples[i].train_only]
        scored = [i for i in test if not samples[i].train_only]
        folds.append(
            Fold(
                index=index,
                train=tuple(ids[i] for i in train),
                test=tuple(ids[i] for i in scored),
                val=tuple(ids[i] for i in val),
            )
        )
    return folds


def export_folds(manifest: Manifest, folds: Sequence[Fold], path: str | Path, seed: int) -> None:
    """Write folds as JSON: dataset, protocol, seed, and per fold the ids and subjects."""
    by_id = manifest.by_id()
    payload = {
        "dataset": manifest.dataset,
        "protocol": protocol_name(manifest),
        "seed": seed,
        "folds": [
            {
                "index": f.index,
                "train": list(f.train),
                "val": list(f.val),
                "test": list(f.test),
                "test_subjects": sorted({by_id[i].subject for i in f.test}),
            }
            for f in folds
        ],
    }
    Path(path).write_text(json.dumps(payload, indent=1, sort_keys=True))

"""The manifest: what a dataset adapter hands to the rest of ferbench.

A dataset adapter turns a dataset on disk into a :class:`Manifest`: the class
names, the samples and the evaluation protocol. Everything downstream (inputs,
engine, protocols) reads only this.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Literal

Modality = Literal["video", "image"]
Split = Literal["train", "val", "test"]


@dataclasses.dataclass(frozen=True)
class Sample:
    """One labelled video (or image) of a face.

    Attributes:
        id: unique, stable identifier within the dataset (used in caches and fold files).
        path: absolute path of the media file (video container, image file, or frame folder).
        label: class index into :attr:`Manifest.classes`.
        subject: subject (identity) id; subject-independent protocols group on it.
        split: official split ("train", "val", "test") when the dataset has one, else None.
        apex: index of the apex frame (0-based, in decoded frames) when known, else None.
        num_frames: decoded frame count when known, else None.
        true_label: the uncorrupted label when the dataset knows ``label`` was corrupted
            (SynthFER's ``label_noise``); training uses ``label``, scoring uses this.
        train_only: the sample is used for training only and never scored (SynthFER's
            ``identity_bias`` training view); real datasets leave it False.
        test_only: the sample is scored (test and validation) but never trained on
            (SynthFER's ``identity_bias`` test view); real datasets leave it False.
        meta: dataset-specific JSON-serialisable extras (ground truth that real datasets
            lack, e.g. SynthFER's landmarks file, onset/offset, flipped-label flag).
    """

    id: str
    path: str
    label: int
    subject: str
    split: Split | None = None
    apex: int | None = None
    num_frames: int | None = None
    true_label: int | None = None
    train_only: bool = False
    test_only: bool = False
    meta: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False, hash=False)

    @property
    def eval_label(self) -> int:
        """The label predictions are scored against."""
        return self.label if self.true_label is None else self.true_label


@dataclasses.dataclass(frozen=True)
class ProtocolSpec:
    """How a dataset is evaluated.

    ``kind="kfold"``: subject-independent k-fold over :attr:`Sample.subject`,
    stratified by label where possible (``folds`` folds).
    ``kind="official"``: the samples' own ``split`` field (train -> test, or
    train -> val when the dataset has no public test labels; ``eval_split``).
    ``kind="predefined"``: the dataset's own fold assignment (DFEW's 5 folds):
    every sample has ``meta["fold"]`` in ``[0, folds)``; fold k scores the
    samples of fold k and trains on all the others.
    """

    kind: Literal["kfold", "official", "predefined"]
    folds: int = 10
    eval_split: Split = "test"
    headline_metric: Literal["war", "uar"] = "war"


@dataclasses.dataclass
class Manifest:
    """Samples of one dataset plus its classes and protocol."""

    dataset: str
    classes: list[str]
    samples: list[Sample]
    protocol: ProtocolSpec
    modality: Modality = "video"
    root: str = ""
    info: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def by_id(self) -> dict[str, Sample]:
        return {s.id: s for s in self.samples}

    def to_json(self) -> str:
        """Deterministic JSON text (sorted keys) of the whole manifest."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True, indent=1)

    @classmethod
    def from_json(cls, text: str) -> "Manifest":
        raw = json.loads(text)
        raw["samples"] = [Sample(**s) for s in raw["samples"]]
        raw["protocol"] = ProtocolSpec(**raw["protocol"])
        return cls(**raw)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json())

    @classmethod
    def load(cls, path: str | Path) -> "Manifest":
        return cls.from_json(Path(path).read_text())


def apex_index(convention: str | None, num_frames: int | None) -> int | None:
    """Apex frame under a convention: ``"last"`` (CK+, Oulu), ``"middle"`` (MMI), else None."""
    if num_frames is None or num_frames < 1 or convention is None:
        return None
    if convention == "last":
        return num_frames - 1
    if convention == "middle":
        return num_frames // 2
    raise ValueError(f"unknown apex convention {convention!r}")

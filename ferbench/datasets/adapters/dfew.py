"""DFEW (Dynamic Facial Expressions in the Wild): movie clips, official 5-fold split.

Layout (``--root`` is the DFEW folder)::

    Clip/original/00001.mp4 ...                        (clips=original)
    Clip/clip_224x224/00001/00001.jpg ...              (clips=clip_224x224: frame folders)
    EmoLabel_DataSplit/train(single-labeled)/set_1.csv ... set_5.csv
    EmoLabel_DataSplit/test(single-labeled)/set_1.csv  ... set_5.csv

Each csv has the header ``video_name,label``; labels 1 happy, 2 sad,
3 neutral, 4 angry, 5 surprise, 6 disgust, 7 fear. Only the single-labelled
clips (11,697 of 16,372) are in these files. Protocol: the official 5 folds
(``ProtocolSpec("predefined", folds=5)``): fold k scores ``test set_{k+1}``
and trains on ``train set_{k+1}``; each clip's fold is ``meta["fold"]``.
Clips have no identity labels (subject = clip id).
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path
from typing import Literal

from ...data.manifest import Manifest, ProtocolSpec, Sample
from ...errors import DatasetLayoutError
from ...prepare.options import PrepareOptions, options_doc
from .base import RealDataset
from .layout import ANGER, DISGUST, FEAR, HAPPINESS, NEUTRAL, SADNESS, SURPRISE, VIDEO_SUFFIXES, find_child, require_file, require_root

CODES = {1: HAPPINESS, 2: SADNESS, 3: NEUTRAL, 4: ANGER, 5: SURPRISE, 6: DISGUST, 7: FEAR}
CLASSES = list(CODES.values())
FOLDS = 5


@dataclasses.dataclass(frozen=True)
class DFEWOptions(PrepareOptions):
    __doc__ = options_doc("DFEW options.", """
        clips: "original" (Clip/original/*.mp4) or "clip_224x224" (Clip/clip_224x224/<id>/ frame folders).
""")

    clips: Literal["original", "clip_224x224"] = "original"


def read_split(dataset: str, path: Path) -> dict[int, int]:
    """{video number: label code} of one DFEW split csv."""
    require_file(dataset, path, "an official split file")
    out: dict[int, int] = {}
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            try:
                out[int(row["video_name"])] = int(row["label"])
            except (KeyError, TypeError, ValueError):
                raise DatasetLayoutError(f"dataset '{dataset}': {path} is not a 'video_name,label' csv (line {row})") from None
    return out


class DFEW(RealDataset):
    hint = "Clip/ and EmoLabel_DataSplit/ of the DFEW release"
    apex_convention = None

    def raw_manifest(self) -> Manifest:
        o: DFEWOptions = self.options  # type: ignore[assignment]
        root = require_root(self.name, self.root, self.hint)
        splits = find_child(self.name, root, ["EmoLabel_DataSplit"], "the split folder")
        clip_dir = find_child(self.name, find_child(self.name, root, ["Clip"], "the clip folder"), [o.clips], "the clips")
        train_dir = find_child(self.name, splits, ["train(single-labeled)"], "the single-labelled train splits")
        test_dir = find_child(self.name, splits, ["test(single-labeled)"], "the single-labelled test splits")
        media: dict[str, Path] = {}
        for p in clip_dir.iterdir():
            if p.is_dir() or p.suffix.lower() in VIDEO_SUFFIXES:
                media[p.stem] = p
        samples, seen = [], {}
        for k in range(FOLDS):
            test = read_split(self.name, test_dir / f"set_{k + 1}.csv")
            train = read_split(self.name, train_dir / f"set_{k + 1}.csv")
            overlap = sorted(set(train) & set(test))
            if overlap:
                raise DatasetLayoutError(f"dataset '{self.name}': clip {overlap[0]} is in both train and test set_{k + 1}.csv (corrupt split files)")
            for number, code in sorted(test.items()):
                if number in seen:
                    raise DatasetLayoutError(f"dataset '{self.name}': clip {number} is in test set_{seen[number] + 1} and set_{k + 1}")
                if code not in CODES:
                    raise DatasetLayoutError(f"dataset '{self.name}': label {code} of clip {number} in set_{k + 1}.csv is not 1-7")
                seen[number] = k
                stem = f"{number:05d}"
                path = media.get(stem) or media.get(str(number))
                if path is None:
                    raise DatasetLayoutError(f"dataset '{self.name}': expected clip {clip_dir / stem}(.mp4) listed in test set_{k + 1}.csv, not found")
                samples.append(Sample(id=stem, path=str(path), label=CLASSES.index(CODES[code]), subject=stem,
                                      meta={"fold": k}))
        return Manifest(self.name, list(CLASSES), samples, ProtocolSpec("predefined", folds=FOLDS), modality="video",
                        root=str(root), info={"apex_convention": None})


def factory(options: DFEWOptions, root: Path | None, cache_dir: Path) -> DFEW:
    return DFEW("dfew", options, root, cache_dir)

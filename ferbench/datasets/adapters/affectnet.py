"""AffectNet (manually annotated part): images with csv annotation lists.

Layout (``--root`` is the AffectNet folder)::

    Manually_Annotated_file_lists/training.csv     (or training.csv at the root)
    Manually_Annotated_file_lists/validation.csv
    Manually_Annotated_Images/<subDirectory_filePath>

Csv columns: ``subDirectory_filePath, face_x, face_y, face_width,
face_height, facial_landmarks, expression, valence, arousal``. Expression
codes 0 neutral, 1 happy, 2 sad, 3 surprise, 4 fear, 5 disgust, 6 anger,
7 contempt, 8-10 none/uncertain/no-face (never used). ``classes=7`` drops
contempt. Protocol: official train -> validation (the test set is not
public). Each image is its own subject.
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
from .layout import ANGER, CONTEMPT, DISGUST, FEAR, HAPPINESS, NEUTRAL, SADNESS, SURPRISE, find_child, require_root

CODES = {0: NEUTRAL, 1: HAPPINESS, 2: SADNESS, 3: SURPRISE, 4: FEAR, 5: DISGUST, 6: ANGER, 7: CONTEMPT}


@dataclasses.dataclass(frozen=True)
class AffectNetOptions(PrepareOptions):
    __doc__ = options_doc("AffectNet options.", """
        classes: 8 (with contempt) or 7 (without).
        skip_missing: leave out images listed in the csv but absent on disk (else one error naming the first).
""")

    classes: Literal[7, 8] = 8
    skip_missing: bool = False


class AffectNet(RealDataset):
    hint = "Manually_Annotated_file_lists/ and Manually_Annotated_Images/"

    def raw_manifest(self) -> Manifest:
        o: AffectNetOptions = self.options  # type: ignore[assignment]
        root = require_root(self.name, self.root, self.hint)
        lists = root / "Manually_Annotated_file_lists"
        lists = lists if lists.is_dir() else root
        images = find_child(self.name, root, ["Manually_Annotated_Images"], "the image folder")
        classes = [c for code, c in CODES.items() if code < o.classes]
        samples = []
        for split, fname in (("train", "training.csv"), ("val", "validation.csv")):
            path = find_child(self.name, lists, [fname], f"the {split} annotation list")
            with path.open(newline="") as f:
                for row in csv.DictReader(f):
                    try:
                        rel, code = row["subDirectory_filePath"], int(row["expression"])
                    except (KeyError, TypeError, ValueError):
                        raise DatasetLayoutError(f"dataset '{self.name}': {path} lacks subDirectory_filePath/expression columns") from None
                    if code not in CODES or CODES[code] not in classes:
                        continue
                    image = images / rel
                    if not image.is_file():
                        if o.skip_missing:
                            continue
                        raise DatasetLayoutError(f"dataset '{self.name}': expected image {image} listed in {path.name}, "
                                                 f"not found (or set --dataset-opt skip_missing=true)")
                    box = [row.get(k) for k in ("face_x", "face_y", "face_width", "face_height")]
                    sid = f"{split}/{rel}"
                    meta = {"box": [float(b) for b in box]} if all(box) else {}
                    samples.append(Sample(id=sid, path=str(image), label=classes.index(CODES[code]), subject=sid,
                                          split=split, apex=0, num_frames=1, meta=meta))
        return Manifest(self.name, classes, samples, ProtocolSpec("official", eval_split="val"), modality="image",
                        root=str(root), info={"apex_convention": None})


def factory(options: AffectNetOptions, root: Path | None, cache_dir: Path) -> AffectNet:
    return AffectNet("affectnet", options, root, cache_dir)

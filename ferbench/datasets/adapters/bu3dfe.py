"""BU-3DFE (static, 4 intensities) and BU-4DFE (dynamic sequences): 2D texture images.

BU-3DFE layout (``--root`` holds one folder per subject)::

    F0001/F0001_AN04WH_F2D.bmp   subject F0001, anger, intensity 4 (1-4), race WH; NE00 = neutral

Samples are the 2D frontal images of the chosen ``intensities`` (the usual
protocol keeps the two strongest, 3 and 4: 1,200 images of 100 subjects).

BU-4DFE layout::

    F001/{Angry,Disgust,Fear,Happy,Sad,Surprise}/000.jpg ...   (neutral -> apex -> neutral)

Samples are the sequences; the apex convention is the middle frame.
Protocol (both): subject-independent ``folds``-fold (10).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from ...data.manifest import Manifest, ProtocolSpec, Sample
from ...errors import DatasetLayoutError, OptionError
from ...prepare.options import PrepareOptions, options_doc
from .base import RealDataset
from .layout import ANGER, DISGUST, FEAR, HAPPINESS, SADNESS, SURPRISE, images_in, require_root, subdirs, subject_sequences

CLASSES = [ANGER, DISGUST, FEAR, HAPPINESS, SADNESS, SURPRISE]
CODES = {"AN": ANGER, "DI": DISGUST, "FE": FEAR, "HA": HAPPINESS, "SA": SADNESS, "SU": SURPRISE}
NAME_3D = re.compile(r"^(?P<subject>[FM]\d+)_(?P<code>[A-Z]{2})(?P<level>\d{2})[A-Z]*_F2D$", re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class BU3DFEOptions(PrepareOptions):
    __doc__ = options_doc("BU-3DFE options.", """
        intensities: comma-separated intensity levels (1-4) whose images are samples.
        folds: folds of the subject-independent protocol.
""")

    intensities: str = "3,4"
    folds: int = 10

    def levels(self) -> set[int]:
        try:
            levels = {int(x) for x in self.intensities.split(",") if x.strip()}
        except ValueError:
            levels = set()
        if not levels or not levels <= {1, 2, 3, 4}:
            raise OptionError(f"bu3dfe intensities must be comma-separated levels 1-4 like 3,4; got {self.intensities!r}")
        return levels

    def __post_init__(self) -> None:
        super().__post_init__()
        self.levels()
        if self.folds < 2:
            raise OptionError(f"bu3dfe needs folds >= 2, got {self.folds}")


@dataclasses.dataclass(frozen=True)
class BU4DFEOptions(PrepareOptions):
    __doc__ = options_doc("BU-4DFE options.", """
        folds: folds of the subject-independent protocol.
""")

    folds: int = 10


class BU3DFE(RealDataset):
    hint = "one folder per subject (F0001/, M0001/) with the *_F2D.bmp images"
    apex_convention = None

    def raw_manifest(self) -> Manifest:
        o: BU3DFEOptions = self.options  # type: ignore[assignment]
        root = require_root(self.name, self.root, self.hint)
        levels, samples = o.levels(), []
        for subject in subdirs(root):
            for image in images_in(subject):
                m = NAME_3D.match(image.stem)
                if not m or m["code"].upper() not in CODES or int(m["level"]) not in levels:
                    continue
                samples.append(Sample(id=image.stem, path=str(image), label=CLASSES.index(CODES[m["code"].upper()]),
                                      subject=subject.name, apex=0, num_frames=1, meta={"intensity": int(m["level"])}))
        if not samples:
            raise DatasetLayoutError(f"dataset '{self.name}': expected images like {root / 'F0001' / 'F0001_AN04WH_F2D.bmp'}, found none (check --root)")
        return Manifest(self.name, list(CLASSES), samples, ProtocolSpec("kfold", folds=o.folds), modality="image",
                        root=str(root), info={"apex_convention": None})


class BU4DFE(RealDataset):
    hint = "one folder per subject (F001/) with one image-sequence folder per expression (Angry/, ...)"
    apex_convention = "middle"

    def raw_manifest(self) -> Manifest:
        root = require_root(self.name, self.root, self.hint)
        samples = subject_sequences(root, CLASSES, self.apex_convention)
        if not samples:
            raise DatasetLayoutError(f"dataset '{self.name}': expected sequences like {root / 'F001' / 'Angry'}, found none (check --root)")
        return Manifest(self.name, list(CLASSES), samples, ProtocolSpec("kfold", folds=self.options.folds),  # type: ignore[attr-defined]
                        modality="video", root=str(root), info={"apex_convention": self.apex_convention})


def factory_3d(options: BU3DFEOptions, root: Path | None, cache_dir: Path) -> BU3DFE:
    return BU3DFE("bu3dfe", options, root, cache_dir)


def factory_4d(options: BU4DFEOptions, root: Path | None, cache_dir: Path) -> BU4DFE:
    return BU4DFE("bu4dfe", options, root, cache_dir)

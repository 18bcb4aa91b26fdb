"""CK+ (Extended Cohn-Kanade): image sequences neutral -> apex, labelled sequences only.

Layout (``--root`` holds both folders of the official archive)::

    cohn-kanade-images/S005/001/S005_001_00000001.png ... S005_001_00000011.png
    Emotion/S005/001/S005_001_00000011_emotion.txt      (one number: 0-7)

Label codes: 0 neutral, 1 anger, 2 contempt, 3 disgust, 4 fear, 5 happy,
6 sadness, 7 surprise. Only sequences with an emotion file are used (327 of
593); ``contempt=false`` drops contempt sequences (6 classes). The apex is
the last frame. ``mode=image`` turns each sequence into its last
``image_frames`` frames as separate image samples (the common image protocol).
Protocol: subject-independent ``folds``-fold (10).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

from ...data.manifest import Manifest, ProtocolSpec, Sample
from ...errors import DatasetLayoutError, OptionError
from ...prepare.options import PrepareOptions, options_doc
from .base import RealDataset
from .layout import ANGER, CONTEMPT, DISGUST, FEAR, HAPPINESS, SADNESS, SURPRISE, find_child, images_in, require_dir, require_root, subdirs

#: CK+ emotion codes 1..7 -> canonical name (0 = neutral never labels a sequence)
CODES = {1: ANGER, 2: CONTEMPT, 3: DISGUST, 4: FEAR, 5: HAPPINESS, 6: SADNESS, 7: SURPRISE}


@dataclasses.dataclass(frozen=True)
class CKPlusOptions(PrepareOptions):
    __doc__ = options_doc("CK+ options.", """
        contempt: keep the contempt class (7 classes); false drops contempt sequences (6 classes).
        mode: "video" (one sample per sequence) or "image" (the last image_frames frames, one sample each).
        image_frames: frames per sequence taken in image mode (from the apex backwards).
        folds: folds of the subject-independent protocol.
""")

    contempt: bool = True
    mode: Literal["video", "image"] = "video"
    image_frames: int = 3
    folds: int = 10

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.image_frames < 1 or self.folds < 2:
            raise OptionError(f"ckplus needs image_frames >= 1 and folds >= 2, got {self.image_frames}, {self.folds}")


def read_label(dataset: str, path: Path) -> int:
    """The integer code in a CK+ ``*_emotion.txt`` file (written like ``3.0000000e+00``)."""
    try:
        value = float(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        raise DatasetLayoutError(f"dataset '{dataset}': cannot read an emotion code from {path} (re-extract the archive)") from None
    return int(round(value))


class CKPlus(RealDataset):
    hint = "cohn-kanade-images/ and Emotion/ of the CK+ archive"
    apex_convention = "last"

    def raw_manifest(self) -> Manifest:
        o: CKPlusOptions = self.options  # type: ignore[assignment]
        root = require_root(self.name, self.root, self.hint)
        images = find_child(self.name, root, ["cohn-kanade-images"], "the image sequences folder")
        emotion = find_child(self.name, root, ["Emotion", "Emotion_labels"], "the emotion label folder")
        classes = [c for c in CODES.values() if o.contempt or c != CONTEMPT]
        samples = []
        for subject_dir in subdirs(emotion):
            for session_dir in subdirs(subject_dir):
                label_files = sorted(session_dir.glob("*_emotion.txt"))
                if not label_files:
                    continue  # unlabelled sequence
                code = read_label(self.name, label_files[0])
                if code not in CODES:
                    raise DatasetLayoutError(f"dataset '{self.name}': emotion code {code} in {label_files[0]} is not 1-7")
                name = CODES[code]
                if name not in classes:
                    continue
                seq = require_dir(self.name, images / subject_dir.name / session_dir.name, "the image sequence of a labelled session")
                frames = images_in(seq)
                if not frames:
                    raise DatasetLayoutError(f"dataset '{self.name}': expected images in {seq}, found none")
                sid = f"{subject_dir.name}_{session_dir.name}"
                common = dict(label=classes.index(name), subject=subject_dir.name)
                if o.mode == "video":
                    samples.append(Sample(id=sid, path=str(seq), apex=len(frames) - 1, num_frames=len(frames),
                                          meta={"apex_convention": "last"}, **common))
                else:
                    for f in frames[-o.image_frames:]:
                        samples.append(Sample(id=f"{sid}_{f.stem.rsplit('_', 1)[-1]}", path=str(f), apex=0,
                                              num_frames=1, meta={"sequence": sid}, **common))
        return Manifest(self.name, classes, samples, ProtocolSpec("kfold", folds=o.folds), modality=o.mode,
                        root=str(root), info={"apex_convention": "last" if o.mode == "video" else None})


def factory(options: CKPlusOptions, root: Path | None, cache_dir: Path) -> CKPlus:
    return CKPlus("ckplus", options, root, cache_dir)

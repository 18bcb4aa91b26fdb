"""SFEW 2.0 (EmotiW image sub-challenge): frames from AFEW movies, in class folders.

Layout (``--root`` holds the two splits)::

    Train/{Angry,Disgust,Fear,Happy,Neutral,Sad,Surprise}/*.png   (also "Train_SFEW/")
    Val/{Angry,...,Surprise}/*.png                                 (also "Val_SFEW/")

Protocol: official train -> val. Image modality; each image is its own subject.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ...data.manifest import Manifest, ProtocolSpec, Sample
from .afew import CLASSES
from ...prepare.options import PrepareOptions, options_doc
from .base import RealDataset
from .layout import images_in, require_root, split_class_files


@dataclasses.dataclass(frozen=True)
class SFEWOptions(PrepareOptions):
    __doc__ = options_doc("SFEW 2.0 options.", "        (SFEW has no options of its own.)\n")


class SFEW(RealDataset):
    hint = "Train/ and Val/ with one folder of images per emotion"
    splits = {"train": ("Train", "Train_SFEW"), "val": ("Val", "Val_SFEW")}

    def raw_manifest(self) -> Manifest:
        root = require_root(self.name, self.root, self.hint)
        samples = []
        for split, label, image in split_class_files(self.name, root, self.splits, CLASSES, images_in):
            sid = f"{split}/{CLASSES[label]}/{image.stem}"
            samples.append(Sample(id=sid, path=str(image), label=label, subject=sid, split=split, apex=0, num_frames=1))
        return Manifest(self.name, list(CLASSES), samples, ProtocolSpec("official", eval_split="val"),
                        modality="image", root=str(root), info={"apex_convention": None})


def factory(options: SFEWOptions, root: Path | None, cache_dir: Path) -> SFEW:
    return SFEW("sfew", options, root, cache_dir)

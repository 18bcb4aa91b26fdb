"""AFEW 7.0 / 8.0 (EmotiW video sub-challenge): .avi clips in class folders.

Layout (``--root`` is the folder holding the two splits)::

    Train_AFEW/{Angry,Disgust,Fear,Happy,Neutral,Sad,Surprise}/*.avi   (also "Train/")
    Val_AFEW/{Angry,...,Surprise}/*.avi                                (also "Val/")

Protocol: official train -> val (the test labels are not public). AFEW has
no identity labels, so each clip is its own subject (subject = clip id).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ...data.manifest import Manifest, ProtocolSpec, Sample
from ...prepare.options import PrepareOptions, options_doc
from .base import RealDataset
from .layout import ANGER, DISGUST, FEAR, HAPPINESS, NEUTRAL, SADNESS, SURPRISE, require_root, split_class_files, videos_in

CLASSES = [ANGER, DISGUST, FEAR, HAPPINESS, NEUTRAL, SADNESS, SURPRISE]


@dataclasses.dataclass(frozen=True)
class AFEWOptions(PrepareOptions):
    __doc__ = options_doc("AFEW options.", "        (AFEW has no options of its own.)\n")


class AFEW(RealDataset):
    hint = "Train_AFEW/ and Val_AFEW/ with one folder of .avi clips per emotion"
    apex_convention = None
    splits = {"train": ("Train_AFEW", "Train"), "val": ("Val_AFEW", "Val")}

    def raw_manifest(self) -> Manifest:
        root = require_root(self.name, self.root, self.hint)
        samples = []
        for split, label, video in split_class_files(self.name, root, self.splits, CLASSES, videos_in):
            sid = f"{split}/{CLASSES[label]}/{video.stem}"
            samples.append(Sample(id=sid, path=str(video), label=label, subject=sid, split=split))
        return Manifest(self.name, list(CLASSES), samples, ProtocolSpec("official", eval_split="val"),
                        modality="video", root=str(root), info={"apex_convention": self.apex_convention})


def factory(options: AFEWOptions, root: Path | None, cache_dir: Path) -> AFEW:
    return AFEW("afew", options, root, cache_dir)

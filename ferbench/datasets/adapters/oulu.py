"""Oulu-CASIA NIR&VIS: image sequences per subject and expression.

Layout (``--root`` is the folder holding the spectra, e.g. ``OriginalImg/``)::

    VL/Strong/P001/{Anger,Disgust,Fear,Happiness,Sadness,Surprise}/000.jpeg ...

``spectrum`` picks ``VL`` (visible, "VIS") or ``NI`` (near infrared) and
``illumination`` ``Strong``, ``Weak`` or ``Dark``; the standard protocol is
VIS under strong illumination (480 sequences of 80 subjects). Sequences go
neutral -> apex: the apex is the last frame. Protocol: subject-independent
``folds``-fold (10).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

from ...data.manifest import Manifest, ProtocolSpec
from ...errors import OptionError
from ...prepare.options import PrepareOptions, options_doc
from .base import RealDataset
from .layout import ANGER, DISGUST, FEAR, HAPPINESS, SADNESS, SURPRISE, find_child, require_root, subject_sequences

CLASSES = [ANGER, DISGUST, FEAR, HAPPINESS, SADNESS, SURPRISE]


@dataclasses.dataclass(frozen=True)
class OuluOptions(PrepareOptions):
    __doc__ = options_doc("Oulu-CASIA options.", """
        spectrum: "VL" (visible light) or "NI" (near infrared).
        illumination: "Strong", "Weak" or "Dark".
        folds: folds of the subject-independent protocol.
""")

    spectrum: Literal["VL", "NI"] = "VL"
    illumination: Literal["Strong", "Weak", "Dark"] = "Strong"
    folds: int = 10

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.folds < 2:
            raise OptionError(f"oulu needs folds >= 2, got {self.folds}")


class Oulu(RealDataset):
    hint = "VL/Strong/P001/Anger/... (the OriginalImg folder of Oulu-CASIA)"
    apex_convention = "last"

    def raw_manifest(self) -> Manifest:
        o: OuluOptions = self.options  # type: ignore[assignment]
        root = require_root(self.name, self.root, self.hint)
        spectrum = find_child(self.name, root, [o.spectrum, "VIS" if o.spectrum == "VL" else "NIR"], "the spectrum folder")
        light = find_child(self.name, spectrum, [o.illumination], "the illumination folder")
        samples = subject_sequences(light, CLASSES, self.apex_convention)
        return Manifest(self.name, list(CLASSES), samples, ProtocolSpec("kfold", folds=o.folds), modality="video",
                        root=str(root), info={"apex_convention": self.apex_convention})


def factory(options: OuluOptions, root: Path | None, cache_dir: Path) -> Oulu:
    return Oulu("oulu", options, root, cache_dir)

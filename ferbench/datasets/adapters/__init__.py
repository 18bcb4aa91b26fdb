"""Adapters for the real datasets of the papers' benchmarks, plus ``folder``.

Each adapter reads a licensed copy in its official layout (``--root``), lists
samples with labels, subjects and the dataset's standard protocol, and uses
the face crops of ``ferbench prepare`` when they exist (see ``docs/datasets.md``).
"""

from __future__ import annotations

from ...components import ComponentSpec
from ...hookspecs import hookimpl
from . import affectnet, afew, bu3dfe, ckplus, dfew, folder, mmi, oulu, rafdb, sfew

SPECS = [
    ("afew", afew.factory, afew.AFEWOptions, "AFEW 7.0/8.0 video clips, official train -> val"),
    ("dfew", dfew.factory, dfew.DFEWOptions, "DFEW single-labelled clips, the official 5 folds"),
    ("ckplus", ckplus.factory, ckplus.CKPlusOptions, "CK+ labelled sequences (7 or 6 classes), subject-independent 10-fold"),
    ("mmi", mmi.factory, mmi.MMIOptions, "MMI video sessions (6 classes, apex middle), subject-independent 10-fold"),
    ("oulu", oulu.factory, oulu.OuluOptions, "Oulu-CASIA VIS strong-light sequences (6 classes), subject-independent 10-fold"),
    ("bu3dfe", bu3dfe.factory_3d, bu3dfe.BU3DFEOptions, "BU-3DFE 2D images of intensities 3-4 (6 classes), subject-independent 10-fold"),
    ("bu4dfe", bu3dfe.factory_4d, bu3dfe.BU4DFEOptions, "BU-4DFE image sequences (6 classes), subject-independent 10-fold"),
    ("affectnet", affectnet.factory, affectnet.AffectNetOptions, "AffectNet manual annotations (8 or 7 classes), train -> validation"),
    ("rafdb", rafdb.factory, rafdb.RAFDBOptions, "RAF-DB basic (7 classes) images, official train -> test"),
    ("sfew", sfew.factory, sfew.SFEWOptions, "SFEW 2.0 images (7 classes), official train -> val"),
    ("folder", folder.factory, folder.FolderOptions, "any class-per-folder tree of videos, frame folders or images"),
]


@hookimpl
def ferbench_datasets() -> list[ComponentSpec]:
    return [ComponentSpec(kind="dataset", name=name, factory=fac, options=opts, description=desc, paper="core")
            for name, fac, opts, desc in SPECS]

"""``folder``: any class-per-folder tree of videos, frame folders or images.

Layouts (``--root``)::

    <class>/<item>                       k-fold protocol (``folds``), or
    {train,val,test}/<class>/<item>      official protocol (train -> test, or train -> val without test)

An item is a video file, an image file, or a folder of images (a frame
sequence). Class names are the folder names (sorted, or the ``classes``
option's order). ``subject_regex`` is searched in each item's path relative
to the root; its ``subject`` named group (or first group) is the subject id.
Without it each item is its own subject. If every item is an image file the
modality is ``image``, else ``video``.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Literal

from ...data.manifest import Manifest, ProtocolSpec, Sample
from ...data.video import IMAGE_SUFFIXES
from ...errors import DatasetLayoutError, OptionError
from ...prepare.options import PrepareOptions, options_doc
from .base import RealDataset
from .layout import VIDEO_SUFFIXES, images_in, natural_key, require_dir, require_root, subdirs

SPLIT_NAMES = {"train": "train", "training": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}


@dataclasses.dataclass(frozen=True)
class FolderOptions(PrepareOptions):
    __doc__ = options_doc("Options of the class-per-folder adapter.", """
        classes: comma-separated class folder names in label order; empty = sorted folder names.
        subject_regex: regular expression searched in each item's relative path; group 'subject' (or 1) is the subject id.
        folds: folds of the subject-independent protocol (trees without split folders).
        eval_split: scored split of trees with split folders: "auto" (test if present, else val), "test" or "val".
        name: dataset name recorded with results (e.g. the real dataset's name).
""")

    classes: str = ""
    subject_regex: str = ""
    folds: int = 5
    eval_split: Literal["auto", "test", "val"] = "auto"
    name: str = "folder"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.folds < 2:
            raise OptionError(f"folder needs folds >= 2, got {self.folds}")
        if self.subject_regex:
            try:
                re.compile(self.subject_regex)
            except re.error as err:
                raise OptionError(f"folder subject_regex {self.subject_regex!r} is not a valid regular expression: {err}") from None


def items_in(folder: Path) -> list[Path]:
    """Videos, images and image folders directly in ``folder``, in natural order."""
    out = []
    for p in sorted(folder.iterdir(), key=lambda p: natural_key(p.name)):
        if p.name.startswith("."):
            continue
        if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES + IMAGE_SUFFIXES:
            out.append(p)
        elif p.is_dir() and images_in(p):
            out.append(p)
    return out


class Folder(RealDataset):
    hint = "one folder per class (optionally inside train/, val/, test/)"

    def subject(self, rel: str) -> str:
        pattern = self.options.subject_regex  # type: ignore[attr-defined]
        if not pattern:
            return rel
        m = re.search(pattern, rel)
        if m is None:
            raise DatasetLayoutError(f"dataset '{self.name}': subject_regex {pattern!r} does not match {rel!r}; fix the expression")
        groups = m.groupdict()
        return groups.get("subject") or (m.group(1) if m.re.groups else m.group(0))

    def raw_manifest(self) -> Manifest:
        o: FolderOptions = self.options  # type: ignore[assignment]
        root = require_root(self.name, self.root, self.hint)
        top = subdirs(root)
        splits = {SPLIT_NAMES[d.name.lower()]: d for d in top if d.name.lower() in SPLIT_NAMES}
        if splits and len(splits) != len(top):
            other = next(d for d in top if d.name.lower() not in SPLIT_NAMES)
            raise DatasetLayoutError(f"dataset '{self.name}': {root} mixes split folders with {other.name}/; use only train/, val/, test/")
        if splits and "train" not in splits:
            raise DatasetLayoutError(f"dataset '{self.name}': expected a train split folder at {root / 'train'}, not found")
        trees = splits if splits else {None: root}
        names = sorted({d.name for t in trees.values() for d in subdirs(t)}, key=natural_key)
        classes = [c.strip() for c in o.classes.split(",") if c.strip()] or names
        unknown = sorted(set(names) - set(classes))
        if unknown:
            raise DatasetLayoutError(f"dataset '{self.name}': class folder {unknown[0]}/ is not in classes={o.classes!r}; add it")
        samples, all_images = [], True
        for split, tree in trees.items():
            for label, cls in enumerate(classes):
                cdir = tree / cls
                if split is None:
                    require_dir(self.name, cdir, f"the folder of class '{cls}'")
                elif not cdir.is_dir():
                    continue
                for item in items_in(cdir):
                    rel = item.relative_to(root).as_posix()
                    is_image = item.is_file() and item.suffix.lower() in IMAGE_SUFFIXES
                    all_images &= is_image
                    samples.append(Sample(id=rel, path=str(item), label=label, subject=self.subject(rel), split=split,
                                          apex=0 if is_image else None, num_frames=1 if is_image else None))
        if not samples:
            raise DatasetLayoutError(f"dataset '{self.name}': no videos, images or frame folders under {root}/<class>/")
        if splits:
            eval_split = o.eval_split if o.eval_split != "auto" else ("test" if "test" in splits else "val")
            protocol = ProtocolSpec("official", eval_split=eval_split)
        else:
            protocol = ProtocolSpec("kfold", folds=o.folds)
        return Manifest(o.name, classes, samples, protocol, modality="image" if all_images else "video",
                        root=str(root), info={"apex_convention": None})


def factory(options: FolderOptions, root: Path | None, cache_dir: Path) -> Folder:
    return Folder("folder", options, root, cache_dir)

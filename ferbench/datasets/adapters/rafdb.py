"""RAF-DB basic emotions: 15,339 images, official train -> test.

Layout (``--root`` is the ``basic/`` folder, or the folder holding it)::

    EmoLabel/list_patition_label.txt      lines "train_00001.jpg 5" / "test_0001.jpg 1"
    Image/aligned/train_00001_aligned.jpg  (images=aligned)
    Image/original/train_00001.jpg         (images=original)

Labels: 1 surprise, 2 fear, 3 disgust, 4 happiness, 5 sadness, 6 anger,
7 neutral. Each image is its own subject.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

from ...data.manifest import Manifest, ProtocolSpec, Sample
from ...errors import DatasetLayoutError
from ...prepare.options import PrepareOptions, options_doc
from .base import RealDataset
from .layout import ANGER, DISGUST, FEAR, HAPPINESS, NEUTRAL, SADNESS, SURPRISE, find_child, require_file, require_root

CODES = {1: SURPRISE, 2: FEAR, 3: DISGUST, 4: HAPPINESS, 5: SADNESS, 6: ANGER, 7: NEUTRAL}
CLASSES = list(CODES.values())


@dataclasses.dataclass(frozen=True)
class RAFDBOptions(PrepareOptions):
    __doc__ = options_doc("RAF-DB options.", """
        images: "aligned" (the 100x100 aligned faces) or "original" (the full images).
""")

    images: Literal["aligned", "original"] = "aligned"


class RAFDB(RealDataset):
    hint = "EmoLabel/list_patition_label.txt and Image/ of RAF-DB basic"

    def raw_manifest(self) -> Manifest:
        o: RAFDBOptions = self.options  # type: ignore[assignment]
        root = require_root(self.name, self.root, self.hint)
        if not (root / "EmoLabel").is_dir() and (root / "basic").is_dir():
            root = root / "basic"
        labels = require_file(self.name, find_child(self.name, root, ["EmoLabel"], "the label folder") / "list_patition_label.txt",
                              "the label list")
        image_dir = find_child(self.name, find_child(self.name, root, ["Image"], "the image folder"), [o.images], f"the {o.images} images")
        samples = []
        for n, line in enumerate(labels.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                name, code_text = line.split()
                code = int(code_text)
            except ValueError:
                raise DatasetLayoutError(f"dataset '{self.name}': line {n} of {labels} is not 'image label'") from None
            if code not in CODES:
                raise DatasetLayoutError(f"dataset '{self.name}': label {code} on line {n} of {labels} is not 1-7")
            stem, suffix = name.rsplit(".", 1)
            file = image_dir / (f"{stem}_aligned.{suffix}" if o.images == "aligned" else name)
            require_file(self.name, file, f"the image of line {n} of the label list")
            split = "train" if stem.startswith("train") else "test"
            samples.append(Sample(id=stem, path=str(file), label=CLASSES.index(CODES[code]), subject=stem, split=split,
                                  apex=0, num_frames=1))
        return Manifest(self.name, list(CLASSES), samples, ProtocolSpec("official", eval_split="test"), modality="image",
                        root=str(root), info={"apex_convention": None})


def factory(options: RAFDBOptions, root: Path | None, cache_dir: Path) -> RAFDB:
    return RAFDB("rafdb", options, root, cache_dir)

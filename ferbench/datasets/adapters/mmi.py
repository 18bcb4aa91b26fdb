"""MMI Facial Expression Database: video sessions with XML metadata.

Layout (``--root`` is the folder holding ``Sessions/``)::

    Sessions/<n>/<S001-001>.avi
    Sessions/<n>/session.xml    a <Metatag Name="Emotion" Value="1-6"/> and <subject id=".."/>

Emotion codes: 1 anger, 2 disgust, 3 fear, 4 happy, 5 sadness, 6 surprise.
Sessions without a video or an emotion tag (still images, AU-only sessions)
are skipped. Sequences go neutral -> apex -> neutral: the apex convention is
the middle frame. The subject is the XML ``subject`` id, else the ``S001``
prefix of the file name. Protocol: subject-independent ``folds``-fold (10).
"""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from ...data.manifest import Manifest, ProtocolSpec, Sample
from ...errors import DatasetLayoutError, OptionError
from ...prepare.options import PrepareOptions, options_doc
from .base import RealDataset
from .layout import ANGER, DISGUST, FEAR, HAPPINESS, SADNESS, SURPRISE, find_child, require_root, subdirs, videos_in

CODES = {1: ANGER, 2: DISGUST, 3: FEAR, 4: HAPPINESS, 5: SADNESS, 6: SURPRISE}
CLASSES = list(CODES.values())


@dataclasses.dataclass(frozen=True)
class MMIOptions(PrepareOptions):
    __doc__ = options_doc("MMI options.", """
        folds: folds of the subject-independent protocol.
""")

    folds: int = 10

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.folds < 2:
            raise OptionError(f"mmi needs folds >= 2, got {self.folds}")


def parse_session(dataset: str, path: Path) -> tuple[int | None, str | None]:
    """(emotion code or None, subject id or None) of a ``session.xml``."""
    try:
        tree = ET.parse(path)
    except (ET.ParseError, OSError) as err:
        raise DatasetLayoutError(f"dataset '{dataset}': cannot parse {path}: {err} (re-extract the archive)") from None
    code = subject = None
    for el in tree.iter():
        attrs = {k.lower(): v for k, v in el.attrib.items()}
        if attrs.get("name", "").lower() == "emotion" and "value" in attrs:
            try:
                code = int(float(attrs["value"]))
            except ValueError:
                code = None
        if el.tag.lower() == "subject" and "id" in attrs:
            subject = attrs["id"]
    return code, subject


class MMI(RealDataset):
    hint = "Sessions/<n>/ folders with an .avi and a session.xml each"
    apex_convention = "middle"

    def raw_manifest(self) -> Manifest:
        root = require_root(self.name, self.root, self.hint)
        sessions = find_child(self.name, root, ["Sessions"], "the Sessions folder")
        samples = []
        for sdir in subdirs(sessions):
            videos = videos_in(sdir)
            xml = sdir / "session.xml"
            if not videos or not xml.is_file():
                continue
            code, subject = parse_session(self.name, xml)
            if code not in CODES:
                continue
            if subject is None:
                m = re.match(r"S(\d+)", videos[0].stem)
                subject = m.group(1) if m else sdir.name
            samples.append(Sample(id=f"session{sdir.name}", path=str(videos[0]), label=CLASSES.index(CODES[code]),
                                  subject=f"S{int(subject):03d}" if subject.isdigit() else subject,
                                  meta={"apex_convention": "middle"}))
        return Manifest(self.name, list(CLASSES), samples, ProtocolSpec("kfold", folds=self.options.folds),  # type: ignore[attr-defined]
                        modality="video", root=str(root), info={"apex_convention": self.apex_convention})


def factory(options: MMIOptions, root: Path | None, cache_dir: Path) -> MMI:
    return MMI("mmi", options, root, cache_dir)

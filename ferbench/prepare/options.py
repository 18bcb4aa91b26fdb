"""Options of ``ferbench prepare`` (face detection, tracking, alignment, re-encoding) that every
real-dataset adapter's options class inherits, so ``--dataset-opt face_size=96`` works for all of them."""

from __future__ import annotations

import dataclasses
from typing import Literal

from ..errors import OptionError

FACE_TRACK_DOC = """
        face_size: side of the square aligned face crop, pixels.
        margin: crop side = margin x the larger side of the (eye-aligned) MTCNN box.
        smooth: centred moving-average window over frames for boxes and landmarks (1 = none).
        min_face: smallest face MTCNN looks for, pixels (of the detection-scale frame).
        detect_side: frames whose longer side exceeds this are downscaled for detection (pixels).
        gop: GOP of the re-encoded face track (an I-frame every gop frames, P-frames between).
        crf: libx264 constant rate factor of the face track (lower = better quality).
        fps: frame rate written for datasets of image sequences (videos keep theirs).
        min_face_fraction: an item whose face is found in fewer than this fraction of its frames has "too few face frames".
        max_gap: longest run of frames without the face that is filled (interpolated); frames of longer runs are cut from the clip.
"""

PREPARE_DOC = """
        prepared: "auto" (face crops from 'ferbench prepare' when present, else raw files), "yes" (require them), "no" (raw files).""" \
    + FACE_TRACK_DOC.rstrip("\n") + """
        no_face: item with no face, or too few face frames: "fail" (reported, left out) or "full" (centre square of the whole frame).
        outside_links: files or folders under the root that are symlinks leading outside it: "refuse" (left out, one line each) or "follow".
"""


@dataclasses.dataclass(frozen=True)
class FaceTrackOptions:
    __doc__ = ("How a face track is made from media: MTCNN detection, tracking, eye alignment, square crop and "
               "H.264 re-encoding (what 'ferbench prepare' and 'ferbench predict' share).\n\n    Attributes:"
               + FACE_TRACK_DOC)

    face_size: int = 112
    margin: float = 1.3
    smooth: int = 5
    min_face: int = 20
    detect_side: int = 360
    gop: int = 12
    crf: int = 18
    fps: int = 25
    min_face_fraction: float = 0.5
    max_gap: int = 8

    def __post_init__(self) -> None:
        if self.face_size < 16 or self.face_size % 2 or self.margin <= 0 or self.smooth < 1 or self.gop < 1 or self.fps < 1:
            raise OptionError(
                f"face-track options need an even face_size >= 16, margin > 0, smooth >= 1, gop >= 1, fps >= 1; got "
                f"face_size={self.face_size}, margin={self.margin}, smooth={self.smooth}, gop={self.gop}, fps={self.fps}"
            )
        if not 0.0 <= self.min_face_fraction <= 1.0 or self.max_gap < 0:
            raise OptionError(f"face-track options need 0 <= min_face_fraction <= 1 and max_gap >= 0; got "
                              f"min_face_fraction={self.min_face_fraction}, max_gap={self.max_gap}")

    def face_track(self) -> dict:
        """The face-track fields alone (``FaceTrackOptions`` of a subclass's values), as a dict."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(FaceTrackOptions)}


@dataclasses.dataclass(frozen=True)
class PrepareOptions(FaceTrackOptions):
    __doc__ = "Options of 'ferbench prepare' shared by every real-dataset adapter.\n\n    Attributes:" + PREPARE_DOC

    prepared: Literal["auto", "yes", "no"] = "auto"
    no_face: Literal["fail", "full"] = "fail"
    outside_links: Literal["refuse", "follow"] = "refuse"


def options_doc(summary: str, own: str) -> str:
    """Docstring of an adapter's options class: its own ``Attributes:`` lines plus the prepare ones."""
    return f"{summary}\n\n    Attributes:\n{own.rstrip()}{PREPARE_DOC}"



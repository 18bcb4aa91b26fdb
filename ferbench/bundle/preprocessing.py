"""How a bundle's model saw its faces: what prediction must reproduce before the input runs.

The input representation itself (decoding, frame choice, resizing, colour,
normalisation) travels in the bundle as its component options and runs
unchanged at prediction time. What comes *before* it is the dataset's face
framing: a real dataset's media are ``ferbench prepare`` face tracks (MTCNN
box, eye alignment, a square crop of ``margin`` times the box, ``face_size``
pixels, H.264 I+P with a fixed GOP); SynthFER's media are generated face crops
with the same kind of framing. :func:`preprocessing_of` records those numbers
from the training dataset's options, so ``ferbench predict`` crops new media
the way the training media were cropped.
"""

from __future__ import annotations

import dataclasses
import statistics
from typing import Any, Literal

from ..data.manifest import Manifest
from ..prepare.options import FACE_TRACK_DOC, FaceTrackOptions

#: SynthFER frames show the face at about this margin (frame side / side of the MTCNN box):
#: the median over synthetic-tiny (64 px) and synthetic (112 px) clips is 1.46-1.52
#: (tests/core/test_bundle_preprocessing.py measures it again).
SYNTHFER_MARGIN = 1.5

#: frames per window when the training media's length is unknown
DEFAULT_WINDOW_FRAMES = 16

Source = Literal["prepared", "generated", "raw"]


@dataclasses.dataclass(frozen=True)
class Preprocessing(FaceTrackOptions):
    __doc__ = ("The face framing of the training media (``model.json``'s ``preprocessing``): the face-track "
               "settings below, plus where the media came from.\n\n    Attributes:" + FACE_TRACK_DOC + """
        source: "prepared" (``ferbench prepare`` face tracks), "generated" (SynthFER face crops)
            or "raw" (the dataset's files as they are; prediction still crops faces).
        alignment: "eyes": the crop is rotated so the eyes are level.
        colour: channel order of decoded frames ("RGB" everywhere in ferbench).
        modality: "video" or "image": what the model was trained on.
        window_frames: frames per prediction window: the median length of the training media.
        apex_position: where the training media's apex frame lies, as a fraction of the clip (0 = first
            frame, 1 = last; the median over samples), or None when the dataset does not mark apexes.
            Prediction marks the same relative frame of each window (inputs that pick the apex read it).
""")

    source: Source = "prepared"
    alignment: Literal["eyes"] = "eyes"
    colour: Literal["RGB"] = "RGB"
    modality: Literal["video", "image"] = "video"
    window_frames: int = DEFAULT_WINDOW_FRAMES
    apex_position: float | None = None

    def apex_of(self, frames: int) -> int | None:
        """The apex frame index of a window of ``frames`` frames, or None."""
        if self.apex_position is None or frames < 1:
            return None
        return min(frames - 1, max(0, round(self.apex_position * (frames - 1))))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _window_frames(manifest: Manifest) -> int:
    if manifest.modality == "image":
        return 1
    lengths = [s.num_frames for s in manifest.samples if s.num_frames]
    return max(1, int(statistics.median(lengths))) if lengths else DEFAULT_WINDOW_FRAMES


def _apex_position(manifest: Manifest) -> float | None:
    spots = [s.apex / (s.num_frames - 1) for s in manifest.samples
             if s.apex is not None and s.num_frames and s.num_frames > 1]
    return round(float(statistics.median(spots)), 4) if spots else None


def preprocessing_of(manifest: Manifest, dataset_options: Any) -> Preprocessing:
    """The face framing of a training dataset, from its manifest and options.

    Real datasets (options with the ``PrepareOptions`` fields) give their prepare settings,
    SynthFER (options with ``size``, ``gop``, ``quality``) its frame size and codec settings;
    any other dataset the ``ferbench prepare`` defaults.
    """
    window = _window_frames(manifest)
    common = {"modality": manifest.modality, "window_frames": window, "apex_position": _apex_position(manifest)}
    if isinstance(dataset_options, FaceTrackOptions):
        source: Source = "prepared" if manifest.info.get("prepared") else "raw"
        return Preprocessing(source=source, **dataset_options.face_track(), **common)
    fields = {f.name for f in dataclasses.fields(dataset_options)} if dataclasses.is_dataclass(dataset_options) else set()
    if {"size", "gop", "quality", "fps"} <= fields:
        o = dataset_options
        return Preprocessing(source="generated", face_size=o.size, margin=SYNTHFER_MARGIN, gop=o.gop, crf=o.quality,
                             fps=o.fps, **common)
    return Preprocessing(source="raw", **common)

"""Options of ``ferbench predict`` / ``Bundle.predict``."""

from __future__ import annotations

import dataclasses
from typing import Literal

from ..errors import OptionError


@dataclasses.dataclass(frozen=True)
class PredictOptions:
    """How new media are turned into predictions.

    Attributes:
        faces: "detect": find, track, align and crop the face (MTCNN) the way the training media were
            framed; "given": the media already are face crops framed like the training media (a
            SynthFER clip, a prepared face track) and go to the input as they are.
        detect_every: run MTCNN on every k-th frame and interpolate the face between, where
            consecutive detections overlap by at least ``refine_iou`` (else every frame between is detected).
        refine_iou: box overlap (IoU) two detections k frames apart need for the frames between to be
            interpolated instead of detected.
        max_gap: longest run of frames without the face that is bridged by interpolation (and counts
            as face frames); longer runs count as no face; -1 = the bundle's (prepare's max_gap, 8).
        window: frames per prediction window; 0 = the median length of the training media (model.json).
        stride: frames between window starts; 0 = window (windows side by side; the last one may
            overlap). A video shorter than a window is one window.
        min_face_fraction: a window is scored only when at least this fraction of its frames has a face;
            -1 = the bundle's (prepare's min_face_fraction, 0.5).
        chunk: frames decoded at once (memory stays at about chunk + window frames, whatever the length).
        batch_size: windows per forward pass (across files).
        min_face: smallest face MTCNN looks for, pixels at detection scale, capped at a third of the
            frame's shorter side there (so small face-crop frames still work); 0 = the bundle's (prepare's,
            20). 40 makes detection about 3x cheaper than 20 and only skips faces below ~70 px in a 640x360
            video, too small for a useful crop.
        detect_side: frames are downscaled to this longer side for detection; 0 = the bundle's.
        threads: torch intra-op threads while predicting; 1 (default) is fastest for MTCNN's many small
            operations, and far faster on a busy machine; 0 keeps torch's setting.
        timeline: keep every window's probabilities (``FilePrediction.windows``).
        progress: show a progress bar.
    """

    faces: Literal["detect", "given"] = "detect"
    detect_every: int = 10
    refine_iou: float = 0.5
    max_gap: int = -1
    window: int = 0
    stride: int = 0
    min_face_fraction: float = -1.0
    chunk: int = 64
    batch_size: int = 16
    min_face: int = 40
    detect_side: int = 0
    threads: int = 1
    timeline: bool = False
    progress: bool = False

    def __post_init__(self) -> None:
        problems = []
        for name in ("detect_every", "chunk", "batch_size"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("window", "stride", "min_face", "detect_side", "threads"):
            if getattr(self, name) < 0:
                problems.append(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.max_gap < -1:
            problems.append(f"max_gap must be >= 0 (or -1: the bundle's), got {self.max_gap}")
        if not (0.0 <= self.min_face_fraction <= 1.0 or self.min_face_fraction == -1) or not 0.0 <= self.refine_iou <= 1.0:
            problems.append("min_face_fraction (or -1: the bundle's) and refine_iou must be in [0, 1]")
        if self.faces not in ("detect", "given"):
            problems.append(f"faces must be 'detect' or 'given', got {self.faces!r}")
        if problems:
            raise OptionError("predict options: " + "; ".join(problems))

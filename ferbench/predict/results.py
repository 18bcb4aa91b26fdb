"""What prediction returns per file (and per window), and the predictions CSV."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal, Sequence

from ..fileio import write_csv

Status = Literal["ok", "no face", "unreadable"]


@dataclasses.dataclass
class WindowPrediction:
    """One sliding window of a video.

    Attributes:
        start_frame: first frame (0-based).
        end_frame: one past the last frame.
        start_s: start time, seconds.
        end_s: end time, seconds.
        face_rate: fraction of the window's frames with a face.
        probabilities: class -> probability, or None when the window was not scored (too few face frames).
    """

    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    face_rate: float
    probabilities: dict[str, float] | None = None


@dataclasses.dataclass
class FilePrediction:
    """One file's prediction (a row of ``ferbench predict``'s CSV).

    Attributes:
        path: the file.
        status: "ok", "no face" (no window had enough face frames: no guess is made) or "unreadable".
        error: why the status is not "ok", else "".
        label: the predicted class, "" unless ok.
        probabilities: class -> probability (mean over the scored windows), empty unless ok.
        face_frames: frames with a face (detected, tracked or bridged).
        frames: frames decoded.
        fps: frame rate (videos; images 25).
        windows: per-window predictions (with ``timeline=True``), else empty.
    """

    path: Path
    status: Status
    error: str = ""
    label: str = ""
    probabilities: dict[str, float] = dataclasses.field(default_factory=dict)
    face_frames: int = 0
    frames: int = 0
    fps: float = 0.0
    windows: list[WindowPrediction] = dataclasses.field(default_factory=list)


def csv_header(classes: Sequence[str]) -> list[str]:
    return ["file", "status", "prediction", *(f"p_{c}" for c in classes), "face_frames", "frames", "error"]


def write_predictions_csv(path: str | Path, predictions: Sequence[FilePrediction], classes: Sequence[str]) -> Path:
    """One row per file: status, predicted class, every class's probability, face frames, frames, error."""
    rows = ([str(p.path), p.status, p.label,
             *(f"{p.probabilities[c]:.5f}" if p.probabilities else "" for c in classes),
             p.face_frames, p.frames, p.error] for p in predictions)
    return write_csv(path, csv_header(classes), rows)

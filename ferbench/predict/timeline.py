"""``ferbench predict --timeline``: per-window probabilities of a video as CSV, and a plot people read.

The PNG has two panels sharing the time axis: every class's probability per
window (drawn at the window's centre; unscored windows leave a gap) and the
fraction of each window's frames with a face.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..fileio import atomic_path, write_csv
from .results import FilePrediction


def write_timeline_csv(path: Path, prediction: FilePrediction, classes: Sequence[str]) -> Path:
    """One row per window: frames, seconds, face rate, whether it was scored, every class's probability."""
    rows = ([i, w.start_frame, w.end_frame, f"{w.start_s:.3f}", f"{w.end_s:.3f}", f"{w.face_rate:.3f}",
             "yes" if w.probabilities else "no",
             *(f"{w.probabilities[c]:.5f}" if w.probabilities else "" for c in classes)]
            for i, w in enumerate(prediction.windows))
    header = ["window", "start_frame", "end_frame", "start_s", "end_s", "face_rate", "scored", *(f"p_{c}" for c in classes)]
    return write_csv(path, header, rows)


def plot_timeline(path: Path, prediction: FilePrediction, classes: Sequence[str], title: str = "") -> Path:
    """Class probability over time (top) and the face detection rate (bottom), as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    windows = prediction.windows
    centre = np.array([(w.start_s + w.end_s) / 2 for w in windows])
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 5), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    for c in classes:
        values = np.array([w.probabilities[c] if w.probabilities else np.nan for w in windows])
        top.plot(centre, values, marker="o" if len(windows) < 40 else None, markersize=3, label=c)
    top.set_ylim(0, 1)
    top.set_ylabel("probability")
    top.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    top.set_title(title or f"{prediction.path.name}: {prediction.label or prediction.status}")
    top.grid(alpha=0.3)
    bottom.fill_between(centre, [w.face_rate for w in windows], step="mid", alpha=0.4, color="tab:gray")
    bottom.set_ylim(0, 1.05)
    bottom.set_ylabel("face rate")
    bottom.set_xlabel("time (s, window centre)")
    bottom.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
    return path

"""Figure 6 of the paper: the emotional activation map over a video's clips, as a PNG.

Top row (when frames are given): one thumbnail per clip (its middle frame),
with the emotion-rich clip P_e boxed in orange, as in the paper. Middle: the
activation strip A_{y^c} of the shown class over the clips (darker = more
emotional information). Bottom: the full map A [classes x clips].
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np


def plot_activation_map(
    clip_scores: np.ndarray,
    path: str | Path,
    *,
    classes: Sequence[str],
    shown_class: int,
    selected_clip: int | None = None,
    thumbnails: np.ndarray | None = None,
    apex_clip: int | None = None,
    title: str = "",
) -> Path:
    """Write the emotional activation map of one video as a PNG.

    Args:
        clip_scores: A [n, K], softmax over clips per class (Eq. 5); the ``clip_scores`` extra of ``eian``.
        path: PNG file to write (parent folders are created).
        classes: K class names.
        shown_class: the class c whose strip A_{y^c} is drawn (the predicted one, typically).
        selected_clip: P_e (Eq. 6); defaults to argmax of A[:, shown_class].
        thumbnails: optional uint8 [n, H, W, 3] (or [n, H, W]) middle frame of each clip.
        apex_clip: optional ground-truth clip (dashed green box), e.g. from the annotated apex.
        title: figure title.

    Returns:
        The written path.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    a = np.asarray(clip_scores, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != len(classes):
        raise ValueError(f"clip_scores must be [clips, {len(classes)}], got {a.shape}")
    n = a.shape[0]
    sel = int(a[:, shown_class].argmax()) if selected_clip is None else int(selected_clip)
    rows = [1.0, 1.2, 0.25 * len(classes) + 0.6] if thumbnails is not None else [1.2, 0.25 * len(classes) + 0.6]
    fig = Figure(figsize=(max(6.0, 1.1 * n), sum(rows) + 0.8))
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(rows), 1, gridspec_kw={"height_ratios": rows})
    r = 0
    if thumbnails is not None:
        ax = axes[r]
        r += 1
        thumbs = np.asarray(thumbnails)
        h = thumbs.shape[1]
        strip = np.concatenate(list(thumbs), axis=1)
        ax.imshow(strip, cmap="gray" if strip.ndim == 2 else None, aspect="equal")
        w = thumbs.shape[2]
        ax.add_patch(Rectangle((sel * w - 0.5, -0.5), w, h, fill=False, edgecolor="orange", linewidth=3))
        if apex_clip is not None:
            ax.add_patch(Rectangle((apex_clip * w + 1.5, 1.5), w - 4, h - 4, fill=False, edgecolor="limegreen", linewidth=1.5, linestyle="--"))
        ax.set_axis_off()
    ax = axes[r]
    r += 1
    strip = a[:, shown_class][None, :]
    lo, hi = float(strip.min()), max(float(strip.max()), float(strip.min()) + 1e-9)
    ax.imshow(strip, cmap="Reds", aspect="auto", vmin=lo - 0.1 * (hi - lo), vmax=hi)  # relative: darker = larger
    for i, v in enumerate(strip[0]):
        ax.text(i, 0, f"{v:.2f}", ha="center", va="center", fontsize=8, color="white" if v > lo + 0.6 * (hi - lo) else "black")
    ax.add_patch(Rectangle((sel - 0.5, -0.5), 1, 1, fill=False, edgecolor="orange", linewidth=3))
    ax.set_yticks([0], [f"A[{classes[shown_class]}]"])
    ax.set_xticks(range(n), [f"clip {i + 1}" for i in range(n)])
    ax = axes[r]
    im = ax.imshow(a.T, cmap="Reds", aspect="auto", vmin=0.0, vmax=1.0)
    ax.set_yticks(range(len(classes)), list(classes))
    ax.set_xticks(range(n), [f"{i + 1}" for i in range(n)])
    ax.set_xlabel("clip (softmax over clips per class, Eq. 5)")
    fig.colorbar(im, ax=ax, fraction=0.03)
    fig.suptitle(title or f"emotional activation map; emotion-rich clip P_e = {sel + 1}")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path

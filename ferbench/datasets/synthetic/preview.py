"""Preview images of SynthFER options: a contact sheet and an apex-vs-neutral strip.

The previews are rendered directly (nothing is cached or encoded): each cell
is a short clip with the ``ckplus`` profile (so the apex is the last frame)
and every other option as given (pose, light, clutter, size ...).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .clip import VideoPlan, render_clip, subject_name
from .options import SynthOptions

_LABEL_H = 14


def _clip_frames(options: SynthOptions, subject: int, label: int) -> tuple[np.ndarray, np.ndarray]:
    """(neutral first frame, apex frame) uint8 [S, S, 3] of subject ``subject`` showing class ``label``."""
    short = dataclasses.replace(options, frames=3, profile="ckplus", workers=1)
    plan = VideoPlan(id="preview", subject_index=subject, video_index=1000 + label, true_label=label,
                     label=label, train_only=False, favoured=None)
    clip = render_clip(short, plan)
    return clip.frames[0], clip.frames[clip.track.apex]


def _upscale(img: np.ndarray, min_size: int = 96) -> np.ndarray:
    factor = max(1, int(np.ceil(min_size / img.shape[0])))
    return img.repeat(factor, 0).repeat(factor, 1) if factor > 1 else img


def _grid(cells: list[list[np.ndarray]], col_names: list[str], row_names: list[str]) -> Image.Image:
    h, w = cells[0][0].shape[:2]
    left = 34
    sheet = Image.new("RGB", (left + w * len(col_names), _LABEL_H + h * len(row_names)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for j, name in enumerate(col_names):
        draw.text((left + j * w + 2, 1), name[: max(3, w // 6)], fill=(0, 0, 0))
    for i, row in enumerate(cells):
        draw.text((2, _LABEL_H + i * h + h // 2 - 5), row_names[i][:5], fill=(0, 0, 0))
        for j, cell in enumerate(row):
            sheet.paste(Image.fromarray(cell), (left + j * w, _LABEL_H + i * h))
    return sheet


def write_contact_sheet(options: SynthOptions, out_png: str | Path, subjects: int = 8) -> Path:
    """PNG grid: rows = the first ``subjects`` subjects, columns = classes, cells = apex frames."""
    rows = min(subjects, options.subjects)
    cells = [[_upscale(_clip_frames(options, s, c)[1]) for c in range(len(options.classes))] for s in range(rows)]
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    _grid(cells, options.classes, [subject_name(s) for s in range(rows)]).save(out)
    return out


def write_apex_strip(options: SynthOptions, out_png: str | Path, subject: int = 0) -> Path:
    """PNG strip, one column per class: neutral (first) frame, apex frame, amplified |apex - neutral|."""
    neutral, apex, diff = [], [], []
    for c in range(len(options.classes)):
        first, peak = _clip_frames(options, subject, c)
        d = np.abs(peak.astype(np.int16) - first.astype(np.int16)).max(axis=2)
        heat = np.clip(d * 4, 0, 255).astype(np.uint8)
        neutral.append(_upscale(first))
        apex.append(_upscale(peak))
        diff.append(_upscale(np.stack([heat, heat // 3, 255 - heat], axis=2)))
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    _grid([neutral, apex, diff], options.classes, ["first", "apex", "diff"]).save(out)
    return out


def write_preview(options: SynthOptions, out_dir: str | Path, subjects: int = 8) -> list[Path]:
    """Write ``contact_sheet.png`` and ``apex_vs_neutral.png`` into ``out_dir``; returns their paths."""
    out_dir = Path(out_dir)
    return [
        write_contact_sheet(options, out_dir / "contact_sheet.png", subjects=subjects),
        write_apex_strip(options, out_dir / "apex_vs_neutral.png"),
    ]

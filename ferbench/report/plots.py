"""The report's plots, drawn with matplotlib and returned as inline SVG text.

Every function returns the ``<svg ...>...</svg>`` element (no XML prologue),
sized by its ``viewBox`` so CSS can scale it to the page width. Text stays
text (``svg.fonttype = none``), is escaped by matplotlib's SVG writer and is
never parsed as math (``text.parse_math = False``), so component, dataset and
class names are shown as written. Element ids are salted per plot, so several
SVGs can share one HTML page, and the output is deterministic.
"""

from __future__ import annotations

import dataclasses
import io
import math
import re
from typing import Sequence

import numpy as np
from matplotlib import rc_context
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from ..results import FoldRecord
from .stats import ClassSummary, pareto_front

__all__ = ["CostPoint", "confusion_svg", "cost_svg", "curves_svg", "recall_svg", "short_combination"]

MEASURED_COLOUR = "#1f5fa8"
REPORTED_COLOUR = "#d9730d"
_SVG_START = re.compile(r"<svg\b[^>]*>", re.S)


def _svg(fig: Figure, salt: str, label: str) -> str:
    """The figure as an inline ``<svg>`` element with ``role="img"`` and an escaped ``aria-label``."""
    from html import escape

    FigureCanvasSVG(fig)
    buf = io.StringIO()
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    text = buf.getvalue()
    match = _SVG_START.search(text)
    if match is None:  # pragma: no cover - matplotlib always writes one
        raise RuntimeError("matplotlib wrote no <svg> element")
    tag = re.sub(r'\s(width|height)="[^"]*"', "", match.group(0))
    tag = tag[:-1] + f' class="plot" role="img" aria-label="{escape(label, quote=True)}">'
    return tag + text[match.end():]


def _figure(width: float, height: float) -> Figure:
    with rc_context({"text.parse_math": False}):
        fig = Figure(figsize=(width, height), layout="constrained")
    return fig


def _count_label(value: float) -> str:
    """A tick label for a count: ``1e9`` -> ``"1G"``, ``2.5e7`` -> ``"25M"``."""
    for size, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if value >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def short_combination(label: str, limit: int = 44) -> str:
    """A combination label for a plot: the ``+none`` kinds dropped, cut to ``limit`` characters."""
    parts = [p for p in label.split("+") if p != "none"]
    text = "+".join(parts) or label
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclasses.dataclass(frozen=True)
class CostPoint:
    """One row in an accuracy-vs-cost plot.

    Attributes:
        label: the combination label.
        macs: multiply-accumulates per sample (> 0).
        score: WAR or UAR, percent.
        reported: a paper's number (else measured here).
        url: the row's page, relative to the plot's page ("" for none).
    """

    label: str
    macs: float
    score: float
    reported: bool
    url: str = ""


def cost_svg(points: Sequence[CostPoint], metric_title: str, salt: str, title: str = "") -> str:
    """Score against MACs per sample (log axis), measured and reported markers, the Pareto front
    as a dashed staircase and each point labelled with its (shortened) combination."""
    with rc_context({"text.parse_math": False}):
        fig = _figure(7.2, 4.6)
        ax = fig.add_subplot(1, 1, 1)
        front = pareto_front([p.macs for p in points], [p.score for p in points])
        if len(front) > 1:
            xs = [points[i].macs for i in front]
            ys = [points[i].score for i in front]
            ax.step(xs, ys, where="post", color="#777777", linestyle="--", linewidth=1, label="Pareto front", zorder=1)
        for reported, colour, marker, name in ((False, MEASURED_COLOUR, "o", "measured"),
                                               (True, REPORTED_COLOUR, "^", "reported")):
            chosen = [p for p in points if p.reported == reported]
            if not chosen:
                continue
            ax.scatter([p.macs for p in chosen], [p.score for p in chosen], c=colour, marker=marker, s=42,
                       label=name, zorder=3, edgecolors="white", linewidths=0.6,
                       urls=[p.url or None for p in chosen])
        low, high = min(p.macs for p in points), max(p.macs for p in points)
        ax.set_xscale("log")
        ax.set_xlim(low / 3, high * 3)
        decades = math.log10(high * 3) - math.log10(low / 3)
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if decades <= 3 else (1.0,)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: _count_label(x)))
        ax.xaxis.set_minor_formatter(NullFormatter())
        scores = [p.score for p in points]
        ax.set_ylim(max(0.0, min(scores) - 8), min(101.0, max(scores) + 8))
        ax.set_xlabel("MACs per sample (log scale)")
        ax.set_ylabel(f"{metric_title} %")
        if title:
            ax.set_title(title, fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
        _label_points(fig, ax, points, set(front))
        ax.legend(loc="best", fontsize=8, frameon=False)
        return _svg(fig, salt, f"{metric_title} against MACs per sample{': ' + title if title else ''}")


#: label offsets tried around a point, in points: (dx, dy, horizontal alignment), nearest first
_LABEL_SPOTS = [(dx, dy, "left" if dx > 0 else "right") for dy in (5, -12, 16, -23, 27, -34) for dx in (6, -6)]


def _label_points(fig: Figure, ax, points: Sequence[CostPoint], on_front: set[int]) -> None:
    """Label every point with its shortened combination, at the first nearby spot where the label stays
    inside the axes and overlaps neither an earlier label nor a marker (else the first spot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw_without_rendering()
    frame = ax.get_window_extent(renderer)
    markers = [ax.transData.transform((p.macs, p.score)) for p in points]

    def clear(box, i: int, taken: list) -> bool:
        inside = box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0 and box.y1 <= frame.y1
        hits_marker = any(box.x0 - 3 <= x <= box.x1 + 3 and box.y0 - 3 <= y <= box.y1 + 3
                          for k, (x, y) in enumerate(markers) if k != i)
        return inside and not hits_marker and not any(box.overlaps(t) for t in taken)

    taken: list = []
    for i in sorted(range(len(points)), key=lambda j: (points[j].macs, -points[j].score)):
        p = points[i]

        def label(dx: float, dy: float, ha: str):
            text = ax.annotate(short_combination(p.label), (p.macs, p.score), textcoords="offset points",
                               xytext=(dx, dy), ha=ha, fontsize=7, color="#222222",
                               fontweight="bold" if i in on_front else "normal")
            text.set_in_layout(False)
            return text, text.get_window_extent(renderer)

        for dx, dy, ha in _LABEL_SPOTS:
            text, box = label(dx, dy, ha)
            if clear(box, i, taken):
                break
            text.remove()
        else:
            text, box = label(*_LABEL_SPOTS[0])
        taken.append(box)


def confusion_svg(summary: ClassSummary, class_names: Sequence[str], salt: str) -> str:
    """The mean row-normalised confusion matrix as a heat map, each cell annotated in percent."""
    k = len(class_names)
    size = max(3.4, 0.5 * k + 1.8)
    with rc_context({"text.parse_math": False}):
        fig = _figure(size + 0.8, size)
        ax = fig.add_subplot(1, 1, 1)
        shown = np.nan_to_num(summary.confusion, nan=0.0)
        image = ax.imshow(shown, cmap="Blues", vmin=0.0, vmax=100.0)
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="% of the true class")
        ax.set_xticks(range(k), labels=list(class_names), rotation=45, ha="right", fontsize=10)
        ax.set_yticks(range(k), labels=list(class_names), fontsize=10)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        for i in range(k):
            for j in range(k):
                value = summary.confusion[i, j]
                text = "–" if math.isnan(value) else f"{value:.0f}"
                ax.text(j, i, text, ha="center", va="center", fontsize=9,
                        color="white" if shown[i, j] > 55 else "#222222")
        return _svg(fig, salt, f"mean confusion matrix over {summary.folds_used} fold record(s), percent of each true class")


def recall_svg(summary: ClassSummary, class_names: Sequence[str], salt: str) -> str:
    """Per-class recall as horizontal bars (percent) with the fold-to-fold std as error bars."""
    k = len(class_names)
    with rc_context({"text.parse_math": False}):
        fig = _figure(5.4, max(2.2, 0.34 * k + 1.0))
        ax = fig.add_subplot(1, 1, 1)
        y = np.arange(k)
        means = np.nan_to_num(summary.recall_mean, nan=0.0)
        errs = np.nan_to_num(summary.recall_std, nan=0.0) if summary.folds_used > 1 else None
        ax.barh(y, means, xerr=errs, color=MEASURED_COLOUR, alpha=0.85, error_kw={"elinewidth": 1, "capsize": 2})
        ax.set_yticks(y, labels=list(class_names), fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, 100)
        ax.set_xlabel("recall %")
        ax.grid(True, axis="x", alpha=0.3)
        return _svg(fig, salt, "per-class recall, percent")


def curves_svg(records: Sequence[FoldRecord], salt: str) -> str | None:
    """Loss and accuracy per epoch, one line per fold record (train accuracy solid, validation WAR
    dashed when recorded); None when no record has a history."""
    with_history = [r for r in records if r.history]
    if not with_history:
        return None
    with rc_context({"text.parse_math": False}):
        fig = _figure(8.0, 3.3)
        loss_ax, acc_ax = fig.subplots(1, 2)
        colours = [f"C{i % 10}" for i in range(len(with_history))]
        for r, colour in zip(with_history, colours):
            name = f"seed {r.seed} fold {r.fold}"
            epochs = [h.get("epoch", i + 1) for i, h in enumerate(r.history)]
            series = lambda key: [h.get(key) if isinstance(h.get(key), (int, float)) else np.nan  # noqa: E731
                                  for h in r.history]
            marker = "o" if len(epochs) < 3 else None
            loss_ax.plot(epochs, series("loss"), color=colour, marker=marker, markersize=3, label=name)
            acc_ax.plot(epochs, series("train_acc"), color=colour, marker=marker, markersize=3, label=f"{name} train")
            val = series("val_war")
            if any(not math.isnan(v) for v in val):
                acc_ax.plot(epochs, val, color=colour, linestyle="--", marker=marker, markersize=3,
                            label=f"{name} val WAR")
        loss_ax.set_title("training loss", fontsize=9)
        acc_ax.set_title("accuracy % (solid: train, dashed: validation WAR)", fontsize=9)
        last = max(max((h.get("epoch", i + 1) for i, h in enumerate(r.history)), default=1) for r in with_history)
        for ax in (loss_ax, acc_ax):
            ax.set_xlabel("epoch")
            ax.grid(True, alpha=0.3)
            ax.set_xlim(0.5, float(last) + 0.5)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if len(with_history) <= 6:
            loss_ax.legend(fontsize=7, frameon=False)
        return _svg(fig, salt, "training loss and accuracy per epoch")

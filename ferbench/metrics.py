"""Classification metrics, summaries, confusion plots and model cost.

Units and conventions (the whole of ferbench uses them):

* Every accuracy-like number (``war``, ``uar``, ``macro_f1``, per-class
  recall) is a **percentage** in [0, 100], never a fraction.
* ``war`` (weighted average recall) is overall accuracy: correct / total.
* ``uar`` (unweighted average recall) is the mean of per-class recall over the
  classes **present in y_true**; a class with no test sample is left out
  (its recall is undefined), so UAR is not dragged to 0 by absent classes.
* ``macro_f1`` is the mean F1 over the classes present in **y_true ∪ y_pred**
  (scikit-learn's default label set), with ``zero_division=0``: a class that
  occurs but is never predicted has F1 0, and a class that is predicted but
  never occurs also has F1 0 (it is pure false positives). Classes that appear
  in neither are left out.
* ``confusion[i][j]`` counts samples of true class ``i`` predicted as ``j``
  (rows true, columns predicted), shape [K, K].

Model cost: :func:`count_parameters` counts all parameters (trainable and
frozen); :func:`macs_of` counts multiply-accumulates of one call of a
callable with :class:`torch.utils.flop_counter.FlopCounterMode`
(MACs = FLOPs / 2; only ops the counter knows are counted: matmul, conv,
attention, ... — element-wise ops, norms and activations are not);
:func:`throughput` times a callable.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

__all__ = [
    "ClassificationMetrics",
    "classification_metrics",
    "summarize",
    "format_mean_std",
    "save_confusion_png",
    "count_parameters",
    "macs_of",
    "macs_per_sample",
    "throughput",
]


@dataclasses.dataclass
class ClassificationMetrics:
    """Metrics of one evaluation (one fold, one seed).

    Attributes:
        war: overall accuracy, percent.
        uar: mean per-class recall over classes present in y_true, percent.
        macro_f1: mean F1 over classes in y_true ∪ y_pred, percent.
        per_class_recall: K entries, percent; None for classes absent from y_true.
        confusion: [K][K] counts, rows true class, columns predicted class.
        support: K counts of true samples per class.
    """

    war: float
    uar: float
    macro_f1: float
    per_class_recall: list[float | None]
    confusion: list[list[int]]
    support: list[int]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (plain floats, ints, lists and None)."""
        return {
            "war": float(self.war),
            "uar": float(self.uar),
            "macro_f1": float(self.macro_f1),
            "per_class_recall": [None if r is None else float(r) for r in self.per_class_recall],
            "confusion": [[int(c) for c in row] for row in self.confusion],
            "support": [int(s) for s in self.support],
        }


def _as_int_array(values: Any) -> np.ndarray:
    """Flat int64 array from a list, numpy array or (CUDA) tensor."""
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=np.int64).reshape(-1)


def classification_metrics(y_true: Any, y_pred: Any, num_classes: int) -> ClassificationMetrics:
    """Compute :class:`ClassificationMetrics` from class indices.

    Args:
        y_true: [N] true class indices in ``0..num_classes-1`` (list, array or
            tensor on any device).
        y_pred: [N] predicted class indices in ``0..num_classes-1``.
        num_classes: K; fixes the size of the confusion matrix and per-class lists.

    Raises:
        ValueError: on empty input, length mismatch or indices out of range.
    """
    from sklearn.metrics import confusion_matrix, f1_score, recall_score

    t = _as_int_array(y_true)
    p = _as_int_array(y_pred)
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} entries but y_pred has {p.size}")
    if t.size == 0:
        raise ValueError("cannot compute metrics on an empty set of predictions")
    for name, arr in (("y_true", t), ("y_pred", p)):
        if arr.min() < 0 or arr.max() >= num_classes:
            raise ValueError(f"{name} has class indices outside 0..{num_classes - 1}")

    labels = list(range(num_classes))
    confusion = confusion_matrix(t, p, labels=labels)
    support = confusion.sum(axis=1)
    recall = recall_score(t, p, labels=labels, average=None, zero_division=0)
    present = support > 0
    per_class = [float(100.0 * r) if ok else None for r, ok in zip(recall, present)]
    seen = sorted(set(t.tolist()) | set(p.tolist()))
    macro_f1 = f1_score(t, p, labels=seen, average="macro", zero_division=0)
    return ClassificationMetrics(
        war=float(100.0 * (t == p).mean()),
        uar=float(100.0 * recall[present].mean()),
        macro_f1=float(100.0 * macro_f1),
        per_class_recall=per_class,
        confusion=confusion.astype(int).tolist(),
        support=support.astype(int).tolist(),
    )


# --------------------------------------------------------------------------- summaries


def summarize(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1) of ``values``.

    The std of a single value is 0.0. Empty input gives ``(nan, nan)``.
    """
    arr = np.asarray(list(values), dtype=np.float64)
    if arr.size == 0:
        return math.nan, math.nan
    mean = float(arr.mean())
    std = float(arr.std(ddof=1)) if arr.size > 1 else 0.0
    return mean, std


def format_mean_std(mean: float, std: float, n: int, digits: int = 2) -> str:
    """``"87.50 ± 2.10"``; just ``"87.50"`` when ``n == 1``; ``""`` when mean is NaN."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return ""
    if n <= 1 or std is None or (isinstance(std, float) and math.isnan(std)):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


# --------------------------------------------------------------------------- plots


def save_confusion_png(
    confusion: Sequence[Sequence[int]],
    class_names: Sequence[str],
    path: str | Path,
    title: str = "",
) -> Path:
    """Write a confusion-matrix heat map to ``path`` (PNG) and return the path.

    Colours are row-normalised (fraction of each true class, so classes of
    different sizes are comparable); each cell is annotated with its count.
    Uses the Agg backend directly (no display needed) and closes the figure.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    counts = np.asarray(confusion, dtype=np.int64)
    k = counts.shape[0]
    if counts.shape != (k, k) or len(class_names) != k:
        raise ValueError(f"confusion must be [K, K] with K={len(class_names)} class names")
    rows = counts.sum(axis=1, keepdims=True)
    norm = np.divide(counts, rows, out=np.zeros(counts.shape, dtype=float), where=rows > 0)

    size = max(3.0, 0.6 * k + 1.5)
    fig = Figure(figsize=(size, size))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(norm, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(k), labels=list(class_names), rotation=45, ha="right")
    ax.set_yticks(range(k), labels=list(class_names))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title)
    for i in range(k):
        for j in range(k):
            colour = "white" if norm[i, j] > 0.5 else "black"
            ax.text(j, i, str(counts[i, j]), ha="center", va="center", color=colour, fontsize=8)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png", dpi=100)
    fig.clear()
    return out


# --------------------------------------------------------------------------- model cost


def count_parameters(module: Any) -> int:
    """Number of parameters of ``module``, trainable **and** frozen.

    Shared (tied) parameters are counted once.
    """
    return int(sum(p.numel() for p in module.parameters()))


def macs_of(fn: Callable[[], Any]) -> int:
    """Multiply-accumulates of one call of ``fn()`` (MACs = counted FLOPs / 2).

    ``fn`` takes no arguments, e.g. ``lambda: model(batch)``; it runs once
    under :class:`torch.utils.flop_counter.FlopCounterMode` inside
    ``torch.no_grad()``. The result is for the whole call: dividing by the
    batch size to get MACs per sample is the caller's job (or use
    :func:`macs_per_sample`). ``nn.Linear(10, 4)`` on a [1, 10] input is 40.
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        fn()
    return int(counter.get_total_flops()) // 2


def macs_per_sample(module: Any, example_input: Any, batch_size: int | None = None) -> int:
    """MACs per sample of ``module`` on ``example_input``.

    ``example_input`` is a tensor (called as ``module(x)``), a tuple/list
    (``module(*args)``) or a dict (``module(**kwargs)``). ``batch_size``
    defaults to the leading dimension of the first tensor found.
    """
    import torch

    if isinstance(example_input, dict):
        call = lambda: module(**example_input)  # noqa: E731
        tensors = list(example_input.values())
    elif isinstance(example_input, (tuple, list)):
        call = lambda: module(*example_input)  # noqa: E731
        tensors = list(example_input)
    else:
        call = lambda: module(example_input)  # noqa: E731
        tensors = [example_input]
    if batch_size is None:
        first = next((t for t in tensors if isinstance(t, torch.Tensor) and t.dim() > 0), None)
        batch_size = int(first.shape[0]) if first is not None else 1
    return macs_of(call) // max(1, batch_size)


def _cuda_sync() -> None:
    try:
        import torch

        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.synchronize()
    except Exception:  # pragma: no cover - best effort only
        pass


def throughput(
    fn: Callable[[], Any],
    n_samples: int,
    n_frames: int,
    warmup: int = 1,
    repeats: int = 3,
) -> dict[str, float]:
    """Time ``fn()`` and return ``{"samples_per_s", "frames_per_s", "seconds_per_call"}``.

    ``fn`` processes ``n_samples`` samples holding ``n_frames`` frames **in
    total** per call (e.g. batch 8 of 16-frame clips: n_samples=8,
    n_frames=128). It runs ``warmup`` untimed calls, then ``repeats`` timed
    calls; rates use the total time of the timed calls (time.perf_counter),
    with ``torch.cuda.synchronize()`` around the timed region when CUDA is in
    use. Wrap ``fn`` in ``torch.no_grad()`` yourself if wanted.
    """
    if repeats < 1:
        raise ValueError("repeats must be at least 1")
    for _ in range(max(0, warmup)):
        fn()
    _cuda_sync()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    _cuda_sync()
    elapsed = max(time.perf_counter() - start, 1e-12)
    return {
        "samples_per_s": n_samples * repeats / elapsed,
        "frames_per_s": n_frames * repeats / elapsed,
        "seconds_per_call": elapsed / repeats,
    }

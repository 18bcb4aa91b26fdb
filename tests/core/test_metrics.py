"""Tests for ferbench.metrics: hand-computed metrics, summaries, plots, model cost."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

from ferbench.metrics import (
    ClassificationMetrics,
    classification_metrics,
    count_parameters,
    format_mean_std,
    macs_of,
    macs_per_sample,
    save_confusion_png,
    summarize,
    throughput,
)

# K = 4 classes. Class 3 never occurs in y_true (absent); class 2 occurs but is
# never predicted; class 3 is predicted once (a pure false positive).
Y_TRUE = [0, 0, 0, 1, 1, 2, 2, 2]
Y_PRED = [0, 0, 1, 1, 1, 0, 0, 3]
# Confusion (rows true, cols predicted):
#   true 0: predicted 0,0,1  -> [2, 1, 0, 0]
#   true 1: predicted 1,1    -> [0, 2, 0, 0]
#   true 2: predicted 0,0,3  -> [2, 0, 0, 1]
#   true 3: (none)           -> [0, 0, 0, 0]
# WAR = (2 + 2 + 0) / 8 = 50 %
# recall: c0 = 2/3, c1 = 2/2, c2 = 0/3, c3 undefined (None)
# UAR = (2/3 + 1 + 0) / 3 = 5/9 = 55.555... %
# F1 = 2TP / (2TP + FP + FN) over y_true ∪ y_pred = {0, 1, 2, 3}:
#   c0: TP 2, FP 2 (two true-2 predicted 0), FN 1 -> 4/7
#   c1: TP 2, FP 1 (one true-0 predicted 1), FN 0 -> 4/5
#   c2: TP 0 -> 0 ;  c3: TP 0, FP 1 -> 0
# macro F1 = (4/7 + 4/5 + 0 + 0) / 4 = 12/35 = 34.2857... %


def test_classification_metrics_hand_computed():
    m = classification_metrics(Y_TRUE, Y_PRED, num_classes=4)
    assert m.war == pytest.approx(50.0)
    assert m.uar == pytest.approx(100 * 5 / 9)
    assert m.macro_f1 == pytest.approx(100 * 12 / 35)
    assert m.per_class_recall[0] == pytest.approx(100 * 2 / 3)
    assert m.per_class_recall[1] == pytest.approx(100.0)
    assert m.per_class_recall[2] == pytest.approx(0.0)
    assert m.per_class_recall[3] is None
    assert m.support == [3, 2, 3, 0]


def test_confusion_layout_rows_true_cols_pred():
    m = classification_metrics(Y_TRUE, Y_PRED, num_classes=4)
    assert m.confusion == [[2, 1, 0, 0], [0, 2, 0, 0], [2, 0, 0, 1], [0, 0, 0, 0]]
    # one sample of true class 1 predicted as 0 lands in row 1, column 0
    m2 = classification_metrics([1], [0], num_classes=2)
    assert m2.confusion == [[0, 0], [1, 0]]


def test_to_dict_is_json_friendly():
    m = classification_metrics(Y_TRUE, Y_PRED, num_classes=4)
    d = m.to_dict()
    again = json.loads(json.dumps(d))
    assert again == d
    assert ClassificationMetrics(**again) == m


def test_perfect_and_bad_inputs():
    m = classification_metrics(torch.tensor([0, 1, 2]), torch.tensor([0, 1, 2]), 3)
    assert (m.war, m.uar, m.macro_f1) == (100.0, 100.0, 100.0)
    with pytest.raises(ValueError):
        classification_metrics([0, 1], [0], 2)
    with pytest.raises(ValueError):
        classification_metrics([], [], 2)
    with pytest.raises(ValueError):
        classification_metrics([0, 5], [0, 1], 2)


def test_summarize_and_format():
    mean, std = summarize([85.0, 90.0])
    assert mean == pytest.approx(87.5)
    assert std == pytest.approx(math.sqrt(12.5))  # ddof=1: (2.5² + 2.5²) / 1
    assert summarize([70.0]) == (70.0, 0.0)
    assert all(math.isnan(v) for v in summarize([]))
    assert format_mean_std(87.5, 2.1, 5) == "87.50 ± 2.10"
    assert format_mean_std(87.5, 0.0, 1) == "87.50"


def test_save_confusion_png(tmp_path):
    m = classification_metrics(Y_TRUE, Y_PRED, num_classes=4)
    path = save_confusion_png(m.confusion, ["a", "b", "c", "d"], tmp_path / "sub" / "cm.png", "fold 0")
    assert path.exists() and path.stat().st_size > 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_macs_linear_and_conv():
    lin = nn.Linear(10, 4)
    x = torch.randn(1, 10)
    assert macs_of(lambda: lin(x)) == 40
    assert macs_per_sample(lin, torch.randn(8, 10)) == 40
    conv = nn.Conv2d(3, 8, kernel_size=3, padding=1)
    # output 8 x 8 x 8 positions, each 3 * 3 * 3 MACs -> 512 * 27 = 13824
    assert macs_per_sample(conv, torch.randn(2, 3, 8, 8)) == 8 * 8 * 8 * 27
    assert macs_per_sample(conv, (torch.randn(1, 3, 8, 8),)) == 13824
    assert macs_per_sample(conv, {"input": torch.randn(1, 3, 8, 8)}) == 13824


def test_count_parameters_includes_frozen():
    model = nn.Sequential(nn.Linear(10, 4), nn.Linear(4, 2))
    model[0].requires_grad_(False)
    assert count_parameters(model) == (10 * 4 + 4) + (4 * 2 + 2)


def test_throughput_rates():
    calls = []
    out = throughput(lambda: calls.append(1), n_samples=4, n_frames=64, warmup=2, repeats=3)
    assert len(calls) == 5
    assert out["samples_per_s"] > 0
    assert out["frames_per_s"] == pytest.approx(16 * out["samples_per_s"])

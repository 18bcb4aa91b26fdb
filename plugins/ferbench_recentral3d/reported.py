"""Numbers the paper reports (Tables 2, 3, 5, 6), as ``reported`` leaderboard rows.

"Accuracy" is ferbench's ``war``; "Class Accuracy" (mean of the per-class
accuracies) is ``uar``. OULU-CASIA is balanced, so the paper gives Acc only.
Rows name components and options (the registry writes the label). "Our
Model" and "Our Model (FL)" differ only in the training loss (cross-entropy
vs focal), a training option that the combination label does not carry; their
sources tell them apart. The paper gives no MACs or parameter counts.
"""

from __future__ import annotations

from ferbench.components import ReportedResult

PAPER = "recentral3d"

#: components (and options) of each setup, as a run of recentral3d.toml chooses them (Table 6: the ablations)
WHOLE = {"components": {"input": "shading3d", "backbone": "recentral3d-fusion", "aggregator": "mean"}}
BASE = {"components": {"input": "landmarks", "backbone": "recentral3d-fusion", "aggregator": "mean"},
        "options": {"backbone": {"branches": "base"}}}
BASE_LM = {"components": {"input": "landmarks", "backbone": "recentral3d-fusion", "aggregator": "mean"},
           "options": {"backbone": {"branches": "base+landmark"}}}
BASE_3D = {"components": {"input": "shading3d", "backbone": "recentral3d-fusion", "aggregator": "mean"},
           "options": {"backbone": {"branches": "base+3d"}}}

RAF = ("rafdb", "RAF-subset: RAF-DB basic, cleaned (no multi-face, faces >= 50 px), official train/test, 7 classes")
OULU = ("oulu", "10-fold cross-validation, 6 classes, 3 peak frames per sequence as images")
CKPLUS = ("ckplus", "10-fold cross-validation, 7 classes (6 basic + contempt)")

# (method, combination, dataset, protocol, metric, value, source)
_ROWS = [
    ("Our Model", WHOLE, *RAF, "war", 81.60, "Table 2"),
    ("Our Model", WHOLE, *RAF, "uar", 67.83, "Table 2"),
    ("Our Model (FL)", WHOLE, *RAF, "war", 82.29, "Table 2 (focal loss)"),
    ("Our Model (FL)", WHOLE, *RAF, "uar", 74.14, "Table 2 (focal loss)"),
    ("Our Model", WHOLE, *CKPLUS, "war", 95.41, "Table 3"),
    ("Our Model", WHOLE, *CKPLUS, "uar", 92.25, "Table 3"),
    ("Our Model", WHOLE, *OULU, "war", 84.86, "Table 5"),
    ("Base", BASE, *RAF, "war", 78.69, "Table 6"),
    ("Base", BASE, *RAF, "uar", 64.96, "Table 6"),
    ("Base", BASE, *OULU, "war", 76.11, "Table 6"),
    ("Base", BASE, *CKPLUS, "war", 85.93, "Table 6"),
    ("Base", BASE, *CKPLUS, "uar", 77.89, "Table 6"),
    ("Base+Landmark", BASE_LM, *RAF, "war", 79.62, "Table 6"),
    ("Base+Landmark", BASE_LM, *RAF, "uar", 68.37, "Table 6"),
    ("Base+Landmark", BASE_LM, *OULU, "war", 76.60, "Table 6"),
    ("Base+Landmark", BASE_LM, *CKPLUS, "war", 93.88, "Table 6"),
    ("Base+Landmark", BASE_LM, *CKPLUS, "uar", 90.78, "Table 6"),
    ("Base+3D", BASE_3D, *RAF, "war", 79.73, "Table 6"),
    ("Base+3D", BASE_3D, *RAF, "uar", 67.80, "Table 6"),
    ("Base+3D", BASE_3D, *OULU, "war", 77.36, "Table 6"),
    ("Base+3D", BASE_3D, *CKPLUS, "war", 92.04, "Table 6"),
    ("Base+3D", BASE_3D, *CKPLUS, "uar", 88.57, "Table 6"),
]


def reported_results() -> list[ReportedResult]:
    """The rows above as :class:`ReportedResult` objects."""
    return [ReportedResult(PAPER, m, "", d, p, metric, v, s, **setup) for m, setup, d, p, metric, v, s in _ROWS]

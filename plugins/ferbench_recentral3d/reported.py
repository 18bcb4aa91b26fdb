"""Numbers the paper reports (Tables 2, 3, 5, 6), as ``reported`` leaderboard rows.

"Accuracy" is ferbench's ``war``; "Class Accuracy" (mean of the per-class
accuracies) is ``uar``. OULU-CASIA is balanced, so the paper gives Acc only.
"""

from __future__ import annotations

from ferbench.components import ReportedResult

PAPER = "recentral3d"

WHOLE = "shading3d+recentral3d-fusion+mean+none+none"
BASE = "landmarks+recentral3d-fusion[branches=base]+mean+none+none"
BASE_LM = "landmarks+recentral3d-fusion[branches=base+landmark]+mean+none+none"
BASE_3D = "shading3d+recentral3d-fusion[branches=base+3d]+mean+none+none"

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
    return [ReportedResult(PAPER, m, c, d, p, metric, v, s) for m, c, d, p, metric, v, s in _ROWS]

"""The numbers the IFERCV paper reports (Tables I and II), as leaderboard ``reported`` rows.

Table I: CK+, subject-independent 10-fold cross-validation, accuracy (WAR) of
seven expressions. Table II: AFEW (EmotiW), validation set, accuracy (WAR).
The paper gives no MMI table. ``IFERCV`` is the residual + f_E + LSTM model
with the complementary constraint; ``+Adv`` adds the adversarial independence
critic of ref. [23]; ``-Î`` drops the complementary constraint; ``+T`` feeds
residuals concatenated with motion vectors.
"""

from __future__ import annotations

from ferbench.components import ReportedResult

BASE = "ifercv-cnn+lstm+ifercv+none"
CKPLUS = "10-fold subject-independent"
AFEW = "EmotiW validation set"

#: (method, input, disentangler options in words, dataset, protocol, value, source)
_ROWS = [
    ("IFERCV", "residual", "ckplus", CKPLUS, 97.44, "Table I"),
    ("IFERCV+Adversarial disentanglement", "residual", "ckplus", CKPLUS, 98.38, "Table I"),
    ("IFERCV-Î (no complementary constraint)", "residual", "ckplus", CKPLUS, 97.16, "Table I"),
    ("IFERCV+T^t (residual+motion vectors)", "residual+mv", "ckplus", CKPLUS, 97.85, "Table I"),
    ("IFERCV", "residual", "afew", AFEW, 51.62, "Table II"),
    ("IFERCV+Adv Disentanglement", "residual", "afew", AFEW, 52.01, "Table II"),
    ("IFERCV+T^t (residual+motion vectors)", "residual+mv", "afew", AFEW, 51.86, "Table II"),
]


def reported_results() -> list[ReportedResult]:
    return [
        ReportedResult(paper="ifercv", method=m, combination=f"{inp}+{BASE}", dataset=d, protocol=p, metric="war", value=v, source=s)
        for m, inp, d, p, v, s in _ROWS
    ]

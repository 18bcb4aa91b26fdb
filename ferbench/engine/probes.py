"""Probes of a trained model's embedding: how much identity the video embedding z still carries.

The identity probe is the standard leakage measure of FER disentanglement
papers: a linear classifier tries to tell *who* a video shows from its
embedding. A model that keeps identity out of z scores near chance.
"""

from __future__ import annotations

import warnings

import numpy as np


def identity_probe(embeddings: np.ndarray, subjects: list[str], *, folds: int = 3, seed: int = 0) -> dict[str, float]:
    """Subject-prediction accuracy (%) of a logistic regression on embeddings.

    Args:
        embeddings: [N, D] video embeddings z (eval sampling).
        subjects: [N] subject ids of the videos.
        folds: stratified cross-validation folds over videos (fewer when a subject has fewer videos).
        seed: shuffles the cross-validation split.

    Returns:
        ``identity_probe`` (mean held-out accuracy, %) and ``identity_probe_chance``
        (the majority-subject rate, %); both NaN when fewer than 2 subjects have 2 videos.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    y = np.asarray(subjects)
    names, counts = np.unique(y, return_counts=True)
    keep = np.isin(y, names[counts >= 2])
    x, y = np.asarray(embeddings, dtype=np.float64)[keep], y[keep]
    names, counts = np.unique(y, return_counts=True)
    if len(names) < 2:
        return {"identity_probe": float("nan"), "identity_probe_chance": float("nan")}
    k = int(min(folds, counts.min()))
    cv = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on tiny sets
        scores = cross_val_score(clf, x, y, cv=cv)
    return {"identity_probe": 100.0 * float(scores.mean()), "identity_probe_chance": 100.0 * float(counts.max() / counts.sum())}

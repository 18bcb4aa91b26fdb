"""Shared pieces of the relgan benchmarks (``relgan_synthetic.py``, ``relgan_learning.py``).

SynthFER configuration of the CPU-sized measurements, fixed reenactment pairs
with L1 errors against SynthFER's exact ground truth, linear probes on
per-frame features, image conversion.
"""

from __future__ import annotations

import numpy as np
import torch

from ferbench.builtin.input_rgb import IMAGENET_MEAN, IMAGENET_STD
from ferbench_relgan.networks import Generator, fit_to
from ferbench_relgan.pairs import FrameBank, PairSampler

DATASET = "synthetic"
#: 15 subjects (folds of 10 training / 5 test subjects), 8-frame 64 px clips, the issue's identity bias
DATASET_OPTS = {"subjects": "15", "frames": "8", "size": "64", "identity_bias": "0.8", "folds": "3"}
#: clean faces: the nuisance levels of the synthetic-ckplus preset (near-frontal, studio light, no clutter)
CLEAN = {"pose": "2", "lighting": "0.1", "noise": "1", "blur": "0.2", "clutter": "0", "scale_jitter": "0.03", "shift_jitter": "0.02"}
#: SynthFER's label order: anger, disgust, fear, happiness, sadness, surprise, neutral
NEUTRAL = 6


def fixed_pairs(bank: FrameBank, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """n (source, target, truth) bank indices [n] each, drawn like the training pairs; the target is a
    neutral frame of the target subject when it has one (as in the reenactment grid), and the truth
    is a frame of the target subject showing the source's expression."""
    sampler = PairSampler(bank.labels, bank.subjects)
    drawn = sampler.draw(n, torch.Generator().manual_seed(seed))
    target = drawn.target.clone()
    for k, (b, e) in enumerate(zip(drawn.y_t.tolist(), drawn.y_s.tolist())):
        neutral = ((bank.subjects == b) & (bank.labels == NEUTRAL)).nonzero().flatten()
        if e != NEUTRAL and len(neutral):
            target[k] = neutral[k % len(neutral)]
    return drawn.source, target, drawn.truth


@torch.no_grad()
def l1_report(gen: Generator, bank: FrameBank, idx, size: int) -> dict[str, float]:
    """Mean absolute error (normalised pixel space) to the ground truth x_tg of: the reenacted face
    G(x_s, x_t) (``fake``), x_t itself (``copy_t``), x_s itself (``copy_s``); centre view, no augmentation."""
    x = fit_to(bank.frames.float(), size)
    s, t, g = (x[i] for i in idx)
    fake = torch.cat([gen(s[i : i + 64], t[i : i + 64]) for i in range(0, len(s), 64)])
    return {"fake": float((fake - g).abs().mean()), "copy_t": float((t - g).abs().mean()),
            "copy_s": float((s - g).abs().mean()), "pairs": len(s)}


@torch.no_grad()
def encode(encoder: torch.nn.Module, frames: torch.Tensor) -> np.ndarray:
    """Per-frame features [M, D] of frames [M, C, H, W] (the encoder resizes as it does in training)."""
    return torch.cat([encoder(frames[i : i + 64].float()) for i in range(0, len(frames), 64)]).numpy()


def probes(features: np.ndarray, bank: FrameBank) -> dict[str, float]:
    """Linear probes (standardised logistic regression) on per-frame features [M, D] of a bank.

    Identity: each subject's videos alternate between probe-fit and probe-score, so the probe
    must recognise a person in videos (other expressions) it was not fitted on; chance
    1/subjects. Expression: leave one subject out (fit on the other subjects, score on it),
    every frame scored once; chance 1/classes.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def fit_score(fit: np.ndarray, y: np.ndarray) -> np.ndarray:
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
        clf.fit(features[fit], y[fit])
        return clf.predict(features[~fit]) == y[~fit]

    owner, subj, labels = bank.sample_of.numpy(), bank.subjects.numpy(), bank.labels.numpy()
    fit_video: dict[int, bool] = {}
    for s in np.unique(subj):
        videos = sorted({int(o) for o, b in zip(owner, subj) if b == s})
        fit_video.update({v: i % 2 == 0 for i, v in enumerate(videos)})
    by_video = np.array([fit_video[int(o)] for o in owner])
    ident = fit_score(by_video, subj)
    expr = np.concatenate([fit_score(subj != s, labels) for s in np.unique(subj)])
    return {"identity_probe_acc": 100.0 * float(ident.mean()), "identity_probe_scored": int(len(ident)),
            "identity_chance": 100.0 / len(np.unique(subj)),
            "expression_probe_acc": 100.0 * float(expr.mean()), "expression_probe_scored": int(len(expr)),
            "expression_chance": 100.0 / len(np.unique(labels))}


def to_image(x: torch.Tensor) -> np.ndarray:
    """[C, H, W] ImageNet-normalised -> [H, W, C] RGB in [0, 1]."""
    mean, std = torch.tensor(IMAGENET_MEAN).view(3, 1, 1), torch.tensor(IMAGENET_STD).view(3, 1, 1)
    return (x.float() * std + mean).clamp(0, 1).permute(1, 2, 0).numpy()


@torch.no_grad()
def transfer_retrieval(gen: Generator, bank: FrameBank, size: int) -> dict[str, float]:
    """Is the expression transferred, whatever the identity error? For every source frame (subject a,
    expression e) and every other subject b with a neutral frame: x_bar = G(x_s, neutral of b), and the
    frame of b nearest x_bar (L1) among b's frames of the K expressions must be the one showing e.
    The identity error is common to all K candidates, so this scores the expression alone.
    Returns the accuracy (%) over all (source, target) pairs, the number of pairs and chance (100/K)."""
    x = fit_to(bank.frames.float(), size)
    classes = sorted(set(bank.labels.tolist()))
    subjects = sorted(set(bank.subjects.tolist()))
    frame = {(int(b), int(e)): i for i, (b, e) in enumerate(zip(bank.subjects, bank.labels))}
    hits = []
    for b in subjects:
        if (b, NEUTRAL) not in frame or any((b, e) not in frame for e in classes):
            continue
        cands = x[[frame[(b, e)] for e in classes]]
        src = [i for i in range(len(x)) if int(bank.subjects[i]) != b]
        fake = gen(x[src], x[frame[(b, NEUTRAL)]].expand(len(src), -1, -1, -1))
        d = (fake[:, None] - cands[None]).abs().flatten(2).mean(2)  # [sources, K]
        hits += (torch.tensor(classes)[d.argmin(1)] == bank.labels[src]).tolist()
    return {"accuracy": 100.0 * float(np.mean(hits)) if hits else float("nan"), "pairs": len(hits),
            "chance": 100.0 / len(classes)}

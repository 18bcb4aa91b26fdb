"""FACS-like action units (AUs) that deform the 3D landmarks, and class prototypes.

Each AU is a linear displacement field on the 68 landmarks (face units, see
:mod:`.face_model`), built from a subject's neutral landmarks so that it
scales with the face. An expression at one instant is a vector of AU
intensities ``a`` ([num_aus], 0 = absent, 1 = full); the deformed landmarks are
``neutral + einsum("k,kij->ij", a, basis)``. Class prototypes follow the usual
EMFACS combinations, exaggerated a little so expressions read at 64-112 px.
"""

from __future__ import annotations

import numpy as np

from .face_model import BROW_L, BROW_R, NOSTRILS, Identity, depth_at

AU_NAMES = (
    "AU1",  # inner brow raiser
    "AU2",  # outer brow raiser
    "AU4",  # brow lowerer
    "AU5",  # upper lid raiser
    "AU6",  # cheek raiser
    "AU7",  # lid tightener
    "AU9",  # nose wrinkler
    "AU10",  # upper lip raiser
    "AU12",  # lip corner puller
    "AU14R",  # dimpler, image-right side only (contempt)
    "AU15",  # lip corner depressor
    "AU16",  # lower lip depressor
    "AU17",  # chin raiser
    "AU20",  # lip stretcher
    "AU23",  # lip tightener
    "AU24",  # lip pressor
    "AU25",  # lips part
    "AU26",  # jaw drop
    "AU43",  # eyes closed (blinks)
)
AU_INDEX = {name: i for i, name in enumerate(AU_NAMES)}
NUM_AUS = len(AU_NAMES)

#: EMFACS-style prototypes: class -> {AU: apex intensity}
PROTOTYPES: dict[str, dict[str, float]] = {
    "anger": {"AU4": 1.0, "AU5": 0.5, "AU7": 0.9, "AU23": 1.0, "AU24": 0.8, "AU17": 0.5},
    "disgust": {"AU9": 1.0, "AU10": 1.0, "AU4": 0.5, "AU15": 0.5, "AU16": 0.3, "AU17": 0.5, "AU7": 0.4},
    "fear": {"AU1": 1.0, "AU2": 0.6, "AU4": 0.7, "AU5": 1.0, "AU20": 1.0, "AU25": 1.0, "AU26": 0.35},
    "happiness": {"AU6": 1.0, "AU12": 1.0, "AU25": 0.7},
    "sadness": {"AU1": 1.0, "AU4": 0.6, "AU15": 1.0, "AU17": 0.7, "AU43": 0.3},
    "surprise": {"AU1": 1.0, "AU2": 1.0, "AU5": 1.0, "AU25": 1.0, "AU26": 1.0},
    "neutral": {},
    "contempt": {"AU14R": 1.0, "AU12": 0.15, "AU4": 0.15},
}

#: resting-face biases a subject can have (class whose prototype is always slightly on)
RESTING_CLASSES = ("happiness", "anger", "surprise", "sadness")


def prototype(name: str) -> np.ndarray:
    """AU intensity vector [NUM_AUS] of class ``name`` at full intensity."""
    out = np.zeros(NUM_AUS)
    for au, value in PROTOTYPES[name].items():
        out[AU_INDEX[au]] = value
    return out


def au_basis(neutral: np.ndarray, ident: Identity) -> np.ndarray:
    """Displacement of each landmark per unit of each AU: float64 [NUM_AUS, 68, 3].

    Args:
        neutral: neutral landmarks [68, 3] (face units).
        ident: the subject (sizes scale the displacements).
    """
    b = np.zeros((NUM_AUS, 68, 3))
    mw = ident.mouth_width
    inner = np.linspace(0.25, 1.0, 5)  # outer -> inner weight for the image-left brow
    brow_inner_w = np.concatenate([inner, inner[::-1]])  # 17..26
    brows = np.concatenate([BROW_L, BROW_R])
    side = np.sign(neutral[:, 0])  # -1 image-left, +1 image-right

    def put(au: str, idx, du=0.0, dv=0.0) -> None:
        b[AU_INDEX[au], idx, 0] += du
        b[AU_INDEX[au], idx, 1] += dv

    # brows
    put("AU1", brows, dv=-0.20 * brow_inner_w**1.5)
    put("AU1", brows, du=-0.03 * side[brows] * brow_inner_w)
    put("AU2", brows, dv=-0.20 * (1.25 - brow_inner_w))
    put("AU4", brows, dv=0.14 * (0.4 + 0.6 * brow_inner_w))
    put("AU4", brows, du=-0.08 * side[brows] * brow_inner_w**2)
    upper = np.array([37, 38, 43, 44])
    lower = np.array([40, 41, 46, 47])
    open_h = neutral[lower, 1] - neutral[upper, 1]
    put("AU5", upper, dv=-0.55 * open_h)
    put("AU5", brows, dv=-0.03)
    put("AU6", lower, dv=-0.35 * open_h)
    put("AU6", np.array([36, 45]), dv=-0.02)
    put("AU7", lower, dv=-0.30 * open_h)
    put("AU7", upper, dv=0.25 * open_h)
    put("AU43", upper, dv=0.95 * open_h)
    # nose and upper lip
    put("AU9", NOSTRILS, dv=-0.07)
    put("AU9", np.array([31, 35]), du=0.03 * side[[31, 35]])
    put("AU9", np.array([20, 21, 22, 23]), dv=0.06)
    put("AU9", np.arange(49, 54), dv=-0.05)
    put("AU9", np.arange(61, 64), dv=-0.05)
    put("AU10", np.arange(49, 54), dv=-np.array([0.10, 0.14, 0.15, 0.14, 0.10]))
    put("AU10", np.arange(61, 64), dv=-np.array([0.12, 0.14, 0.12]))
    # lip corners
    corners = np.array([48, 54, 60, 64])
    near = np.array([49, 53, 59, 55, 61, 63, 67, 65])
    put("AU12", corners, du=0.30 * mw * side[corners], dv=-0.17)
    put("AU12", near, du=0.16 * mw * side[near], dv=-0.08)
    put("AU12", np.array([50, 51, 52]), dv=-0.03)
    put("AU14R", np.array([54, 64]), du=0.14 * mw, dv=-0.10)
    put("AU14R", np.array([53, 55, 63, 65]), du=0.06 * mw, dv=-0.04)
    put("AU15", corners, du=-0.05 * mw * side[corners], dv=0.15)
    put("AU15", near, dv=0.06)
    put("AU16", np.array([56, 57, 58, 65, 66, 67]), dv=0.08)
    put("AU17", np.arange(55, 60), dv=-0.06)
    put("AU17", np.arange(65, 68), dv=-0.03)
    put("AU17", np.array([7, 8, 9]), dv=-0.04)
    put("AU20", corners, du=0.30 * mw * side[corners], dv=0.03)
    put("AU20", near, du=0.16 * mw * side[near], dv=0.02)
    # lip thinning / pressing
    outer_up, outer_low = np.arange(49, 54), np.arange(55, 60)
    put("AU23", outer_up, dv=0.55 * ident.lip_upper)
    put("AU23", outer_low, dv=-0.55 * ident.lip_lower)
    put("AU23", corners, du=-0.10 * mw * side[corners])
    put("AU24", outer_up, dv=0.3 * ident.lip_upper)
    put("AU24", outer_low, dv=-0.3 * ident.lip_lower)
    # mouth opening
    low_lip = np.array([55, 56, 57, 58, 59, 65, 66, 67])
    put("AU25", np.array([65, 66, 67]), dv=0.10)
    put("AU25", np.arange(55, 60), dv=0.06)
    put("AU25", np.array([61, 62, 63]), dv=-0.02)
    put("AU26", low_lip, dv=0.36)
    put("AU26", np.array([48, 54, 60, 64]), dv=0.16)
    jaw_w = np.sin(np.pi * np.arange(17) / 16) ** 2
    put("AU26", np.arange(17), dv=0.40 * jaw_w)
    put("AU26", np.array([8]), dv=0.02)
    return b


def deform(neutral: np.ndarray, basis: np.ndarray, aus: np.ndarray, ident: Identity) -> np.ndarray:
    """Landmarks [68, 3] for AU intensities ``aus`` [NUM_AUS]; z re-read from the depth profile.

    Eyelids never cross (the upper lid stops at the lower lid) and the inner
    lips never overlap.
    """
    pts = neutral + np.einsum("k,kij->ij", aus, basis)
    for u_i, l_i in ((37, 41), (38, 40), (43, 47), (44, 46)):
        pts[u_i, 1] = min(pts[u_i, 1], pts[l_i, 1] - 0.004)
    for u_i, l_i in ((61, 67), (62, 66), (63, 65)):
        pts[l_i, 1] = max(pts[l_i, 1], pts[u_i, 1])
    pts[:, 2] = depth_at(ident, pts[:, 0], pts[:, 1])
    return pts

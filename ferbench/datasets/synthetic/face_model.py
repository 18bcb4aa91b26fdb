"""Parametric 3D face: iBUG-68 landmark template, depth profile, identities.

Canonical face coordinates ("face units", FU): ``u`` to the image right,
``v`` down, ``z`` toward the camera; the face is about 2 FU wide (jaw corners
at ``u = -+1``), the eyes sit near ``v = -0.3``, the chin near ``v = 1.1``.

iBUG-68 layout: jaw 0-16 (0 = image-left ear level, 8 = chin), brows 17-21
(image-left) and 22-26, nose bridge 27-30, nostrils 31-35, eyes 36-41 (image
left: 36 outer corner, 37-38 upper lid, 39 inner corner, 40-41 lower lid) and
42-47 (42 inner, 43-44 upper, 45 outer, 46-47 lower), outer lips 48-59
(48/54 corners, 51 top centre, 57 bottom centre), inner lips 60-67 (60/64
corners, 61-63 upper, 65-67 lower).
"""

from __future__ import annotations

import dataclasses

import numpy as np

NUM_LANDMARKS = 68
JAW = np.arange(0, 17)
BROW_L, BROW_R = np.arange(17, 22), np.arange(22, 27)
NOSE_BRIDGE, NOSTRILS = np.arange(27, 31), np.arange(31, 36)
EYE_L, EYE_R = np.arange(36, 42), np.arange(42, 48)
LIPS_OUTER, LIPS_INNER = np.arange(48, 60), np.arange(60, 68)

#: hair styles an identity can have
HAIR_STYLES = ("short", "long", "buzz", "fringe", "bun")


@dataclasses.dataclass(frozen=True)
class Identity:
    """Appearance of one subject (all lengths in face units, colours RGB in [0, 1]).

    Attributes:
        face_width: half-width of the jaw at ear level.
        face_length: vertical extent from ear level to chin.
        jaw_square: jaw superellipse exponent in (0, 1]; lower is squarer.
        chin_width: flattening of the chin.
        eye_spacing: horizontal distance of each eye centre from the midline.
        eye_height: v of the eye centres.
        eye_size: eye half-width.
        eye_open: eye half-height relative to the half-width.
        brow_height: gap between eye centre and brow.
        brow_arch: brow curvature.
        brow_thickness: brow thickness.
        nose_length: v of the nose tip below the eyes.
        nose_width: half-width of the nostrils.
        nose_depth: height of the nose ridge.
        mouth_width: half-width of the mouth.
        mouth_height: v of the mouth line.
        lip_upper, lip_lower: lip thicknesses.
        skin, hair, iris, lips, shirt: colours.
        hair_style: one of :data:`HAIR_STYLES`.
        glasses: wears glasses.
        resting_class: class whose prototype, at ``resting_bias`` intensity, is always present.
        resting_strength: multiplier of ``resting_bias`` for this subject.
        au_gain: per action unit style gain (tuple aligned with ``action_units.AU_NAMES``).
    """

    face_width: float
    face_length: float
    jaw_square: float
    chin_width: float
    eye_spacing: float
    eye_height: float
    eye_size: float
    eye_open: float
    brow_height: float
    brow_arch: float
    brow_thickness: float
    nose_length: float
    nose_width: float
    nose_depth: float
    mouth_width: float
    mouth_height: float
    lip_upper: float
    lip_lower: float
    skin: tuple[float, float, float]
    hair: tuple[float, float, float]
    iris: tuple[float, float, float]
    lips: tuple[float, float, float]
    shirt: tuple[float, float, float]
    hair_style: str
    glasses: bool
    resting_class: str
    resting_strength: float
    au_gain: tuple[float, ...]


_SKINS = np.array([[0.98, 0.84, 0.72], [0.93, 0.74, 0.60], [0.80, 0.60, 0.45],
                   [0.64, 0.45, 0.32], [0.45, 0.30, 0.21], [0.96, 0.80, 0.66]])
_HAIRS = np.array([[0.08, 0.06, 0.05], [0.30, 0.18, 0.09], [0.55, 0.38, 0.20],
                   [0.85, 0.70, 0.40], [0.60, 0.22, 0.10], [0.55, 0.55, 0.55], [0.15, 0.12, 0.10]])
_IRISES = np.array([[0.30, 0.18, 0.08], [0.20, 0.40, 0.65], [0.30, 0.50, 0.30], [0.15, 0.10, 0.06]])


def make_identity(rng: np.random.Generator, num_aus: int, style: float, resting_class: str) -> Identity:
    """Draw a random identity; ``style`` is the log-normal spread of the AU gains."""

    def u(lo: float, hi: float) -> float:
        return float(rng.uniform(lo, hi))

    skin = _SKINS[rng.integers(len(_SKINS))] * u(0.94, 1.04)
    hair = _HAIRS[rng.integers(len(_HAIRS))] * u(0.85, 1.1)
    shirt = rng.uniform(0.1, 0.9, 3)
    lips = skin * np.array([0.86, 0.58, 0.58]) * u(0.9, 1.05)
    return Identity(
        face_width=u(0.90, 1.08), face_length=u(1.20, 1.52), jaw_square=u(0.55, 1.0),
        chin_width=u(0.0, 0.35), eye_spacing=u(0.34, 0.46), eye_height=u(-0.36, -0.24),
        eye_size=u(0.14, 0.20), eye_open=u(0.38, 0.55), brow_height=u(0.20, 0.30),
        brow_arch=u(0.02, 0.10), brow_thickness=u(0.035, 0.09), nose_length=u(0.34, 0.48),
        nose_width=u(0.15, 0.24), nose_depth=u(0.22, 0.38), mouth_width=u(0.30, 0.42),
        mouth_height=u(0.50, 0.62), lip_upper=u(0.05, 0.10), lip_lower=u(0.07, 0.13),
        skin=tuple(np.clip(skin, 0, 1).round(4).tolist()), hair=tuple(np.clip(hair, 0, 1).round(4).tolist()),
        iris=tuple(_IRISES[rng.integers(len(_IRISES))].tolist()), lips=tuple(np.clip(lips, 0, 1).round(4).tolist()),
        shirt=tuple(shirt.round(4).tolist()), hair_style=HAIR_STYLES[rng.integers(len(HAIR_STYLES))],
        glasses=bool(rng.random() < 0.3), resting_class=resting_class,
        resting_strength=u(0.7, 1.3),
        au_gain=tuple(np.exp(rng.normal(0.0, style, num_aus)).round(4).tolist()),
    )


def neutral_landmarks(ident: Identity) -> np.ndarray:
    """Neutral 3D landmarks of ``ident``: float64 [68, 3] in face units."""
    p = np.zeros((NUM_LANDMARKS, 2))
    # jaw: superellipse from ear level (v0) round the chin
    v0 = -0.2
    theta = np.pi - np.pi * np.arange(17) / 16
    c, s = np.cos(theta), np.sin(theta)
    e = ident.jaw_square
    p[JAW, 0] = ident.face_width * np.sign(c) * np.abs(c) ** e
    p[JAW, 1] = v0 + ident.face_length * np.abs(s) ** (1.0 + ident.chin_width)
    # brows: inner end near the midline, arch peaking at the outer third
    ey, ex, es = ident.eye_height, ident.eye_spacing, ident.eye_size
    t = np.linspace(0, 1, 5)  # 0 = outer, 1 = inner
    bu = ex + es * 1.25 - t * (es * 2.1)
    bv = ey - ident.brow_height - ident.brow_arch * np.sin(np.pi * (0.35 + 0.65 * t)) + 0.03 * t
    p[BROW_L, 0], p[BROW_L, 1] = -bu, bv
    p[BROW_R, 0], p[BROW_R, 1] = bu[::-1], bv[::-1]
    # nose
    tip = ey + ident.nose_length
    p[NOSE_BRIDGE, 0] = 0.0
    p[NOSE_BRIDGE, 1] = np.linspace(ey - 0.02, tip - 0.02, 4)
    nw = ident.nose_width
    p[NOSTRILS, 0] = [-nw, -nw * 0.5, 0, nw * 0.5, nw]
    p[NOSTRILS, 1] = tip + np.array([0.01, 0.05, 0.07, 0.05, 0.01])
    # eyes
    eh = es * ident.eye_open
    shape = np.array([[-1, 0], [-0.35, -1], [0.35, -1], [1, 0], [0.35, 0.9], [-0.35, 0.9]])
    p[EYE_L] = np.array([-ex, ey]) + shape * [es, eh]
    right = shape * [es, eh]
    right[:, 0] *= -1
    p[EYE_R] = np.array([ex, ey]) + right[[3, 2, 1, 0, 5, 4]]  # 42 inner, 43-44 upper, 45 outer
    # mouth
    my, mw, lu, ll = ident.mouth_height, ident.mouth_width, ident.lip_upper, ident.lip_lower
    ou = np.array([-1, -0.6, -0.25, 0, 0.25, 0.6, 1, 0.6, 0.25, 0, -0.25, -0.6])
    ov = np.array([0, -0.75 * lu, -lu, -0.8 * lu, -lu, -0.75 * lu, 0, 0.8 * ll, ll, ll, ll, 0.8 * ll])
    p[LIPS_OUTER, 0], p[LIPS_OUTER, 1] = ou * mw, my + ov
    iu = np.array([-0.82, -0.35, 0, 0.35, 0.82, 0.35, 0, -0.35])
    p[LIPS_INNER, 0], p[LIPS_INNER, 1] = iu * mw, my
    out = np.zeros((NUM_LANDMARKS, 3))
    out[:, :2] = p
    out[:, 2] = depth_at(ident, p[:, 0], p[:, 1])
    return out


def depth_at(ident: Identity, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Height field z(u, v) of the face surface, face units; same shape as ``u``.

    An ellipsoidal head plus a nose ridge, brow ridge, eye sockets, lips and chin.
    """
    u = np.asarray(u, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    a, b = ident.face_width * 1.12, 1.75
    r2 = (u / a) ** 2 + ((v + 0.1) / b) ** 2
    z = 0.9 * np.sqrt(np.clip(1.0 - r2, 0.0, None))
    ey, tip = ident.eye_height, ident.eye_height + ident.nose_length
    # nose ridge: grows from the bridge to the tip, sharp falloff sideways
    along = np.clip((v - (ey - 0.05)) / (tip - ey + 0.05), 0, 1) * (v < tip + 0.08)
    ridge_w = 0.07 + 0.08 * along
    z = z + ident.nose_depth * along**1.3 * np.exp(-(u / ridge_w) ** 2)
    z = z + 0.07 * np.exp(-((u / (ident.nose_width * 1.1)) ** 2) - ((v - tip) / 0.07) ** 2)
    # eye sockets and brow ridge
    for sx in (-1, 1):
        z = z - 0.09 * np.exp(-((u - sx * ident.eye_spacing) / 0.2) ** 2 - ((v - ey) / 0.13) ** 2)
        z = z + 0.04 * np.exp(-((u - sx * ident.eye_spacing) / 0.3) ** 2 - ((v - ey + 0.25) / 0.08) ** 2)
    # lips and chin
    z = z + 0.06 * np.exp(-(u / ident.mouth_width) ** 2 - ((v - ident.mouth_height) / 0.1) ** 2)
    chin_v = -0.2 + ident.face_length - 0.15
    z = z + 0.05 * np.exp(-(u / 0.3) ** 2 - ((v - chin_v) / 0.12) ** 2)
    return z


def rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Rotation matrix [3, 3] for head pose in degrees (u right, v down, z to camera).

    Positive yaw turns the face to the image right, positive pitch tilts it up,
    positive roll tilts it clockwise in the image.
    """
    y, p, r = np.deg2rad([yaw, pitch, roll])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), np.sin(p)], [0, -np.sin(p), np.cos(p)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return rz @ rx @ ry

"""One SynthFER video: a plan (who, which class) -> frames and ground truth.

Randomness is derived only from (seed, subject index, video index), so a clip
is the same whichever worker renders it and in whatever order.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .action_units import AU_INDEX, NUM_AUS, RESTING_CLASSES, au_basis, deform, prototype
from .face_model import make_identity, neutral_landmarks
from .options import SynthOptions
from .profiles import Track, make_track
from .render import FACE_CENTRE, FaceRenderer, FramePose, Scene, make_background, project

_IDENTITY_STREAM, _VIDEO_STREAM, _SCENE_STREAM = 1, 2, 4


@dataclasses.dataclass(frozen=True)
class VideoPlan:
    """What one video shows.

    Attributes:
        id: sample id, ``s03_v005``.
        subject_index: 0-based subject number.
        video_index: 0-based video number within the subject.
        true_label: class index actually rendered.
        label: training label (differs from ``true_label`` when flipped by label noise).
        train_only: identity-bias training view (trained on, never scored).
        favoured: the subject's favoured class index, or None.
        test_only: identity-bias test view (scored, never trained on).
    """

    id: str
    subject_index: int
    video_index: int
    true_label: int
    label: int
    train_only: bool
    favoured: int | None
    test_only: bool = False

    @property
    def subject(self) -> str:
        return subject_name(self.subject_index)


def subject_name(index: int) -> str:
    return f"s{index:02d}" if index < 100 else f"s{index:03d}"


@dataclasses.dataclass(frozen=True)
class Clip:
    """A rendered video and its ground truth (T frames, S pixels).

    Attributes:
        frames: uint8 [T, S, S, 3] RGB.
        landmarks_2d: float32 [T, 68, 2] pixel coordinates (x, y).
        landmarks_3d: float32 [T, 68, 3] posed landmarks in pixels (z toward the camera).
        landmarks_canonical: float32 [T, 68, 3] expression-deformed, pose-free, face units.
        head_pose: float32 [T, 3] yaw, pitch, roll in degrees.
        aus: float32 [T, NUM_AUS] AU intensities.
        track: timing (onset, apex, offset).
        intensity: apex intensity of the expression.
    """

    frames: np.ndarray
    landmarks_2d: np.ndarray
    landmarks_3d: np.ndarray
    landmarks_canonical: np.ndarray
    head_pose: np.ndarray
    aus: np.ndarray
    track: Track
    intensity: float


def subject_identity(options: SynthOptions, subject_index: int):
    """The :class:`~.face_model.Identity` of subject ``subject_index`` (deterministic)."""
    rng = np.random.default_rng([options.seed, subject_index, _IDENTITY_STREAM])
    resting = RESTING_CLASSES[int(rng.integers(len(RESTING_CLASSES)))]
    return make_identity(rng, NUM_AUS, options.style, resting)


def _scene(options: SynthOptions, rng: np.random.Generator, aa: int) -> Scene:
    lit = options.lighting
    az = np.deg2rad(rng.uniform(-1, 1) * 70 * lit)
    el = np.deg2rad(20 + rng.uniform(-0.5, 1.0) * 30 * lit)
    light = np.array([np.sin(az) * np.cos(el), -np.sin(el), np.cos(az) * np.cos(el)])
    ambient = 0.55 - 0.35 * lit * rng.uniform(0.5, 1.0)
    diffuse = (1.08 - ambient) / max(light[2], 0.35)
    bg = make_background(rng, options.size * aa, options.clutter)
    return Scene(options.size, aa, bg, light, float(ambient), float(min(diffuse, 1.4)),
                 float(rng.uniform(0.3, 1.0) * options.noise), float(rng.uniform(0.0, 1.0) * options.blur))


def render_clip(options: SynthOptions, plan: VideoPlan) -> Clip:
    """Render the video ``plan`` describes."""
    ident = subject_identity(options, plan.subject_index)
    rng = np.random.default_rng([options.seed, plan.subject_index, plan.video_index, _VIDEO_STREAM])
    classes = options.classes
    size, frames = options.size, options.frames
    aa = 1  # the texture is anti-aliased; the silhouette is smoothed by bilinear sampling
    neutral = neutral_landmarks(ident)
    basis = au_basis(neutral, ident)
    gain = np.asarray(ident.au_gain)
    resting = prototype(ident.resting_class) * options.resting_bias * ident.resting_strength
    proto = prototype(classes[plan.true_label])
    intensity = float(rng.uniform(options.intensity_min, options.intensity_max))
    track = make_track(options.profile, frames, rng, options.pose)
    base_pose = rng.uniform(-1, 1, 3) * options.pose
    scale = size * 0.29 * (1 + rng.uniform(-1, 1) * options.scale_jitter)
    shift = rng.uniform(-1, 1, 2) * options.shift_jitter * size
    centre = (size / 2 - 0.5 + shift[0] - scale * FACE_CENTRE[0], size / 2 - 0.5 + shift[1] - scale * FACE_CENTRE[1])
    scene_rng = rng if options.scene == "video" else np.random.default_rng([options.seed, plan.subject_index, _SCENE_STREAM])
    scene = _scene(options, scene_rng, aa)
    renderer = FaceRenderer(ident, size, aa)
    blink_au, talk_aus = np.zeros(NUM_AUS), np.zeros(NUM_AUS)
    blink_au[AU_INDEX["AU43"]] = 1.0
    talk_aus[AU_INDEX["AU25"]], talk_aus[AU_INDEX["AU26"]] = 0.8, 0.35

    out = np.zeros((frames, size, size, 3), np.uint8)
    lm2d = np.zeros((frames, 68, 2), np.float32)
    lm3d = np.zeros((frames, 68, 3), np.float32)
    canon = np.zeros((frames, 68, 3), np.float32)
    poses = np.zeros((frames, 3), np.float32)
    aus_all = np.zeros((frames, NUM_AUS), np.float32)
    for t in range(frames):
        aus = (resting + track.weight[t] * intensity * proto) * gain
        aus = aus + track.blink[t] * blink_au + track.talk[t] * talk_aus
        aus = np.clip(aus, 0.0, 1.4)
        lm = deform(neutral, basis, aus, ident)
        yaw, pitch, roll = base_pose + track.pose[t]
        pose = FramePose(float(yaw), float(pitch), float(roll), float(scale), centre)
        out[t] = renderer.render(lm, aus, pose, scene, rng)
        posed = project(lm, pose)
        lm2d[t], lm3d[t], canon[t] = posed[:, :2], posed, lm
        poses[t] = (yaw, pitch, roll)
        aus_all[t] = aus
    return Clip(out, lm2d, lm3d, canon, poses, aus_all, track, intensity)

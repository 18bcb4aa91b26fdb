"""Typed options of SynthFER and its named presets.

:class:`SynthOptions` holds every generator knob with the defaults of the
``synthetic`` preset. Each other preset is a subclass that only changes
defaults, so ``build_options(SynthCKPlusOptions, {"identity_bias": "0.8"})``
gives the CK+-like preset with one knob changed.

Units: angles in degrees, sizes in pixels, ``noise`` in 8-bit grey levels
(standard deviation), ``blur`` as a Gaussian sigma in pixels, jitters as
fractions of the frame size, knobs (``identity_bias``, ``label_noise``,
``lighting``, ``clutter``) in [0, 1].
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from ...errors import OptionError
from ...options import RUNTIME, options_to_dict

Profile = Literal["ckplus", "mmi", "wild"]
Codec = Literal["h264", "mpeg4"]

#: bump when a change to the generator changes its output (invalidates caches)
GENERATOR_VERSION = 3


@dataclasses.dataclass(frozen=True)
class SynthOptions:
    """SynthFER generator options (defaults: the ``synthetic`` preset).

    Attributes:
        seed: master seed; every video's randomness derives from (seed, subject, video).
        subjects: number of subjects (identities).
        videos_per_class: scoreable videos of the largest class per subject (may be
            fractional: the class total is ``round(subjects * videos_per_class)``).
        frames: frames per video (T).
        size: frame width = height in pixels (multiple of 16).
        fps: frames per second written in the container.
        codec: ``h264`` (libx264) or ``mpeg4`` (MPEG-4 Part 2); both I+P only.
        gop: GOP length in frames (an I-frame every ``gop`` frames, nowhere else).
        quality: encoder quality (libx264 CRF; for mpeg4 the fixed qscale is derived
            from it as ``max(2, quality // 6)``). Lower is better.
        profile: temporal profile: ``ckplus`` (neutral->apex, apex last), ``mmi``
            (onset-apex-offset) or ``wild`` (partial expression in a longer clip,
            head motion, blinks).
        contempt: add the ``contempt`` class (8 classes).
        intensity_min: lowest per-video apex intensity (1 = full prototype).
        intensity_max: highest per-video apex intensity.
        style: subject style variation: log-normal spread of per-AU gains.
        resting_bias: intensity of each subject's resting-face bias (slight smile,
            frown or raised brows, present in every frame).
        identity_bias: in [0, 1]; see :mod:`ferbench.datasets.synthetic.generate`.
        label_noise: in [0, 1]; fraction of samples whose ``label`` is flipped.
        imbalance: class-count ratio largest/smallest (>= 1, geometric in between).
        folds: folds of the subject-independent k-fold protocol.
        pose: max |yaw|, |pitch| and |roll| of the head, degrees.
        lighting: in [0, 1]; 0 = frontal soft light, 1 = light up to 70 degrees
            off-axis with strong directional component (deep attached shadows).
        noise: max camera noise standard deviation, grey levels.
        blur: max Gaussian blur sigma, pixels.
        clutter: in [0, 1]; amount of background clutter shapes.
        scale_jitter: max relative change of face size.
        shift_jitter: max translation of the face, fraction of the frame size.
        scene: ``subject``: background and light set-up drawn once per subject (one
            recording session, as in lab datasets such as CK+ and MMI); ``video``: drawn
            per video (in the wild). Per-video scenes let a network memorise each
            training video by its background instead of learning the expression.
        workers: processes used to render (not part of the cache key; 2 = the cores of a small CI machine).
    """

    seed: int = 0
    subjects: int = 24
    videos_per_class: float = 1.0
    frames: int = 16
    size: int = 112
    fps: int = 25
    codec: Codec = "h264"
    gop: int = 8
    quality: int = 18
    profile: Profile = "ckplus"
    contempt: bool = False
    intensity_min: float = 0.75
    intensity_max: float = 1.0
    style: float = 0.15
    resting_bias: float = 0.2
    identity_bias: float = 0.0
    label_noise: float = 0.0
    imbalance: float = 1.0
    folds: int = 5
    pose: float = 6.0
    lighting: float = 0.3
    noise: float = 2.0
    blur: float = 0.4
    clutter: float = 0.2
    scale_jitter: float = 0.05
    shift_jitter: float = 0.03
    scene: Literal["subject", "video"] = "subject"
    workers: int = dataclasses.field(default=2, metadata=RUNTIME)

    def __post_init__(self) -> None:
        problems = []
        if self.subjects < 1:
            problems.append("subjects must be >= 1")
        if self.frames < 2:
            problems.append("frames must be >= 2")
        if self.size < 32 or self.size % 16:
            problems.append(f"size must be a multiple of 16 and >= 32, got {self.size}")
        if self.gop < 1:
            problems.append("gop must be >= 1")
        if self.videos_per_class <= 0:
            problems.append("videos_per_class must be > 0")
        for name in ("identity_bias", "label_noise", "lighting", "clutter"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                problems.append(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.imbalance < 1.0:
            problems.append(f"imbalance must be >= 1 (largest/smallest class), got {self.imbalance}")
        if not 0.0 < self.intensity_min <= self.intensity_max:
            problems.append("need 0 < intensity_min <= intensity_max")
        if self.folds < 2:
            problems.append("folds must be >= 2")
        if self.workers < 1:
            problems.append("workers must be >= 1")
        if problems:
            raise OptionError("synthetic options: " + "; ".join(problems))

    @property
    def classes(self) -> list[str]:
        """Class names in label order."""
        return list(CLASSES) + (["contempt"] if self.contempt else [])

    def cache_dict(self) -> dict:
        """Options that determine the generated data (everything but ``workers``)."""
        out = options_to_dict(self, runtime=False)
        out["generator_version"] = GENERATOR_VERSION
        return out


CLASSES = ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")


@dataclasses.dataclass(frozen=True)
class SynthCKPlusOptions(SynthOptions):
    """CK+-like: 118 subjects, 8 classes with contempt, neutral->apex, frontal, studio light."""

    subjects: int = 118
    videos_per_class: float = 0.7
    contempt: bool = True
    imbalance: float = 4.6
    folds: int = 10
    pose: float = 2.0
    lighting: float = 0.1
    noise: float = 1.0
    blur: float = 0.2
    clutter: float = 0.0
    scale_jitter: float = 0.03
    shift_jitter: float = 0.02


@dataclasses.dataclass(frozen=True)
class SynthMMIOptions(SynthOptions):
    """MMI-like: 30 subjects, onset-apex-offset sequences, mild pose and light variation."""

    subjects: int = 30
    videos_per_class: float = 1.0
    frames: int = 24
    profile: Profile = "mmi"
    imbalance: float = 1.5
    folds: int = 10
    pose: float = 8.0
    lighting: float = 0.35
    clutter: float = 0.1


@dataclasses.dataclass(frozen=True)
class SynthAFEWOptions(SynthOptions):
    """AFEW-like: in the wild: partial expressions in longer clips, wide pose and light, clutter."""

    subjects: int = 40
    videos_per_class: float = 1.5
    frames: int = 32
    gop: int = 12
    profile: Profile = "wild"
    intensity_min: float = 0.5
    intensity_max: float = 0.95
    imbalance: float = 2.5
    label_noise: float = 0.05
    pose: float = 25.0
    lighting: float = 0.85
    noise: float = 6.0
    blur: float = 1.0
    clutter: float = 0.9
    scale_jitter: float = 0.15
    shift_jitter: float = 0.08
    scene: Literal["subject", "video"] = "video"


@dataclasses.dataclass(frozen=True)
class SynthTinyOptions(SynthOptions):
    """Tiny, for tests: 6 subjects, 8 frames of 64x64, generates in seconds."""

    subjects: int = 6
    frames: int = 8
    size: int = 64
    gop: int = 4


#: preset (dataset spec) name -> (options class, one-line description)
PRESETS: dict[str, tuple[type[SynthOptions], str]] = {
    "synthetic": (SynthOptions, "SynthFER default: 24 subjects x 7 expressions, 16-frame 112px neutral->apex clips"),
    "synthetic-ckplus": (SynthCKPlusOptions, "SynthFER CK+-like: 118 subjects, 8 classes, imbalanced, frontal neutral->apex"),
    "synthetic-mmi": (SynthMMIOptions, "SynthFER MMI-like: 30 subjects, onset-apex-offset 24-frame clips"),
    "synthetic-afew": (SynthAFEWOptions, "SynthFER AFEW-like: in-the-wild partial expressions, pose, light, clutter"),
    "synthetic-tiny": (SynthTinyOptions, "SynthFER tiny (tests): 6 subjects, 8 frames of 64x64"),
}


def preset_options(name: str, **overrides) -> SynthOptions:
    """Options of preset ``name`` with some fields replaced (native values)."""
    if name not in PRESETS:
        raise OptionError(f"unknown synthetic preset '{name}' (valid: {', '.join(PRESETS)})")
    return PRESETS[name][0](**overrides)


def preset_name(options: SynthOptions) -> str:
    """The preset name whose options class ``options`` is an instance of."""
    for name, (cls, _) in PRESETS.items():
        if type(options) is cls:
            return name
    return "synthetic"

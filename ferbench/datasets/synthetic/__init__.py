"""SynthFER: an embedded, generated video facial-expression dataset.

Parametric 3D faces (iBUG-68 landmarks + depth profile) with per-subject
identities, FACS-like action units combined into EMFACS class prototypes,
temporal profiles (ckplus / mmi / wild), nuisances (pose, light, noise, blur,
clutter, jitter), encoded with PyAV (H.264 or MPEG-4 Part 2, I+P, fixed GOP).
Knobs: ``identity_bias``, ``label_noise``, ``imbalance``, ``pose``, ``lighting``.
See :mod:`.generate` for the layout on disk and the knob semantics.
"""

from .generate import SynthFERDataset, generate
from .ground_truth import mean_neutral_face, read_landmarks
from .options import PRESETS, SynthOptions, preset_options

__all__ = ["PRESETS", "SynthFERDataset", "SynthOptions", "generate", "mean_neutral_face", "preset_options",
           "read_landmarks"]

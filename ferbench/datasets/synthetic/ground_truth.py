"""SynthFER's ground truth, as public data for plugins and analyses.

Every SynthFER sample carries what real datasets lack, in ``Sample`` fields and
``Sample.meta`` (stable keys, documented in ``docs/synthetic.md``):

* ``Sample.apex``: the apex frame (0-based); ``meta["onset"]``, ``meta["offset"]``;
* ``meta["landmarks"]``: an ``.npz`` with the per-frame posed 3D landmarks and
  their 2D projections (:func:`read_landmarks`);
* ``meta["flipped"]`` (label noise), ``meta["favoured_class"]`` (identity bias),
  ``meta["resting_class"]``, ``meta["intensity"]``, ``meta["profile"]``.

:func:`mean_neutral_face` is the generator's mean neutral 3D face, the generic
frontal template a 3D re-centralization aligns to.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

from .action_units import NUM_AUS
from .face_model import make_identity, neutral_landmarks


@functools.lru_cache(maxsize=4)
def mean_neutral_face(identities: int = 64, seed: int = 0) -> np.ndarray:
    """The mean neutral face of ``identities`` random SynthFER identities: float64 [68, 3] (iBUG-68 order),
    in face units (x right, y down, z towards the camera); deterministic in ``seed``. Read-only array."""
    rng = np.random.default_rng(seed)
    faces = [neutral_landmarks(make_identity(rng, NUM_AUS, 0.15, "neutral")) for _ in range(identities)]
    out = np.mean(faces, axis=0)
    out.setflags(write=False)
    return out


def read_landmarks(path: str | Path) -> dict[str, Any]:
    """The arrays of a sample's ``meta["landmarks"]`` file (name -> numpy array), e.g. ``landmarks_2d``
    [T, 68, 2] pixels, ``landmarks_3d`` [T, 68, 3], ``apex``, ``onset``, ``offset``."""
    with np.load(path) as z:
        return {k: z[k] for k in z.files}

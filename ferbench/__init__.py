"""ferbench: a plugin-based benchmark for video and image facial expression recognition."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from .bundle import Bundle


def load(bundle: Any, *, device: str = "auto") -> "Bundle":
    """Load a bundle written by ``ferbench export`` (a folder or a zip); see :func:`ferbench.bundle.load_bundle`.

    ``ferbench.load("model.ferbench").predict("video.mp4")`` gives one
    :class:`~ferbench.predict.results.FilePrediction` per file. Imported lazily: ``import ferbench`` stays light.
    """
    from .bundle import load_bundle

    return load_bundle(bundle, device=device)

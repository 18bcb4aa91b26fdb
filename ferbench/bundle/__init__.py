"""Bundles: a trained model as safetensors weights plus ``model.json``, loadable without pickle.

Modules: :mod:`.schema` (``model.json``), :mod:`.preprocessing` (the training
media's face framing), :mod:`.storage` (folder or zip, safetensors),
:mod:`.build` (plugin checks, model construction), :mod:`.runs` (finding a
recorded run), :mod:`.export` (``ferbench export``), :mod:`.load`
(``ferbench.load``), :mod:`.onnx_export` (``--onnx``).
"""

from .load import Bundle, load_bundle
from .schema import BundleError, BundleInfo

__all__ = ["Bundle", "BundleError", "BundleInfo", "load_bundle"]

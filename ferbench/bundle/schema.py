"""``model.json``: what a bundle holds besides its weights, as typed dataclasses.

Layout of a bundle (a folder, or the same files in a zip)::

    model.json            BundleInfo below (JSON, no code)
    fold<k>.safetensors   weights of fold k's model (backbone + aggregator state)
    fold<k>.onnx          optional: the same model as ONNX (``export --onnx``)

Reading a bundle never unpickles anything: ``model.json`` is JSON and the
weights are safetensors (a header of tensor shapes plus raw bytes). Weight
file names are checked against :data:`WEIGHTS_NAME` before anything is read.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from ..errors import FerbenchError
from .preprocessing import Preprocessing

FORMAT = "ferbench-bundle"
#: bump when model.json changes incompatibly; readers refuse newer versions
FORMAT_VERSION = 1
MODEL_JSON = "model.json"
WEIGHTS_NAME = re.compile(r"^fold\d+\.safetensors$")
ONNX_NAME = re.compile(r"^fold\d+\.onnx$")


class BundleError(FerbenchError):
    """A bundle that is missing, malformed, or needs plugins that are not installed."""


@dataclasses.dataclass(frozen=True)
class BundledComponent:
    """One component of the bundled combination.

    Attributes:
        kind: component kind (``input``, ``backbone``, ...).
        name: component name.
        plugin: the plugin that registered it at export time.
        plugin_version: that plugin's version at export time.
        options: every option value (resolved, defaults included).
    """

    kind: str
    name: str
    plugin: str
    plugin_version: str
    options: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class BundledFold:
    """One fold's model.

    Attributes:
        fold: fold index in the training protocol.
        weights: file name of its safetensors weights in the bundle.
        metrics: its test-fold numbers from the results store (``war``, ``uar``, ``macro_f1``, percent; ...).
        selection: checkpoint that was scored: "last" or "best-val".
        onnx: file name of its ONNX graph, or "".
    """

    fold: int
    weights: str
    metrics: dict[str, float]
    selection: str = "last"
    onnx: str = ""


@dataclasses.dataclass(frozen=True)
class BundleInfo:
    """Everything ``model.json`` holds.

    Attributes:
        config_hash: the training run's config hash.
        combination: the leaderboard label of the combination.
        setup: training options that differ from the defaults.
        seed: the training run's seed.
        dataset: the training dataset's label (``synthetic-ckplus``, ``afew[face_size=96]``).
        protocol: the training protocol (``10-fold subject-independent``).
        classes: class names in label order (logit k is ``classes[k]``).
        components: kind -> component, for every kind of the run.
        preprocessing: the face framing of the training media.
        folds: the bundled fold models (several: prediction averages their probabilities).
        versions: ferbench, Python, torch, numpy and plugin versions at export time.
        created_at: ISO 8601 UTC time of the export.
        format: always :data:`FORMAT`.
        format_version: :data:`FORMAT_VERSION` of the writer.
    """

    config_hash: str
    combination: str
    setup: str
    seed: int
    dataset: str
    protocol: str
    classes: list[str]
    components: dict[str, BundledComponent]
    preprocessing: Preprocessing
    folds: list[BundledFold]
    versions: dict[str, Any]
    created_at: str
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    @property
    def source_label(self) -> str:
        """``"<dataset>/<protocol>"``: where the model was trained (cross-dataset protocol names)."""
        return f"{self.dataset}/{self.protocol}"

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, where: str) -> "BundleInfo":
        """Parse and check ``model.json`` text; ``where`` names the bundle in error lines."""
        try:
            raw = json.loads(text)
        except ValueError as err:
            raise BundleError(f"{where}: model.json is not valid JSON ({err}); re-export the bundle") from None
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise BundleError(f"{where}: model.json is not a ferbench bundle description; re-export the bundle")
        version = raw.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise BundleError(f"{where}: bundle format {version!r} is newer than this ferbench reads "
                              f"({FORMAT_VERSION}); upgrade ferbench")
        try:
            components = {k: BundledComponent(**c) for k, c in raw["components"].items()}
            folds = [BundledFold(**f) for f in raw["folds"]]
            pre = Preprocessing(**raw["preprocessing"])
            fields = {f.name for f in dataclasses.fields(cls)} - {"components", "folds", "preprocessing"}
            info = cls(components=components, folds=folds, preprocessing=pre, **{k: raw[k] for k in fields if k in raw})
        except (KeyError, TypeError, AttributeError) as err:
            raise BundleError(f"{where}: model.json lacks or misspells a field ({type(err).__name__}: {err}); "
                              f"re-export the bundle") from None
        for kind in ("input", "backbone", "aggregator"):
            if kind not in info.components:
                raise BundleError(f"{where}: model.json names no {kind} component; re-export the bundle")
        if not info.folds:
            raise BundleError(f"{where}: model.json lists no fold model; re-export the bundle")
        for fold in info.folds:
            if not WEIGHTS_NAME.match(fold.weights) or (fold.onnx and not ONNX_NAME.match(fold.onnx)):
                raise BundleError(f"{where}: model.json names weights {fold.weights!r}; only foldK.safetensors "
                                  f"(and foldK.onnx) files are read from a bundle")
        if not info.classes or len(set(info.classes)) != len(info.classes):
            raise BundleError(f"{where}: model.json has no or duplicate class names; re-export the bundle")
        return info

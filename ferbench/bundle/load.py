"""Load a bundle: check its plugins, build its model(s), fill in the safetensors weights.

``ferbench.load(path)`` returns a :class:`Bundle`; ``Bundle.predict(path)``
runs the face pipeline and the model on new media (see :mod:`ferbench.predict`),
``Bundle.probabilities(batch)`` scores a ready batch (what ``ferbench evaluate``
does). Nothing is unpickled on the way: ``model.json`` is JSON, the weights are
safetensors.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import torch

from ..components import Batch, InputRepresentation
from ..engine.assemble import FERModel
from ..engine.trainer import resolve_device
from ..plugins import Registry
from .build import build_runtime
from .schema import MODEL_JSON, BundleError, BundleInfo
from .storage import BundleFiles, weights_from_bytes

if TYPE_CHECKING:  # pragma: no cover
    from ..predict.options import PredictOptions
    from ..predict.results import FilePrediction


class Bundle:
    """A loaded bundle: its description, input representation and fold models (eval mode).

    Attributes:
        path: where it was loaded from.
        info: the parsed ``model.json``.
        input: the bundle's input representation (the training run's options).
        models: one model per bundled fold, on ``device``.
        device: where the models run.
    """

    def __init__(self, path: Path, info: BundleInfo, rep: InputRepresentation, models: list[FERModel],
                 device: torch.device) -> None:
        self.path, self.info, self.input, self.models, self.device = path, info, rep, models, device

    @property
    def classes(self) -> list[str]:
        """Class names in logit order."""
        return list(self.info.classes)

    @property
    def side_inputs(self) -> tuple[str, ...]:
        """Side tensors the backbone reads (they must be in a batch's ``side``)."""
        return tuple(self.models[0].backbone.side_inputs)

    @torch.no_grad()
    def probabilities(self, x: torch.Tensor, side: dict[str, torch.Tensor] | None = None) -> np.ndarray:
        """Class probabilities [B, K] of inputs ``x`` [B, T, C, H, W] (+ side tensors, each [B, ...]):
        the softmax of each fold model, averaged over the bundled folds."""
        x = x.to(self.device)
        side = {k: v.to(self.device) for k, v in (side or {}).items()}
        total = None
        for model in self.models:
            probs = model(x, side).logits.float().softmax(1)
            total = probs if total is None else total + probs
        return (total / len(self.models)).cpu().numpy()

    def batch_probabilities(self, batch: Batch) -> np.ndarray:
        """:meth:`probabilities` of a :class:`~ferbench.components.Batch`."""
        return self.probabilities(batch.x, batch.side)

    def predict(self, paths: str | Path | Sequence[str | Path], options: "PredictOptions | None" = None,
                **overrides: Any) -> "list[FilePrediction]":
        """Predict the expression of every video and image in ``paths`` (files or folders of them).

        Returns one :class:`~ferbench.predict.results.FilePrediction` per file, in order, with the
        fields of ``ferbench predict``'s CSV. ``overrides`` set :class:`~ferbench.predict.options.PredictOptions`
        fields (``timeline=True``, ``detect_every=5``, ...).
        """
        from ..predict.options import PredictOptions
        from ..predict.predictor import Predictor

        if options is None:
            options = PredictOptions(**overrides)
        elif overrides:
            import dataclasses

            options = dataclasses.replace(options, **overrides)
        items = [paths] if isinstance(paths, (str, Path)) else list(paths)
        return Predictor(self, options).predict(items)

    def __repr__(self) -> str:
        folds = ",".join(str(f.fold) for f in self.info.folds)
        return f"Bundle({str(self.path)!r}: {self.info.combination} on {self.info.dataset}, folds {folds})"


def read_info(path: str | Path) -> tuple[BundleFiles, BundleInfo]:
    """The bundle's files and its checked ``model.json``."""
    files = BundleFiles(path)
    return files, BundleInfo.from_json(files.read(MODEL_JSON).decode("utf-8", errors="replace"), f"bundle {files.path}")


def load_bundle(path: str | Path, *, registry: Registry | None = None, device: str = "auto") -> Bundle:
    """Load the bundle at ``path`` (folder or zip).

    Args:
        path: what ``ferbench export`` wrote.
        registry: installed plugins (default: all).
        device: "auto" (CUDA when present), "cpu", "cuda", ...

    Raises:
        BundleError: not a bundle, a newer format, a missing or incompatible plugin, weights that are
            not safetensors or do not fit the model.
    """
    files, info = read_info(path)
    where = f"bundle {files.path}"
    registry = registry if registry is not None else Registry()
    torch_device = resolve_device(device)
    models = []
    rep = None
    for fold in info.folds:
        rep, model = build_runtime(info, registry, where)
        state = weights_from_bytes(files.read(fold.weights), f"{where}: {fold.weights}")
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as err:
            first = str(err).splitlines()[0][:160]
            raise BundleError(f"{where}: {fold.weights} does not fit the {info.combination} model ({first}); "
                              f"re-export the bundle with the installed plugins") from None
        models.append(model.to(torch_device).eval())
    assert rep is not None
    return Bundle(files.path, info, rep, models, torch_device)

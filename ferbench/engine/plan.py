"""What a run will do, checked before any training: :class:`RunPlan`, and the helpers it shares
with the runner (:func:`load_manifest`, :func:`versions`)."""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import __version__
from ..data.manifest import Manifest
from ..data.protocols import make_folds, protocol_name
from ..errors import FerbenchError
from ..plugins import Registry
from .assemble import Resolved, assemble, build_input, resolve
from .config import RunConfig


def load_manifest(config: RunConfig, resolved: Resolved) -> Manifest:
    """Build the dataset adapter and return its manifest."""
    spec = resolved.specs["dataset"]
    root = Path(config.root).expanduser() if config.root else None
    adapter = spec.factory(resolved.options["dataset"], root, Path(config.cache_dir).expanduser())
    manifest = adapter.manifest()
    if not manifest.samples:
        raise FerbenchError(f"dataset '{spec.name}' has no samples (root {root}); check the path and layout")
    return manifest


def versions(registry: Registry) -> dict[str, Any]:
    """ferbench, Python, torch, numpy and plugin versions (stored with every record)."""
    return {
        "ferbench": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "plugins": {p.name: p.version for p in registry.plugins.values() if not p.broken},
    }


class RunPlan:
    """What a run will do, checked before any training and without touching a device.

    Resolves the components, builds the input, loads the manifest, checks the
    combination on a dummy batch and computes the folds and the config hash. A
    sweep driver builds one per expanded run (on a login node, say) to fail early
    and to see which folds are recorded; :class:`Runner` adds the training.
    """

    def __init__(self, config: RunConfig, registry: Registry, *, manifest: Manifest | None = None) -> None:
        self.config = config
        self.registry = registry
        self.resolved = resolve(config, registry)
        self.input = build_input(self.resolved)
        self.config_hash = config.config_hash(self.resolved.options_dict(runtime=False))
        self.combination = self.resolved.combination
        self.dataset_label = self.resolved.label("dataset")
        self.output_dir = Path(config.output_dir).expanduser()
        self.cache_dir = Path(config.cache_dir).expanduser()
        self.manifest = manifest if manifest is not None else load_manifest(config, self.resolved)
        # Fail before any training when the combination cannot work.
        assemble(self.resolved, self.input.signature, self.manifest, self.cache_dir)
        self.folds = make_folds(self.manifest, seed=config.seed, val_fraction=config.train.val_fraction)
        if config.folds is not None:
            bad = [f for f in config.folds if not 0 <= f < len(self.folds)]
            if bad:
                raise FerbenchError(
                    f"--folds {','.join(map(str, bad))} out of range: dataset '{self.manifest.dataset}' has "
                    f"{len(self.folds)} folds (0..{len(self.folds) - 1})"
                )

    @property
    def protocol(self) -> str:
        """The protocol as records store it (``"5-fold subject-independent"``)."""
        return protocol_name(self.manifest)

    @property
    def run_dir(self) -> Path:
        """``<output_dir>/runs/<config hash>``: ``fold<k>/`` (checkpoints, ``confusion.png``,
        ``predictions.csv``, ``fold.json`` with the fold's sample ids) and ``failures.json``."""
        return self.output_dir / "runs" / self.config_hash

    @property
    def store_path(self) -> Path:
        return self.output_dir / "results.sqlite"

    @property
    def fold_indices(self) -> list[int]:
        """The folds this run trains: ``config.folds`` or all."""
        return list(self.config.folds) if self.config.folds is not None else list(range(len(self.folds)))

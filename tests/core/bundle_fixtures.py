"""Trained runs shared by the bundle, predict and evaluate tests (trained once per test session)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ferbench.engine.config import make_config
from ferbench.engine.run_result import RunResult
from ferbench.engine.runner import Runner
from ferbench.plugins import Registry

#: small synthetic-ckplus (8 classes with contempt) and synthetic-mmi (7 classes) presets
CKPLUS_OPTS = {"subjects": 6, "size": 64, "frames": 8, "gop": 4, "folds": 3}
MMI_OPTS = {"subjects": 4, "size": 64, "frames": 8, "gop": 4, "folds": 2}

_RUNS: dict[str, "TrainedRun"] = {}


@dataclasses.dataclass
class TrainedRun:
    runner: Runner
    result: RunResult
    cache_dir: Path
    output_dir: Path


def trained_run(tmp_path_factory, name: str = "tiny") -> TrainedRun:
    """``tiny``: rgb(32 px, 4 frames)+small-cnn+mean on synthetic-tiny, folds 0 and 1, one epoch.
    ``ckplus``: the same on the small synthetic-ckplus, fold 0."""
    if name in _RUNS:
        return _RUNS[name]
    base = tmp_path_factory.getbasetemp() / f"bundle-run-{name}"
    cache, out = base / "cache", base / "out"
    registry = Registry()
    dataset, options, folds = ("synthetic-tiny", {}, (0, 1)) if name == "tiny" else ("synthetic-ckplus", CKPLUS_OPTS, (0,))
    config = make_config({"dataset": dataset, "input": "rgb", "backbone": "small-cnn", "aggregator": "mean"},
                         {"input": {"size": 32, "frames": 4}, "dataset": options}, {"epochs": 1, "batch_size": 8},
                         registry=registry, folds=folds, cache_dir=str(cache), output_dir=str(out))
    runner = Runner(config, registry, progress=False, log=lambda _: None)
    _RUNS[name] = TrainedRun(runner, runner.run(), cache, out)
    return _RUNS[name]

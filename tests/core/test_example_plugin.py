"""The third-party example plugin, loaded through the entry-point code, runs a combination."""

from __future__ import annotations

import importlib.metadata as md
import sys

from ferbench.engine.config import make_config
from ferbench.engine.runner import Runner
from ferbench.plugins import ENTRY_POINT_GROUP, Registry
from ferbench.testing import check_component

from repo import ROOT

EXAMPLE = ROOT / "examples" / "ferbench-example-plugin"


def _example_entry_point() -> md.EntryPoint:
    """The entry point exactly as the example's pyproject.toml declares it."""
    import tomllib

    table = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]["entry-points"]["ferbench"]
    ((name, value),) = table.items()
    return md.EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)


def test_example_plugin_registers_and_runs(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(EXAMPLE))  # what `pip install -e` would put on sys.path
    sys.modules.pop("ferbench_example_plugin", None)
    eps = list(md.entry_points(group=ENTRY_POINT_GROUP)) + [_example_entry_point(), md.EntryPoint("toy", "toy_plugin", ENTRY_POINT_GROUP)]
    reg = Registry(entry_points=eps)
    spec = reg.get("aggregator", "attention-pool")
    assert spec.plugin == "example" and not reg.plugins["example"].broken
    assert check_component(spec)
    cfg = make_config(
        {"dataset": "toy", "aggregator": "attention-pool"},
        {"input": {"frames": 4, "size": 32, "hflip": "false"}},
        {"epochs": 1, "batch_size": 8},
        folds=(0,), cache_dir=str(tmp_path / "c"), output_dir=str(tmp_path / "o"),
    )
    result = Runner(cfg, reg, progress=False, log=lambda s: None).run()
    assert result.combination == "rgb[hflip=False,size=32]+small-cnn+attention-pool+none+none"
    assert 0.0 <= result.folds[0].metrics["war"] <= 100.0

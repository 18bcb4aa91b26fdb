"""Every built-in component passes ferbench.testing's conformance checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from ferbench.builtin.input_rgb import RGBOptions
from ferbench.testing import ConformanceError, check_component


def _specs(kind):
    from ferbench.plugins import Registry

    return [s for s in Registry().components(kind) if s.plugin == "core"]


@pytest.mark.parametrize("spec", _specs("backbone") + _specs("aggregator") + _specs("disentangler") + _specs("selector"), ids=lambda s: f"{s.kind}-{s.name}")
def test_builtin_component_conforms(spec):
    assert check_component(spec)


def test_rgb_input_conforms(registry, tmp_path):
    sample = registry.get("dataset", "toy").factory(registry.get("dataset", "toy").options(), None, tmp_path).manifest().samples[0]
    assert "determinism" in check_component(registry.get("input", "rgb"), sample=sample)


def test_conformance_catches_a_broken_aggregator(registry):
    import dataclasses

    import torch

    from ferbench.components import Aggregator, AggregatorOutput, ComponentSpec
    from ferbench.options import NoOptions

    class WrongLogits(Aggregator):
        def __init__(self, o, d, k):
            super().__init__()
            self.fc = torch.nn.Linear(d, k + 1)

        def forward(self, f, mask=None):
            z = f.mean(1)
            return AggregatorOutput(z, self.fc(z))

    spec = ComponentSpec("aggregator", "wrong", WrongLogits, NoOptions, "bad")
    with pytest.raises(ConformanceError, match="logits"):
        check_component(spec)

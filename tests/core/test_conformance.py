"""Every registered component of every installed plugin passes ferbench.testing's conformance checks.

Parametrised from the registry (the way timm parametrises over ``list_models()``): a new component of any
plugin is checked without anyone writing a test for it.
"""

from __future__ import annotations

import importlib.metadata as md

import pytest

from ferbench.plugins import ENTRY_POINT_GROUP, Registry
from ferbench.testing import ConformanceError, check_component, check_registered

REGISTRY = Registry(entry_points=list(md.entry_points(group=ENTRY_POINT_GROUP)))
CHECKED = ("input", "backbone", "aggregator", "disentangler", "selector")
SPECS = [spec for kind in CHECKED for spec in REGISTRY.components(kind)]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """One SynthFER clip (H.264 I+P, apex and landmark ground truth): what every input can read."""
    spec = REGISTRY.get("dataset", "synthetic-tiny")
    manifest = spec.factory(spec.options(), None, tmp_path_factory.mktemp("conformance")).manifest()
    return next(s for s in manifest.samples if not s.train_only)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.kind}-{s.name}")
def test_registered_component_conforms(spec, sample, one_torch_thread):
    assert check_registered(spec, REGISTRY, sample=sample)


def test_every_kind_has_components():
    assert {s.kind for s in SPECS} == set(CHECKED)


def test_conformance_catches_a_broken_aggregator():
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
    with pytest.raises(ConformanceError, match="fails for every feature size"):
        check_registered(spec, REGISTRY)

"""Frame sampling, class-balanced and sharded batch sampling, the input cache."""

from __future__ import annotations

from collections import Counter

import pytest
import torch

from ferbench.data.frame_sampling import segment_indices
from ferbench.data.loading import EpochSampler, InputCache
from ferbench.errors import OptionError


def test_segment_indices_eval_centres_and_train_within_segments():
    g = torch.Generator().manual_seed(0)
    assert segment_indices(16, 4, train=False, generator=g).tolist() == [2, 6, 10, 14]
    for _ in range(20):
        idx = segment_indices(16, 4, train=True, generator=g)
        assert all(4 * i <= int(v) < 4 * (i + 1) for i, v in enumerate(idx))
    assert segment_indices(3, 6, train=False, generator=g).tolist() == [0, 0, 1, 1, 2, 2]


def test_balanced_batches_hold_every_class_equally():
    labels = [0] * 30 + [1] * 6 + [2] * 3
    sampler = EpochSampler(labels, 6, shuffle=True, seed=0, balanced=True, num_classes=3)
    batches = list(sampler)
    assert len(batches) == 7  # ceil(39 / 6)
    for b in batches:
        assert Counter(labels[i] for i in b) == {0: 2, 1: 2, 2: 2}
    with pytest.raises(OptionError, match="multiple of the 3 classes"):
        EpochSampler(labels, 8, shuffle=True, seed=0, balanced=True, num_classes=3)


def test_sampler_is_seeded_per_epoch_and_shards_by_rank():
    labels = list(range(10)) * 2
    s = EpochSampler(labels, 4, shuffle=True, seed=1)
    e0 = list(s)
    assert e0 == list(EpochSampler(labels, 4, shuffle=True, seed=1))
    s.set_epoch(1)
    assert list(s) != e0
    ranks = [list(EpochSampler(labels, 4, shuffle=True, seed=1, rank=r, world_size=2)) for r in (0, 1)]
    flat = sorted(i for r in ranks for b in r for i in b)
    assert flat == list(range(20))


def test_input_cache_loads_once_and_reuses_disk(registry, tmp_path):
    manifest = registry.get("dataset", "toy").factory(registry.get("dataset", "toy").options(), None, tmp_path).manifest()
    rep = registry.get("input", "rgb").factory(registry.get("input", "rgb").options())
    calls = []
    original = rep.load
    rep.load = lambda s: calls.append(s.id) or original(s)
    cache = InputCache(tmp_path / "inputs", "rgb", rep)
    a = cache.get(manifest.samples[0])
    cache.get(manifest.samples[0])
    again = InputCache(tmp_path / "inputs", "rgb", rep).get(manifest.samples[0])
    assert calls == [manifest.samples[0].id]
    assert torch.equal(a["frames"], again["frames"])

"""The input cache: memory-mapped .npy layout, byte-budget LRU, cache=none, size declaration, disk-fit check,
and loaders whose results do not depend on the worker count."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from ferbench.data import cache_space
from ferbench.data.disk_cache import CacheInfo, DiskCache, read_info
from ferbench.data.loading import EpochSampler, EpochTagged, InputCache
from ferbench.data.memory_cache import MemoryLRU, memory_budget, parse_size
from ferbench.engine.config import TrainOptions, make_config
from ferbench.engine.runner import Runner
from ferbench.errors import DiskSpaceError, FerbenchError, OptionError, SampleReadError
from ferbench.options import build_options

TOY_INPUT = {"frames": 4, "size": 32, "hflip": "true"}


def _toy(registry, tmp_path):
    spec = registry.get("dataset", "toy")
    manifest = spec.factory(spec.options(), None, tmp_path).manifest()
    rep = registry.get("input", "rgb").factory(build_options(registry.get("input", "rgb").options, TOY_INPUT))
    return manifest, rep


def _counting(rep):
    calls = []
    original = rep.load
    rep.load = lambda s: calls.append(s.id) or original(s)
    return calls


def test_disk_cache_is_npy_per_sample_read_memory_mapped(registry, tmp_path):
    manifest, rep = _toy(registry, tmp_path)
    calls = _counting(rep)
    cache = InputCache(tmp_path / "inputs", "rgb", rep, info=CacheInfo("inputs", "toy", "rgb", {"size": 32}, rep.cache_key()))
    cache.open()
    sample = manifest.samples[0]
    first = cache.get(sample)
    again = InputCache(tmp_path / "inputs", "rgb", rep).get(sample)
    assert calls == [sample.id]
    assert torch.equal(first["frames"], again["frames"])
    (entry,) = [p for p in cache.dir.rglob("frames.npy")]
    assert np.load(entry).shape == tuple(first["frames"].shape)
    assert read_info(cache.dir)["component"] == "rgb"
    # big arrays are memory-mapped, copy-on-write: writing to the tensor leaves the file alone
    big = {"frames": torch.arange(200_000, dtype=torch.int32).reshape(1000, 200)}
    disk = DiskCache(tmp_path / "big")
    disk.write(sample, big)
    loaded = disk.read(sample)
    mapped = open("/proc/self/maps").read() if os.path.exists("/proc/self/maps") else str(disk.entry(sample))
    assert str(disk.entry(sample) / "frames.npy") in mapped  # the file is mapped, not read into memory
    loaded["frames"][0, 0] = -1
    assert int(disk.read(sample)["frames"][0, 0]) == 0


def test_truncated_cache_entry_is_regenerated_with_a_note(registry, tmp_path):
    manifest, rep = _toy(registry, tmp_path)
    calls = _counting(rep)
    lines = []
    sample = manifest.samples[1]
    cache = InputCache(tmp_path / "inputs", "rgb", rep, log=lines.append)
    want = cache.get(sample)["frames"].clone()
    (path,) = cache.dir.rglob("frames.npy")
    path.write_bytes(path.read_bytes()[:200])
    got = InputCache(tmp_path / "inputs", "rgb", rep, log=lines.append).get(sample)["frames"]
    assert torch.equal(got, want) and len(calls) == 2
    assert len(lines) == 1 and "unreadable" in lines[0] and "regenerating" in lines[0]


def test_changed_media_replaces_its_old_entry(registry, tmp_path):
    manifest, rep = _toy(registry, tmp_path)
    sample = manifest.samples[2]
    cache = InputCache(tmp_path / "inputs", "rgb", rep)
    cache.ensure(sample)
    os.utime(sample.path, ns=(1, 1))  # new mtime: a new version of the file
    cache.ensure(sample)
    versions = list((cache.dir).glob("*/*"))
    assert len(versions) == 1 and versions[0] == cache.disk.entry(sample)


def test_lru_keeps_within_its_byte_budget():
    t = lambda n: {"x": torch.zeros(n, dtype=torch.uint8)}  # noqa: E731
    lru = MemoryLRU(100)
    assert lru.put("a", t(40)) and lru.put("b", t(40))
    assert lru.get("a") is not None  # a is now the most recent
    assert lru.put("c", t(40))  # evicts b
    assert "b" not in lru and "a" in lru and "c" in lru and lru.bytes == 80
    assert not lru.put("huge", t(101)) and lru.bytes == 80
    lru.resize(50)
    assert len(lru) == 1 and lru.bytes == 40
    assert not MemoryLRU(0).put("a", t(1))


def test_memory_budget_parsing():
    assert parse_size("512MB") == 512_000_000 and parse_size("2GiB") == 2 * 1024**3 and parse_size("0") == 0
    assert memory_budget("auto", mode="disk", available=8_000) == 0
    assert memory_budget("auto", mode="none", available=8_000) == 2_000
    assert memory_budget("10%", mode="disk", available=8_000) == 800
    with pytest.raises(OptionError, match="is not a size"):
        memory_budget("lots", mode="disk")
    with pytest.raises(FerbenchError, match="cache_mem"):
        build_options(TrainOptions, {"cache_mem": "lots"})
    assert build_options(TrainOptions, {"num_workers": "auto"}).num_workers == "auto"
    assert build_options(TrainOptions, {"num_workers": "3"}).num_workers == 3


def test_cache_none_decodes_on_demand_and_checks_cheaply(registry, tmp_path):
    manifest, rep = _toy(registry, tmp_path)
    calls = _counting(rep)
    cache = InputCache(tmp_path / "inputs", "rgb", rep, mode="none", memory_bytes=10**9)
    assert cache.check(manifest.samples[0]) == 0 and calls == []  # first-frame probe, no full decode
    cache.get(manifest.samples[0])
    cache.get(manifest.samples[0])
    assert calls == [manifest.samples[0].id]  # the second draw came from memory
    assert not (tmp_path / "inputs").exists()
    nothing_kept = InputCache(None, "rgb", rep, mode="none", memory_bytes=0)
    nothing_kept.get(manifest.samples[0])
    nothing_kept.get(manifest.samples[0])
    assert len(calls) == 3
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00" * 100)
    import dataclasses

    with pytest.raises(FerbenchError, match="broken.mp4"):
        cache.check(dataclasses.replace(manifest.samples[0], path=str(broken)))


def test_inputs_declare_their_size(registry, tmp_path):
    manifest, rep = _toy(registry, tmp_path)
    declared = cache_space.declared_bytes(rep, manifest.samples[:3])
    actual = sum(sum(t.numel() * t.element_size() for t in rep.load(s).values()) for s in manifest.samples[:3])
    assert declared == actual
    import dataclasses

    unknown = [dataclasses.replace(s, num_frames=None) for s in manifest.samples[:3]]  # counted from headers
    assert cache_space.declared_bytes(rep, unknown) == actual


def test_a_cache_that_would_not_fit_stops_the_run_before_decoding(registry, dirs, monkeypatch):
    cfg = make_config({"dataset": "toy"}, {"input": TOY_INPUT}, {"epochs": 1}, **dirs, folds=(0,))
    runner = Runner(cfg, registry, progress=False, log=lambda s: None)
    calls = _counting(runner.input)
    monkeypatch.setattr(cache_space, "free_bytes", lambda d: 10_000)
    with pytest.raises(DiskSpaceError) as err:
        runner.run()
    assert calls == [] and "\n" not in str(err.value)
    assert "cache=none" in str(err.value) and "ferbench cache clean" in str(err.value)
    # decoding in the loader needs no disk: the same run goes through
    cfg = make_config({"dataset": "toy"}, {"input": TOY_INPUT}, {"epochs": 1, "cache": "none"}, **dirs, folds=(0,))
    assert Runner(cfg, registry, progress=False, log=lambda s: None).run().folds


def test_training_batches_are_split_between_ranks_evenly():
    labels = list(range(5)) * 3  # 15 samples, batches of 4: 4, 4, 4, 3
    whole = list(EpochSampler(labels, 4, shuffle=True, seed=3))
    ranks = [list(EpochSampler(labels, 4, shuffle=True, seed=3, rank=r, world_size=2)) for r in (0, 1)]
    assert len(ranks[0]) == len(ranks[1]) == len(whole)  # every rank takes every step
    for b, r0, r1 in zip(whole, *ranks):
        assert sorted(r0 + r1) == sorted(b)
    one = [list(EpochSampler([0], 4, shuffle=False, seed=0, rank=r, world_size=2)) for r in (0, 1)]
    assert one == [[[0]], [[0]]]  # a batch smaller than the ranks lends its samples
    dealt = [list(EpochSampler(labels, 4, shuffle=False, seed=3, rank=r, world_size=2, even=False)) for r in (0, 1)]
    assert sorted(i for r in dealt for b in r for i in b) == list(range(15))  # evaluation: each sample once


def test_epoch_travels_with_each_index():
    sampler = EpochSampler([0, 1, 2, 3], 2, shuffle=True, seed=0)
    tagged = EpochTagged(sampler)
    tagged.set_epoch(5)
    assert all(epoch == 5 for batch in tagged for _, epoch in batch)


@pytest.mark.parametrize("workers", [2])
def test_results_do_not_depend_on_the_worker_count(registry, dirs, tmp_path, workers):
    def run(n, out):
        cfg = make_config({"dataset": "toy"}, {"input": TOY_INPUT}, {"epochs": 2, "num_workers": n},
                          cache_dir=dirs["cache_dir"], output_dir=str(tmp_path / out), folds=(0,))
        return Runner(cfg, registry, progress=False, log=lambda s: None).run().folds[0]

    a, b = run(0, "zero"), run(workers, "many")
    assert a.metrics["confusion"] == b.metrics["confusion"]
    assert a.record.history == b.record.history


def test_a_sample_failing_in_a_loader_worker_is_one_line():
    err = SampleReadError("Caught SampleReadError in DataLoader worker process 0.\nOriginal Traceback (most recent call "
                          "last):\n  File \"x.py\", line 1, in f\nferbench.errors.SampleReadError: sample a: cannot decode x.mp4")
    assert str(err) == "sample a: cannot decode x.mp4"
    assert str(SampleReadError("sample b: gone")) == "sample b: gone"


def test_compact_uint8_path_gives_the_same_batches(registry, tmp_path):
    from ferbench.data.loading import FERDataset
    from ferbench.engine.loaders import DeviceLoader, make_loader

    manifest, rep = _toy(registry, tmp_path)
    cache = InputCache(tmp_path / "inputs", "rgb", rep)
    t = build_options(TrainOptions, {"batch_size": 4, "num_workers": 0})

    def batches(compact):
        ds = FERDataset(manifest.samples[:8], cache, train=True, seed=1, subject_index={}, positions=list(range(8)))
        loader = make_loader(ds, t, train=True, seed=0, num_classes=3, device=torch.device("cpu"), compact=compact)
        assert isinstance(loader, DeviceLoader) == compact
        return list(loader)

    for a, b in zip(batches(False), batches(True)):
        assert b.x.dtype == torch.float32 and torch.equal(a.x, b.x) and torch.equal(a.index, b.index)


def test_auto_workers_leave_the_cpu_to_the_model(monkeypatch):
    from ferbench.engine import loaders

    monkeypatch.setattr(loaders, "cpu_count", lambda: 2)
    assert loaders.resolve_workers("auto") == 0
    assert loaders.resolve_workers("auto", device=torch.device("cuda")) == 1
    monkeypatch.setattr(loaders, "cpu_count", lambda: 16)
    assert loaders.resolve_workers("auto", device=torch.device("cuda")) == 8
    assert loaders.resolve_workers("auto", device=torch.device("cuda"), processes_per_node=4) == 3
    assert loaders.resolve_workers("auto") == 3 and loaders.resolve_workers(5) == 5


def test_undeclared_input_is_checked_after_its_first_sample(registry, tmp_path, monkeypatch):
    from ferbench.engine.input_check import check_samples

    manifest, rep = _toy(registry, tmp_path)

    class Undeclared:  # the protocol only: no loaded_bytes
        signature = rep.signature
        cache_key, load, sample = rep.cache_key, rep.load, rep.sample

    und = Undeclared()
    calls = _counting(und)
    cache = InputCache(tmp_path / "inputs", "rgb", und)
    monkeypatch.setattr(cache_space, "free_bytes", lambda d: 10_000)
    with pytest.raises(DiskSpaceError, match="from the first one's size"):
        check_samples(cache, manifest.samples, what="the input cache of rgb for toy")
    assert len(calls) == 1
    monkeypatch.setattr(cache_space, "free_bytes", lambda d: 10**12)
    assert check_samples(cache, manifest.samples, what="x") == {}

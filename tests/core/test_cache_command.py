"""``ferbench cache list|clean``: every cache entry with its dataset, options, size and last use; removal."""

from __future__ import annotations

import json
import os
import time

import pytest

from ferbench.cache_inventory import inventory, parse_age
from ferbench.cli import main
from ferbench.engine.config import make_config
from ferbench.engine.runner import Runner
from ferbench.errors import FerbenchError


def _age(path, days):
    t = time.time() - days * 86400
    for p in [path, *path.rglob("*")] if path.is_dir() else [path]:
        os.utime(p, (t, t))


@pytest.fixture
def cache(tmp_path):
    root = tmp_path / "cache"
    syn = root / "synthetic" / "synthetic-tiny-abc123"
    syn.mkdir(parents=True)
    (syn / "options.json").write_text(json.dumps({"subjects": 6, "frames": 8, "size": 64}))
    (syn / "videos").mkdir()
    (syn / "videos" / "a.mp4").write_bytes(b"x" * 1000)
    legacy = root / "inputs" / "toy" / "rgb-0123456789ab"
    legacy.mkdir(parents=True)
    (legacy / "s-1.pt").write_bytes(b"y" * 500)
    for fold in (0, 1):
        d = root / "stages" / "toy" / f"fold{fold}"
        d.mkdir(parents=True)
        (d / "selector-autoencoder-0a1b2c3d4e5f.pt").write_bytes(b"z" * 100)
    _age(syn, 40)
    _age(legacy, 40)
    return root


def test_list_shows_each_entry_with_dataset_options_and_size(registry, cache, capsys):
    cfg = make_config({"dataset": "toy"}, {"input": {"frames": 4, "size": 32}}, {"epochs": 1}, cache_dir=str(cache),
                      output_dir=str(cache.parent / "out"), folds=(0,))
    Runner(cfg, registry, progress=False, log=lambda s: None).run()
    kinds = {(e.kind, e.dataset) for e in inventory(cache)}
    assert {("synthetic", "synthetic-tiny"), ("inputs", "toy"), ("stages", "toy")} <= kinds
    assert main(["cache", "list", "--cache-dir", str(cache)]) == 0
    out = capsys.readouterr().out
    assert "SynthFER frames=8 size=64 subjects=6" in out
    assert "earlier .pt layout" in out
    assert "first used with size=32" in out
    assert "stage selector/autoencoder [0a1b2c3d4e5f] (2 folds)" in out
    assert "1.0 KB" in out  # the synthetic entry's size


def test_clean_older_than_removes_only_unused_entries(cache, capsys):
    assert main(["cache", "clean", "--cache-dir", str(cache), "--older-than", "30d", "--dry-run"]) == 0
    assert "would remove 2 entries" in capsys.readouterr().out
    assert (cache / "synthetic" / "synthetic-tiny-abc123").is_dir()
    assert main(["cache", "clean", "--cache-dir", str(cache), "--older-than", "30d"]) == 0
    assert "removed 2 entries" in capsys.readouterr().out
    assert not (cache / "synthetic" / "synthetic-tiny-abc123").exists()
    assert not (cache / "inputs" / "toy" / "rgb-0123456789ab").exists()
    assert len(list((cache / "stages").rglob("*.pt"))) == 2  # recent: kept
    assert main(["cache", "clean", "--cache-dir", str(cache), "--kind", "stages"]) == 0
    assert not list((cache / "stages").rglob("*.pt"))


def test_bad_age_is_one_line(cache, capsys):
    assert main(["cache", "clean", "--cache-dir", str(cache), "--older-than", "soon"]) == 2
    err = capsys.readouterr().err
    assert "not an age" in err and err.count("\n") == 1
    assert parse_age("12h") == 12 * 3600 and parse_age("2") == 2 * 86400
    with pytest.raises(FerbenchError):
        parse_age("-1d")

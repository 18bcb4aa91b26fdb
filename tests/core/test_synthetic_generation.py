"""SynthFER generation: determinism, manifest schema, caching, resumability."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ferbench.data.manifest import Manifest
from ferbench.data.video import read_video
from ferbench.datasets.synthetic.generate import dataset_dir, generate
from ferbench.datasets.synthetic.options import SynthTinyOptions
from ferbench.options import build_options

SMALL = dict(subjects=2)  # 14 videos of 8 frames at 64x64


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[Manifest, Path]:
    cache = tmp_path_factory.mktemp("cache")
    return generate(SynthTinyOptions(**SMALL), "synthetic-tiny", cache), cache


def test_manifest_schema(tiny):
    manifest, cache = tiny
    opts = SynthTinyOptions(**SMALL)
    assert manifest.dataset == "synthetic-tiny"
    assert manifest.classes == ["anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral"]
    assert manifest.protocol.kind == "kfold" and manifest.protocol.folds == 5
    assert manifest.protocol.headline_metric == "war" and manifest.modality == "video"
    assert Path(manifest.root) == dataset_dir(opts, "synthetic-tiny", cache)
    assert len(manifest.samples) == 14 and len({s.id for s in manifest.samples}) == 14
    json.dumps(manifest.info)
    for s in manifest.samples:
        assert Path(s.path).is_absolute() and Path(s.path).is_file() and s.path.endswith(".mp4")
        assert s.subject in ("s00", "s01") and s.id.startswith(s.subject + "_v")
        assert 0 <= s.label < 7 and s.split is None and s.num_frames == 8
        assert 0 <= s.apex < s.num_frames and s.true_label is None and s.train_only is False
        json.dumps(s.meta)
        assert s.meta["profile"] == "ckplus" and s.meta["flipped"] is False
        assert 0 <= s.meta["onset"] <= s.apex <= s.meta["offset"] < s.num_frames
        with np.load(s.meta["landmarks"]) as z:
            assert z["landmarks_2d"].shape == (8, 68, 2)
            assert z["landmarks_3d"].shape == (8, 68, 3)
            assert z["head_pose"].shape == (8, 3)
            xy = z["landmarks_2d"]
            assert np.all((xy > -5) & (xy < 69)), "landmarks should lie in the frame"
    assert (Path(manifest.root) / "manifest.json").read_text() == manifest.to_json()


def test_deterministic_across_runs_and_workers(tiny, tmp_path):
    manifest, _ = tiny
    again = generate(SynthTinyOptions(**SMALL, workers=2), "synthetic-tiny", tmp_path)
    strip = lambda m: m.to_json().replace(m.root, "<root>")  # noqa: E731
    assert strip(again) == strip(manifest)
    for a, b in zip(manifest.samples[:4], again.samples[:4]):
        assert np.array_equal(read_video(a.path), read_video(b.path))
        assert Path(a.path).read_bytes() == Path(b.path).read_bytes()


def test_same_cache_dir_gives_byte_identical_manifest(tiny):
    manifest, cache = tiny
    assert generate(SynthTinyOptions(**SMALL), "synthetic-tiny", cache).to_json() == manifest.to_json()


def test_other_seed_differs(tiny, tmp_path):
    manifest, _ = tiny
    other = generate(SynthTinyOptions(subjects=1, seed=1), "synthetic-tiny", tmp_path)
    first = {s.id: s for s in manifest.samples}
    s = other.samples[0]
    assert not np.array_equal(read_video(s.path), read_video(first[s.id].path))


def test_cache_reused_without_rerender(tiny):
    manifest, cache = tiny
    mtimes = {s.id: Path(s.path).stat().st_mtime_ns for s in manifest.samples}
    again = generate(SynthTinyOptions(**SMALL), "synthetic-tiny", cache)
    assert {s.id: Path(s.path).stat().st_mtime_ns for s in again.samples} == mtimes


def test_other_options_never_reuse_cache(tiny):
    manifest, cache = tiny
    opts = build_options(SynthTinyOptions, {"subjects": "2", "blur": "0.0"})
    assert dataset_dir(opts, "synthetic-tiny", cache) != Path(manifest.root)
    assert dataset_dir(SynthTinyOptions(**SMALL, workers=3), "synthetic-tiny", cache) == Path(manifest.root)


def test_resume_renders_only_missing(tiny):
    manifest, cache = tiny
    root = Path(manifest.root)
    victim = manifest.samples[5]
    before = {s.id: Path(s.path).stat().st_mtime_ns for s in manifest.samples}
    old = Path(victim.path).read_bytes()
    Path(victim.path).unlink()
    (root / "manifest.json").unlink()
    again = generate(SynthTinyOptions(**SMALL), "synthetic-tiny", cache)
    after = {s.id: Path(s.path).stat().st_mtime_ns for s in again.samples}
    changed = [k for k in before if before[k] != after[k]]
    assert changed == [victim.id]
    assert Path(victim.path).read_bytes() == old
    assert again.to_json() == manifest.to_json()
    assert not list(root.rglob("*.tmp*"))

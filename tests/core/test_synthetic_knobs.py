"""SynthFER knobs change the statistics they claim; plugin registration contract."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from ferbench.components import ComponentSpec
from ferbench.datasets.synthetic.generate import class_counts, plan_videos
from ferbench.datasets.synthetic.options import SynthOptions, SynthTinyOptions
from ferbench.datasets.synthetic.plugin import ferbench_datasets
from ferbench.errors import OptionError
from ferbench.options import build_options


def test_plugin_registers_presets_with_preset_defaults():
    specs = {s.name: s for s in ferbench_datasets()}
    assert set(specs) == {"synthetic", "synthetic-ckplus", "synthetic-mmi", "synthetic-afew", "synthetic-tiny"}
    for spec in specs.values():
        assert isinstance(spec, ComponentSpec) and spec.kind == "dataset" and spec.paper == "core"
        assert spec.description and "\n" not in spec.description
        opts = build_options(spec.options, {"identity_bias": "0.8"})
        assert opts.identity_bias == 0.8 and isinstance(opts, SynthOptions)
    assert build_options(specs["synthetic-tiny"].options).size == 64
    assert build_options(specs["synthetic-afew"].options).profile == "wild"
    assert build_options(specs["synthetic-ckplus"].options).contempt is True
    assert build_options(specs["synthetic"].options).folds == 5


def test_factory_returns_adapter(tmp_path: Path):
    spec = {s.name: s for s in ferbench_datasets()}["synthetic-tiny"]
    adapter = spec.factory(build_options(spec.options, {"subjects": 1}), None, tmp_path)
    manifest = adapter.manifest()
    assert manifest.dataset == "synthetic-tiny" and len(manifest.samples) == 7
    assert str(tmp_path / "synthetic") in manifest.root


def test_bad_options_are_one_line_errors():
    with pytest.raises(OptionError, match="label_noise"):
        build_options(SynthTinyOptions, {"label_noise": "1.5"})
    with pytest.raises(OptionError, match="size"):
        SynthTinyOptions(size=70)


def test_contempt_adds_eighth_class():
    opts = SynthTinyOptions(contempt=True)
    assert opts.classes[-1] == "contempt" and len(opts.classes) == 8
    assert {p.true_label for p in plan_videos(opts)} == set(range(8))


@pytest.mark.parametrize("noise", [0.1, 0.3])
def test_label_noise_flips_requested_fraction(noise):
    plans = plan_videos(SynthOptions(label_noise=noise, subjects=30))
    flipped = [p for p in plans if p.label != p.true_label]
    assert abs(len(flipped) / len(plans) - noise) < 0.01
    # flips go to other classes, spread over all of them
    assert len({p.label for p in flipped}) == 7


def test_label_noise_zero_flips_nothing():
    assert all(p.label == p.true_label for p in plan_videos(SynthOptions()))


@pytest.mark.parametrize("bias", [0.5, 0.8])
def test_identity_bias_shifts_the_training_view_only(bias):
    opts = SynthOptions(identity_bias=bias, subjects=14)
    plans = plan_videos(opts)
    favs = Counter()
    for s in range(opts.subjects):
        mine = [p for p in plans if p.subject_index == s]
        fav = mine[0].favoured
        favs[fav] += 1
        train = [p for p in mine if p.train_only]
        test = [p for p in mine if p.test_only]
        assert len(train) == len(test) == len(mine) // 2  # same size: only the class mix changes
        assert abs(sum(p.true_label == fav for p in train) / len(train) - bias) < 0.08, s
        assert sorted(p.true_label for p in test) == list(range(7))  # scored view stays uniform
    assert set(favs.values()) == {2}  # favoured classes spread evenly
    # the training view keeps the overall class balance (favoured classes rotate over subjects)
    counts = Counter(p.true_label for p in plans if p.train_only)
    assert max(counts.values()) - min(counts.values()) <= 2


def test_identity_bias_zero_has_one_view():
    plans = plan_videos(SynthOptions())
    assert not any(p.train_only or p.test_only for p in plans) and all(p.favoured is None for p in plans)


def test_identity_bias_folds_train_on_biased_view_and_score_the_uniform_one(tmp_path):
    from ferbench.data.protocols import make_folds
    from ferbench.datasets.synthetic import generate, preset_options

    m = generate(preset_options("synthetic-tiny", identity_bias=0.8), "synthetic-tiny", tmp_path)
    by_id = m.by_id()
    per_subject = Counter(s.subject for s in generate(preset_options("synthetic-tiny"), "synthetic-tiny", tmp_path).samples)
    for fold in make_folds(m, val_fraction=0.3):
        assert all(by_id[i].train_only for i in fold.train) and all(by_id[i].test_only for i in fold.test + fold.val)
        # a training subject contributes as many videos as without the bias
        assert Counter(by_id[i].subject for i in fold.train) == {s: per_subject[s] for s in {by_id[i].subject for i in fold.train}}


def test_label_noise_never_flips_the_test_view():
    plans = plan_videos(SynthOptions(identity_bias=0.8, label_noise=0.3, subjects=14))
    trainable = [p for p in plans if not p.test_only]
    assert not any(p.label != p.true_label for p in plans if p.test_only)
    assert sum(p.label != p.true_label for p in trainable) == round(0.3 * len(trainable))


@pytest.mark.parametrize("ratio", [2.0, 5.0])
def test_imbalance_ratio_of_class_counts(ratio):
    opts = SynthOptions(imbalance=ratio, subjects=40)
    counts = Counter(p.true_label for p in plan_videos(opts))
    assert [counts[c] for c in range(7)] == class_counts(opts)
    assert abs(max(counts.values()) / min(counts.values()) - ratio) < 0.1 * ratio
    per_subject = Counter(p.subject_index for p in plan_videos(opts))
    assert max(per_subject.values()) - min(per_subject.values()) <= 1


@pytest.mark.parametrize("profile", ["ckplus", "mmi", "wild"])
@pytest.mark.parametrize("frames", [2, 8, 33])
def test_temporal_profiles_keep_apex_inside(profile, frames):
    import numpy as np

    from ferbench.datasets.synthetic.profiles import make_track

    for seed in range(20):
        track = make_track(profile, frames, np.random.default_rng(seed), pose=20.0)
        assert 0 <= track.onset <= track.apex <= track.offset <= frames - 1
        assert track.weight.shape == (frames,) and track.pose.shape == (frames, 3)
        assert track.weight[track.apex] == pytest.approx(track.weight.max())
        if profile == "ckplus":
            assert track.apex == frames - 1

"""CEFLNet plugin: the eian aggregator's equations on hand-checked tensors, switches, loss, runs, plot."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ferbench.engine.config import make_config
from ferbench.engine.runner import Runner
from ferbench.errors import IncompatibleCombinationError
from ferbench.testing import check_component
from ferbench_ceflnet.aggregator import EIANOptions, build_eian
from ferbench_ceflnet.cfe import LocalGlobalRelation, SelfAttentionLearning
from ferbench_ceflnet.eian import EmotionalIntensityActivation, emotion_rich_clip, eq11_loss
from ferbench_ceflnet.feature_localisation import feature_localisation
from ferbench_ceflnet.plots import plot_activation_map

from repo import ROOT


@pytest.mark.parametrize("switches", [{"sal": False}, {"lrl": False}, {"eian": False}, {"loss": "ce"}])
def test_ablation_variants_conform(switches):
    import dataclasses

    from ferbench.components import ComponentSpec

    spec = ComponentSpec("aggregator", "eian-variant", build_eian, dataclasses.make_dataclass(
        "V", [(k, type(v), v) for k, v in switches.items()], bases=(EIANOptions,), frozen=True), "variant")
    assert check_component(spec, frames=14)  # 7 clips x 2 frames


def test_sal_equation_1_by_hand():
    sal = SelfAttentionLearning(2)
    for lin in (sal.query, sal.key, sal.value):
        torch.nn.init.eye_(lin.weight)
    clip = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])  # one clip, K=2 frames, d=2
    out, attn = sal(clip)
    p = 1 / (1 + math.exp(-1 / math.sqrt(2)))  # softmax of [1/sqrt(2), 0]
    assert torch.allclose(attn[0], torch.tensor([[p, 1 - p], [1 - p, p]]), atol=1e-6)
    assert torch.allclose(out[0], torch.tensor([[p, 1 - p], [1 - p, p]]), atol=1e-6)
    out_masked, attn_masked = sal(clip, torch.tensor([[True, False]]))
    assert torch.allclose(attn_masked[0, :, 1], torch.zeros(2)) and torch.allclose(out_masked[0], torch.tensor([[1.0, 0.0], [1.0, 0.0]]))


def test_lrl_equations_2_3_by_hand():
    lrl = LocalGlobalRelation(1)
    with torch.no_grad():
        lrl.q0.weight.copy_(torch.tensor([[0.0, 1.0]]))  # w_k = sigmoid(f'_k): ignores the summary
        lrl.q0.bias.zero_()
        lrl.q1.weight.fill_(1.0)
        lrl.q1.bias.zero_()
    f = torch.tensor([[[0.0], [math.log(3.0)]]])  # w = [0.5, 0.75]
    r, w = lrl(f)
    assert torch.allclose(w, torch.tensor([[0.5, 0.75]]))
    assert torch.allclose(r, torch.tensor([[0.75 * math.log(3.0) / 1.25]]))
    with torch.no_grad():
        lrl.q0.weight.copy_(torch.tensor([[1.0, 0.0]]))  # now only the clip summary f̂' = mean counts
    _, w = lrl(f)
    assert torch.allclose(w, torch.full((1, 2), 1 / (1 + 3 ** -0.5)))  # sigmoid(ln(3)/2) for both frames


def _hand_eian():
    eian = EmotionalIntensityActivation(2, 2, kernel=1)
    with torch.no_grad():
        eian.scores.weight.copy_(torch.eye(2).unsqueeze(-1))  # class c score = feature c of the clip
        eian.scores.bias.zero_()
    v = torch.tensor([[[0.0, 1.0], [math.log(2.0), 0.0], [0.0, 0.0]]])  # V^f: 3 clips, D=2
    return eian, v


def test_eian_equations_4_to_8_by_hand():
    eian, v = _hand_eian()
    out = eian(v)
    a = out["attention"]
    e = math.e
    assert torch.allclose(a[0, :, 0], torch.tensor([0.25, 0.5, 0.25]))  # softmax([0, ln2, 0]) over clips
    assert torch.allclose(a[0, :, 1], torch.tensor([e, 1.0, 1.0]) / (e + 2))
    assert torch.allclose(a.sum(1), torch.ones(1, 2))  # Eq. 5: sums to one over clips, per class
    m0 = torch.tensor([0.5 * math.log(2.0), 0.25])
    m1 = torch.tensor([math.log(2.0) / (e + 2), e / (e + 2)])
    assert torch.allclose(out["activation"][0], torch.stack([m0, m1]), atol=1e-6)  # Eq. 7
    assert torch.allclose(out["embedding"][0], torch.maximum(m0, m1), atol=1e-6)  # Eq. 8
    assert torch.allclose(out["logits"], eian.classifier(out["embedding"]))  # Eq. 9 (pre-softmax)
    assert emotion_rich_clip(a, torch.tensor([0])).item() == 1  # Eq. 6: the top clip of class 0
    assert emotion_rich_clip(a, torch.tensor([1])).item() == 0


def test_eian_softmax_sums_to_one_and_pe_is_the_top_clip_on_random_input():
    torch.manual_seed(0)
    agg = build_eian(EIANOptions(), 16, 4).eval()
    out = agg(torch.randn(3, 35, 16))
    a = out.extras["clip_scores"]
    assert a.shape == (3, 7, 4) and torch.allclose(a.sum(1), torch.ones(3, 4), atol=1e-6)
    pred = out.logits.argmax(1)
    top = a[torch.arange(3), :, pred].argmax(1)
    assert torch.equal(out.extras["emotion_clip"], top)
    assert torch.allclose(out.extras["attention"], a[torch.arange(3), :, pred])
    assert out.extras["frame_weights"].shape == (3, 7, 5)


@pytest.mark.parametrize("kernel", [1, 3])
def test_padded_clip_behaves_like_a_shorter_video(kernel):
    torch.manual_seed(1)
    agg = build_eian(EIANOptions(clips=4, score_kernel=kernel), 8, 3).eval()
    short = build_eian(EIANOptions(clips=3, score_kernel=kernel), 8, 3).eval()
    short.load_state_dict(agg.state_dict())
    f = torch.randn(2, 8, 8)
    mask = torch.ones(2, 8, dtype=torch.bool)
    mask[:, 6:] = False  # the 4th clip is padding
    a, b = agg(f, mask), short(f[:, :6])
    assert torch.allclose(a.logits, b.logits, atol=1e-5)
    assert torch.allclose(a.extras["clip_scores"][:, 3], torch.zeros(2, 3))


def test_switches_remove_modules_and_all_off_is_a_mean_baseline():
    agg = build_eian(EIANOptions(sal=False, lrl=False, eian=False), 6, 3).eval()
    assert agg.encoder.sal is None and agg.encoder.lrl is None and agg.eian is None
    f = torch.randn(2, 14, 6)
    out = agg(f)
    assert torch.allclose(out.logits, agg.classifier(f.mean(1)), atol=1e-6)
    assert "clip_scores" not in out.extras
    full = build_eian(EIANOptions(), 6, 3)
    n_full = sum(p.numel() for p in full.parameters())
    n_no_sal = sum(p.numel() for p in build_eian(EIANOptions(sal=False), 6, 3).parameters())
    assert n_full - n_no_sal == 3 * 6 * 6  # W^Q, W^K, W^V


def test_eq11_loss_matches_the_formula_and_ce_option_defers():
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.0, 0.0, 0.0]])
    target = torch.tensor([0, 2])
    p = logits.softmax(1)
    y = torch.nn.functional.one_hot(target, 3).float()
    expected = -(y * p.log() + (1 - y) * (1 - p).log()).sum(1)
    assert torch.allclose(eq11_loss(logits, target), expected, atol=1e-6)
    assert torch.isfinite(eq11_loss(torch.tensor([[80.0, -80.0]]), torch.tensor([1]))).all()
    agg = build_eian(EIANOptions(), 4, 3)
    out = agg(torch.randn(2, 7, 4))
    assert torch.allclose(agg.classification_loss(out, target), eq11_loss(out.logits, target))
    assert build_eian(EIANOptions(loss="ce"), 4, 3).classification_loss(out, target) is None


def test_segment_frames_fill_clips_in_temporal_order_and_explicit_mismatch_is_an_error():
    agg = build_eian(EIANOptions(clips=7), 4, 3).eval()
    feats = torch.randn(1, 8, 4)
    filled, _ = agg._fill_clips(feats, None, 14)  # 8 frames -> 7 clips of 2
    assert filled.shape == (1, 14, 4) and torch.equal(filled[:, 0], feats[:, 0]) and torch.equal(filled[:, -1], feats[:, -1])
    idx = [int((filled[0, i] == feats[0]).all(-1).nonzero()) for i in range(14)]
    assert idx == sorted(idx) and set(idx) == set(range(8))
    assert agg(feats).extras["clip_scores"].shape == (1, 7, 3)
    with pytest.raises(IncompatibleCombinationError, match="7 x 5"):
        build_eian(EIANOptions(frames_per_clip=5), 4, 3)(torch.randn(1, 14, 4))


def _config(dirs, input_opts, aggregator_opts=None):
    return make_config(
        {"dataset": "toy", "aggregator": "eian"},
        {"input": {"size": 32, "hflip": "false", **input_opts}, "aggregator": aggregator_opts or {}},
        {"epochs": 1, "batch_size": 8, "optimizer": "adam", "lr": 1e-3}, folds=(0,), **dirs,
    )


def test_run_on_toy_with_clip_sampling(registry, dirs):
    cfg = _config(dirs, {"sampling": "clips", "clip_frames": 2})
    result = Runner(cfg, registry, progress=False, log=lambda s: None).run()
    m = result.folds[0].metrics
    assert result.combination.endswith("+small-cnn+eian+none+none") and math.isfinite(m["final_train_loss"])
    assert 0 <= m["war"] <= 100 and m["macs"] > 0


def test_run_rejects_an_explicit_clip_length_mismatch_before_training(registry, dirs):
    with pytest.raises(IncompatibleCombinationError, match="aggregator 'eian' needs T"):
        Runner(_config(dirs, {"frames": 4}, {"frames_per_clip": 5}), registry, progress=False, log=lambda s: None)


def test_reported_results_registered(registry):
    rows = [r for r in registry.reported_results() if r.paper == "ceflnet"]
    by = {(r.dataset, r.method): r.value for r in rows}
    assert by[("bu3dfe", "CEFLNet")] == 85.33 and by[("mmi", "CEFLNet")] == 91.0
    assert by[("afew", "CEFLNet")] == 53.98 and by[("dfew", "CEFLNet")] == 65.35
    assert all(r.metric == "war" and r.combination.count("+") == 4 for r in rows)


def test_activation_map_png(tmp_path):
    a = np.full((7, 3), 1 / 7)
    a[4, 1] = 0.5
    a[:, 1] /= a[:, 1].sum()
    thumbs = np.random.default_rng(0).integers(0, 255, (7, 16, 16, 3), dtype=np.uint8)
    path = plot_activation_map(a, tmp_path / "m" / "map.png", classes=["x", "y", "z"], shown_class=1, thumbnails=thumbs, apex_clip=3)
    assert path.read_bytes()[:4] == b"\x89PNG" and path.stat().st_size > 5000
    with pytest.raises(ValueError, match="clip_scores"):
        plot_activation_map(a[:, :2], tmp_path / "bad.png", classes=["x", "y", "z"], shown_class=0)


def test_run_file_and_reported_rows_share_the_paper_combination(registry):
    
    from ferbench.engine.assemble import combination_label, resolve
    from ferbench.engine.config import config_from_dict, load_config_file
    from ferbench_ceflnet.reported import FULL, combination

    toml = ROOT / "plugins" / "ferbench_ceflnet" / "ceflnet.toml"
    config = config_from_dict(load_config_file(toml))
    t = config.train
    assert (t.optimizer, t.lr, t.weight_decay, t.schedule, t.batch_size, t.epochs) == ("adam", 1e-4, 1e-4, "cosine", 8, 120)
    label = resolve(config, registry).combination
    assert label == combination_label(registry, FULL["components"], FULL["options"])
    rows = {r.method: r for r in registry.reported_results() if r.paper == "ceflnet" and r.dataset == "bu3dfe"}
    assert rows["CEFLNet"].combination == label and rows["CEFLNet"].params == 12.83e6
    ablation = make_config({"aggregator": "eian", "backbone": "resnet18"},
                           {"input": {"sampling": "clips", "size": 224, "hflip": "false"}, "aggregator": {"eian": "false"}})
    assert resolve(ablation, registry).combination == rows["CEFLNet +SAL+LRL"].combination
    assert combination(eian=False)["options"]["aggregator"] == {"eian": False}


def test_eian_learns_to_find_the_one_informative_clip_from_video_labels_only():
    """Weak supervision: only one random clip per video carries the class; P_e must find it well above chance."""
    accuracy, hit = feature_localisation(EIANOptions(), seed=0, steps=200, test_videos=500)
    assert accuracy > 60  # chance 33.3
    assert hit > 35  # chance 14.3

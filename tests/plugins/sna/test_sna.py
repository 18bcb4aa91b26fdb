"""sna plugin: symmetric KL, thresholds, zero gradient of masked samples, Table I / Table II shapes,
conformance, early failure, and a short end-to-end run on the toy dataset."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from ferbench.components import Batch, InputSignature, ModelContext, StageContext
from ferbench.data.manifest import Manifest, ProtocolSpec, Sample
from ferbench.engine.assemble import FERModel
from ferbench.engine.config import make_config
from ferbench.engine.runner import Runner
from ferbench.errors import IncompatibleCombinationError, OptionError
from ferbench.options import build_options
from ferbench.testing import check_component
from ferbench_sna.autoencoder import AsymmetricAutoencoder, ResBlock, loss_ae
from ferbench.data.frame_sampling import apex_window
from ferbench_sna.multiscale import FusionOptions, MultiScaleOptions, SNAFusion, SNAMultiScale
from ferbench_sna.reported import reported_results
from ferbench_sna.selector import SNASelector, neighbourhood_mask, symmetric_kl
from ferbench_sna.selector_options import SNAOptions, parse_threshold

from repo import ROOT

SIG112 = InputSignature(channels=1, frames=1, height=112, width=112)


def _ctx(sig=SIG112, k=3, samples=None):
    samples = samples or [Sample(id=f"s{i}", path="", label=i % k, subject=f"p{i}") for i in range(6)]
    return ModelContext(sig, 96, 96, k, Manifest("d", [f"c{i}" for i in range(k)], samples, ProtocolSpec("kfold", folds=3)))


# ------------------------------------------------------------------ Eq. 12-14


def test_symmetric_kl_matches_hand_computation_and_is_symmetric():
    p = torch.tensor([[0.5, 0.5], [0.2, 0.8]])
    q = torch.tensor([[0.9, 0.1], [0.2, 0.8]])
    kl_pq = 0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1)
    kl_qp = 0.9 * math.log(0.9 / 0.5) + 0.1 * math.log(0.1 / 0.5)
    d = symmetric_kl(p, q)
    assert d[0].item() == pytest.approx(0.5 * (kl_pq + kl_qp), rel=1e-5)
    assert d[1].item() == pytest.approx(0.0, abs=1e-7)
    assert torch.allclose(d, symmetric_kl(q, p))


def test_fixed_threshold_masks_samples_at_or_above_T():
    div = torch.tensor([0.01, 0.2, 0.05, 0.5])
    m, t = neighbourhood_mask(div, 0.1)
    assert t == 0.1 and m.tolist() == [1.0, 0.0, 1.0, 0.0]
    m, _ = neighbourhood_mask(div, 0.05)  # delta(T - Div) is 0 at Div == T
    assert m.tolist() == [1.0, 0.0, 0.0, 0.0]


def test_batch_threshold_is_the_batch_mean_of_div():
    div = torch.tensor([0.1, 0.2, 0.3, 1.0])
    m, t = neighbourhood_mask(div, None)
    assert t == pytest.approx(0.4) and m.tolist() == [1.0, 1.0, 1.0, 0.0]


def test_threshold_option_parsing():
    assert parse_threshold("batch") is None
    assert parse_threshold("0.25") == 0.25
    for bad in ("mean", "-1"):
        with pytest.raises(OptionError, match="threshold"):
            parse_threshold(bad)
    with pytest.raises(OptionError, match="threshold"):
        SNASelector(build_options(SNAOptions, {"threshold": "often"}), _ctx())


# ------------------------------------------------------------------ masking and gradients


class _TinyBackbone(nn.Module):
    out_dim, side_inputs = 4, ()

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(32 * 32, 4)

    def forward(self, x):
        return self.fc(x.flatten(1))


def test_masked_samples_contribute_zero_gradient():
    torch.manual_seed(0)
    sig = InputSignature(1, 2, 32, 32)
    sel = SNASelector(build_options(SNAOptions, {"threshold": "batch", "sigma": "3.0"}), _ctx(sig))
    model = FERModel(_TinyBackbone(), SNAFusion(FusionOptions(branch_dims=(2, 2)), 4, 3))
    x = torch.randn(8, 2, 1, 32, 32, requires_grad=True)
    batch = Batch(x=x, label=torch.arange(8) % 3, subject=torch.zeros(8, dtype=torch.long), index=torch.arange(6).repeat(2)[:8])
    out = model(x)
    per_sample = model.aggregator.classification_loss(out, batch.label)
    with torch.no_grad():
        w = sel.weights(batch, out, model)
    assert set(w.tolist()) == {0.0, 1.0}  # BT keeps some and masks some
    (w * per_sample).mean().backward()
    grad = x.grad.flatten(1).abs().sum(1)
    assert torch.all(grad[w == 0] == 0) and torch.all(grad[w == 1] > 0)
    stats = sel.epoch_stats()
    assert stats["sna_masked"] == pytest.approx(float((w == 0).float().mean())) and sel.epoch_stats() == {}


def test_masking_precision_counts_flipped_labels():
    samples = [Sample(id=f"s{i}", path="", label=0, subject="p", meta={"flipped": i < 2}) for i in range(4)]
    sel = SNASelector(build_options(SNAOptions, {"threshold": "0.5"}), _ctx(InputSignature(1, 1, 32, 32), samples=samples))
    sel.divergence = lambda batch, output, model: torch.tensor([0.9, 0.1, 0.8, 0.2])  # masks samples 0 and 2
    batch = Batch(x=torch.zeros(4, 1, 1, 32, 32), label=torch.zeros(4, dtype=torch.long),
                  subject=torch.zeros(4, dtype=torch.long), index=torch.arange(4))
    assert sel.weights(batch, None, None).tolist() == [0.0, 1.0, 0.0, 1.0]
    stats = sel.epoch_stats()
    assert stats["sna_precision"] == 0.5 and stats["sna_flip_rate"] == 0.5 and stats["sna_masked"] == 0.5


def test_video_neighbour_shares_noise_across_frames():
    torch.manual_seed(0)
    sig = InputSignature(1, 3, 32, 32)
    frame = torch.randn(1, 1, 1, 32, 32)
    clip = frame.expand(2, 3, 1, 32, 32).contiguous()
    shared = SNASelector(build_options(SNAOptions, {"sigma": "2.0"}), _ctx(sig)).neighbours(clip)
    assert torch.allclose(shared[:, 0], shared[:, 2], atol=1e-5) and not torch.allclose(shared[0], shared[1])
    own = SNASelector(build_options(SNAOptions, {"sigma": "2.0", "shared_noise": "false"}), _ctx(sig)).neighbours(clip)
    assert not torch.allclose(own[:, 0], own[:, 2])


# ------------------------------------------------------------------ Table I


def test_autoencoder_layer_shapes_follow_table_I():
    ae = AsymmetricAutoencoder().eval()
    code, feats = ae.encode_features(torch.randn(2, 1, 112, 112))
    assert code.shape == (2, 64)
    assert [tuple(f.shape[1:]) for f in feats] == [(16, 56, 56), (32, 28, 28), (64, 14, 14), (80, 7, 7)]
    for layer, act in zip(ae.enc, (nn.LeakyReLU, nn.LeakyReLU, nn.LeakyReLU, nn.Tanh)):
        conv = layer[0]
        assert conv.kernel_size == (3, 3) and conv.stride == (2, 2) and isinstance(layer[1], nn.BatchNorm2d)
        assert isinstance(layer[2], act)
    assert all(layer[2].negative_slope == 0.01 and layer[3].p == 0.1 for layer in ae.enc[:3])
    assert ae.preprocess.p == 0.1 and ae.dec_fc.out_features == 80 * 7 * 7
    shapes = {}
    h = ae.dec_fc(code).view(-1, 80, 7, 7)
    for name in ("dec_c", "dec_b", "dec_a", "dec_t", "dec_o"):
        h = getattr(ae, name)(h)
        shapes[name] = tuple(h.shape[1:])
    assert shapes == {"dec_c": (64, 14, 14), "dec_b": (32, 28, 28), "dec_a": (16, 56, 56), "dec_t": (16, 112, 112), "dec_o": (1, 112, 112)}
    res = {name: sum(isinstance(m, ResBlock) for m in getattr(ae, name).modules()) for name in shapes}
    assert res == {"dec_c": 2, "dec_b": 2, "dec_a": 2, "dec_t": 2, "dec_o": 1}  # nine ResBlocks
    tconvs = [m for n in shapes for m in getattr(ae, n).modules() if isinstance(m, nn.ConvTranspose2d)]
    assert all(t.kernel_size == (3, 3) for t in tconvs) and [t.stride[0] for t in tconvs] == [2, 2, 2, 2, 1]


def test_loss_ae_weights_the_input_scale_by_alpha():
    x = torch.zeros(2, 1, 4, 4)
    feats = [torch.zeros(2, 3)]
    recon = torch.ones(2, 1, 4, 4)
    assert loss_ae(x, feats, recon, [torch.zeros(2, 3)], (4.0, 1.0)).item() == pytest.approx(4.0)
    assert loss_ae(x, feats, x, [torch.full((2, 3), 2.0)], (4.0, 1.0)).item() == pytest.approx(4.0)


def test_autoencoder_stage_reduces_reconstruction_loss():
    torch.manual_seed(0)
    sig = InputSignature(1, 1, 32, 32)
    grid = torch.arange(32.0)
    centres = torch.rand(16, 2) * 20 + 6  # bright blobs on a dark background: structured, compressible
    blob = torch.exp(-((grid.view(1, 32, 1) - centres[:, 0, None, None]) ** 2 + (grid.view(1, 1, 32) - centres[:, 1, None, None]) ** 2) / 32)
    x = (blob[:8] * 2 - 1).view(8, 1, 1, 32, 32)
    loader = [Batch(x=x, label=torch.arange(8) % 3, subject=torch.zeros(8, dtype=torch.long), index=torch.arange(8))]
    opts = build_options(SNAOptions, {"ae_epochs": "12", "ae_batch_size": "8", "refine_epochs": "1", "refine_batch_size": "8",
                                      "perceptual_epochs": "1", "perceptual_width": "0.0625"})
    sel = SNASelector(opts, _ctx(sig))
    mse = lambda: (sel.autoencoder.eval()(x.flatten(0, 1)) - x.flatten(0, 1)).pow(2).mean().item()  # noqa: E731
    before = mse()
    lines = []
    stage = sel.stages()[0]
    stage.train(StageContext(loader, torch.device("cpu"), nn.Identity(), 0, lines.append))
    assert mse() < 0.5 * before
    assert any("private sna-multiscale" in s for s in lines) and not any(p.requires_grad for p in sel.autoencoder.parameters())


# ------------------------------------------------------------------ Table II


def test_multiscale_layer_shapes_follow_table_II():
    net = SNAMultiScale(MultiScaleOptions(), SIG112).eval()
    x = torch.randn(2, 1, 112, 112)
    ori = {k: tuple(v.shape[1:]) for k, v in net.branch_ori.feature_maps(x).items()}
    half = {k: tuple(v.shape[1:]) for k, v in net.branch_half.feature_maps(net.half_scale(x)).items()}
    assert ori == {"conv1_a": (64, 56, 56), "conv1_b": (64, 56, 56), "conv2_a": (128, 28, 28), "conv2_b": (128, 28, 28),
                   "conv3_a": (256, 14, 14), "conv3_b": (256, 14, 14), "conv4": (512, 7, 7), "conv5": (128, 7, 7)}
    assert half == {"conv1_a": (64, 28, 28), "conv1_b": (64, 28, 28), "conv2_a": (128, 14, 14), "conv2_b": (128, 14, 14),
                    "conv3_a": (256, 7, 7), "conv3_b": (256, 7, 7), "conv4": (512, 3, 3), "conv5": (128, 3, 3)}
    kernels = {k: layer[0].kernel_size[0] for k, layer in net.branch_ori.layers.items()}
    assert kernels == {"conv1_a": 5, "conv1_b": 5, "conv2_a": 3, "conv2_b": 3, "conv3_a": 3, "conv3_b": 3, "conv4": 3, "conv5": 1}
    assert isinstance(net.branch_ori.layers["conv5"][-1], nn.Dropout) and net.branch_ori.layers["conv5"][-1].p == 0.5
    assert net.branch_ori.fc.out_features == 64 and net.branch_half.fc.out_features == 32 and net(x).shape == (2, 96)
    agg = SNAFusion(FusionOptions(), 96, 7)
    out = agg(net(x).unsqueeze(1))
    assert agg.fuse.in_features == 96 and out.logits.shape == (2, 7)
    assert out.extras["logits_ori"].shape == (2, 7) and out.extras["logits_half"].shape == (2, 7)


def test_fusion_loss_is_the_sum_of_the_three_heads():
    agg = SNAFusion(FusionOptions(loss="ce"), 96, 7)
    out = agg(torch.randn(3, 2, 96))
    y = torch.tensor([0, 3, 6])
    ce = nn.functional.cross_entropy
    expected = sum(ce(l, y, reduction="none") for l in (out.logits, out.extras["logits_ori"], out.extras["logits_half"]))
    assert torch.allclose(agg.classification_loss(out, y), expected)
    with pytest.raises(IncompatibleCombinationError, match="sna-multiscale"):
        SNAFusion(FusionOptions(), 512, 7)


# ------------------------------------------------------------------ registration and runs


def test_conformance(registry, dirs, tmp_path):
    check_component(registry.get("backbone", "sna-multiscale"))
    check_component(registry.get("aggregator", "sna-fusion"), in_dim=96)
    check_component(registry.get("selector", "sna"))
    toy = registry.get("dataset", "toy")
    sample = toy.factory(toy.options(), None, tmp_path).manifest().samples[0]
    check_component(registry.get("input", "gray112"), sample=sample)


def test_gray112_window_and_reported_rows(registry):
    assert apex_window(16, 15, 3) == (13, 16) and apex_window(16, None, 3) == (13, 16)
    assert apex_window(16, 8, 0) == (0, 16) and apex_window(5, 2, 10) == (0, 3)
    rows = [r for r in registry.reported_results() if r.paper == "sna"]
    assert {r.dataset for r in rows} == {"affectnet", "ckplus", "oulu"}
    assert [(r.method, r.value) for r in rows] == [(r.method, r.value) for r in reported_results()]
    # the registry resolves the rows (issue 19): sna.toml's run lands on the Ours(BT) row, Ours(T) on no run
    
    from ferbench.engine.assemble import resolve
    from ferbench.engine.config import config_from_dict, load_config_file

    toml = ROOT / "plugins" / "ferbench_sna" / "sna.toml"
    config = config_from_dict(load_config_file(toml))
    by = {r.method: r.combination for r in rows}
    assert by["Ours(BT)"] == resolve(config, registry).combination and by["Ours(T)"].endswith(",threshold=T]")
    assert config.train.grad_clip == 0.0  # the paper clips no gradients


def test_sna_fails_early_on_frames_the_autoencoder_cannot_take(registry, dirs):
    cfg = make_config({"dataset": "toy", "input": "gray112", "backbone": "small-cnn", "selector": "sna"},
                      {"input": {"size": "40"}}, {"epochs": 1}, **dirs)
    with pytest.raises(IncompatibleCombinationError, match="multiples of 16"):
        Runner(cfg, registry, progress=False, log=lambda s: None)


def test_end_to_end_toy_run_logs_masking(registry, dirs):
    stats = []
    cfg = make_config(
        {"dataset": "toy", "input": "gray112", "backbone": "sna-multiscale", "aggregator": "sna-fusion", "selector": "sna"},
        {"input": {"size": "32", "apex_window": "0"}, "backbone": {"width": "0.125"},
         "selector": {"ae_epochs": "1", "refine_epochs": "0"}},
        {"epochs": 1, "batch_size": 12, "balanced_sampling": True, "device": "cpu"}, folds=(0,), **dirs,
    )
    result = Runner(cfg, registry, progress=False, log=lambda s: None).run(on_epoch_end=lambda e, s: stats.append(s))
    assert 0.0 <= stats[0]["sna_masked"] <= 1.0 and stats[0]["kept"] == pytest.approx(1 - stats[0]["sna_masked"])
    assert 0.0 <= result.folds[0].metrics["war"] <= 100.0

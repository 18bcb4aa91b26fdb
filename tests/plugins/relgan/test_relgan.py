"""relgan plugin: layer shapes (Sec. 4.1), Eq. 1-4 on tiny tensors, pair sampling, augmentation, conformance."""

from __future__ import annotations

import math

import pytest
import torch

from ferbench.data.manifest import Sample
from ferbench.errors import FerbenchError, OptionError
from ferbench.options import build_options
from ferbench.testing import check_component
from ferbench_relgan.input_peak import IMAGENET_MEAN, IMAGENET_STD
from ferbench.data.frame_sampling import apex_window as peak_window
from ferbench_relgan.losses import Lambdas, discriminator_loss, generator_loss
from ferbench_relgan.networks import Decoder, Discriminator, Encoder, Generator, fit_to
from ferbench_relgan.options import EncoderOptions, RelGANOptions
from ferbench_relgan.pairs import PairSampler, View, apex_window, augment, random_views

from repo import ROOT


def _convs(module):
    return [m for m in module.modules() if isinstance(m, torch.nn.Conv2d)]


def _linears(module):
    return [m for m in module.modules() if isinstance(m, torch.nn.Linear)]


# ------------------------------------------------------------------ layer shapes (paper defaults)
def test_generator_layers_match_the_paper():
    o = RelGANOptions()
    g = Generator(3, o.base_channels, o.expression_dim, o.identity_dim, o.image_size)
    for enc, code in ((g.g_es, 30), (g.g_et, 50)):
        convs = _convs(enc)
        assert [c.out_channels for c in convs] == [64, 128, 256, 512, 512]
        assert all(c.kernel_size == (3, 3) and c.stride == (1, 1) for c in convs)
        assert (enc.fc.in_features, enc.fc.out_features) == (512 * 3 * 3, code)
    dec = _convs(g.g_de)
    assert [c.out_channels for c in dec] == [512, 256, 128, 64, 32, 3]
    assert all(c.kernel_size == (3, 3) and c.stride == (1, 1) for c in dec)
    assert g.g_de.fc[0].in_features == 80
    x = torch.randn(2, 3, 96, 96)
    g.eval()
    with torch.no_grad():
        assert g.g_es(x).shape == (2, 30) and g.g_et(x).shape == (2, 50)
        assert g(x, x).shape == (2, 3, 96, 96)


def test_discriminator_layers_match_the_paper():
    d = Discriminator(3, num_expressions=7, num_identities=11, image_size=96)
    assert [c.out_channels for c in _convs(d)] == [16, 32, 64, 128]
    fcs = [(l.in_features, l.out_features) for l in _linears(d)]
    assert fcs == [(128 * 6 * 6, 1024), (1024, 512), (512, 256), (256, 8), (1024, 512), (512, 256), (256, 11)]
    e, i = d.eval()(torch.randn(2, 3, 96, 96))
    assert e.shape == (2, 8) and i.shape == (2, 11)


def test_small_sizes_and_bad_sizes():
    enc = Encoder(3, 4, 30, 64)
    assert enc(torch.randn(1, 3, 64, 64)).shape == (1, 30)
    assert Decoder(80, 4, 3, 64)(torch.randn(1, 80)).shape == (1, 3, 64, 64)
    with pytest.raises(OptionError, match="multiple of 32"):
        build_options(EncoderOptions, {"image_size": "100"})
    with pytest.raises(OptionError, match="base_channels"):
        build_options(RelGANOptions, {"base_channels": "3"})


# ------------------------------------------------------------------ losses on tiny tensors
def test_discriminator_loss_terms():
    e_real = torch.zeros(1, 3)  # N_e = 2 expressions + fake
    i_real = torch.zeros(1, 4)
    e_fake = torch.tensor([[0.0, 0.0, math.log(2.0)]])  # p(fake) = 2/4
    d = discriminator_loss(e_real, torch.tensor([1]), i_real, torch.tensor([3]), e_fake)
    assert d["expression"].item() == pytest.approx(math.log(3))
    assert d["identity"].item() == pytest.approx(math.log(4))
    assert d["fake"].item() == pytest.approx(math.log(2))
    assert d["total"].item() == pytest.approx(math.log(3) + math.log(4) + math.log(2))
    # a confident fake logit lowers D's loss
    better = discriminator_loss(e_real, torch.tensor([1]), i_real, torch.tensor([3]), torch.tensor([[0.0, 0.0, 5.0]]))
    assert better["fake"] < d["fake"]


def test_generator_loss_terms_and_weights():
    e_fake = torch.tensor([[0.0, 0.0, math.log(2.0)]])  # p = (1/4, 1/4, 1/2)
    i_fake = torch.tensor([[math.log(3.0), 0.0]])  # p = (3/4, 1/4)
    fake = torch.zeros(1, 1, 2, 2)
    x_tg = torch.tensor([[[[1.0, -1.0], [0.5, 0.5]]]])  # mean |.| = 0.75
    lam = Lambdas(adv=0.7, pixel=20, de=50, di=30)
    g = generator_loss(e_fake, i_fake, fake, x_tg, torch.tensor([1]), torch.tensor([0]), lam)
    assert g["adv"].item() == pytest.approx(-math.log(0.5))  # -log(1 - p_fake)
    assert g["pixel"].item() == pytest.approx(0.75)
    assert g["de"].item() == pytest.approx(-math.log(0.25))
    assert g["di"].item() == pytest.approx(-math.log(0.75))
    want = 0.7 * math.log(2) + 20 * 0.75 + 50 * math.log(4) + 30 * -math.log(0.75)
    assert g["total"].item() == pytest.approx(want, rel=1e-6)
    assert RelGANOptions().lambda_adv == 0.7 and RelGANOptions().lambda_pixel == 20
    assert RelGANOptions().lambda_de == 50 and RelGANOptions().lambda_di == 30


def test_generator_gradient_pushes_fake_towards_real_and_truth():
    e_fake = torch.tensor([[0.0, 0.0, 1.0]], requires_grad=True)
    fake = torch.zeros(1, 1, 2, 2, requires_grad=True)
    g = generator_loss(e_fake, torch.zeros(1, 2), fake, torch.ones(1, 1, 2, 2), torch.tensor([0]), torch.tensor([0]))
    g["total"].backward()
    assert e_fake.grad[0, 2] > 0 and e_fake.grad[0, 0] < 0  # lower p(fake), raise p(y_s)
    assert (fake.grad < 0).all()  # pixel loss pulls x_bar towards x_tg


# ------------------------------------------------------------------ pairs
def test_pairs_have_target_identity_and_source_expression():
    subjects = torch.tensor([s for s in range(5) for _ in range(7 * 2)])
    labels = torch.tensor([e for _ in range(5) for e in range(7) for _ in range(2)])
    sampler = PairSampler(labels, subjects)
    p = sampler.draw(500, torch.Generator().manual_seed(0))
    assert torch.equal(subjects[p.truth], subjects[p.target])
    assert torch.equal(labels[p.truth], labels[p.source])
    assert torch.equal(p.y_s, labels[p.source]) and torch.equal(p.y_t, subjects[p.target])
    assert (subjects[p.target] != subjects[p.source]).all()
    assert (labels[p.target] != labels[p.source]).all()  # x_t shows another expression when it can
    again = sampler.draw(500, torch.Generator().manual_seed(0))
    assert torch.equal(again.truth, p.truth)


def test_pairs_need_an_expression_shared_by_two_subjects():
    with pytest.raises(FerbenchError, match="two training subjects"):
        PairSampler(torch.tensor([0, 1, 2]), torch.tensor([0, 1, 2]))


def test_pairs_skip_subjects_without_the_source_expression():
    subjects = torch.tensor([0, 0, 1, 1, 2])
    labels = torch.tensor([0, 1, 0, 1, 1])  # subject 2 never shows expression 0
    p = PairSampler(labels, subjects).draw(300, torch.Generator().manual_seed(1))
    assert not ((labels[p.source] == 0) & (subjects[p.target] == 2)).any()
    assert torch.equal(labels[p.truth], labels[p.source]) and torch.equal(subjects[p.truth], subjects[p.target])


def test_apex_window():
    ck = Sample(id="a", path="", label=0, subject="s", apex=15, num_frames=16)
    assert apex_window(ck, 8, 3) == [5, 6, 7]
    mid = Sample(id="b", path="", label=0, subject="s", apex=8, num_frames=17)
    assert apex_window(mid, 9, 3) == [3, 4, 5]
    assert apex_window(Sample(id="c", path="", label=0, subject="s"), 4, 3) == [1, 2, 3]
    assert apex_window(ck, 2, 3) == [0, 1]


# ------------------------------------------------------------------ augmentation
def test_augment_views():
    x = torch.randn(4, 3, 40, 40)
    centre = augment(x, 32, [View()] * 4)
    assert centre.shape == (4, 3, 32, 32)
    assert torch.allclose(centre, fit_to(x, 32), atol=1e-5)  # evaluation view = centre crop
    flipped = augment(x, 32, [View(flip=True)] * 4)
    assert torch.allclose(flipped, centre.flip(-1), atol=1e-5)
    corner = augment(x, 32, [View(crop="tl")] * 4)
    assert not torch.allclose(corner, centre)
    rotated = augment(x, 32, [View(angle=6.0)] * 4)
    assert not torch.allclose(rotated, centre)
    views = random_views(2000, torch.Generator().manual_seed(0))
    assert {v.crop for v in views} == {"center", "tl", "tr", "bl", "br"}
    assert {v.angle for v in views} == {-6.0, -3.0, 0.0, 3.0, 6.0} and {v.flip for v in views} == {False, True}


# ------------------------------------------------------------------ conformance
@pytest.mark.parametrize("kind,name", [("backbone", "relgan-encoder"), ("backbone", "relgan-cnn"),
                                       ("aggregator", "relgan-mlp"), ("disentangler", "relgan")])
def test_conformance(registry, kind, name):
    check_component(registry.get(kind, name))


def test_relgan_encoder_freezes_on_load_and_cnn_trains(registry):
    from ferbench.components import InputSignature

    sig = InputSignature(3, 1, 32, 32)
    o = EncoderOptions(base_channels=4, image_size=32)
    enc = registry.get("backbone", "relgan-encoder").factory(o, sig)
    cnn = registry.get("backbone", "relgan-cnn").factory(o, sig)
    assert all(p.requires_grad for p in cnn.parameters()) and not cnn.frozen_by_stage
    g_es = Encoder(3, 4, 30, 32)
    enc.load_encoder(g_es)
    assert not any(p.requires_grad for p in enc.parameters()) and bool(enc.pretrained)
    enc.train()
    assert not enc.encoder.training  # BatchNorm statistics stay fixed in stage 2
    x = torch.randn(2, 3, 32, 32)
    assert torch.equal(enc(x), g_es.eval()(fit_to(x, 32)))
    again = registry.get("backbone", "relgan-encoder").factory(o, sig)
    again.load_state_dict(enc.state_dict())  # a stage-2 checkpoint stays frozen
    assert not any(p.requires_grad for p in again.parameters())


def test_reported_rows(registry):
    rows = [r for r in registry.reported_results() if r.paper == "relgan"]
    got = {(r.dataset, r.method): r.value for r in rows}
    assert got[("ckplus", "REL-GAN")] == 97.41 and got[("oulu", "REL-GAN")] == 88.93
    assert got[("bu3dfe", "REL-GAN")] == 83.46 and got[("sfew", "REL-GAN")] == 45.82
    assert got[("ckplus", "CNN (baseline)")] == 90.34
    assert all(r.metric == "war" for r in rows)


def test_rgb_peak_draws_from_the_apex_window(registry, tmp_path):
    """The paper classifies peak images: rgb-peak's frames come from the k frames ending at the apex."""
    import dataclasses
    import importlib.metadata as md

    from ferbench.plugins import ENTRY_POINT_GROUP, Registry
    assert peak_window(16, None, 3) == (13, 16) and peak_window(16, 8, 3) == (6, 9) and peak_window(2, None, 3) == (0, 2)
    toy = Registry(entry_points=[md.EntryPoint(name="toy", value="toy_plugin", group=ENTRY_POINT_GROUP)]).get("dataset", "toy")
    sample = toy.factory(toy.options(), None, tmp_path).manifest().samples[0]
    spec = registry.get("input", "rgb-peak")
    assert check_component(spec, sample=sample)
    rep = spec.factory(dataclasses.replace(spec.options(), size=32))
    loaded = rep.load(sample)
    n = loaded["frames"].shape[0]
    drawn = rep.sample(loaded, train=False, generator=torch.Generator())
    x = drawn["x"]
    assert drawn["frame_index"].tolist() == [n - 3, n - 2, n - 1]
    want = (loaded["frames"][n - 3:].float() / 255.0 - IMAGENET_MEAN) / IMAGENET_STD  # toy apex = the last frame
    assert x.shape == (3, 3, 32, 32) and torch.allclose(x, want)
    middle = rep.load(dataclasses.replace(sample, apex=2))
    x2 = rep.sample(middle, train=True, generator=torch.Generator().manual_seed(0))["x"]
    assert any(torch.allclose(x2[0], (middle["frames"][i].float() / 255.0 - IMAGENET_MEAN[0]) / IMAGENET_STD[0])
               or torch.allclose(x2[0].flip(-1), (middle["frames"][i].float() / 255.0 - IMAGENET_MEAN[0]) / IMAGENET_STD[0])
               for i in (0, 1, 2))


def test_run_file_is_the_papers_recipe(registry):
    
    from ferbench.engine.assemble import resolve
    from ferbench.engine.config import config_from_dict, load_config_file

    toml = ROOT / "plugins" / "ferbench_relgan" / "relgan.toml"
    config = config_from_dict(load_config_file(toml))
    t = config.train
    assert (t.epochs, t.batch_size, t.optimizer, t.lr, t.grad_clip) == (50, 64, "adam", 1e-4, 0.0)
    rows = [r for r in registry.reported_results() if r.paper == "relgan" and r.method == "REL-GAN"]
    assert {r.combination for r in rows} == {resolve(config, registry).combination}

"""ifercv plugin: conformance of its components, the independence critic, the reconstruction schedule, errors, a run."""

from __future__ import annotations

import math

import pytest
import torch

from ferbench.components import Batch, InputSignature, ModelContext, ModelOutput
from ferbench.engine.config import make_config
from ferbench.engine.runner import Runner
from ferbench.errors import FerbenchError, IncompatibleCombinationError
from ferbench.testing import check_component, dummy_manifest

pytestmark = pytest.mark.usefixtures("one_torch_thread")


SIDE_SIG = InputSignature(channels=3, frames=4, height=32, width=32, side={"iframe": (3, 32, 32), "apex": (3, 32, 32)})
TINY_ENCODER = {"encoder_subjects": "5", "encoder_heldout": "2", "encoder_epochs": "1"}


@pytest.fixture(scope="module")
def toy_sample(tmp_path_factory):
    """One toy video (6 frames, GOP 4: I P P P I P), generated once for the module."""
    import importlib.metadata as md

    from ferbench.plugins import ENTRY_POINT_GROUP, Registry

    reg = Registry(entry_points=[md.EntryPoint(name="toy", value="toy_plugin", group=ENTRY_POINT_GROUP)])
    spec = reg.get("dataset", "toy")
    return spec.factory(spec.options(), None, tmp_path_factory.mktemp("toy")).manifest().samples[0]


@pytest.mark.parametrize("name,channels", [("residual", 3), ("residual-acc", 3), ("mv", 2), ("residual+mv", 5), ("iframe", 3)])
def test_inputs_conform(registry, toy_sample, name, channels):
    spec = registry.get("input", name)
    check_component(spec, sample=toy_sample)
    rep = spec.factory(spec.options())
    loaded = rep.load(toy_sample)
    drawn = rep.sample(loaded, train=False, generator=torch.Generator().manual_seed(0))
    assert drawn["x"].shape == (8, channels, 64, 64)
    assert drawn["iframe"].shape == drawn["apex"].shape == (3, 64, 64)
    assert torch.equal(rep.test_x(toy_sample), drawn["x"])  # test-time path: only the sampled P-frames
    if "gop" in loaded:  # toy videos: 6 frames, GOP 4 -> I P P P I P
        assert loaded["gop"].tolist() == [0, 0, 0, 1] and loaded["iframes"].shape[0] == 2


def test_backbone_and_disentangler_conform(registry):
    check_component(registry.get("backbone", "ifercv-cnn"))
    check_component(registry.get("disentangler", "ifercv"), signature=SIDE_SIG)
    net = registry.get("backbone", "ifercv-cnn").factory(registry.get("backbone", "ifercv-cnn").options(), SIDE_SIG)
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 512)


def _disentangler(registry, **opts):
    from ferbench.options import build_options

    spec = registry.get("disentangler", "ifercv")
    ctx = ModelContext(SIDE_SIG, 16, 8, 3, dummy_manifest())
    return spec.factory(build_options(spec.options, opts), ctx)


def test_gradient_reversal_sends_minus_alpha_times_the_critic_gradient_to_z_e(registry):
    dis = _disentangler(registry, alpha="0.3", reconstruction="false")
    z_i, z_e = torch.randn(6, dis.encoder.dim), torch.randn(6, 8, requires_grad=True)
    torch.manual_seed(0)
    dis.critic_loss(z_i, z_e).backward()
    reversed_grad = z_e.grad.clone()
    critic_grad = [p.grad.clone() for p in dis.critic.parameters()]
    z_e.grad = None
    dis.critic.zero_grad()
    dis.options = type(dis.options)(**{**dis.options.__dict__, "alpha": -1.0})  # reversal by -(-1) = plain gradient
    torch.manual_seed(0)
    dis.critic_loss(z_i, z_e).backward()
    assert torch.allclose(reversed_grad, -0.3 * z_e.grad, atol=1e-6)
    assert all(torch.allclose(a, p.grad) for a, p in zip(critic_grad, dis.critic.parameters()))  # critic descends


def test_critic_separates_dependent_pairs_but_not_independent_ones(registry):
    torch.manual_seed(0)
    results = {}
    for dependent in (True, False):
        dis = _disentangler(registry, reconstruction="false")
        opt = torch.optim.Adam(dis.critic.parameters(), lr=3e-3)
        for _ in range(150):
            z_i = torch.randn(32, dis.encoder.dim)
            z_e = z_i[:, :8] + 0.1 * torch.randn(32, 8) if dependent else torch.randn(32, 8)
            loss = dis.critic_loss(z_i, z_e)
            opt.zero_grad()
            loss.backward()
            opt.step()
        results[dependent] = float(loss.detach())
    assert results[True] < 0.35 and abs(results[False] - math.log(2)) < 0.1


@pytest.mark.parametrize("adversary", ["grl", "confusion"])
def test_adversarial_training_removes_identity_from_z_e(registry, adversary):
    """A linear encoder z_E = W [z_I, noise] trained only by the min-max game loses the z_I part of W."""
    torch.manual_seed(0)
    dis = _disentangler(registry, reconstruction="false", adversary=adversary, alpha="1.0")
    enc = torch.nn.Linear(4 + 8, 8)
    opt = torch.optim.Adam(list(enc.parameters()) + list(dis.critic.parameters()), lr=3e-3)
    start = float(enc.weight[:, :4].detach().norm())
    for _ in range(400):
        ident = torch.randn(64, 4)
        z_i = torch.cat([ident, torch.zeros(64, dis.encoder.dim - 4)], 1)
        z_e = enc(torch.cat([ident, torch.randn(64, 8)], 1))
        loss = dis.critic_loss(z_i, z_e)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(enc.weight[:, :4].detach().norm()) < 0.4 * start


def test_hsic_is_larger_for_dependent_features():
    from ferbench_ifercv.disentangler import hsic

    torch.manual_seed(0)
    x = torch.randn(64, 4)
    assert hsic(x, x @ torch.randn(4, 6)) > 3 * hsic(x, torch.randn(64, 6))


def test_reconstruction_only_in_the_first_epochs(registry):
    dis = _disentangler(registry, recon_epochs="2")
    b = 4
    batch = Batch(x=torch.zeros(b, 4, 3, 32, 32), label=torch.zeros(b, dtype=torch.long), subject=torch.zeros(b, dtype=torch.long),
                  index=torch.arange(b), side={"iframe": torch.randn(b, 3, 32, 32), "apex": torch.randn(b, 3, 32, 32)})
    out = ModelOutput(embedding=torch.randn(b, 8, requires_grad=True), logits=torch.zeros(b, 3))
    assert set(dis.losses(batch, out, 1)) == {"independence", "reconstruction"}
    assert set(dis.losses(batch, out, 2)) == {"independence"}
    no_recon = _disentangler(registry, reconstruction="false", independence="none")
    assert no_recon.losses(batch, out, 0) == {}


def test_reconstruction_only_where_the_apex_is_annotated(registry):
    """The paper applies the apex reconstruction "when the apex is annotated": samples with apex_known=0 add nothing."""
    import torch.nn.functional as F

    dis = _disentangler(registry, independence="none", beta="1")
    b = 4
    torch.manual_seed(0)
    apex = torch.randn(b, 3, 32, 32)
    side = {"iframe": torch.randn(b, 3, 32, 32), "apex": apex, "apex_known": torch.tensor([[1.0], [0.0], [1.0], [0.0]])}
    batch = Batch(x=torch.zeros(b, 4, 3, 32, 32), label=torch.zeros(b, dtype=torch.long), subject=torch.zeros(b, dtype=torch.long),
                  index=torch.arange(b), side=side)
    out = ModelOutput(embedding=torch.randn(b, 8), logits=torch.zeros(b, 3))
    z_i = dis.identity_features(side["iframe"])
    recon = dis.decoder(torch.cat([z_i, out.embedding], 1))
    want = (F.mse_loss(recon[0], apex[0]) + F.mse_loss(recon[2], apex[2])) / 2
    assert torch.allclose(dis.losses(batch, out, 0)["reconstruction"], want)
    side["apex_known"] = torch.zeros(b, 1)
    assert float(dis.losses(batch, out, 0)["reconstruction"].detach()) == 0.0


def test_inputs_follow_the_paper_by_default(registry, toy_sample):
    """No flips (none in the paper); apex_known is 0 only when the apex is unknown and apex_fallback=none."""
    import dataclasses

    spec = registry.get("input", "residual")
    o = spec.options()
    assert o.hflip is False and o.apex_fallback == "none"
    rep = spec.factory(o)
    assert rep.signature.side["apex_known"] == (1,)
    known = rep.sample(rep.load(toy_sample), train=True, generator=torch.Generator().manual_seed(0))["apex_known"]
    assert known.tolist() == [1.0]  # toy samples annotate their apex
    unknown = dataclasses.replace(toy_sample, apex=None)
    assert rep.load(unknown)["apex_known"].tolist() == [0.0]
    last = spec.factory(dataclasses.replace(o, apex_fallback="last"))
    assert last.load(unknown)["apex_known"].tolist() == [1.0]


def test_clear_errors(registry, monkeypatch):
    monkeypatch.delenv("FERBENCH_FACENET_WEIGHTS", raising=False)
    with pytest.raises(FerbenchError, match="20180402-114759-vggface2.pt.*facenet_weights=PATH"):
        _disentangler(registry, identity="facenet")
    spec = registry.get("disentangler", "ifercv")
    no_side = ModelContext(InputSignature(3, 4, 32, 32), 16, 8, 3, dummy_manifest())
    with pytest.raises(IncompatibleCombinationError, match="side inputs 'iframe'"):
        spec.factory(spec.options(), no_side)
    clash = dummy_manifest()
    clash.info = {"generator": "SynthFER", "options": {"seed": 7919}}
    with pytest.raises(IncompatibleCombinationError, match="encoder_seed"):
        spec.factory(spec.options(), ModelContext(SIDE_SIG, 16, 8, 3, clash))


def test_residual_ifercv_run_on_toy(registry, dirs, tmp_path):
    cfg = make_config(
        {"dataset": "toy", "input": "residual", "backbone": "ifercv-cnn", "aggregator": "lstm", "disentangler": "ifercv"},
        {"input": {"frames": "3", "size": "32"}, "backbone": {"width": "8"},
         "disentangler": {**TINY_ENCODER, "encoder_cache": str(tmp_path / "enc")}},
        {"epochs": 2, "batch_size": 8}, folds=(0,), **dirs,
    )
    logs = []
    result = Runner(cfg, registry, progress=False, log=logs.append).run()
    assert 0 <= result.folds[0].metrics["war"] <= 100
    assert any("held-out" in line for line in logs)
    assert list((tmp_path / "enc" / "ifercv").glob("identity-encoder-*.json"))
    assert any("loss_independence" in line and "loss_reconstruction" in line for line in logs)


def test_reported_rows(registry):
    rows = [r for r in registry.reported_results() if r.paper == "ifercv"]
    assert {(r.dataset, r.value) for r in rows} >= {("ckplus", 97.44), ("ckplus", 98.38), ("afew", 51.62), ("afew", 52.01)}

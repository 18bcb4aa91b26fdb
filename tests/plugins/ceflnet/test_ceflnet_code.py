"""ceflnet ``eian`` with ``variant=code``: the authors' public model (CVLab-Liuyuanyuan/CEFLNet, commit bbef8a1).

The official layer table below is written from ``models/Model.py`` as read
(line numbers in the comments), not imported: the repository is not a
dependency. It pins every parameter shape of the code variant and its
parameter count against the official model's.
"""

from __future__ import annotations

import math

import pytest
import torch

from ferbench.builtin.backbone_resnet18 import ResNet18Backbone, ResNet18Options
from ferbench.components import InputSignature
from ferbench.engine.config import TrainOptions, config_from_dict, load_config_file
from ferbench.engine.optim import lr_factor
from ferbench.errors import IncompatibleCombinationError, OptionError
from ferbench.testing import check_component
from ferbench_ceflnet.aggregator import EIANOptions, build_eian

from repo import ROOT

D, K = 512, 7  # the official d_model and its hard-coded 7 classes (Model.py:95, 132)

#: official head (everything after the ResNet-18 trunk) -> shape, models/Model.py
OFFICIAL_HEAD = {
    "attn.in_proj_weight": (3 * D, D),  # :113 MultiheadAttention(512, nhead=4, dropout=0.1)
    "attn.in_proj_bias": (3 * D,),
    "attn.out_proj.weight": (D, D),
    "attn.out_proj.bias": (D,),
    "norm1.weight": (D,),  # :114 LayerNorm(512)
    "norm1.bias": (D,),
    "beta.0.weight": (1, 2 * D),  # :117 Linear(1024, 1) + Sigmoid
    "beta.0.bias": (1,),
    "fc.weight": (D, 2 * D),  # :123 Linear(1024, 512)
    "fc.bias": (D,),
    "fc2.weight": (D, 4 * D),  # :124 Linear(2048, 512), never used in forward()
    "fc2.bias": (D,),
    "temp_attn.attn.0.weight": (1, D, 1),  # :68 Conv1d(512, 1, 1, bias=False)
    "classifier.0.weight": (256, D),  # :129-132 Linear(512,256) ReLU Linear(256,128) ReLU Dropout(0.4) Linear(128,7)
    "classifier.0.bias": (256,),
    "classifier.2.weight": (128, 256),
    "classifier.2.bias": (128,),
    "classifier.5.0.weight": (K, 128),
    "classifier.5.0.bias": (K,),
}
#: ferbench parameter name -> official name (fc2 has no counterpart: it never runs)
OURS_TO_OFFICIAL = {
    "encoder.sal.attn.in_proj_weight": "attn.in_proj_weight",
    "encoder.sal.attn.in_proj_bias": "attn.in_proj_bias",
    "encoder.sal.attn.out_proj.weight": "attn.out_proj.weight",
    "encoder.sal.attn.out_proj.bias": "attn.out_proj.bias",
    "encoder.sal.norm.weight": "norm1.weight",
    "encoder.sal.norm.bias": "norm1.bias",
    "encoder.lrl.weight.weight": "beta.0.weight",
    "encoder.lrl.weight.bias": "beta.0.bias",
    "encoder.lrl.fc.weight": "fc.weight",
    "encoder.lrl.fc.bias": "fc.bias",
    "eian.score.weight": "temp_attn.attn.0.weight",
    "eian.classifier.0.weight": "classifier.0.weight",
    "eian.classifier.0.bias": "classifier.0.bias",
    "eian.classifier.2.weight": "classifier.2.weight",
    "eian.classifier.2.bias": "classifier.2.bias",
    "eian.classifier.5.weight": "classifier.5.0.weight",
    "eian.classifier.5.bias": "classifier.5.0.bias",
}


def official_trunk() -> dict[str, tuple[int, ...]]:
    """ResNet_AT's ResNet-18 trunk (Model.py:101-109, 142-157, BasicBlock :32-61), BatchNorm buffers left out."""
    shapes: dict[str, tuple[int, ...]] = {"conv1.weight": (64, 3, 7, 7), "bn1.weight": (64,), "bn1.bias": (64,)}
    inplanes = 64
    for layer, (planes, stride) in enumerate([(64, 1), (128, 2), (256, 2), (512, 2)], start=1):
        for block in range(2):
            p = f"layer{layer}.{block}."
            cin = inplanes if block == 0 else planes
            shapes.update({p + "conv1.weight": (planes, cin, 3, 3), p + "bn1.weight": (planes,), p + "bn1.bias": (planes,),
                           p + "conv2.weight": (planes, planes, 3, 3), p + "bn2.weight": (planes,), p + "bn2.bias": (planes,)})
            if block == 0 and (stride != 1 or inplanes != planes):
                shapes.update({p + "downsample.0.weight": (planes, inplanes, 1, 1),
                               p + "downsample.1.weight": (planes,), p + "downsample.1.bias": (planes,)})
        inplanes = planes
    return shapes


def count(shapes) -> int:
    return sum(math.prod(s) for s in shapes)


def code_eian(**options):
    return build_eian(EIANOptions(variant="code", **options), D, K)


def test_code_variant_has_the_official_layers_and_parameter_count():
    agg = code_eian()
    ours = {n: tuple(p.shape) for n, p in agg.named_parameters()}
    assert set(ours) == set(OURS_TO_OFFICIAL)
    for name, official in OURS_TO_OFFICIAL.items():
        assert ours[name] == OFFICIAL_HEAD[official], name
    unused = count([OFFICIAL_HEAD["fc2.weight"], OFFICIAL_HEAD["fc2.bias"]])
    assert count(ours.values()) == count(OFFICIAL_HEAD.values()) - unused == 1_743_112
    trunk = official_trunk()
    backbone = ResNet18Backbone(ResNet18Options(), InputSignature(3, 35, 224, 224))
    mine = {n.removeprefix("net."): tuple(p.shape) for n, p in backbone.named_parameters()}
    assert mine == trunk
    assert count(trunk.values()) == 11_176_512
    # the whole official model (Model.py resnet18_AT()) and what ferbench builds of it
    assert count(trunk.values()) + count(OFFICIAL_HEAD.values()) == 13_968_712
    assert count(mine.values()) + count(ours.values()) == 12_919_624


def test_paper_variant_parameter_count():
    agg = build_eian(EIANOptions(), D, 6)  # BU-3DFE's 6 classes, as benchmarks/ceflnet_cost.py
    assert sum(p.numel() for p in agg.parameters()) == 1_056_269


def test_code_variant_forward_by_hand_in_eval_mode():
    """The code's data flow, recomputed from the submodules in the official (sequence-first) layout."""
    torch.manual_seed(0)
    agg = code_eian().eval()
    b, n, k = 2, 7, 5
    f = torch.randn(b, n * k, D)
    out = agg(f)
    sal, lrl, eian = agg.encoder.sal, agg.encoder.lrl, agg.eian
    clips = []
    for i in range(n):
        vs = f[:, i * k:(i + 1) * k]  # [B, K, D]
        seq = vs.permute(1, 0, 2)  # [K, B, D] (Model.py:182-183)
        attended, _ = torch.nn.functional.multi_head_attention_forward(
            seq, seq, seq, D, 4, sal.attn.in_proj_weight, sal.attn.in_proj_bias, None, None, False, 0.0,
            sal.attn.out_proj.weight, sal.attn.out_proj.bias, training=False)
        attended = sal.norm(seq + attended).permute(1, 2, 0)  # [B, D, K] (:185-186)
        summary = attended.amax(2)  # AdaptiveMaxPool1d(1) (:187-188)
        pairs = [torch.cat([vs[:, j], summary], 1) for j in range(k)]  # raw frame first (:190-191)
        w = torch.stack([torch.sigmoid(lrl.weight(p)) for p in pairs], 2)  # [B, 1, K] (:192-194)
        stacked = torch.stack(pairs, 2)  # [B, 2D, K]
        clips.append(lrl.fc((stacked * w).sum(2) / w.sum(2)))  # (:195-196)
    video = torch.stack(clips, 1)  # [B, n, D] (:199)
    a = eian.score(video.permute(0, 2, 1)).softmax(2).squeeze(1)  # [B, n] (:200, Temporal_attn)
    pooled = (video * a.unsqueeze(2)).amax(1)  # (:202-203)
    logits = eian.classifier(pooled)
    assert torch.allclose(out.logits, logits, atol=1e-5)
    assert torch.allclose(out.extras["attention"], a, atol=1e-6)
    assert torch.equal(out.extras["emotion_clip"], a.argmax(1))  # max_index (:201)
    assert torch.allclose(out.extras["clip_scores"], a.unsqueeze(2).expand(-1, -1, K))


def test_code_variant_padded_clip_is_ignored_and_switches_conform():
    torch.manual_seed(0)
    agg = code_eian().eval()
    f = torch.randn(1, 35, D)
    mask = torch.ones(1, 35, dtype=torch.bool)
    mask[:, 30:] = False  # the 7th clip is padding
    padded = agg(torch.cat([f[:, :30], torch.zeros(1, 5, D)], 1), mask)
    assert padded.extras["attention"][0, 6] == 0 and torch.isfinite(padded.logits).all()
    for switches in ({"sal": False}, {"lrl": False}, {"eian": False}):
        out = build_eian(EIANOptions(variant="code", **switches), 32, 3)(torch.randn(2, 14, 32))
        assert out.logits.shape == (2, 3)


def test_code_variant_conforms(registry):
    import dataclasses

    from ferbench.components import ComponentSpec

    options = dataclasses.make_dataclass("C", [("variant", str, "code")], bases=(EIANOptions,), frozen=True)
    assert check_component(ComponentSpec("aggregator", "eian-code", build_eian, options, "code"), frames=14)


def test_code_variant_options_are_checked():
    with pytest.raises(OptionError, match="variant=code has the official"):
        EIANOptions(variant="code", dropout=0.5)
    with pytest.raises(IncompatibleCombinationError, match="divisible by its 4 attention heads"):
        build_eian(EIANOptions(variant="code"), 30, 3)


def test_code_schedule_is_the_official_warmup_dampened_cosine():
    """main.py:94-99: CosineAnnealingLR(T_max=160).step(epoch), then LinearWarmup(10).dampen() (pytorch-warmup 0.0.4)."""
    t = TrainOptions(epochs=120, schedule="cosine", warmup_epochs=10, cosine_period=160)
    got = [lr_factor(e, t) for e in range(120)]
    want = [min(1.0, (e + 1) / 10) * 0.5 * (1 + math.cos(math.pi * e / 160)) for e in range(120)]
    assert got == pytest.approx(want)
    assert got[0] == pytest.approx(0.1) and got[9] == pytest.approx(0.5 * (1 + math.cos(math.pi * 9 / 160)))
    assert got[-1] == pytest.approx(0.1535, abs=1e-4)  # the last epoch runs at ~0.15x the initial lr
    plain = TrainOptions(epochs=120, schedule="cosine", warmup_epochs=10)
    assert lr_factor(10, plain) == 1.0 and lr_factor(0, plain) == pytest.approx(1 / 11)  # the default is unchanged


def test_code_run_file(registry):
    
    from ferbench.engine.assemble import resolve

    toml = ROOT / "plugins" / "ferbench_ceflnet" / "ceflnet-code.toml"
    config = config_from_dict(load_config_file(toml))
    t = config.train
    assert (t.optimizer, t.lr, t.weight_decay, t.warmup_epochs, t.cosine_period, t.epochs) == ("adam", 1e-4, 1e-4, 10, 160, 120)
    assert (t.grad_clip, t.select, t.batch_size) == (0.0, "last", 8)
    resolved = resolve(config, registry)
    assert resolved.options["aggregator"].variant == "code" and resolved.options["aggregator"].loss == "ce"
    assert resolved.options["input"].hflip is False
    assert "eian[loss=ce,variant=code]" in resolved.combination

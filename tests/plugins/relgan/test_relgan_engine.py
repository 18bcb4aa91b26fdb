"""relgan through the engine: GAN stage, G_es hand-over and freezing, cache reuse, wrong backbone;
pairs drawn from a real fold's training samples (SynthFER)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ferbench.engine.assemble import assemble, resolve
from ferbench.engine.config import make_config
from ferbench.engine.plan import RunPlan
from ferbench.engine.runner import Runner
from ferbench.errors import IncompatibleCombinationError
from ferbench_relgan.pairs import FrameBank, PairSampler

TINY = {"base_channels": "4", "image_size": "32"}
GAN = {**TINY, "steps": "2", "batch_size": "4", "log_every": "1", "disc_fc": "16"}


def _config(dirs, backbone="relgan-encoder", disentangler="relgan", epochs=1):
    comps = {"dataset": "toy", "backbone": backbone, "aggregator": "relgan-mlp", "disentangler": disentangler}
    opts = {"input": {"frames": 2, "size": 32, "hflip": "false"}, "disentangler": GAN}
    if backbone.startswith("relgan"):
        opts["backbone"] = TINY
    return make_config(comps, opts, {"epochs": epochs, "batch_size": 8, "lr": 0.01}, folds=(0,), **dirs)


def _run(registry, config):
    lines: list[str] = []
    result = Runner(config, registry, progress=False, log=lines.append).run()
    return result, lines


def _gan_file(dirs) -> Path:
    (path,) = (Path(dirs["cache_dir"]) / "stages" / "toy" / "fold0").glob("disentangler-gan-*.pt")
    return path


def test_stage1_trains_gan_stage2_keeps_g_es_frozen_cache_is_handed_over(registry, dirs, tmp_path):
    result, lines = _run(registry, _config(dirs))
    assert any(line.startswith("relgan step 2/2") for line in lines)
    assert any("G_es loaded into backbone" in line for line in lines)
    gan = torch.load(_gan_file(dirs), weights_only=True)
    model = torch.load(Path(result.folds[0].confusion_png).parent / "last.pt", weights_only=True)["model"]
    assert bool(model["backbone.pretrained"])
    g_es = {k[len("g_es."):]: v for k, v in gan.items() if k.startswith("g_es.")}
    enc = {k[len("backbone.encoder."):]: v for k, v in model.items() if k.startswith("backbone.encoder.")}
    assert g_es.keys() == enc.keys() and len(enc) > 10
    for k in enc:  # weights and BatchNorm statistics: unchanged by classifier training
        assert torch.equal(enc[k], g_es[k]), k
    # the classifier did train: the MLP differs from a fresh initialisation under the run's fold seed
    fresh = Runner(_config(dirs), registry, progress=False, log=lambda s: None)
    torch.manual_seed(0 * 1000 + 0)
    init = assemble(fresh.resolved, fresh.input.signature, fresh.manifest).model.state_dict()
    assert all(torch.equal(init[k], model[k]) is False for k in model if k.startswith("aggregator.") and k.endswith("weight"))

    # a second run loads the GAN from the stage cache and still hands G_es over
    again, lines = _run(registry, _config({**dirs, "output_dir": str(tmp_path / "again")}, epochs=2))
    assert any("stage disentangler/gan loaded from cache" in line for line in lines)
    assert not any(line.startswith("relgan step") for line in lines)
    model = torch.load(Path(again.folds[0].confusion_png).parent / "last.pt", weights_only=True)["model"]
    assert torch.equal(model["backbone.encoder.fc.weight"], gan["g_es.fc.weight"])


@pytest.mark.parametrize("backbone", ["small-cnn", "relgan-cnn"])
def test_wrong_backbone_fails_before_gan_training(registry, dirs, backbone):
    with pytest.raises(IncompatibleCombinationError, match="--backbone relgan-encoder"):
        _run(registry, _config(dirs, backbone=backbone))
    assert not (Path(dirs["cache_dir"]) / "stages" / "toy" / "fold0").exists() or not list(
        (Path(dirs["cache_dir"]) / "stages" / "toy" / "fold0").glob("disentangler-gan-*.pt"))


def test_disentangler_alone_brings_encoder_and_mlp_and_runs(registry, dirs):
    """The issue's command shape: only --disentangler relgan; the peak-frame input, backbone and classifier come with it."""
    opts = {"input": {"frames": 2, "size": 32, "hflip": "false"}, "disentangler": GAN, "backbone": TINY}
    config = make_config({"dataset": "toy", "disentangler": "relgan"}, opts, {"epochs": 1, "batch_size": 8},
                         registry=registry, folds=(0,), **dirs)
    # since issue 19 the companion input is rgb-peak (the paper classifies peak images); it was rgb
    assert "+".join(config.choice(k).name for k in ("input", "backbone", "aggregator", "disentangler", "selector")) == \
        "rgb-peak+relgan-encoder+relgan-mlp+relgan+none"
    result, lines = _run(registry, config)
    assert any("G_es loaded into backbone" in line for line in lines) and len(result.folds) == 1
    # an explicit aggregator wins over the companion (the issue's --aggregator eian case)
    assert resolve(make_config({"disentangler": "relgan", "aggregator": "mean"}, registry=registry), registry).combination == \
        "rgb-peak+relgan-encoder+mean+relgan+none"


def test_mismatched_architecture_is_one_clear_error_before_any_training(registry, dirs):
    config = _config(dirs)
    config.components["backbone"] = type(config.components["backbone"])("relgan-encoder", {"base_channels": "8", "image_size": "32"})
    with pytest.raises(IncompatibleCombinationError, match="different G_es"):
        RunPlan(config, registry)  # what a sweep or claim checks at expansion time (the component's check_combination)


def test_synthfer_pairs_have_target_identity_and_source_expression(registry, dirs):
    runner = Runner(make_config({"dataset": "synthetic-tiny"}, {"input": {"frames": 4, "size": 32}}, **dirs), registry,
                    progress=False, log=lambda s: None)
    fold = runner.folds[0]
    ds = runner.dataset(fold.train, train=True)
    bank = FrameBank.from_dataset(ds, apex_frames=2)
    assert bank.frames.shape[1:] == (3, 32, 32) and len(bank.frames) == 2 * len(ds.samples)
    pairs = PairSampler(bank.labels, bank.subjects).draw(200, torch.Generator().manual_seed(0))
    for s, t, g in zip(pairs.source.tolist(), pairs.target.tolist(), pairs.truth.tolist()):
        src, tgt, truth = (bank.samples[int(bank.sample_of[i])] for i in (s, t, g))
        assert truth.subject == tgt.subject != src.subject
        assert truth.eval_label == src.eval_label != tgt.eval_label
    # the bank keeps the frames nearest the apex (SynthFER default profile: apex last)
    x = ds.cache.rep.sample(ds.cache.get(bank.samples[0]), train=False, generator=torch.Generator().manual_seed(0))["x"]
    assert torch.equal(bank.frames[1], x[-1].half())


def test_a_backbone_without_the_required_capability_fails_at_assembly(registry, tmp_path):
    """relgan's stage hands G_es to the backbone: ComponentSpec.requires makes that link part of the contract."""
    config = make_config({"dataset": "synthetic-tiny", "disentangler": "relgan", "backbone": "small-cnn"},
                         registry=registry, cache_dir=str(tmp_path / "c"), output_dir=str(tmp_path / "o"))
    with pytest.raises(IncompatibleCombinationError,
                       match="disentangler 'relgan' needs a backbone that implements TakesPretrainedEncoder.*small-cnn"):
        Runner(config, registry, progress=False, log=lambda s: None)

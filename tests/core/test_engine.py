"""Engine on the toy dataset: determinism, resume, stages, selectors, model selection, bad combinations."""

from __future__ import annotations

import pytest
import torch

from ferbench.components import ComponentSpec
from ferbench.engine.config import make_config
from ferbench.engine.runner import Runner
from ferbench.errors import FerbenchError, IncompatibleCombinationError
from ferbench.results import ResultsStore

TOY_INPUT = {"frames": 4, "size": 32, "hflip": "false"}


def _config(dirs, components=None, train=None, **fields):
    comps = {"dataset": "toy", **(components or {})}
    return make_config(comps, {"input": TOY_INPUT}, {"epochs": 2, "batch_size": 8, **(train or {})}, **dirs, **fields)


def _run(registry, config, **kw):
    return Runner(config, registry, progress=False, log=lambda s: None).run(**kw)


def _wars(result):
    return [o.metrics["war"] for o in result.folds]


def test_run_writes_records_confusion_and_predictions(registry, dirs):
    result = _run(registry, _config(dirs, folds=(0, 2)))
    assert [o.fold for o in result.folds] == [0, 2]
    for o in result.folds:
        assert o.confusion_png.stat().st_size > 1000
        assert o.predictions_csv.read_text().startswith("sample_id,label,prediction")
        assert o.metrics["params"] > 0 and o.metrics["macs"] > 0 and o.metrics["frames_per_s"] > 0
    recs = ResultsStore(f"{dirs['output_dir']}/results.sqlite").records()
    assert sorted(r.fold for r in recs) == [0, 2]
    assert recs[0].combination == "rgb[hflip=False,size=32]+small-cnn+mean+none+none"
    assert recs[0].config["setup"] == "epochs=2"
    assert recs[0].config["resolved_options"]["input"]["frames"] == 4
    assert recs[0].selection == "last"


def test_identity_probe_is_recorded_and_named_in_the_setup(registry, dirs):
    """identity_probe was added after records existed (ADDED_LATER): off, the hash is the old one; on, it is a
    setup like any other and the fold record carries the probe."""
    off, on = _config(dirs, folds=(0,)), _config(dirs, train={"identity_probe": True}, folds=(0,))
    assert off.to_dict()["setup"] == "epochs=2" and on.to_dict()["setup"] == "epochs=2, identity_probe=True"
    metrics = _run(registry, on).folds[0].metrics
    assert 0 <= metrics["identity_probe"] <= 100 and 0 < metrics["identity_probe_chance"] <= 100


def test_same_seed_same_metrics(registry, dirs, tmp_path):
    a = _run(registry, _config(dirs, folds=(1,)))
    b = _run(registry, _config({**dirs, "output_dir": str(tmp_path / "other")}, folds=(1,)))
    assert a.folds[0].metrics["confusion"] == b.folds[0].metrics["confusion"]
    assert a.folds[0].metrics["final_train_loss"] == pytest.approx(b.folds[0].metrics["final_train_loss"], abs=1e-6)


def test_resume_after_interruption_matches_uninterrupted_run(registry, dirs, tmp_path):
    full = _run(registry, _config({**dirs, "output_dir": str(tmp_path / "full")}, train={"epochs": 3}, folds=(0, 1)))

    def stop_after_first_epoch_of_fold1(epoch, stats, calls=[]):
        calls.append(epoch)
        if len(calls) == 4:  # fold 0 finished (3 epochs), fold 1 one epoch in
            raise KeyboardInterrupt

    cfg = _config(dirs, train={"epochs": 3}, folds=(0, 1))
    with pytest.raises(KeyboardInterrupt):
        _run(registry, cfg, on_epoch_end=stop_after_first_epoch_of_fold1)
    store = ResultsStore(f"{dirs['output_dir']}/results.sqlite")
    assert [r.fold for r in store.records()] == [0]  # finished fold kept
    epochs_seen = []
    resumed = _run(registry, cfg, resume=True, on_epoch_end=lambda e, s: epochs_seen.append(e))
    assert resumed.skipped == [0] and epochs_seen == [1, 2]
    assert resumed.folds[0].metrics["confusion"] == full.folds[1].metrics["confusion"]
    assert resumed.folds[0].metrics["final_train_loss"] == pytest.approx(full.folds[1].metrics["final_train_loss"], abs=1e-5)


def test_stage_runs_once_per_fold_then_comes_from_cache(registry, dirs, tmp_path):
    from toy_plugin import CountingStageDisentangler

    CountingStageDisentangler.trained = 0
    cfg = _config(dirs, {"disentangler": "counting-stage"}, train={"epochs": 1}, folds=(0,))
    _run(registry, cfg)
    assert CountingStageDisentangler.trained == 1
    _run(registry, _config({**dirs, "output_dir": str(tmp_path / "o2")}, {"disentangler": "counting-stage"}, train={"epochs": 1}, folds=(0,)))
    assert CountingStageDisentangler.trained == 1  # loaded from the stage cache
    # other data under the same dataset name and options (regenerated, re-prepared) gets other stage keys
    import dataclasses

    runner = Runner(cfg, registry, progress=False, log=lambda s: None)
    before = runner.stage_keys()
    first = runner.manifest.samples[0]
    runner.manifest.samples[0] = dataclasses.replace(first, label=(first.label + 1) % runner.manifest.num_classes)
    assert all(runner.stage_keys()[k] != before[k] for k in before)


def test_masked_samples_contribute_no_gradient(registry, dirs):
    from ferbench.engine.assemble import assemble

    cfg = _config(dirs, {"selector": "drop-class0"})
    runner = Runner(cfg, registry, progress=False, log=lambda s: None)
    parts = assemble(runner.resolved, runner.input.signature, runner.manifest)
    from ferbench.engine.trainer import FoldTrainer, make_loader

    trainer = FoldTrainer(parts, cfg.train, seed=0, fold=0, run_dir=runner.run_dir, stage_dir=runner.cache_dir,
                          stage_key={}, checkpoint_meta={}, device=torch.device("cpu"), progress=False)
    fold = runner.folds[0]
    loader = make_loader(runner.dataset(fold.train, train=True), cfg.train, train=True, seed=0, num_classes=3)
    batch = next(iter(loader))
    keep = batch.label != 0
    # gradient of the weighted loss == gradient computed on the kept samples only (scaled by B_kept / B)
    model = trainer.model.train()
    torch.manual_seed(0)
    out = model(batch.x, batch.side)
    w = trainer.auxiliary["selector"].weights(batch, out, model)
    assert torch.equal(w, keep.float())
    loss = (w * trainer.criterion(out.logits, batch.label)).mean()
    grads = torch.autograd.grad(loss, model.aggregator.classifier.weight)[0]
    feats = out.features.detach().mean(1)
    only_kept = trainer.criterion(model.aggregator.classifier(feats[keep]), batch.label[keep]).sum() / len(batch)
    ref = torch.autograd.grad(only_kept, model.aggregator.classifier.weight)[0]
    assert torch.allclose(grads, ref, atol=1e-6)


def test_best_val_selection_uses_validation_subjects_only(registry, dirs):
    cfg = _config(dirs, train={"val_fraction": 0.25, "select": "best-val", "epochs": 2}, folds=(0,))
    result = _run(registry, cfg)
    assert result.folds[0].selection == "best-val"
    runner = Runner(cfg, registry, progress=False, log=lambda s: None)
    f = runner.folds[0]
    subj = runner.manifest.by_id()
    assert not {subj[i].subject for i in f.val} & {subj[i].subject for i in f.test}


def test_patience_stops_a_fold_when_validation_stalls(registry, dirs):
    train = {"val_fraction": 0.25, "select": "best-val", "epochs": 6, "patience": 1, "lr": 0.0}
    lines: list[str] = []
    result = Runner(_config(dirs, train=train, folds=(0,)), registry, progress=False, log=lines.append).run()
    history = torch.load(result.folds[0].confusion_png.parent / "last.pt", weights_only=True)["history"]
    assert len(history) == 2  # lr 0: epoch 1 is the best, epoch 2 does not improve, then stop
    assert any("early stop after epoch 2" in line for line in lines)
    with pytest.raises(FerbenchError, match="patience needs select=best-val"):
        _config(dirs, train={"patience": 2})


def test_incompatible_combination_fails_before_training_naming_both(registry, dirs):
    with pytest.raises(IncompatibleCombinationError, match="needs-landmarks.*'rgb'|'rgb'.*needs-landmarks"):
        Runner(_config(dirs, {"backbone": "needs-landmarks"}), registry)


def test_bad_fold_index_and_option_are_clear(registry, dirs):
    with pytest.raises(FerbenchError, match="out of range"):
        Runner(_config(dirs, folds=(7,)), registry)
    with pytest.raises(FerbenchError, match="did you mean 'frames'"):
        Runner(make_config({"dataset": "toy"}, {"input": {"frame": 3}}, **dirs), registry)


def test_labels_name_non_default_options_and_ignore_runtime_fields(registry, dirs):
    from ferbench.engine.assemble import resolve

    cfg = make_config({"dataset": "synthetic-tiny", "aggregator": "lstm"}, {"dataset": {"identity_bias": "0.8", "workers": "2"}, "aggregator": {"hidden": "64"}}, {"epochs": 3}, **dirs)
    resolved = resolve(cfg, registry)
    assert resolved.label("dataset") == "synthetic-tiny[identity_bias=0.8]"
    assert resolved.combination == "rgb+small-cnn+lstm[hidden=64]+none+none"
    assert cfg.setup == "epochs=3"
    one = make_config({"dataset": "synthetic-tiny"}, {"dataset": {"workers": "1"}}, **dirs)
    two = make_config({"dataset": "synthetic-tiny"}, {"dataset": {"workers": "2"}}, **dirs)
    h = lambda c: c.config_hash(resolve(c, registry).options_dict(runtime=False))  # noqa: E731
    assert h(one) == h(two)


class _Specs:
    """A registry stand-in for :func:`companion_components`: only ``get``."""

    def __init__(self, *specs):
        self.specs = {(s.kind, s.name): s for s in specs}

    def get(self, kind, name):
        return self.specs.get((kind, name)) or ComponentSpec(kind, name, lambda *a: None, object, "")


def test_companions_fill_unchosen_kinds_and_explicit_choices_win():
    from ferbench.engine.config import companion_components

    gan = ComponentSpec("disentangler", "gan", lambda *a: None, object, "",
                        companions={"backbone": "gan-encoder", "aggregator": "gan-mlp"})
    reg = _Specs(gan)
    config = make_config({"disentangler": "gan"}, registry=reg)
    assert (config.choice("backbone").name, config.choice("aggregator").name) == ("gan-encoder", "gan-mlp")
    config = make_config({"disentangler": "gan", "aggregator": "lstm"}, registry=reg)
    assert (config.choice("backbone").name, config.choice("aggregator").name) == ("gan-encoder", "lstm")
    assert make_config({"disentangler": "gan"}).choice("backbone").name == "small-cnn"  # no registry, no lookup
    other = ComponentSpec("selector", "picky", lambda *a: None, object, "", companions={"backbone": "resnet18"})
    with pytest.raises(IncompatibleCombinationError, match="choose one with --backbone"):
        companion_components({"disentangler": "gan", "selector": "picky"}, _Specs(gan, other))

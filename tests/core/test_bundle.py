"""Bundles: export a recorded run, load it without pickle, same probabilities as the engine, plugin checks."""

from __future__ import annotations

import json
import pickle
import shutil
import zipfile

import numpy as np
import pytest
import torch

import ferbench
from ferbench.bundle.build import compatible, series
from ferbench.bundle.export import export_bundle
from ferbench.bundle.load import load_bundle
from ferbench.bundle.schema import BundleError
from ferbench.cli import main
from ferbench.errors import FerbenchError
from bundle_fixtures import trained_run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return trained_run(tmp_path_factory, "tiny")


@pytest.fixture(scope="module")
def bundle_dir(run, tmp_path_factory):
    out = tmp_path_factory.mktemp("bundles") / "tiny.ferbench"
    export_bundle(run.runner.config_hash, out, output_dir=run.output_dir, cache_dir=run.cache_dir, log=lambda _: None)
    return out


def engine_probs(run, fold: int):
    ev = run.runner.evaluate(fold)
    ids = [run.runner.manifest.samples[i].id for i in ev.indices]
    return ev, ids


def test_bundle_holds_json_and_safetensors_only(bundle_dir, run):
    assert sorted(p.name for p in bundle_dir.iterdir()) == ["fold0.safetensors", "model.json"]
    info = json.loads((bundle_dir / "model.json").read_text())
    assert info["config_hash"] == run.runner.config_hash and info["classes"] == run.runner.manifest.classes
    assert info["components"]["input"]["options"]["size"] == 32 and info["components"]["backbone"]["plugin"] == "core"
    assert info["preprocessing"]["source"] == "generated" and info["preprocessing"]["window_frames"] == 8
    assert info["preprocessing"]["colour"] == "RGB" and info["preprocessing"]["face_size"] == 64
    assert info["folds"][0]["metrics"]["war"] == run.result.folds[0].metrics["war"]
    assert info["dataset"] == "synthetic-tiny" and info["protocol"] == "5-fold subject-independent"
    assert info["versions"]["plugins"]["core"] and info["versions"]["ferbench"] == ferbench.__version__
    assert (bundle_dir / "fold0.safetensors").read_bytes()[8:9] == b"{"  # a safetensors JSON header, no pickle


def test_bundle_probabilities_equal_the_engines_test_fold(bundle_dir, run):
    ev, ids = engine_probs(run, 0)
    bundle = ferbench.load(bundle_dir, device="cpu")
    loader = run.runner.loader(ids, train=False)
    probs = np.concatenate([bundle.batch_probabilities(batch) for batch in loader])
    np.testing.assert_allclose(probs, ev.probs, atol=1e-6)
    # the file-level API on the same sample files (faces given: SynthFER clips are face crops)
    paths = [run.runner.manifest.by_id()[i].path for i in ids]
    preds = bundle.predict(paths, faces="given")
    assert [p.status for p in preds] == ["ok"] * len(ids)
    got = np.array([[p.probabilities[c] for c in bundle.classes] for p in preds])
    np.testing.assert_allclose(got, ev.probs, atol=1e-6)
    assert [p.label for p in preds] == [bundle.classes[k] for k in ev.probs.argmax(1)]


def test_all_folds_average_the_fold_models_and_zip_bundles_load(run, tmp_path):
    out = tmp_path / "all.zip"
    result = export_bundle(run.runner.config_hash, out, all_folds=True, output_dir=run.output_dir,
                           cache_dir=run.cache_dir, log=lambda _: None)
    assert [f.fold for f in result.info.folds] == [0, 1] and zipfile.is_zipfile(out)
    ev0, ids = engine_probs(run, 0)
    ev1 = run.runner.evaluate(1, ids=ids)
    bundle = load_bundle(out, device="cpu")
    probs = np.concatenate([bundle.batch_probabilities(b) for b in run.runner.loader(ids, train=False)])
    np.testing.assert_allclose(probs, (ev0.probs + ev1.probs) / 2, atol=1e-6)


def test_export_finds_runs_by_folder_and_row_id_and_refuses_overwrites(run, bundle_dir, tmp_path, capsys):
    out = tmp_path / "by-folder.ferbench"
    assert main(["export", str(run.runner.run_dir), "--fold", "1", "--out", str(out), "--cache-dir", str(run.cache_dir)]) == 0
    assert json.loads((out / "model.json").read_text())["folds"][0]["fold"] == 1
    assert main(["export", str(run.runner.run_dir), "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err
    from ferbench.leaderboard import build_leaderboard
    from ferbench.results import ResultsStore

    board = build_leaderboard(ResultsStore(run.output_dir / "results.sqlite").dataframe())
    row = board[board["kind"] == "measured"]["id"].iloc[0]
    assert main(["export", row, "--out", str(tmp_path / "row.zip"), "--output-dir", str(run.output_dir),
                 "--cache-dir", str(run.cache_dir)]) == 0
    assert "wrote" in capsys.readouterr().out
    for bad, message in ((["export", "nonsense!"], "not a config hash"),
                         (["export", "abcdefabcdef", "--output-dir", str(run.output_dir)], "no recorded fold"),
                         (["export", run.runner.config_hash, "--fold", "3", "--output-dir", str(run.output_dir)],
                          "no recorded fold 3")):
        assert main([*bad, "--out", str(tmp_path / "x.ferbench")]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1


def _edit(bundle_dir, tmp_path, edit) -> object:
    copy = tmp_path / "edited.ferbench"
    shutil.copytree(bundle_dir, copy)
    info = json.loads((copy / "model.json").read_text())
    edit(info)
    (copy / "model.json").write_text(json.dumps(info))
    return copy


def test_missing_or_mismatched_plugins_are_one_line(bundle_dir, tmp_path):
    def too_new(info):
        info["components"]["backbone"]["plugin_version"] = "9.0.0"

    with pytest.raises(BundleError) as err:
        load_bundle(_edit(bundle_dir, tmp_path / "a", too_new))
    assert "backbone 'small-cnn' from plugin 'core' >=9.0.0,<10" in str(err.value) and "\n" not in str(err.value)

    def missing(info):
        info["components"]["aggregator"].update(name="attention-pool", plugin="ferbench-attn", plugin_version="1.2.0")

    with pytest.raises(BundleError, match="needs aggregator 'attention-pool' from plugin 'ferbench-attn' "
                                          r">=1.2.0,<2, which is not installed") as err:
        load_bundle(_edit(bundle_dir, tmp_path / "b", missing))
    assert "\n" not in str(err.value)
    assert compatible("0.1.3", "0.1.0") and not compatible("0.2.0", "0.1.0") and not compatible("0.1.0", "0.1.2")
    assert compatible("1.4.0", "1.2.0") and not compatible("2.0.0", "1.2.0") and series("0.1.2") == ">=0.1.2,<0.2"


class Payload:
    """Unpickling this creates ``marker``: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_loading_never_unpickles(bundle_dir, tmp_path):
    marker = tmp_path / "PWNED"
    evil = pickle.dumps({"model": Payload(marker)})
    pickle_torch = tmp_path / "evil.pt"
    torch.save({"x": Payload(marker)}, pickle_torch)
    # 1. pickle bytes in place of the safetensors weights (plain pickle and torch's zip-pickle)
    for payload in (evil, pickle_torch.read_bytes()):
        copy = tmp_path / f"planted{len(payload)}.ferbench"
        shutil.copytree(bundle_dir, copy)
        (copy / "fold0.safetensors").write_bytes(payload)
        with pytest.raises(BundleError, match="is not a safetensors file"):
            load_bundle(copy)
        assert not marker.exists()
    # 2. model.json pointing at a pickle file
    copy = _edit(bundle_dir, tmp_path / "c", lambda info: info["folds"][0].update(weights="evil.pkl"))
    (copy / "evil.pkl").write_bytes(evil)
    with pytest.raises(BundleError, match="only foldK.safetensors"):
        load_bundle(copy)
    # 3. a zip bundle with a pickle beside the weights and a path-traversal name
    zipped = tmp_path / "planted.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        for p in bundle_dir.iterdir():
            z.write(p, p.name)
        z.writestr("fold0.pt", evil)
        z.writestr("../evil.pkl", evil)
    assert load_bundle(zipped).info.folds[0].weights == "fold0.safetensors"
    assert not marker.exists()
    pickle.loads(evil)  # the payload is live: unpickling it does create the marker
    assert marker.exists()


def test_not_a_bundle_is_one_line(tmp_path):
    for path, message in ((tmp_path / "none.ferbench", "bundle not found"), (tmp_path / "file.txt", "neither a bundle")):
        if path.suffix == ".txt":
            path.write_text("hello")
        with pytest.raises(BundleError, match=message):
            load_bundle(path)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "model.json").write_text("{\"format\": \"ferbench-bundle\", \"format_version\": 99}")
    with pytest.raises(BundleError, match="newer than this ferbench reads"):
        load_bundle(tmp_path / "d")


def test_onnx_export_matches_pytorch_and_untraceable_models_say_so(run, tmp_path):
    pytest.importorskip("onnxruntime")
    import onnxruntime as ort

    out = tmp_path / "onnx.ferbench"
    result = export_bundle(run.runner.config_hash, out, onnx=True, output_dir=run.output_dir, cache_dir=run.cache_dir,
                           log=lambda _: None)
    assert result.onnx_max_diff[0] <= 1e-4 and (out / "fold0.onnx").is_file()
    bundle = load_bundle(out, device="cpu")
    _, ids = engine_probs(run, 0)
    batch = next(iter(run.runner.loader(ids, train=False)))
    session = ort.InferenceSession(str(out / "fold0.onnx"), providers=["CPUExecutionProvider"])
    logits = session.run(["logits"], {"x": batch.x.numpy()})[0]
    np.testing.assert_allclose(torch.from_numpy(logits).softmax(1).numpy(), bundle.batch_probabilities(batch), atol=1e-5)

    from ferbench.bundle.onnx_export import export_onnx
    from ferbench.components import AggregatorOutput

    class NumpyAggregator(torch.nn.Module):  # leaves torch for numpy: a tracer cannot follow it
        def forward(self, feats, mask=None):
            pooled = torch.from_numpy(np.tanh(feats.detach().numpy()).mean(1))
            return AggregatorOutput(embedding=pooled, logits=pooled[:, :3])

    model = bundle.models[0]
    odd = type(model)(model.backbone, NumpyAggregator())
    with pytest.raises(BundleError, match="cannot be exported to ONNX|differ from PyTorch") as err:
        export_onnx(odd, bundle.input.signature, tmp_path / "odd.onnx", "odd")
    assert "\n" not in str(err.value) and "export without --onnx" in str(err.value)


def test_a_cross_dataset_record_is_not_exportable(tmp_path):
    from ferbench.bundle.runs import find_run
    from ferbench.results import FoldRecord, ResultsStore

    ResultsStore(tmp_path / "results.sqlite").add(FoldRecord(
        run_id="r", config_hash="0123456789ab", combination="c", dataset="d", protocol="cross-dataset: a → b", fold=0,
        seed=0, status="ok", selection="last", config={"cross_dataset": {}}, metrics={}, timings={}, versions={}, host="h"))
    with pytest.raises(FerbenchError, match="cross-dataset evaluation"):
        find_run("0123456789ab", tmp_path)

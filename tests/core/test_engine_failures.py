"""What bad input and interrupted or repeated runs get from the engine (the reliability issue, engine side).

Each test pins one failure behaviour: a recorded fold is never recorded twice, unreadable samples are left
out and listed instead of ending the run, broken checkpoints and caches are one clear line (or regenerated),
CSV cells are neutralised, SIGTERM exits like Ctrl-C, a plugin clash does not disable the diagnostics.
"""

from __future__ import annotations

import csv
import importlib.metadata as md
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ferbench.engine.config import make_config
from ferbench.engine.runner import Runner
from ferbench.errors import CheckpointError
from ferbench.plugins import ENTRY_POINT_GROUP
from ferbench.results import ResultsStore

TOY_INPUT = {"frames": 2, "size": 32, "hflip": "false"}


def _toy(dirs, **fields):
    return make_config({"dataset": "toy"}, {"input": TOY_INPUT}, {"epochs": 1, "batch_size": 8}, **dirs, **fields)


def _runner(registry, config, lines=None):
    return Runner(config, registry, progress=False, log=(lines.append if lines is not None else (lambda s: None)))


def _cli(*args, **kw):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", "ferbench", *args], capture_output=True, text=True, env=env,
                          timeout=600, **kw)


# ------------------------------------------------------------------ records (item 4)


def test_rerunning_a_recorded_fold_skips_it_and_force_replaces_it(registry, dirs, one_torch_thread):
    config = _toy(dirs, folds=(0, 1))
    _runner(registry, config).run()
    lines: list[str] = []
    again = _runner(registry, config, lines).run()  # no --resume: still skipped, not duplicated
    assert again.folds == [] and again.skipped == [0, 1]
    assert any("already recorded" in line and "--force" in line for line in lines)
    store = ResultsStore(Path(dirs["output_dir"]) / "results.sqlite")
    assert len(store.records()) == 2
    _runner(registry, _toy(dirs, folds=(1,))).run(force=True)
    assert sorted(r.fold for r in store.records()) == [0, 1]
    assert [r.status for r in store.records(status=None)].count("superseded") == 1


def test_two_identical_runs_at_once_record_each_fold_once(tmp_path):
    args = ["run", "--dataset", "synthetic-tiny", "--epochs", "1", "--folds", "0,1", "--no-progress",
            "--input-opt", "size=32", "--cache-dir", str(tmp_path / "cache"), "--output-dir", str(tmp_path / "out")]
    assert _cli("folds", "--dataset", "synthetic-tiny", "--out", str(tmp_path / "f.json"),
                "--cache-dir", str(tmp_path / "cache")).returncode == 0  # generate the data once
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    procs = [subprocess.Popen([sys.executable, "-m", "ferbench", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    records = ResultsStore(tmp_path / "out" / "results.sqlite").records(status=None)
    assert sorted(r.fold for r in records) == [0, 1] and {r.status for r in records} == {"ok"}
    text = "".join(o[0] for o in outs)
    assert "already recorded" in text or "recorded by another process" in text or "being trained by" in text


# ------------------------------------------------------------------ unreadable samples (items 5, 6)


@pytest.fixture
def formula_folder(registry, dirs, tmp_path):
    """A class-per-folder dataset whose class names look like spreadsheet formulas, with two bad files."""
    manifest = registry.get("dataset", "toy").factory(registry.get("dataset", "toy").options(), None,
                                                       Path(dirs["cache_dir"])).manifest()
    root = tmp_path / "data"
    for c, name in enumerate(["=1+1", "@SUM", "-2+3"]):
        (root / name).mkdir(parents=True)
        for s in manifest.samples:
            if s.label == c and s.subject in ("s0", "s1", "s2", "s3"):
                shutil.copy(s.path, root / name / f"{s.id}.mp4")
    (root / "=1+1" / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not a video")
    (root / "@SUM" / "empty.mp4").write_bytes(b"")
    return root


def test_unreadable_samples_are_left_out_listed_and_counted(registry, dirs, formula_folder, one_torch_thread):
    config = make_config({"dataset": "folder"}, {"input": TOY_INPUT, "dataset": {"prepared": "no", "folds": 2}},
                         {"epochs": 1, "batch_size": 8}, root=str(formula_folder), **dirs)
    lines: list[str] = []
    runner = _runner(registry, config, lines)
    result = runner.run()
    assert len(result.folds) == 2  # the run went on
    assert sorted(f["id"] for f in result.failures) == ["=1+1/broken.mp4", "@SUM/empty.mp4"]
    listed = (runner.run_dir / "failures.json").read_text()
    assert "broken.mp4" in listed and "empty.mp4" in listed
    assert any("2 sample(s) could not be read" in line for line in lines)
    left_out = [o.metrics["n_left_out"] for o in result.folds]
    assert sum(left_out) == 2 and all(o.metrics["n_scored"] > 0 for o in result.folds)
    # item 5: formula-like ids are neutralised in predictions.csv
    with open(result.folds[0].predictions_csv) as handle:
        ids = [row["sample_id"] for row in csv.DictReader(handle)]
    assert ids and all(i[0] == "'" for i in ids) and not any(i[0] in "=@+-" for i in ids)


# ------------------------------------------------------------------ broken checkpoints and caches (item 8)


class Payload:
    def __reduce__(self):
        return (os.system, ("touch /tmp/ferbench-pwned",))


@pytest.mark.parametrize("content", ["truncated", "pickle"])
def test_resume_from_a_broken_checkpoint_is_one_line(registry, dirs, content, one_torch_thread):
    config = _toy(dirs, folds=(0,))
    runner = _runner(registry, config)
    last = runner.run_dir / "fold0" / "last.pt"
    last.parent.mkdir(parents=True)
    if content == "truncated":
        last.write_bytes(b"PK\x03\x04 half a zip")
    else:
        last.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(CheckpointError) as err:
        runner.run(resume=True)
    message = str(err.value)
    assert str(last) in message and "run without --resume" in message and "\n" not in message
    assert not Path("/tmp/ferbench-pwned").exists()


def test_a_truncated_input_cache_file_is_regenerated_with_a_note(registry, dirs, one_torch_thread):
    config = _toy(dirs, folds=(0,))
    runner = _runner(registry, config)
    sample = runner.manifest.samples[0]
    runner.cache.ensure(sample)
    (cached,) = runner.cache.dir.rglob("*.npy")  # the memory-mappable layout: one .npy per tensor
    cached.write_bytes(cached.read_bytes()[:20])
    lines: list[str] = []
    fresh = _runner(registry, config, lines)
    loaded = fresh.cache.get(sample)
    assert loaded["frames"].shape[0] == 6
    assert any("unreadable" in line and "regenerating" in line for line in lines)


# ------------------------------------------------------------------ signals and plugin clashes (items 10, 17)


def test_sigterm_exits_like_ctrl_c_with_the_resume_hint(tmp_path):
    args = ["run", "--dataset", "synthetic-tiny", "--epochs", "50", "--no-progress", "--input-opt", "size=32",
            "--cache-dir", str(tmp_path / "cache"), "--output-dir", str(tmp_path / "out")]
    proc = subprocess.Popen([sys.executable, "-m", "ferbench", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.time() + 300
    for line in proc.stdout:
        if "epoch 1/50" in line or time.time() > deadline:
            break
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143
    assert "terminated (SIGTERM)" in err and "--resume" in err and "Traceback" not in err


def test_a_plugin_clash_keeps_the_diagnostic_commands_working(monkeypatch, capsys):
    from ferbench.cli import main

    clasher = md.EntryPoint(name="clasher", value="ferbench.builtin", group=ENTRY_POINT_GROUP)  # registers 'rgb' again
    original = md.entry_points
    installed = list(original(group=ENTRY_POINT_GROUP))
    monkeypatch.setattr(md, "entry_points", lambda group=None: installed + [clasher] if group == ENTRY_POINT_GROUP
                        else original(group=group))
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "CLASH" in out and "clasher" in out
    assert main(["list", "input"]) == 0
    assert "CLASH" in capsys.readouterr().out
    assert main(["run", "--dataset", "synthetic-tiny"]) == 2
    assert "registered twice" in capsys.readouterr().err

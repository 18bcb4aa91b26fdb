"""ferbench sweep: spec expansion, checks before training, launchers, resumption, the store's one writer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ferbench.errors import ConfigError
from ferbench.results import ResultsStore
from ferbench.sweep import RunJob, check_sweep, load_sweep, parse_sweep, run_job
from ferbench.sweep.jobs import RecordFiles, read_record_files

from repo import ROOT

TINY_GRID = ROOT / "examples" / "sweeps" / "tiny-grid.toml"


def _cli(*args, timeout=900):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", "ferbench", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


# ------------------------------------------------------------------ spec expansion


def test_axes_combine_as_a_product_with_zip_groups_and_excludes():
    spec = parse_sweep({
        "seed": 3,
        "components": {"dataset": "toy"},
        "sweep": {
            "name": "g",
            "axes": {"input": ["rgb", "residual"], "backbone": ["small-cnn", "ifercv-cnn"],
                     "aggregator.hidden": [8, 16], "train.lr": [0.1], "seed": [0, 1]},
            "zip": [["input", "backbone"]],
            "exclude": [{"input": "residual", "aggregator.hidden": 16}],
        },
    })
    runs = spec.expand()
    # (2 zipped input/backbone) x 2 hidden x 1 lr x 2 seeds = 8, minus the 2 residual+16 runs
    assert len(runs) == 6
    first = runs[0]
    assert first.label == "input=rgb,backbone=small-cnn,aggregator.hidden=8,lr=0.1,seed=0"
    assert first.config["components"] == {"dataset": "toy", "input": "rgb", "backbone": "small-cnn"}
    assert first.config["options"] == {"aggregator": {"hidden": 8}} and first.config["train"] == {"lr": 0.1}
    assert first.config["seed"] == 0
    assert {(r.values["input"], r.values["backbone"]) for r in runs} == {("rgb", "small-cnn"), ("residual", "ifercv-cnn")}
    assert not any(r.values["input"] == "residual" and r.values["aggregator.hidden"] == 16 for r in runs)


def test_layer_axes_merge_whole_config_tables():
    spec = parse_sweep({"sweep": {"axes": {"arm": [{"label": "paper", "options": {"aggregator": {"variant": "a"}}},
                                                   {"components": {"input": "gray112"}}]}}}, "x.toml")
    runs = spec.expand()
    assert [r.label for r in runs] == ["arm=paper", "arm=#1"]
    assert runs[0].config["options"]["aggregator"] == {"variant": "a"}
    assert runs[1].config["components"]["input"] == "gray112"
    assert spec.name == "x"


@pytest.mark.parametrize("table,needle", [
    ({}, "no \\[sweep\\] table"),
    ({"sweep": {"axes": {"inptu": ["rgb"]}}}, "axis 'inptu' is not a setting"),
    ({"sweep": {"axes": {"seed": 3}}}, "non-empty list"),
    ({"sweep": {"axes": {"input": ["a", "b"], "backbone": ["c"]}, "zip": [["input", "backbone"]]}}, "same length"),
    ({"sweep": {"axes": {"seed": [0]}, "zip": [["input"]]}}, "not an axis"),
    ({"sweep": {"axes": {"seed": [0]}, "colour": 1}}, "unknown key"),
    ({"sweep": {"axes": {"seed": [0]}}, "optoins": {}}, "did you mean 'options'"),
])
def test_bad_specs_are_one_clear_line(table, needle):
    with pytest.raises(ConfigError, match=needle):
        parse_sweep(table, "bad.toml")


def test_a_combination_that_cannot_work_fails_at_expansion_naming_the_run(registry, dirs):
    spec = parse_sweep({"components": {"dataset": "toy"}, "options": {"input": {"size": 32, "frames": 2}},
                        "sweep": {"name": "bad", "axes": {"backbone": ["small-cnn", "needs-landmarks"]}}})
    with pytest.raises(ConfigError, match="run 'backbone=needs-landmarks' cannot work:.*side inputs"):
        check_sweep(spec, registry, overrides=dirs)


def test_dry_run_lists_runs_without_training(tmp_path):
    proc = _cli("sweep", str(TINY_GRID), "--dry-run", "--output-dir", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    assert "8 runs" in proc.stdout and "input=residual,aggregator=eian,seed=1" in proc.stdout
    assert proc.stdout.count("| 0/2 ") == 8
    assert not (tmp_path / "out" / "results.sqlite").exists()


# ------------------------------------------------------------------ running (the "done when")


def _records(path: Path) -> set[tuple]:
    return {(r.config_hash, r.seed, r.fold, r.combination, round(r.metrics["war"], 6), r.sweep)
            for r in ResultsStore(path).records()}


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep-local")
    first = _cli("sweep", str(TINY_GRID), "--jobs", "2", "--output-dir", str(out), "--no-progress")
    return out, first


def test_tiny_grid_runs_on_two_jobs_and_the_leaderboard_pools_seeds(local_sweep):
    out, proc = local_sweep
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "8 to run" in proc.stdout and proc.stdout.count("| done ") == 8
    assert "leaderboard of sweep 'tiny-grid'" in proc.stdout
    assert "residual+small-cnn+mean+none+none vs rgb[size=64]+small-cnn+mean+none+none (WAR" in proc.stdout
    assert "n=4 paired folds" in proc.stdout
    records = ResultsStore(out / "results.sqlite").records()
    assert len(records) == 16 and {r.sweep for r in records} == {"tiny-grid"}
    board = _cli("leaderboard", "--format", "csv", "--dataset", "synthetic-tiny", "--output-dir", str(out))
    import csv
    import io

    rows = [r for r in csv.DictReader(io.StringIO(board.stdout)) if r["kind"] == "measured"]
    assert len(rows) == 4 and {r["seeds"] for r in rows} == {"0,1"} and {r["folds"] for r in rows} == {"4"}


def test_reissuing_the_sweep_trains_nothing(local_sweep):
    out, _ = local_sweep
    before = _records(out / "results.sqlite")
    again = _cli("sweep", str(TINY_GRID), "--jobs", "2", "--output-dir", str(out), "--no-progress")
    assert again.returncode == 0, again.stderr
    assert "8 already recorded, 0 to run" in again.stdout
    assert _records(out / "results.sqlite") == before


def test_the_same_spec_through_submitit_gives_the_same_records(local_sweep, tmp_path):
    """The slurm launcher's code path (a submitit job array), run by submitit's local executor."""
    pytest.importorskip("submitit", reason="the slurm launcher needs submitit (pip install 'ferbench[slurm]')")
    out, _ = local_sweep
    other = tmp_path / "out"
    proc = _cli("sweep", str(TINY_GRID), "--launcher", "slurm", "--launcher-opt", "executor=local",
                "--launcher-opt", "cpus=1", "--launcher-opt", "poll=0.5", "--jobs", "2", "--output-dir", str(other),
                "--no-progress")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert _records(other / "results.sqlite") == _records(out / "results.sqlite")
    assert list((other / "sweeps" / "tiny-grid" / "submitit").iterdir())  # submitit's own job folders


def test_records_a_job_left_as_files_are_ingested_without_retraining(local_sweep, tmp_path):
    """A job killed after writing some folds: the driver ingests its record files on the next attempt."""
    out, _ = local_sweep
    store = ResultsStore(out / "results.sqlite")
    run_dirs = sorted({Path(p).parent.parent for p in (out / "runs").glob("*/fold*/record.json")})
    assert len(run_dirs) == 8
    copy = tmp_path / "copy"
    import shutil

    shutil.copytree(out / "runs", copy / "runs")  # the run folders survive, the store does not
    proc = _cli("sweep", str(TINY_GRID), "--output-dir", str(copy), "--no-progress")
    assert proc.returncode == 0, proc.stderr
    assert "8 already recorded, 0 to run" in proc.stdout
    assert len(ResultsStore(copy / "results.sqlite").records()) == len(store.records())


def test_a_failing_job_marks_its_run_failed_and_the_others_complete(tmp_path):
    spec = tmp_path / "spec.toml"
    # device is a runtime option (not in the config hash): zipped with the seed, the two runs differ
    spec.write_text('folds = [0]\n[sweep]\nname = "f"\nzip = [["seed", "train.device"]]\n[sweep.axes]\n'
                    'seed = [0, 1]\n"train.device" = ["cpu", "cuda:7"]\n'
                    '[components]\ndataset = "synthetic-tiny"\n[train]\nepochs = 1\n')
    proc = _cli("sweep", str(spec), "--output-dir", str(tmp_path / "out"), "--no-progress")
    assert proc.returncode == 1
    lines = [line for line in proc.stdout.splitlines() if line.startswith("| seed=")]
    assert "| done" in lines[0] and "| failed" in lines[1] and "cuda:7" in lines[1]
    store = ResultsStore(tmp_path / "out" / "results.sqlite")
    assert [r.status for r in store.records(status=None)] == ["ok", "failed"]


def test_record_files_sink_and_run_job_never_raise(tmp_path):
    job = RunJob("s", "bad", {"components": {"dataset": "no-such-dataset"}}, "h", str(tmp_path / "run"))
    result = run_job(job)
    assert "unknown dataset 'no-such-dataset'" in result.error and result.records == []
    assert "unknown dataset" in job.log_path.read_text()
    assert RecordFiles(tmp_path / "run").completed_folds("h") == set() and read_record_files(tmp_path) == []


def test_sweep_spec_file_errors_name_the_sweep_spec(tmp_path):
    with pytest.raises(ConfigError, match="sweep spec not found"):
        load_sweep(tmp_path / "missing.toml")

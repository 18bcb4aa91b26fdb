"""The ferbench CLI end to end on the tiny synthetic preset (subprocess, like a user)."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys

import pytest

from ferbench.cli import main


def _cli(*args, cwd=None, env_extra=None):
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "ferbench.cli", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("cli")
    args = ["run", "--dataset", "synthetic-tiny", "--epochs", "2", "--folds", "0,1", "--no-progress",
            "--cache-dir", str(base / "cache"), "--output-dir", str(base / "out")]
    first = _cli(*args)
    return base, args, first


def test_run_trains_prints_tables_and_writes_records(tiny_run):
    base, _, proc = tiny_run
    assert proc.returncode == 0, proc.stderr
    assert "mean ± std" in proc.stdout and "fold 1: WAR" in proc.stdout
    assert (base / "out" / "results.sqlite").is_file()
    assert len(list((base / "out" / "runs").glob("*/fold*/confusion.png"))) == 2


def test_same_seed_gives_same_metrics(tiny_run):
    base, args, first = tiny_run
    again = _cli(*[a if a != str(base / "out") else str(base / "out2") for a in args])
    table = lambda out: [l for l in out.splitlines() if l.startswith("| 0") or l.startswith("| 1")]  # noqa: E731
    assert table(first.stdout) == table(again.stdout) and table(first.stdout)


def test_leaderboard_csv(tiny_run):
    base, _, _ = tiny_run
    proc = _cli("leaderboard", "--format", "csv", "--output-dir", str(base / "out"))
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    measured = [r for r in rows if r["kind"] == "measured"]
    assert measured and measured[0]["combination"] == "rgb+small-cnn+mean+none+none"
    assert measured[0]["folds"] == "2"


def test_resume_skips_recorded_folds(tiny_run):
    base, args, _ = tiny_run
    proc = _cli(*args, "--resume")
    assert proc.returncode == 0, proc.stderr
    assert "already recorded" in proc.stdout and "nothing to do" in proc.stdout


def test_config_file_is_equivalent_to_flags(tiny_run, tmp_path):
    base, _, first = tiny_run
    toml = tmp_path / "run.toml"
    toml.write_text(
        f'folds = [0, 1]\ncache_dir = "{base / "cache"}"\noutput_dir = "{tmp_path / "out"}"\n'
        '[components]\ndataset = "synthetic-tiny"\n[train]\nepochs = 2\n'
    )
    proc = _cli("run", "--config", str(toml), "--no-progress")
    assert proc.returncode == 0, proc.stderr
    cfg_hash = lambda out: out.split("config ")[1].split()[0]  # noqa: E731
    assert cfg_hash(proc.stdout) == cfg_hash(first.stdout)


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["run", "--aggregator", "lsmt"], "Did you mean 'lstm'"),
        (["run", "--dataset", "synthetic-tiny", "--input-opt", "frame=3"], "did you mean 'frames'"),
        (["run", "--dataset", "synthetic-tiny", "--folds", "a,b"], "--folds"),
        (["run", "--config", "/nonexistent/run.toml"], "config file not found"),
        (["info", "no-such-thing"], "no component named"),
    ],
)
def test_user_errors_are_one_line(argv, needle, capsys, tmp_path):
    code = main(argv + ["--cache-dir", str(tmp_path)] if argv[0] == "run" else argv)
    err = capsys.readouterr().err.strip()
    assert code == 2 and needle in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_list_info_plugins(capsys):
    assert main(["list", "aggregator"]) == 0
    assert "lstm" in capsys.readouterr().out
    assert main(["info", "small-cnn"]) == 0
    assert "width = 32" in capsys.readouterr().out
    assert main(["plugins"]) == 0
    assert "core" in capsys.readouterr().out


def test_folds_export(tmp_path):
    out = tmp_path / "folds.json"
    assert main(["folds", "--dataset", "synthetic-tiny", "--out", str(out), "--cache-dir", str(tmp_path / "c")]) == 0
    import json

    data = json.loads(out.read_text())
    assert data["dataset"] == "synthetic-tiny" and len(data["folds"]) >= 2

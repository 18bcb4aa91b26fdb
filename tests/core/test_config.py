"""Run configuration: config dicts checked before any work, layers with set-vs-unset precedence."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ferbench.engine.config import (check_config_dict, config_dict_from_record, config_from_dict, load_config_file,
                                    make_config, merge_config_dicts, read_toml)
from ferbench.errors import ConfigError, OptionError


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "ferbench", *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"}, timeout=300)


@pytest.mark.parametrize("raw,needle", [
    ({"folds": "zero"}, "folds must be a non-empty list of fold indices like \\[0, 2\\], got 'zero'"),
    ({"folds": 0}, "folds must be a non-empty list"),
    ({"folds": []}, "folds must be a non-empty list"),
    ({"folds": [0, -1]}, "folds must be a non-empty list"),
    ({"components": 3}, "\\[components\\] must be a table keyed by component kind"),
    ({"components": {"dataset": 5}}, "the dataset must be a component name \\(a string"),
    ({"dataset": 5}, "the dataset must be a component name \\(a string"),
    ({"seed": "abc"}, "seed must be an integer like 0, got 'abc'"),
    ({"seed": True}, "seed must be an integer"),
    ({"options": {"inptu": {"frames": 3}}}, "unknown component kind 'inptu' in \\[options\\]; did you mean 'input'"),
    ({"components": {"aggregater": "mean"}}, "unknown component kind 'aggregater' in \\[components\\]; did you mean 'aggregator'"),
    ({"option": {}}, "unknown key 'option'; did you mean 'options'"),
    ({"train": 3}, "\\[train\\] must be a table"),
    ({"root": 5}, "root must be a path"),
])
def test_bad_config_values_are_one_line_before_any_work(raw, needle):
    with pytest.raises(ConfigError, match=needle) as err:
        check_config_dict(raw, "config file run.toml")
    assert "\n" not in str(err.value) and str(err.value).startswith("config file run.toml")


@pytest.mark.parametrize("train,needle", [
    ({"lr": -1}, "lr must be >= 0, got -1"),
    ({"epochs": 0}, "epochs must be >= 1"),
    ({"weight_decay": -0.1}, "weight_decay must be >= 0"),
    ({"val_fraction": 1.5}, "val_fraction must be in \\[0, 1\\)"),
    ({"device": "gpu"}, "device must be auto, cpu, cuda or cuda:N"),
    ({"select": "best-val"}, "needs val_fraction > 0"),
    ({"epochs": "many"}, "expected int"),
    ({"lrr": 0.1}, "did you mean 'lr'"),
])
def test_bad_training_options(train, needle):
    with pytest.raises(OptionError, match=needle):
        make_config({}, {}, train)


def test_layers_merge_key_by_key_and_unset_never_overrides():
    base = check_config_dict({"seed": 1, "cache_dir": "/file/cache", "components": {"input": "rgb", "aggregator": "lstm"},
                              "options": {"input": {"frames": 8, "size": 64}}, "train": {"epochs": 5, "lr": 0.1}})
    flags = check_config_dict({"cache_dir": "~/.cache/ferbench", "options": {"input": {"size": 96}}, "train": {"lr": 0.2}})
    merged = merge_config_dicts(base, flags)
    assert merged["cache_dir"] == "~/.cache/ferbench"  # an explicit value equal to the default still wins
    assert merged["options"]["input"] == {"frames": 8, "size": 96}
    assert merged["train"] == {"epochs": 5, "lr": 0.2}
    assert merged["components"] == {"input": "rgb", "aggregator": "lstm"} and merged["seed"] == 1
    config = config_from_dict(merged)
    assert config.cache_dir == "~/.cache/ferbench" and config.train.lr == 0.2 and config.choice("backbone").name == "small-cnn"


def test_record_config_round_trips_to_the_same_hash():
    config = make_config({"input": "rgb"}, {"input": {"frames": 8}}, {"epochs": 3}, seed=2, folds=(0, 1))
    again = config_from_dict(config_dict_from_record(config.to_dict()))
    assert again.config_hash() == config.config_hash() and again.folds == (0, 1)


def test_config_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config_file(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("seed = \n")
    with pytest.raises(ConfigError, match="config file .* is not valid TOML"):
        load_config_file(bad)
    bad.write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match="claims file .* is not valid TOML"):
        read_toml(bad, "claims file")


@pytest.mark.parametrize("toml,needle", [
    ('folds = "zero"\n', "folds must be a non-empty list"),
    ("folds = 0\n", "folds must be a non-empty list"),
    ("components = 3\n", "[components] must be a table keyed by component kind"),
    ('seed = "abc"\n', "seed must be an integer"),
    ("[components]\ndataset = 5\n", "the dataset must be a component name"),
    ("dataset = 5\n", "the dataset must be a component name"),
    ("[options.inptu]\nframes = 3\n", "did you mean 'input'"),
])
def test_cli_prints_one_line_and_exit_2_for_bad_files(tmp_path, toml, needle):
    path = tmp_path / "run.toml"
    path.write_text(toml)
    proc = _cli("run", "--config", str(path), "--output-dir", str(tmp_path / "out"))
    assert proc.returncode == 2 and needle in proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()  # nothing was done


@pytest.mark.parametrize("args,needle", [
    (["--lr", "-1"], "lr must be >= 0"),
    (["--device", "cuda:9"], "--device cuda:9"),
])
def test_cli_bad_flags(tmp_path, args, needle):
    proc = _cli("run", "--dataset", "synthetic-tiny", *args, "--output-dir", str(tmp_path / "out"),
                "--cache-dir", str(tmp_path / "cache"))
    assert proc.returncode == 2 and needle in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "cache").exists()  # refused before the dataset was generated

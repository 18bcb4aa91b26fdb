"""DistributedDataParallel with gloo on CPU: two processes train like one, records are written once.

Tolerance (stated): with a backbone without batch statistics the two-process run
takes the same steps on the same samples with the same averaged gradients as one
process, so per-epoch training losses agree to 1e-4 (relative; rounding in the
gradient all-reduce) and the scored predictions, hence WAR/UAR, are identical.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import socket
import subprocess
import sys

import pytest
import torch
import torch.multiprocessing as mp

from ferbench.cli.run import torchrun_command
from ferbench.engine.config import make_config
from ferbench.engine.runner import Runner
from ferbench.results import ResultsStore

EPOCHS = 2


def _config(cache_dir, output_dir):
    return make_config({"dataset": "synthetic-tiny", "backbone": "pooled-linear"},
                       {"input": {"frames": 4, "size": 32}},
                       {"epochs": EPOCHS, "batch_size": 6, "num_workers": 0, "lr": 0.01},
                       cache_dir=str(cache_dir), output_dir=str(output_dir), folds=(0, 1))


def _registry():
    from ferbench.plugins import ENTRY_POINT_GROUP, Registry

    installed = list(md.entry_points(group=ENTRY_POINT_GROUP))
    return Registry(entry_points=installed + [md.EntryPoint(name="toy", value="toy_plugin", group=ENTRY_POINT_GROUP)])


def _worker(rank: int, world: int, port: int, cache_dir: str, output_dir: str) -> None:
    from ferbench.engine.distributed import DistContext, process_group

    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    with process_group(DistContext(rank, world, rank, world), torch.device("cpu")):
        Runner(_config(cache_dir, output_dir), _registry(), progress=False, log=lambda s: None,
               rank=rank, world_size=world).run()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawn(cache_dir, output_dir):
    mp.spawn(_worker, args=(2, _free_port(), str(cache_dir), str(output_dir)), nprocs=2, join=True)


def test_two_processes_train_like_one_and_record_each_fold_once(tmp_path, one_torch_thread):
    cache = tmp_path / "cache"
    single = Runner(_config(cache, tmp_path / "one"), _registry(), progress=False, log=lambda s: None).run()
    _spawn(cache, tmp_path / "two")
    records = ResultsStore(tmp_path / "two" / "results.sqlite").records()
    assert sorted(r.fold for r in records) == [0, 1]  # one record per fold, from rank 0 only
    by_fold = {r.fold: r for r in records}
    for outcome in single.folds:
        two = by_fold[outcome.fold]
        assert two.config_hash == outcome.record.config_hash  # the process count is not part of the config
        one_loss = [h["loss"] for h in outcome.record.history]
        two_loss = [h["loss"] for h in two.history]
        assert two_loss == pytest.approx(one_loss, rel=1e-4)
        assert two.metrics["war"] == pytest.approx(outcome.metrics["war"], abs=1e-9)
        assert two.metrics["uar"] == pytest.approx(outcome.metrics["uar"], abs=1e-9)
        assert two.metrics["n_scored"] == outcome.metrics["n_scored"]  # evaluation gathered from both ranks
    _spawn(cache, tmp_path / "two")  # the same run again: recorded folds are skipped, not duplicated
    assert len(ResultsStore(tmp_path / "two" / "results.sqlite").records()) == 2


def test_nproc_starts_torchrun_with_the_same_arguments():
    cmd = torchrun_command(2, ["run", "--dataset", "synthetic-tiny", "--nproc", "2", "--epochs", "1", "--nproc=3"])
    assert cmd[1:] == ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "ferbench",
                       "run", "--dataset", "synthetic-tiny", "--epochs", "1"]


def test_run_nproc_2_from_the_command_line(tmp_path):
    args = [sys.executable, "-m", "ferbench", "run", "--nproc", "2", "--dataset", "synthetic-tiny", "--epochs", "1",
            "--folds", "0", "--no-progress", "--cache-dir", str(tmp_path / "cache"), "--output-dir", str(tmp_path / "out")]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    first = subprocess.run(args, capture_output=True, text=True, env=env, timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    assert first.stdout.count("fold 0: WAR") == 1 and first.stdout.count("records: ") == 1  # rank 0 alone prints
    assert [r.fold for r in ResultsStore(tmp_path / "out" / "results.sqlite").records()] == [0]

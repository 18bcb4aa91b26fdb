"""Every run prints an ETA for the fold and the run; stages can print theirs."""

from __future__ import annotations

import time

import torch

from ferbench.components import StageContext
from ferbench.engine.config import make_config
from ferbench.engine.runner import Runner
from ferbench.timing import eta_seconds, format_seconds


def test_eta_arithmetic_and_format():
    assert eta_seconds(10.0, 2, 5) == 15.0 and eta_seconds(10.0, 0, 5) == 0.0 and eta_seconds(3.0, 5, 5) == 0.0
    assert format_seconds(75) == "1m15s" and format_seconds(3725) == "1h02m" and format_seconds(4) == "4s"
    ctx = StageContext(train_loader=None, device=torch.device("cpu"), model=None, seed=0, log=print,
                       started=time.perf_counter() - 60)
    assert ctx.eta(1, 3).startswith("ETA stage 2m0")


def test_epoch_lines_carry_fold_and_run_eta(registry, dirs):
    lines = []
    cfg = make_config({"dataset": "toy"}, {"input": {"frames": 2, "size": 32}}, {"epochs": 2, "num_workers": 0},
                      **dirs, folds=(0, 1))
    Runner(cfg, registry, progress=False, log=lines.append).run()
    epoch_lines = [line for line in lines if " epoch " in line]
    assert len(epoch_lines) == 4
    assert all("| ETA fold " in line and ", run " in line for line in epoch_lines)

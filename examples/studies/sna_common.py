"""Shared settings of the sna measurements (examples/studies/sna_*.py): modest CPU-sized runs on SynthFER."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import torch

from ferbench.engine.config import make_config
from ferbench.engine.runner import Runner
from ferbench.plugins import Registry

# "-v2": SynthFER changed (scene=subject, train/test views) but keeps its sample ids, and the sna autoencoder
# cache is keyed by sample ids, seed and options only -- a fresh folder keeps autoencoders of the old videos out.
CACHE = Path("/tmp/sna_cache-v2")
OUT = Path("/tmp/sna_out")
RESULTS = Path(__file__).resolve().parents[2] / "plugins" / "ferbench_sna" / "results"

INPUT = {"frames": "1", "size": "64", "apex_window": "3"}  # 64x64 instead of 112 for the shared 2-core CPU
BACKBONE = {"width": "0.25"}  # Table II channels x 0.25 for CPU
SELECTOR_BASE = {"ae_epochs": "25", "ae_batch_size": "8", "refine_epochs": "1", "refine_batch_size": "16",
                 "perceptual_epochs": "1", "ae_cache_dir": str(CACHE / "sna-ae")}
TRAIN = {"epochs": 6, "batch_size": 14, "optimizer": "adam", "lr": 1e-3, "schedule": "cosine",
         "loss": "focal", "balanced_sampling": True, "device": "cpu"}


def run(tag: str, selector: str, selector_opts: dict[str, str] | None = None, *, seed: int = 0, folds=(0,),
        dataset: str = "synthetic", dataset_opts: dict[str, str] | None = None, input_opts: dict[str, str] | None = None,
        train: dict[str, Any] | None = None) -> dict[str, Any]:
    """One ferbench run; returns the fold metrics and the per-epoch stats (selector stats included)."""
    torch.set_num_threads(1)
    opts = {"input": {**INPUT, **(input_opts or {})}, "backbone": BACKBONE, "dataset": dataset_opts or {}}
    if selector == "sna":
        opts["selector"] = {**SELECTOR_BASE, **(selector_opts or {})}
    cfg = make_config(
        {"dataset": dataset, "input": "gray112", "backbone": "sna-multiscale", "aggregator": "sna-fusion", "selector": selector},
        opts, {**TRAIN, **(train or {})}, seed=seed, folds=tuple(folds),
        cache_dir=str(CACHE), output_dir=str(OUT / tag),
    )
    history: list[dict[str, float]] = []
    t0 = time.time()
    runner = Runner(cfg, Registry(), progress=False, log=lambda s: print(f"  [{tag}] {s}", flush=True))
    result = runner.run(on_epoch_end=lambda e, s: history.append(dict(s)))
    return {"tag": tag, "seed": seed, "selector": selector, "selector_opts": selector_opts or {},
            "war": [f.metrics["war"] for f in result.folds], "uar": [f.metrics["uar"] for f in result.folds],
            "history": history, "wall_s": time.time() - t0, "runner": runner, "config_hash": result.config_hash}


def epoch_mean(history: list[dict[str, float]], key: str) -> float | None:
    vals = [h[key] for h in history if key in h]
    return sum(vals) / len(vals) if vals else None


def save(name: str, payload: Any) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    path.write_text(json.dumps(payload, indent=1, default=str))
    return path

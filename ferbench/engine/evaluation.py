"""Scoring a model on a loader: predictions, the aggregator's extras, frame indices, embeddings.

Runs under ``torch.inference_mode`` at the loader's (evaluation) batch size.
Under torchrun each rank scores the whole batches its loader deals it, and
``gather=True`` reassembles every rank's batches in the order one process would
have produced them, on every rank.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from ..components import Evaluation
from .distributed import all_gather_objects, is_active


def autocast(amp: bool):
    """bf16 autocast on CUDA when ``amp``, else nothing."""
    return torch.autocast("cuda", dtype=torch.bfloat16) if amp else contextlib.nullcontext()


def _batch_arrays(batch, out, embeddings: bool) -> dict[str, Any]:
    arrays: dict[str, Any] = {
        "probs": out.logits.float().softmax(1).cpu().numpy(),
        "labels": batch.label.cpu().numpy(),
        "indices": batch.index.cpu().numpy(),
        "extras": {k: v.float().cpu().numpy() for k, v in out.extras.items()},
    }
    if "frame_index" in batch.side:
        arrays["frame_index"] = batch.side["frame_index"].long().cpu().numpy()
    if embeddings:
        arrays["embeddings"] = out.embedding.float().cpu().numpy()
    return arrays


def _merge(chunks: list[dict[str, Any]], embeddings: bool) -> Evaluation:
    extras: dict[str, list[np.ndarray]] = {}
    for c in chunks:
        for k, v in c["extras"].items():
            extras.setdefault(k, []).append(v)
    frames = [c["frame_index"] for c in chunks if "frame_index" in c]
    cat = lambda key: np.concatenate([c[key] for c in chunks])  # noqa: E731
    return Evaluation(
        probs=cat("probs"),
        labels=cat("labels"),
        indices=cat("indices"),
        extras={k: np.concatenate(v) for k, v in extras.items()},
        frame_index=np.concatenate(frames) if frames and len(frames) == len(chunks) else None,
        embeddings=cat("embeddings") if embeddings and chunks else None,
    )


def evaluate_model(model: nn.Module, loader: DataLoader, *, device: torch.device, amp: bool = False,
                   embeddings: bool = False, gather: bool = False) -> Evaluation:
    """Predictions of ``model`` on ``loader`` (eval mode, no augmentation, inference mode).

    Keeps the aggregator's extras, the inputs' ``frame_index`` when they report it, and
    (``embeddings=True``) the video embeddings z. ``amp``: bf16 autocast (CUDA).
    ``gather``: the loader is sharded by rank (whole batches dealt round-robin); every
    rank returns the evaluation of all of them.
    """
    model.eval()
    chunks: list[dict[str, Any]] = []
    with torch.inference_mode():
        for batch in loader:
            batch = batch.to(device)
            with autocast(amp):
                out = model(batch.x, batch.side)
            chunks.append(_batch_arrays(batch, out, embeddings))
    if gather and is_active():
        per_rank = all_gather_objects(chunks)
        world = len(per_rank)
        # rank r's k-th batch is batch r + k * world of the unsharded loader
        ordered = sorted(((k * world + r, c) for r, cs in enumerate(per_rank) for k, c in enumerate(cs)),
                         key=lambda item: item[0])
        chunks = [c for _, c in ordered]
    return _merge(chunks, embeddings)

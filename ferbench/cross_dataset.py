"""Cross-dataset evaluation: score a bundle trained on one dataset on another (``ferbench evaluate``).

Classes are matched by canonical name (:func:`ferbench.datasets.adapters.layout.canonical`,
e.g. ``Angry`` and ``anger``). Classes only the model knows are dropped from its
output (the softmax is taken over the shared classes' logits, i.e. the
probabilities renormalised over them); samples of classes only the target has
are left out of the scoring. Both lists are printed and stored with the record.

The target's samples go through the bundle's input exactly as a training run on
the target would read them (its own media: prepared face tracks or SynthFER
clips), through the target's input cache. Scored are the whole target dataset
(scoreable samples), or the test split of one of its folds (``fold``), or one
official split (``split``).

The record is a :class:`~ferbench.results.FoldRecord` with protocol
``cross-dataset: <source dataset>/<source protocol> → <target>`` and a config
hash of its own (source run, bundled folds, target, subset), so it never
collides with training records and shows as its own leaderboard row.
"""

from __future__ import annotations

import dataclasses
import socket
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np
import torch

from .bundle.load import Bundle
from .data.loading import FERDataset, InputCache, collate
from .data.manifest import Manifest
from .data.protocols import make_folds
from .datasets.adapters.layout import canonical
from .engine.assemble import component_label, resolve
from .engine.config import make_config
from .engine.plan import load_manifest, versions
from .errors import FerbenchError
from .fileio import atomic_write_json, write_csv
from .metrics import classification_metrics, save_confusion_png
from .options import stable_hash
from .plugins import Registry
from .results import FoldRecord, ResultsStore


def class_key(name: str) -> str:
    """The name classes are matched by: the canonical name, or the lower-cased name when it has none."""
    return canonical(name) or name.strip().lower()


@dataclasses.dataclass(frozen=True)
class ClassMatch:
    """How the model's classes meet the target's.

    Attributes:
        shared: canonical names present on both sides, in the target's label order.
        source_only: model classes the target lacks (dropped from the model's output).
        target_only: target classes the model lacks (their samples are not scored).
        source_index: per shared class, its logit index in the model.
        target_index: per shared class, its label index in the target.
    """

    shared: list[str]
    source_only: list[str]
    target_only: list[str]
    source_index: list[int]
    target_index: list[int]


def match_classes(source: list[str], target: list[str]) -> ClassMatch:
    """Match class lists by canonical name.

    Raises:
        FerbenchError: no class in common.
    """
    src = {class_key(c): i for i, c in enumerate(source)}
    tgt = {class_key(c): i for i, c in enumerate(target)}
    shared = [k for k in tgt if k in src]
    if not shared:
        raise FerbenchError(f"the model's classes ({', '.join(source)}) and the target's ({', '.join(target)}) "
                            f"share no canonical class name; nothing can be scored")
    return ClassMatch(shared, [source[i] for k, i in src.items() if k not in tgt],
                      [target[i] for k, i in tgt.items() if k not in src], [src[k] for k in shared],
                      [tgt[k] for k in shared])


@dataclasses.dataclass
class CrossDatasetResult:
    """What :func:`evaluate_cross_dataset` scored and wrote.

    Attributes:
        record: the stored record.
        match: the class matching.
        probs: [N, S] probabilities over the shared classes.
        labels: [N] target labels as shared-class indices.
        sample_ids: the scored samples.
        failures: sample id -> why it could not be read.
        out_dir: folder with ``predictions.csv``, ``confusion.png``, ``classes.json``.
    """

    record: FoldRecord
    match: ClassMatch
    probs: np.ndarray
    labels: np.ndarray
    sample_ids: list[str]
    failures: dict[str, str]
    out_dir: Path


def _target_manifest(dataset: str, options: dict[str, Any], root: str | None, cache_dir: str,
                     registry: Registry) -> tuple[Manifest, str]:
    config = make_config({"dataset": dataset}, {"dataset": options}, root=root, cache_dir=cache_dir)
    resolved = resolve(config, registry)
    return load_manifest(config, resolved), component_label(resolved.specs["dataset"], resolved.options["dataset"])


def _subset(manifest: Manifest, fold: int | None, split: str | None, seed: int) -> tuple[list[str], str]:
    scoreable = [s for s in manifest.samples if not s.train_only]
    if fold is not None and split is not None:
        raise FerbenchError("choose --fold or --split, not both")
    if fold is not None:
        folds = make_folds(manifest, seed=seed)
        if not 0 <= fold < len(folds):
            raise FerbenchError(f"--fold {fold} out of range: '{manifest.dataset}' has {len(folds)} folds "
                                f"(0..{len(folds) - 1})")
        return list(folds[fold].test), f"fold {fold} test"
    if split is not None:
        ids = [s.id for s in scoreable if s.split == split]
        if not ids:
            have = sorted({s.split for s in scoreable if s.split})
            raise FerbenchError(f"'{manifest.dataset}' has no '{split}' split (splits: {', '.join(have) or 'none'}); "
                                f"use --fold or score the whole dataset")
        return ids, f"{split} split"
    return [s.id for s in scoreable], "all"


def evaluate_cross_dataset(
    bundle: Bundle,
    dataset: str,
    *,
    dataset_options: dict[str, Any] | None = None,
    root: str | None = None,
    fold: int | None = None,
    split: Literal["train", "val", "test"] | None = None,
    cache_dir: str,
    output_dir: str,
    registry: Registry,
    batch_size: int = 16,
    force: bool = False,
    log: Callable[[str], None] = print,
) -> CrossDatasetResult:
    """Score ``bundle`` on ``dataset`` and record the result (see the module docstring).

    Raises:
        FerbenchError: no shared class, no scoreable sample, a bad fold or split, an existing record
            (``force`` replaces it).
    """
    t0 = time.perf_counter()
    info = bundle.info
    manifest, target_label = _target_manifest(dataset, dict(dataset_options or {}), root, cache_dir, registry)
    match = match_classes(info.classes, manifest.classes)
    ids, subset = _subset(manifest, fold, split, info.seed)
    by_id = manifest.by_id()
    input_name = info.components["input"].name
    cache = InputCache(Path(cache_dir).expanduser() / "inputs" / manifest.dataset, input_name, bundle.input, log=log)
    failures: dict[str, str] = {}
    keep_label = {t: k for k, t in enumerate(match.target_index)}
    scored = []
    for sample_id in ids:
        sample = by_id[sample_id]
        if sample.eval_label not in keep_label:
            continue
        try:
            cache.ensure(sample)
        except (FerbenchError, OSError) as err:
            failures[sample_id] = str(err).splitlines()[0] if str(err) else type(err).__name__
            continue
        scored.append(sample)
    left_out = len(ids) - len(scored) - len(failures)
    if not scored:
        raise FerbenchError(f"no sample of '{target_label}' ({subset}) can be scored: {left_out} are of classes the "
                            f"model lacks ({', '.join(match.target_only)}), {len(failures)} unreadable")
    positions = {s.id: i for i, s in enumerate(manifest.samples)}
    data = FERDataset(scored, cache, train=False, seed=info.seed, subject_index={}, positions=[positions[s.id] for s in scored],
                      score_labels=True)
    probs, labels = [], []
    source_index = torch.tensor(match.source_index)
    with torch.no_grad():
        for start in range(0, len(data), batch_size):
            batch = collate([data[i] for i in range(start, min(start + batch_size, len(data)))])
            logits = torch.stack([m(batch.x.to(bundle.device), {k: v.to(bundle.device) for k, v in batch.side.items()}
                                    ).logits.float().cpu() for m in bundle.models])
            shared = logits[..., source_index].softmax(-1).mean(0)  # renormalised over the shared classes
            probs.append(shared.numpy())
            labels.append(np.array([keep_label[int(t)] for t in batch.label]))
    probs_arr, labels_arr = np.concatenate(probs), np.concatenate(labels)
    metrics = classification_metrics(labels_arr, probs_arr.argmax(1), len(match.shared)).to_dict()
    metrics.update(n_scored=len(scored), n_left_out=len(failures), n_left_out_classes=left_out,
                   shared_classes=len(match.shared), source_only_classes=len(match.source_only),
                   target_only_classes=len(match.target_only))
    folds = [f.fold for f in info.folds]
    key = {"cross_dataset": info.config_hash, "folds": folds, "target": target_label, "root": root, "subset": subset,
           "input": info.components["input"].options}
    config_hash = stable_hash(key)
    protocol = f"cross-dataset: {info.source_label} → {target_label}"
    out_dir = Path(output_dir).expanduser() / "evaluations" / config_hash
    save_confusion_png(metrics["confusion"], match.shared, out_dir / "confusion.png",
                       title=f"{info.combination} | {info.dataset} → {target_label}")
    write_csv(out_dir / "predictions.csv", ["sample_id", "label", "prediction", *(f"p_{c}" for c in match.shared)],
              ([s.id, match.shared[y], match.shared[int(p.argmax())], *(f"{v:.5f}" for v in p)]
               for s, y, p in zip(scored, labels_arr, probs_arr)))
    classes_note = {"shared": match.shared, "source_only": match.source_only, "target_only": match.target_only,
                    "scored": subset, "unreadable": [{"id": i, "reason": r} for i, r in sorted(failures.items())]}
    atomic_write_json(out_dir / "classes.json", classes_note)
    record = FoldRecord(
        run_id=uuid.uuid4().hex[:12], config_hash=config_hash, combination=info.combination, dataset=target_label,
        protocol=protocol, fold=fold if fold is not None else 0, seed=info.seed, status="ok",
        selection=info.folds[0].selection,
        config={"setup": info.setup, "cross_dataset": {**key, "bundle": str(bundle.path), "source_dataset": info.dataset,
                                                       "source_protocol": info.protocol, "classes": classes_note}},
        metrics=metrics, timings={"eval_s": time.perf_counter() - t0}, versions=versions(registry),
        host=socket.gethostname(),
    )
    ResultsStore(Path(output_dir).expanduser() / "results.sqlite").add(record, replace=force)
    return CrossDatasetResult(record, match, probs_arr, labels_arr, [s.id for s in scored], failures, out_dir)

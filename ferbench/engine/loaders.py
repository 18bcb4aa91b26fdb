"""DataLoaders of a run: worker count, prefetching, pinned memory, sharding by rank.

Workers draw exactly what the main process would (per-item generators are
seeded from seed, epoch and sample position, and the epoch travels with each
index), so results are the same for any ``num_workers``. Loaders keep their
workers alive between passes (``persistent_workers``); the in-process memory
budget (``cache_mem``) is split between the training loader's workers, and the
evaluation loaders' workers keep no samples in memory. On CUDA, batches are collated into page-locked memory
and copied with ``non_blocking=True`` (:meth:`~ferbench.components.Batch.to`).
Inputs that can (``sample_uint8`` + ``normalize_batch``, e.g. ``rgb``) travel as
uint8 and are normalised a whole batch at a time on the device
(:class:`DeviceLoader`): on a GPU 4x fewer bytes through collation, pinning and
the bus than float32 frames; on a CPU a few large operations per batch instead
of many small ones per sample (each of which waits for every intra-op thread,
which costs most on a busy machine).
"""

from __future__ import annotations

import os

import torch
from torch.utils.data import DataLoader

from ..components import Batch
from ..data.loading import (EpochSampler, EpochTagged, FERDataset, collate, compact_x, no_worker_memory,
                             split_worker_memory)
from .config import TrainOptions

#: most loader workers ``num_workers=auto`` starts per process
MAX_AUTO_WORKERS = 8


def cpu_count() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def resolve_workers(num_workers: int | str, *, processes_per_node: int = 1, device: torch.device | None = None) -> int:
    """Loader workers per process; an integer is taken as given. ``auto``:

    * training on a GPU: CPU cores - 1, shared between the machine's processes, at most
      :data:`MAX_AUTO_WORKERS` (the main process mostly launches GPU work);
    * training on the CPU: a quarter of the cores beyond two, shared likewise (0 on 2 to 5 cores),
      as the model's own threads use the cores: a worker process on a 2-core machine takes
      a core from the model's threads, which then wait for each other.
    """
    if num_workers != "auto":
        return int(num_workers)
    cores, procs = cpu_count(), max(processes_per_node, 1)
    if device is not None and device.type == "cuda":
        return max(0, min(MAX_AUTO_WORKERS, (cores - 1) // procs))
    return max(0, min(MAX_AUTO_WORKERS, (cores - 2) // 4 // procs))


def eval_batch_size(train_opts: TrainOptions, device: torch.device | None) -> int:
    """Evaluation batch size: ``eval_batch_size``, or batch_size (CPU) / 4 x batch_size (CUDA)."""
    if train_opts.eval_batch_size:
        return train_opts.eval_batch_size
    return train_opts.batch_size * (4 if device is not None and device.type == "cuda" else 1)


def make_loader(
    dataset: FERDataset,
    train_opts: TrainOptions,
    *,
    train: bool,
    seed: int,
    num_classes: int,
    rank: int = 0,
    world_size: int = 1,
    device: torch.device | None = None,
    processes_per_node: int | None = None,
    compact: bool | None = None,
) -> DataLoader | DeviceLoader:
    """A loader of :class:`~ferbench.components.Batch` objects.

    Training: ``train_opts.batch_size`` per step, shuffled (class-balanced with ``balanced_sampling``),
    every batch split between the ranks. Evaluation: :func:`eval_batch_size`, in order, whole
    batches dealt to the ranks. ``device``: where batches go (pinned memory for CUDA).
    ``compact`` (default: whenever the input supports it): the dataset hands over uint8 ``x``
    and a :class:`DeviceLoader` normalises each batch on ``device``, with the same result.
    """
    sampler = EpochSampler(
        dataset.labels(),
        train_opts.batch_size if train else eval_batch_size(train_opts, device),
        shuffle=train,
        seed=seed,
        balanced=train and train_opts.balanced_sampling,
        num_classes=num_classes,
        rank=rank,
        world_size=world_size,
        even=train,
    )
    workers = resolve_workers(train_opts.num_workers, processes_per_node=processes_per_node or world_size, device=device)
    extra = {}
    if workers > 0:
        extra = {"persistent_workers": True, "prefetch_factor": train_opts.prefetch,
                 "worker_init_fn": split_worker_memory if train else no_worker_memory}
    if compact is None:
        compact = True
    dataset.compact = compact and compact_x(dataset.cache.rep)
    loader = DataLoader(dataset, batch_sampler=EpochTagged(sampler), collate_fn=collate, num_workers=workers,
                        pin_memory=device is not None and device.type == "cuda", **extra)
    return DeviceLoader(loader, device or torch.device("cpu")) if dataset.compact else loader


class DeviceLoader:
    """Iterates a loader whose batches carry uint8 ``x``: each batch is moved to ``device``
    (asynchronously from pinned memory) and normalised there with the input's ``normalize_batch``,
    so consumers see exactly what the plain loader would give, already on the device.

    Exposes the wrapped loader's ``dataset``, ``batch_sampler`` and length.
    """

    def __init__(self, loader: DataLoader, device: torch.device) -> None:
        self.loader = loader
        self.device = device
        self.dataset = loader.dataset
        self.batch_sampler = loader.batch_sampler
        self._normalize = loader.dataset.cache.rep.normalize_batch

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        for batch in self.loader:
            batch = batch.to(self.device)
            yield Batch(x=self._normalize(batch.x), label=batch.label, subject=batch.subject, index=batch.index,
                        side=batch.side)


def set_epoch(loader: DataLoader, epoch: int) -> None:
    """Point ``loader``'s sampler (and dataset) at ``epoch``."""
    loader.batch_sampler.set_epoch(epoch)
    loader.dataset.set_epoch(epoch)

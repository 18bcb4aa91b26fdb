"""From manifest samples to :class:`~ferbench.data.batch.Batch` objects.

* :class:`InputCache` gives each sample's ``InputRepresentation.load`` output.
  With ``mode="disk"`` (the default) it is decoded once into a memory-mappable
  folder per sample (:mod:`.disk_cache`) and read back mapped; with
  ``mode="none"`` it is decoded from the media every time it is not in memory
  (datasets whose decoded inputs do not fit on disk). Either way an in-process
  LRU bounded by a byte budget (:mod:`.memory_cache`) keeps recent samples, so
  memory does not grow with the dataset.
* :class:`FERDataset` draws per-sample tensors with a generator seeded from
  (seed, epoch, sample position): results do not depend on worker count or
  order, and a resumed run draws exactly what an uninterrupted one would. The
  epoch travels with each index (:class:`EpochTagged`), so persistent loader
  workers draw the right epoch.
* :class:`EpochSampler` shuffles (optionally class-balanced) per epoch and
  shards by rank for DistributedDataParallel.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Callable, Iterator, Literal, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler, get_worker_info

from ..errors import FerbenchError, SampleReadError
from ..seeding import mix_seed
from .batch import Batch, InputRepresentation
from .disk_cache import LAYOUT_SUFFIX, CacheInfo, DiskCache
from .manifest import Sample
from .media_probe import check_media
from .memory_cache import MemoryLRU

CacheMode = Literal["disk", "none"]


class InputCache:
    """Where a run's loaded samples come from: memory, the disk cache, or the media.

    Args:
        root: folder of the dataset's input caches (``<cache_dir>/inputs/<dataset>``); None: no disk cache.
        input_name: the input's component name (part of the folder name).
        rep: the input representation.
        log: one line at a time (unreadable cache entries).
        mode: ``"disk"``: decode once into ``root``, read memory-mapped; ``"none"``: decode from the
            media whenever a sample is not in memory.
        memory_bytes: budget of the in-process LRU (split between loader workers, see :meth:`split_memory`).
        info: what the disk cache folder belongs to (written to its ``cache.json``).
    """

    def __init__(self, root: Path | None, input_name: str, rep: InputRepresentation,
                 log: Callable[[str], None] | None = None, *, mode: CacheMode = "disk", memory_bytes: int = 0,
                 info: CacheInfo | None = None) -> None:
        self.rep = rep
        self.mode: CacheMode = mode
        self.log = log or (lambda line: print(line, file=sys.stderr))
        self.dir = None if root is None or mode == "none" else Path(root) / f"{input_name}-{rep.cache_key()}-{LAYOUT_SUFFIX}"
        self.disk = None if self.dir is None else DiskCache(self.dir, owner=f"input '{input_name}'", log=self.log)
        self.memory = MemoryLRU(memory_bytes)
        self.memory_bytes = int(memory_bytes)
        self.info = info

    @property
    def on_disk(self) -> bool:
        """Whether loaded samples are kept on disk (``mode="disk"`` with a root)."""
        return self.disk is not None

    def open(self) -> None:
        """Create the disk cache folder and record (or refresh) its ``cache.json``."""
        if self.disk is not None and self.info is not None:
            self.disk.write_info(self.info)

    def ensure(self, sample: Sample) -> int:
        """Decode ``sample`` into the disk cache if it is not there; returns the bytes written
        (raises what ``load`` raises). Without a disk cache, checks the sample like :meth:`check`."""
        if self.disk is None:
            return self.check(sample)
        if self.disk.has(sample):
            return 0
        return self.disk.write(sample, self.rep.load(sample))

    def check(self, sample: Sample) -> int:
        """The up-front check of a run: :meth:`ensure` with a disk cache; without one, a cheap look
        (the media opens and its first frame decodes), not a second full decode. Returns bytes written."""
        if self.disk is not None:
            return self.ensure(sample)
        check_media(sample.path)
        return 0

    def get(self, sample: Sample) -> dict[str, torch.Tensor]:
        """``rep.load(sample)``'s tensors: from memory, else the disk cache (written on a miss), else the media."""
        loaded = self.memory.get(sample.id)
        if loaded is not None:
            return loaded
        loaded = self.disk.read(sample) if self.disk is not None else None
        if loaded is None:
            loaded = self.rep.load(sample)
            if self.disk is not None:
                self.disk.write(sample, loaded)
        self.memory.put(sample.id, loaded)
        return loaded

    def split_memory(self, parts: int) -> None:
        """Give this copy 1/``parts`` of the budget (each of ``parts`` loader workers holds its own LRU)."""
        self.memory.resize(self.memory_bytes // max(parts, 1))


def split_worker_memory(worker_id: int) -> None:  # noqa: ARG001 - DataLoader worker_init_fn signature
    """``worker_init_fn`` of training loaders: share the input cache's memory budget between the workers."""
    info = get_worker_info()
    dataset = info.dataset if info is not None else None
    if isinstance(dataset, FERDataset):
        dataset.cache.split_memory(info.num_workers)


def no_worker_memory(worker_id: int) -> None:  # noqa: ARG001 - DataLoader worker_init_fn signature
    """``worker_init_fn`` of evaluation loaders: no memory cache (the training workers hold the budget)."""
    info = get_worker_info()
    dataset = info.dataset if info is not None else None
    if isinstance(dataset, FERDataset):
        dataset.cache.memory.resize(0)


class FERDataset(Dataset):
    """Samples of one split, drawn through an input representation.

    Items are dicts: ``x`` [T, C, H, W], side tensors, ``label``, ``subject``, ``index``.
    An item is addressed by its position ``i`` (drawn for :attr:`epoch`) or by ``(i, epoch)``.
    """

    def __init__(
        self,
        samples: Sequence[Sample],
        cache: InputCache,
        *,
        train: bool,
        seed: int,
        subject_index: dict[str, int],
        positions: Sequence[int],
        score_labels: bool = False,
    ) -> None:
        """Args:
        samples: the split's samples.
        cache: where loaded tensors come from.
        train: random frame selection/augmentation when True.
        seed: base seed of the per-item generators.
        subject_index: subject id -> dense index.
        positions: each sample's position in the manifest (goes into ``Batch.index``).
        score_labels: use ``Sample.eval_label`` (clean) instead of the training label.
        """
        self.samples = list(samples)
        self.cache = cache
        self.train = train
        self.seed = seed
        self.subject_index = subject_index
        self.positions = list(positions)
        self.score_labels = score_labels
        self.epoch = 0
        #: draw ``x`` with the input's ``sample_uint8`` (normalised later, on the device; see ``compact_x``)
        self.compact = False

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def labels(self) -> list[int]:
        return [s.eval_label if self.score_labels else s.label for s in self.samples]

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, torch.Tensor]:
        i, epoch = key if isinstance(key, tuple) else (key, self.epoch)
        sample = self.samples[i]
        try:
            loaded = self.cache.get(sample)
        except FerbenchError as err:
            raise SampleReadError(f"sample {sample.id}: {err}") from None
        except OSError as err:
            raise SampleReadError(f"sample {sample.id}: cannot read {sample.path} ({err}); fix or remove the file") from None
        gen = torch.Generator().manual_seed(mix_seed(self.seed, epoch, self.positions[i]))
        draw = self.cache.rep.sample_uint8 if self.compact else self.cache.rep.sample
        item = dict(draw(loaded, train=self.train, generator=gen))
        item["label"] = torch.tensor(sample.eval_label if self.score_labels else sample.label)
        item["subject"] = torch.tensor(self.subject_index.get(sample.subject, -1))
        item["index"] = torch.tensor(self.positions[i])
        return item


def compact_x(rep: InputRepresentation) -> bool:
    """Whether ``rep`` can hand over ``x`` as uint8 and normalise whole batches later
    (optional methods ``sample_uint8`` and ``normalize_batch``)."""
    return callable(getattr(rep, "sample_uint8", None)) and callable(getattr(rep, "normalize_batch", None))


def collate(items: list[dict[str, torch.Tensor]]) -> Batch:
    """Stack dataset items into a :class:`Batch`."""
    keys = items[0].keys()
    stacked = {k: torch.stack([it[k] for it in items]) for k in keys}
    side = {k: v for k, v in stacked.items() if k not in ("x", "label", "subject", "index")}
    return Batch(
        x=stacked["x"],
        label=stacked["label"].long(),
        subject=stacked["subject"].long(),
        index=stacked["index"].long(),
        side=side,
    )


class EpochSampler(Sampler[list[int]]):
    """Yields batches of dataset positions for one epoch.

    ``balanced=True`` is class-balanced sampling (Selective Learning): every
    batch holds ``batch_size // K`` samples of each class (drawn with
    replacement for small classes); ``batch_size`` must be a multiple of K.

    Sharding by ``rank`` / ``world_size`` (DistributedDataParallel):
    ``even=True`` (training) splits every batch between the ranks (rank r
    takes ``batch[r::world_size]``), so the ranks together take the same
    optimisation steps on the same samples as one process, and every rank
    takes the same number of steps (a batch smaller than ``world_size`` lends
    its samples round-robin). ``even=False`` (evaluation) deals whole batches
    round-robin: every sample is drawn by exactly one rank.
    """

    def __init__(
        self,
        labels: Sequence[int],
        batch_size: int,
        *,
        shuffle: bool,
        seed: int,
        balanced: bool = False,
        num_classes: int | None = None,
        rank: int = 0,
        world_size: int = 1,
        even: bool = True,
    ) -> None:
        self.labels = np.asarray(labels)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.balanced = balanced
        self.num_classes = num_classes or (int(self.labels.max()) + 1 if len(self.labels) else 0)
        self.rank, self.world_size, self.even = rank, world_size, even
        self.epoch = 0
        if balanced and batch_size % self.num_classes:
            from ..errors import OptionError

            raise OptionError(
                f"balanced sampling needs batch_size to be a multiple of the {self.num_classes} "
                f"classes, got {batch_size}; use e.g. batch_size={self.num_classes * max(1, batch_size // self.num_classes)}"
            )

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _batches(self) -> list[list[int]]:
        n = len(self.labels)
        rng = np.random.default_rng(mix_seed(self.seed, self.epoch))
        if self.balanced:
            per_class = self.batch_size // self.num_classes
            pools = [np.flatnonzero(self.labels == c) for c in range(self.num_classes)]
            pools = [p for p in pools if len(p)]
            n_batches = math.ceil(n / (per_class * len(pools)))
            batches = []
            for _ in range(n_batches):
                batch = [int(i) for p in pools for i in rng.choice(p, per_class, replace=len(p) < per_class)]
                rng.shuffle(batch)
                batches.append(batch)
            return batches
        order = rng.permutation(n) if self.shuffle else np.arange(n)
        return [order[i : i + self.batch_size].tolist() for i in range(0, n, self.batch_size)]

    def _shard(self, batches: list[list[int]]) -> list[list[int]]:
        if self.world_size == 1:
            return batches
        if not self.even:
            return batches[self.rank :: self.world_size]
        return [b[self.rank :: self.world_size] or [b[self.rank % len(b)]] for b in batches if b]

    def __iter__(self) -> Iterator[list[int]]:
        yield from self._shard(self._batches())

    def __len__(self) -> int:
        return len(self._shard(self._batches()))


class EpochTagged(Sampler[list[tuple[int, int]]]):
    """Wraps an :class:`EpochSampler`: yields ``[(position, epoch), ...]`` so that loader workers,
    which keep their own copy of the dataset, draw the epoch the sampler is at."""

    def __init__(self, sampler: EpochSampler) -> None:
        self.sampler = sampler

    def set_epoch(self, epoch: int) -> None:
        self.sampler.set_epoch(epoch)

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        epoch = self.sampler.epoch
        for batch in self.sampler:
            yield [(i, epoch) for i in batch]

    def __len__(self) -> int:
        return len(self.sampler)

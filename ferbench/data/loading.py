"""From manifest samples to :class:`~ferbench.components.Batch` objects.

* :class:`InputCache` keeps each sample's ``InputRepresentation.load`` output
  on disk (torch tensors) so decoding happens once per input configuration,
  and in memory for the life of the process.
* :class:`FERDataset` draws per-sample tensors with a generator seeded from
  (seed, epoch, sample position): results do not depend on worker count or
  order, and a resumed run draws exactly what an uninterrupted one would.
* :class:`EpochSampler` shuffles (optionally class-balanced) per epoch and
  shards by rank, so the engine can run under DistributedDataParallel.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from ..components import Batch, InputRepresentation
from ..fileio import atomic_torch_save
from ..seeding import mix_seed
from ..options import stable_hash
from .manifest import Sample


class InputCache:
    """Disk + memory cache of ``input.load(sample)`` outputs.

    Files live under ``root/<input_name>-<input.cache_key()>/<sample_id>-<source_key>.pt``;
    ``source_key`` hashes the media path, size and mtime, so an edited file is re-read.
    A cache file that cannot be read (truncated by a crash, say) is regenerated, with
    one line through ``log``.
    """

    def __init__(self, root: Path | None, input_name: str, rep: InputRepresentation,
                 log: Callable[[str], None] | None = None) -> None:
        self.rep = rep
        self.dir = None if root is None else Path(root) / f"{input_name}-{rep.cache_key()}"
        self.log = log or (lambda line: print(line, file=sys.stderr))
        self._memory: dict[str, dict[str, torch.Tensor]] = {}

    def _file(self, sample: Sample) -> Path | None:
        if self.dir is None:
            return None
        try:
            st = os.stat(sample.path)
            source = stable_hash([sample.path, st.st_size, st.st_mtime_ns], length=10)
        except OSError:
            return None  # load() below reports the missing file clearly
        return self.dir / f"{stable_hash(sample.id, length=16)}-{source}.pt"

    def _read(self, path: Path) -> dict[str, torch.Tensor] | None:
        try:
            return torch.load(path, weights_only=True)
        except Exception as err:  # noqa: BLE001 - any unreadable cache file is regenerated
            self.log(f"note: input cache file {path} was unreadable ({type(err).__name__}); regenerating it")
            return None

    def _load(self, sample: Sample) -> dict[str, torch.Tensor]:
        path = self._file(sample)
        loaded = self._read(path) if path is not None and path.is_file() else None
        if loaded is None:
            loaded = self.rep.load(sample)
            if path is not None:
                atomic_torch_save(loaded, path)
        return loaded

    def ensure(self, sample: Sample) -> None:
        """Decode ``sample`` into the disk cache if it is not there (raises what ``load`` raises)."""
        path = self._file(sample)
        if path is None or not path.is_file():
            loaded = self.rep.load(sample)
            if path is not None:
                atomic_torch_save(loaded, path)
            else:
                self._memory[sample.id] = loaded

    def get(self, sample: Sample) -> dict[str, torch.Tensor]:
        if sample.id in self._memory:
            return self._memory[sample.id]
        loaded = self._load(sample)
        self._memory[sample.id] = loaded
        return loaded


class FERDataset(Dataset):
    """Samples of one split, drawn through an input representation.

    Items are dicts: ``x`` [T, C, H, W], side tensors, ``label``, ``subject``, ``index``.
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

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def labels(self) -> list[int]:
        return [s.eval_label if self.score_labels else s.label for s in self.samples]

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        sample = self.samples[i]
        gen = torch.Generator().manual_seed(mix_seed(self.seed, self.epoch, self.positions[i]))
        item = dict(self.cache.rep.sample(self.cache.get(sample), train=self.train, generator=gen))
        item["label"] = torch.tensor(sample.eval_label if self.score_labels else sample.label)
        item["subject"] = torch.tensor(self.subject_index.get(sample.subject, -1))
        item["index"] = torch.tensor(self.positions[i])
        return item


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
    Batches are sharded by ``rank`` / ``world_size``.
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
    ) -> None:
        self.labels = np.asarray(labels)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.balanced = balanced
        self.num_classes = num_classes or (int(self.labels.max()) + 1 if len(self.labels) else 0)
        self.rank, self.world_size = rank, world_size
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

    def __iter__(self) -> Iterator[list[int]]:
        batches = self._batches()
        yield from batches[self.rank :: self.world_size]

    def __len__(self) -> int:
        return len(self._batches()[self.rank :: self.world_size])

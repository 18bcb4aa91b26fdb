"""The check of a run's samples before training: every sample read once, failures collected, never a crash.

With the disk cache (``cache=disk``) each sample is decoded into it, after
checking that the cache will fit on its disk (:mod:`~ferbench.data.cache_space`):
before anything is decoded when the input declares its size, else after the
first sample is written. With ``cache=none`` the check is cheap: each media
file opens and its first frame decodes (a file broken further in stops the run
with one line naming the sample when it is drawn). A sample that fails
(missing, corrupt, truncated, no face mesh, ...) is returned with its reason;
the run leaves it out and lists it.
"""

from __future__ import annotations

from typing import Sequence

from ..data.cache_space import declared_bytes, require_space
from ..data.loading import InputCache
from ..data.manifest import Sample
from ..errors import FerbenchError
from .distributed import all_gather_objects


def check_samples(cache: InputCache, samples: Sequence[Sample], *, what: str, rank: int = 0, world_size: int = 1,
                  progress: bool = False) -> dict[str, str]:
    """Check ``samples`` through ``cache``; returns the failures (sample id -> one-line reason).

    Args:
        cache: the run's input cache.
        samples: the samples to check.
        what: names the cache in the disk-space message (``"the input cache of rgb for dfew"``).
        rank, world_size: under torchrun each rank checks every ``world_size``-th sample; the
            failures of all ranks are returned on every rank.
        progress: a progress bar.
    """
    from tqdm.auto import tqdm

    cache.open()
    declared = hasattr(cache.rep, "loaded_bytes")
    if cache.on_disk:
        missing = [s for s in samples if not cache.disk.has(s)]
        needed = declared_bytes(cache.rep, missing) if declared else None
        if needed:
            require_space(cache.dir, needed, what=f"{what} ({len(missing)} samples)")
    mine = list(samples)[rank::world_size]
    failed: dict[str, str] = {}
    measure = cache.on_disk and not declared
    for n, sample in enumerate(tqdm(mine, desc="checking inputs", unit="sample", leave=False, disable=not progress)):
        try:
            written = cache.check(sample)
        except (FerbenchError, OSError) as err:
            failed[sample.id] = str(err).splitlines()[0] if str(err) else type(err).__name__
            continue
        if measure and written:  # no declared size: extrapolate from the first sample written
            measure = False
            rest = [s for s in mine[n + 1 :] if not cache.disk.has(s)]
            if rest:
                require_space(cache.dir, written * len(rest) * world_size,
                              what=f"{what} ({len(rest) * world_size} samples, from the first one's size)")
    out: dict[str, str] = {}
    for part in all_gather_objects(failed):
        out.update(part)
    return out

"""Will an input cache fit on its disk? Checked before a run decodes anything.

An input declares the bytes its ``load()`` returns for a clip of N frames
(``InputRepresentation.loaded_bytes``, optional). The frame counts come from
the manifest (``Sample.num_frames``) or, where it has none, from the headers
of up to :data:`PROBES` files spread over the samples (the mean stands for the
rest). An input without the declaration is checked after its first sample is
written, from that sample's size.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Sequence

from ..errors import DiskSpaceError
from .manifest import Sample
from .media_probe import frame_count

#: most media headers read to estimate frame counts the manifest does not give
PROBES = 32
#: kept free besides the cache: at least this many bytes ...
MARGIN_BYTES = 256 * 1024**2
#: ... or this share of the cache, whichever is more
MARGIN_SHARE = 0.02


def frame_counts(samples: Sequence[Sample], probes: int = PROBES) -> list[int] | None:
    """Frame count per sample: the manifest's, else the mean of up to ``probes`` headers (None if none tell)."""
    unknown = [i for i, s in enumerate(samples) if not s.num_frames]
    counts = [int(s.num_frames or 0) for s in samples]
    if not unknown:
        return counts
    step = max(1, len(unknown) // probes)
    probed = [n for n in (frame_count(samples[i].path) for i in unknown[::step][:probes]) if n]
    if not probed:
        return None
    mean = round(sum(probed) / len(probed))
    for i in unknown:
        counts[i] = mean
    return counts


def declared_bytes(rep: object, samples: Sequence[Sample]) -> int | None:
    """Bytes ``rep.load()`` will return for ``samples``, from the input's declaration (None: not declared
    or frame counts unknown)."""
    per_clip = getattr(rep, "loaded_bytes", None)
    if per_clip is None or not samples:
        return None if per_clip is None else 0
    counts = frame_counts(samples)
    if counts is None:
        return None
    return sum(int(per_clip(n)) for n in counts)


def free_bytes(directory: Path) -> int:
    """Free bytes on the file system that holds (or will hold) ``directory``."""
    path = Path(directory).expanduser().absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def format_bytes(n: float) -> str:
    """``1536`` -> ``"1.5 KB"`` (powers of 1000)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"  # pragma: no cover


def require_space(directory: Path, needed: int, *, what: str, free: int | None = None) -> None:
    """Raise unless ``needed`` bytes (plus a margin) fit where ``directory`` lives.

    Raises:
        DiskSpaceError: one line with the estimate, the free space and the ways out.
    """
    free = free_bytes(directory) if free is None else free
    margin = max(MARGIN_BYTES, int(MARGIN_SHARE * needed))
    if needed + margin > free:
        raise DiskSpaceError(
            f"{what} needs about {format_bytes(needed)} in {directory} but only {format_bytes(free)} is free; "
            "free some space ('ferbench cache list' / 'ferbench cache clean'), use --cache-dir on a bigger disk, "
            "or decode in the loader instead with --train-opt cache=none"
        )

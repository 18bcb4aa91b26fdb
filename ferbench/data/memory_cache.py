"""An in-process cache of loaded samples bounded by a byte budget (least recently used out first).

The budget is parsed from the ``cache_mem`` training option by
:func:`memory_budget`: ``auto``, a size (``512MB``, ``2GiB``, ``0``) or a share of
the memory available when the run starts (``25%``).
"""

from __future__ import annotations

import collections
import os
import re
from typing import Literal

import torch

from ..errors import OptionError

_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
          "t": 1000**4, "tb": 1000**4, "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}
_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*$")

#: share of the available memory that ``cache_mem=auto`` gives a run that decodes in the loader (cache=none)
AUTO_SHARE_NO_DISK = 0.25


def tensors_nbytes(tensors: dict[str, torch.Tensor]) -> int:
    """Bytes held by the tensors of one loaded sample."""
    return sum(t.numel() * t.element_size() for t in tensors.values())


def available_memory() -> int:
    """Bytes of memory available to new allocations (``MemAvailable``; total memory where /proc is missing)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - exotic platforms
        return 0


def parse_size(text: str, *, what: str = "cache_mem") -> int:
    """``"512MB"`` -> 512_000_000, ``"2GiB"`` -> 2 * 1024**3, ``"0"`` -> 0 (bytes).

    Raises:
        OptionError: not a size.
    """
    m = _SIZE.match(str(text))
    unit = m.group(2).lower() if m else ""
    if not m or unit not in _UNITS:
        raise OptionError(f"{what}={text!r} is not a size; use auto, a size such as 512MB or 2GiB, or a share such as 25%")
    return int(float(m.group(1)) * _UNITS[unit])


def memory_budget(spec: str, *, mode: Literal["disk", "none"], available: int | None = None) -> int:
    """Bytes the in-process cache of a run may hold.

    ``auto``: 0 with the disk cache (warm epochs read the memory-mapped files, so the
    operating system's page cache, shared by every loader worker and given back under
    memory pressure, is the memory cache), :data:`AUTO_SHARE_NO_DISK` of the available
    memory with ``cache=none`` (decoding again is the expensive path). ``"25%"``: that
    share of the available memory. Anything else: a size (:func:`parse_size`).
    """
    spec = str(spec).strip().lower()
    if spec == "auto":
        if mode == "disk":
            return 0
        return int(AUTO_SHARE_NO_DISK * (available_memory() if available is None else available))
    if spec.endswith("%"):
        try:
            share = float(spec[:-1]) / 100
        except ValueError:
            share = -1.0
        if not 0 <= share <= 1:
            raise OptionError(f"cache_mem={spec!r}: a share must be between 0% and 100%")
        return int(share * (available_memory() if available is None else available))
    return parse_size(spec)


class MemoryLRU:
    """Loaded samples by key, at most ``capacity`` bytes, least recently used evicted first.

    A sample larger than the whole budget is not kept. ``capacity=0`` keeps nothing.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = max(int(capacity), 0)
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self._items: collections.OrderedDict[str, tuple[dict[str, torch.Tensor], int]] = collections.OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: str) -> bool:
        return key in self._items

    def get(self, key: str) -> dict[str, torch.Tensor] | None:
        """The entry (now most recently used), or None."""
        entry = self._items.get(key)
        if entry is None:
            self.misses += 1
            return None
        self._items.move_to_end(key)
        self.hits += 1
        return entry[0]

    def put(self, key: str, tensors: dict[str, torch.Tensor]) -> bool:
        """Keep ``tensors`` under ``key`` if they fit the budget; returns whether they were kept."""
        size = tensors_nbytes(tensors)
        if size > self.capacity:
            return False
        if key in self._items:
            self.bytes -= self._items.pop(key)[1]
        while self._items and self.bytes + size > self.capacity:
            _, (_, evicted) = self._items.popitem(last=False)
            self.bytes -= evicted
        self._items[key] = (tensors, size)
        self.bytes += size
        return True

    def resize(self, capacity: int) -> None:
        """Change the budget, evicting what no longer fits."""
        self.capacity = max(int(capacity), 0)
        while self._items and self.bytes > self.capacity:
            _, (_, evicted) = self._items.popitem(last=False)
            self.bytes -= evicted

    def clear(self) -> None:
        self._items.clear()
        self.bytes = 0

"""The on-disk input cache: one folder of ``.npy`` files per sample, read memory-mapped.

Layout of one cache folder (one input representation with one ``cache_key``)::

    <cache_dir>/inputs/<dataset>/<input>-<cache_key>-npy/
        cache.json                      what the folder belongs to (CacheInfo); touched by every run using it
        <hash of sample id>/<hash of source file path, size, mtime>/
            frames.npy                  one uint8/float16/... array per tensor ``load()`` returned
            apex.npy

A sample's folder is written under a temporary name and renamed into place, so
a reader sees all of a sample or none of it; an older version of the same
sample (its source file changed) is removed when the new one lands. Arrays of
64 KiB and more are opened with ``numpy.load(mmap_mode="c")``: a warm epoch
reads them at page-cache speed, nothing is unpickled, only the frames a draw
selects are touched, and the pages are shared by every loader worker. An entry
that cannot be read (a crash during writing, a disk error) is removed and
decoded again, with one line through ``log``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from ..errors import FerbenchError
from ..fileio import atomic_write_json
from ..options import stable_hash
from .manifest import Sample

#: suffix of cache folders in this layout (folders of the earlier ``.pt`` layout have none)
LAYOUT_SUFFIX = "npy"
INFO_FILE = "cache.json"
#: arrays smaller than this are read into memory instead of memory-mapped (a mapping costs a page or more)
MMAP_MIN_BYTES = 64 * 1024
_KEY = re.compile(r"^[A-Za-z0-9_]+$")


@dataclasses.dataclass(frozen=True)
class CacheInfo:
    """What a cache folder belongs to; stored as ``cache.json`` and shown by ``ferbench cache list``.

    Attributes:
        kind: ``"inputs"`` (decoded inputs).
        dataset: the dataset's name (``manifest.dataset``).
        component: the input representation's name (``"rgb"``).
        options: the input options of the run that created the folder, where they differ from the
            defaults (runs whose options give the same ``cache_key`` share the folder).
        cache_key: the input's :meth:`cache_key`.
    """

    kind: str
    dataset: str
    component: str
    options: dict[str, Any]
    cache_key: str

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def source_key(path: str | os.PathLike) -> str | None:
    """A hash of a media file's path, size and modification time (None when it cannot be stat'ed)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return stable_hash([str(path), st.st_size, st.st_mtime_ns], length=10)


def _to_numpy(key: str, tensor: torch.Tensor, owner: str) -> np.ndarray:
    if not _KEY.match(key):
        raise FerbenchError(f"{owner}: load() returned a tensor named {key!r}; names must be letters, digits and "
                            "underscores so they can be cache file names; rename it in the input")
    if not isinstance(tensor, torch.Tensor):
        raise FerbenchError(f"{owner}: load() returned {type(tensor).__name__} for {key!r}, not a tensor; fix the input")
    try:
        return tensor.detach().cpu().contiguous().numpy()
    except TypeError:
        raise FerbenchError(f"{owner}: load() returned {key!r} as {tensor.dtype}, which the disk cache cannot "
                            "store; return uint8, float16 or float32 from load()") from None


_HEADER = re.compile(rb"^\{'descr': '([<>|=]?[a-z][0-9]+)', 'fortran_order': False, 'shape': \(([0-9, ]*)\), \}\s*$")


def _npy_layout(path: Path) -> tuple[np.dtype, tuple[int, ...], int] | None:
    """(dtype, shape, data offset) of a version 1.0 ``.npy`` file as ``np.save`` writes it for a C-ordered
    array, parsed without ``ast`` (numpy's own header parser costs more than the read); None otherwise."""
    with open(path, "rb") as fh:
        head = fh.read(256)
    if head[:8] != b"\x93NUMPY\x01\x00":
        return None
    size = int.from_bytes(head[8:10], "little")
    m = _HEADER.match(head[10 : 10 + size])
    if m is None:
        return None
    shape = tuple(int(d) for d in m.group(2).split(b",") if d.strip())
    return np.dtype(m.group(1).decode()), shape, 10 + size


def _read_array(path: Path) -> np.ndarray:
    nbytes = path.stat().st_size
    layout = _npy_layout(path) if nbytes >= MMAP_MIN_BYTES else None
    if layout is not None:
        dtype, shape, offset = layout
        if offset + dtype.itemsize * int(np.prod(shape)) > nbytes:
            raise ValueError(f"{path.name} is shorter than its header says (truncated)")
        # copy-on-write mapping: writable for torch.from_numpy, never written back to the file
        return np.memmap(path, dtype=dtype, mode="c", offset=offset, shape=shape)
    if nbytes >= MMAP_MIN_BYTES:
        return np.load(path, mmap_mode="c", allow_pickle=False)
    return np.load(path, allow_pickle=False)


class DiskCache:
    """Loaded samples of one input configuration, in the memory-mappable layout above.

    Args:
        directory: the cache folder (created on first write).
        owner: who the tensors come from, for error messages (``"input 'rgb'"``).
        log: one line at a time (unreadable entries).
    """

    def __init__(self, directory: Path, *, owner: str = "input", log: Callable[[str], None] = print) -> None:
        self.dir = Path(directory)
        self.owner = owner
        self.log = log

    def entry(self, sample: Sample) -> Path | None:
        """The folder of ``sample``'s current version (None when its media cannot be stat'ed)."""
        source = source_key(sample.path)
        if source is None:
            return None
        return self.dir / stable_hash(sample.id, length=16) / source

    def has(self, sample: Sample) -> bool:
        entry = self.entry(sample)
        return entry is not None and entry.is_dir()

    def read(self, sample: Sample) -> dict[str, torch.Tensor] | None:
        """``sample``'s tensors (large ones memory-mapped), or None when absent or unreadable."""
        entry = self.entry(sample)
        if entry is None:
            return None
        try:
            names = os.listdir(entry)
        except FileNotFoundError:
            return None
        except OSError as err:
            return self._unreadable(entry, err)
        try:
            return {name[:-4]: torch.from_numpy(_read_array(entry / name)) for name in names if name.endswith(".npy")}
        except (ValueError, OSError, EOFError) as err:
            return self._unreadable(entry, err)

    def _unreadable(self, entry: Path, err: Exception) -> None:
        self.log(f"note: input cache entry {entry} was unreadable ({type(err).__name__}); regenerating it")
        shutil.rmtree(entry, ignore_errors=True)
        return None

    def write(self, sample: Sample, tensors: dict[str, torch.Tensor]) -> int:
        """Store ``sample``'s tensors; returns the bytes written (0 when its media cannot be stat'ed)."""
        entry = self.entry(sample)
        if entry is None:
            return 0
        arrays = {k: _to_numpy(k, v, self.owner) for k, v in tensors.items()}
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = entry.parent / f".tmp-{entry.name}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        try:
            for key, array in arrays.items():
                np.save(tmp / f"{key}.npy", array, allow_pickle=False)
            for old in entry.parent.iterdir():  # an older version of this sample (its media changed)
                if old.name != entry.name and not old.name.startswith(".tmp-"):
                    shutil.rmtree(old, ignore_errors=True)
            try:
                os.rename(tmp, entry)
            except OSError:  # another process wrote the same entry first: keep theirs
                if not entry.is_dir():
                    raise
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return sum(a.nbytes for a in arrays.values())

    def write_info(self, info: CacheInfo) -> None:
        """Record what the folder belongs to (``cache.json``) and mark it as used now."""
        path = self.dir / INFO_FILE
        if path.is_file():
            os.utime(path)
        else:
            atomic_write_json(path, {**info.to_json(), "layout": LAYOUT_SUFFIX, "created": time.time()})


def read_info(folder: Path) -> dict[str, Any] | None:
    """A cache folder's ``cache.json`` (None when absent or unreadable)."""
    try:
        info = json.loads((Path(folder) / INFO_FILE).read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None

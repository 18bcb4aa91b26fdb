"""One process per fold: an advisory file lock around training and recording a fold.

Two identical runs started at once (two terminals, two array tasks) would
otherwise train the same fold twice and write two records. The second
process waits for the first to finish the fold, then finds it recorded and
skips it. Locks are ``fcntl.flock`` locks, released by the kernel when the
holder exits (also on ``kill -9``), so a crash never leaves a stale lock.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Callable, Iterator

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no locking (documented)
    fcntl = None  # type: ignore[assignment]


@contextlib.contextmanager
def fold_lock(path: Path, *, log: Callable[[str], None] = print, what: str = "this fold") -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) for the ``with`` block.

    When another process holds it, logs one line and waits.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                log(f"{what} is being trained by {holder}; waiting for it to finish")
                fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)

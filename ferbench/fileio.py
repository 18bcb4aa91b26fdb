"""Writing files safely: atomic replacement, and CSV cells spreadsheets cannot run.

Every file ferbench writes that another process (or a later run) reads goes
through :func:`atomic_path`: the content is written to a temporary file next
to the target and renamed over it, so readers see the old file or the whole
new one, never half of it, and a killed process leaves no partial file.

Every CSV ferbench writes goes through :func:`write_csv` (or
:func:`neutralise_cell`): string cells that start with ``= + - @``, a tab or a
carriage return get a leading ``'`` so spreadsheets show them as text instead
of running them as formulas (sample ids come from file names a user chose).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path`` atomically.

    The temporary file sits in the target's folder (same file system) and keeps
    the target's suffix, so writers that pick a format from the suffix (PyAV,
    Pillow, numpy) behave the same. On an exception it is removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def atomic_write_json(path: str | Path, obj: Any, **dumps: Any) -> None:
    """Write ``obj`` as JSON (sorted keys, indent 1 unless given) atomically."""
    dumps.setdefault("indent", 1)
    dumps.setdefault("sort_keys", True)
    atomic_write_text(path, json.dumps(obj, default=str, **dumps))


def atomic_torch_save(obj: Any, path: str | Path) -> None:
    """``torch.save(obj, path)`` atomically (an interruption never leaves half a checkpoint)."""
    import torch

    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def read_json(path: str | Path) -> Any:
    """A JSON file's content, or None when it is missing or unreadable (a torn or foreign file)."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def neutralise_cell(value: Any) -> Any:
    """Prefix ``'`` to a string a spreadsheet would read as a formula; other values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV text of ``rows`` under ``header``, every string cell neutralised."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([neutralise_cell(h) for h in header])
    for row in rows:
        writer.writerow([neutralise_cell(v) for v in row])
    return buf.getvalue()


def write_csv(path: str | Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    """Write a CSV file atomically with neutralised cells; returns ``path``."""
    atomic_write_text(path, csv_text(header, rows))
    return Path(path)

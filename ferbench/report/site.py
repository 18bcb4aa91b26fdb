"""Write the report site: gather, render every page, swap the new site in whole.

The site is built in a temporary folder beside ``out`` and renamed over it at
the end, so a failed build leaves the previous site as it was. ``out`` must
be missing, empty, or a site an earlier ``ferbench report`` wrote (it holds
the marker file :data:`MARKER`): a folder with other content is refused, so
no user file is ever deleted.

Layout::

    index.html            leaderboards
    cost.html             accuracy vs cost
    claims.html           claims (or how to make them)
    rows/<id>.html        one page per measured row
    rows/<id>/            reproduce.toml, folds.csv, seed<s>-fold<k>.json, seed<s>-fold<k>.predictions.csv
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import os
import shutil
from pathlib import Path
from typing import Any, Sequence

from ..errors import FerbenchError
from ..paths import default_output_dir
from .claims_page import claims_html
from .cost_page import cost_html
from .gather import CLAIMS_FILE, ReportData, gather_report
from .index_page import index_html, row_page_name
from .row_page import row_files, row_html

__all__ = ["MARKER", "ReportOptions", "ReportSummary", "build_report"]

MARKER = ".ferbench-report"


@dataclasses.dataclass(frozen=True)
class ReportOptions:
    """What ``ferbench report`` builds.

    Attributes:
        out: the site folder to write (replaced whole; must be missing, empty or an earlier report).
        output_dir: where ``results.sqlite``, the run folders and ``claims.json`` live.
        datasets: dataset names to include (empty: every dataset with a row).
    """

    out: str = "site"
    output_dir: str = dataclasses.field(default_factory=default_output_dir)
    datasets: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class ReportSummary:
    """What a build wrote.

    Attributes:
        index: the index page.
        rows: leaderboard rows shown (measured and reported).
        row_pages: measured rows with a page.
        datasets: datasets shown.
        claims: claims in the claims table (None without ``claims.json``).
        notes: one-line remarks (missing store, rows without records, unreadable claims file).
    """

    index: Path
    rows: int
    row_pages: int
    datasets: tuple[str, ...]
    claims: int | None
    notes: tuple[str, ...]


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise FerbenchError(f"--out {out} is a file; give a folder for the site")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise FerbenchError(f"--out {out} holds other files and is not a ferbench report; "
                            "choose a new or empty folder")


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def write_site(data: ReportData, root: Path, generated: str) -> int:
    """Render every page of ``data`` into the folder ``root``; returns the number of row pages."""
    _write(root, "index.html", index_html(data, generated))
    _write(root, "cost.html", cost_html(data, generated))
    _write(root, "claims.html", claims_html(data.claims, data.claims_problem, data.output_dir / CLAIMS_FILE, generated))
    for rid, row in data.measured.items():
        files = row_files(row)
        folder = root / "rows" / rid
        folder.mkdir(parents=True, exist_ok=True)
        _write(folder, files.toml_name, files.toml_text)
        if files.folds_csv:
            _write(folder, files.folds_csv, files.folds_csv_text)
        for name, source in files.copies:
            shutil.copyfile(source, folder / name)
        _write(root, row_page_name(rid), row_html(row, files, generated))
    (root / MARKER).write_text("written by ferbench report; the folder is replaced whole on the next build\n")
    return len(data.measured)


def build_report(options: ReportOptions, registry: Any) -> ReportSummary:
    """Gather the results under ``options.output_dir`` and write the site to ``options.out``.

    Raises:
        FerbenchError: ``out`` is a file or a folder with other content; a requested dataset has no row.
    """
    out = Path(options.out).expanduser().absolute()
    _check_out(out)
    data = gather_report(options.output_dir, registry, options.datasets or None)
    generated = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.with_name(f".{out.name}.tmp{os.getpid()}")
    old = out.with_name(f".{out.name}.old{os.getpid()}")
    for leftover in (staging, old):
        shutil.rmtree(leftover, ignore_errors=True)
    try:
        staging.mkdir()
        pages = write_site(data, staging, generated)
        if out.exists():
            os.replace(out, old)
        os.replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    notes = list(data.notes) + ([data.claims_problem] if data.claims_problem else [])
    return ReportSummary(out / "index.html", len(data.rows), pages, tuple(data.datasets()),
                         None if data.claims is None else len(data.claims), tuple(notes))


def report_datasets(values: Sequence[str] | None) -> tuple[str, ...]:
    """``--dataset`` values as a tuple of names (comma-separated values split)."""
    return tuple(d.strip() for v in values or () for d in v.split(",") if d.strip())

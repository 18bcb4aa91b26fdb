"""What the report shows, gathered once: leaderboard rows, each measured row's fold records, claims.

:func:`gather_report` reads the results store under ``output_dir``, builds the
leaderboard with the papers' reported rows (:func:`ferbench.leaderboard.build_leaderboard`),
and ties every measured row to its fold records (the records whose
(dataset, protocol, combination, setup, selection) hash to the row's ``id``,
one per (config hash, seed, fold), newest kept) and to their fold folders
``<output_dir>/runs/<config hash>/fold<k>/``. Missing folders and files are
allowed: the pages say what is missing.
"""

from __future__ import annotations

import csv
import dataclasses
import math
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from ..errors import FerbenchError
from ..kinds import COMBINATION_KINDS
from ..leaderboard import build_leaderboard, dataset_name, row_id
from ..results import FoldRecord, ResultsStore
from .claims import ClaimRow, read_claims

__all__ = ["BoardRow", "FoldEntry", "MeasuredRow", "ReportData", "gather_report"]

#: the file the ``ferbench claims`` command writes beside the results store
CLAIMS_FILE = "claims.json"


def _number(value: Any) -> float | None:
    """A finite float, or None for missing values (NaN, pd.NA, None)."""
    if value is None or value is pd.NA:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def _text(value: Any) -> str:
    return "" if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) else str(value)


@dataclasses.dataclass(frozen=True)
class BoardRow:
    """One leaderboard row as the report shows it.

    Attributes:
        id: the leaderboard's short row id (6 hex digits).
        dataset: the dataset label (``"synthetic[identity_bias=0.8]"`` for a variant).
        dataset_name: the dataset without its options (``"synthetic"``): the index groups by it.
        protocol: protocol text (measured: ferbench's; reported: as the paper states it).
        combination: the combination label.
        setup: non-default training options (measured rows).
        kind: ``"measured"`` or ``"reported"``.
        selection: checkpoint scored, ``"last"`` or ``"best-val"`` (measured rows).
        folds: fold records pooled (None for reported rows).
        war, uar, macro_f1: means in percent (None when missing).
        war_std, uar_std, macro_f1_std: sample std over fold records, percent (None when missing).
        params: parameters (count); macs: multiply-accumulates per sample; frames_per_s: inference
            throughput (None when missing).
        seeds: the seeds pooled, ascending.
        source: ``"ferbench"`` or the paper, table and method of a reported row.
        plugins: the plugins the row comes from (measured: those of its components; reported: the paper).
    """

    id: str
    dataset: str
    dataset_name: str
    protocol: str
    combination: str
    setup: str
    kind: str
    selection: str
    folds: int | None
    war: float | None
    war_std: float | None
    uar: float | None
    uar_std: float | None
    macro_f1: float | None
    macro_f1_std: float | None
    params: float | None
    macs: float | None
    frames_per_s: float | None
    seeds: tuple[int, ...]
    source: str
    plugins: tuple[str, ...]

    @property
    def measured(self) -> bool:
        return self.kind == "measured"

    def metric(self, name: str) -> tuple[float | None, float | None]:
        """(mean, std) of ``"war"``, ``"uar"`` or ``"macro_f1"``."""
        return getattr(self, name), getattr(self, f"{name}_std")


@dataclasses.dataclass(frozen=True)
class FoldEntry:
    """One fold record of a measured row and its fold folder.

    Attributes:
        record: the stored record.
        fold_dir: ``<output_dir>/runs/<config hash>/fold<k>/`` when it exists, else None.
    """

    record: FoldRecord
    fold_dir: Path | None

    def file(self, name: str) -> Path | None:
        """``fold_dir / name`` when that file exists."""
        if self.fold_dir is None:
            return None
        path = self.fold_dir / name
        return path if path.is_file() else None


@dataclasses.dataclass(frozen=True)
class MeasuredRow:
    """A measured leaderboard row with everything its page shows.

    Attributes:
        row: the leaderboard row.
        folds: its fold records, ordered by (seed, fold).
        class_names: K class names (from a fold's ``predictions.csv`` header, else ``class 0`` ...).
    """

    row: BoardRow
    folds: tuple[FoldEntry, ...]
    class_names: tuple[str, ...]

    @property
    def records(self) -> list[FoldRecord]:
        return [f.record for f in self.folds]


@dataclasses.dataclass(frozen=True)
class ReportData:
    """Everything the site is built from.

    Attributes:
        rows: every leaderboard row (measured and reported), datasets alphabetical, best first.
        measured: row id -> the measured row's details.
        claims: the claims table, or None when ``claims.json`` does not exist.
        claims_problem: one line when ``claims.json`` exists but could not be read, else ``""``.
        store_path: the results database read (it may not exist).
        output_dir: the folder holding the store and run folders.
        notes: one-line remarks for the index (missing store, rows without records ...).
    """

    rows: tuple[BoardRow, ...]
    measured: dict[str, MeasuredRow]
    claims: tuple[ClaimRow, ...] | None
    claims_problem: str
    store_path: Path
    output_dir: Path
    notes: tuple[str, ...] = ()

    def datasets(self) -> list[str]:
        """Dataset names with at least one row: those with measured rows first, then by name."""
        measured = {r.dataset_name for r in self.rows if r.measured}
        return sorted({r.dataset_name for r in self.rows}, key=lambda d: (d not in measured, d))

    def plugins(self) -> list[str]:
        """Every plugin a row comes from, alphabetical."""
        return sorted({p for r in self.rows for p in r.plugins})


def _record_row_id(record: FoldRecord) -> str:
    """The leaderboard row id a measured record is pooled into (the leaderboard's own grouping)."""
    return row_id({"dataset": record.dataset, "protocol": record.protocol, "combination": record.combination,
                   "setup": str(record.config.get("setup", "")), "selection": record.selection,
                   "kind": "measured", "source": "ferbench"})


def _component_plugins(record: FoldRecord, registry: Any) -> tuple[str, ...]:
    """Plugins of a record's components (every kind in the combination); unknown ones are left out."""
    out = set()
    components = record.config.get("components") or {}
    for kind in COMBINATION_KINDS:
        name = (components.get(kind) or {}).get("name")
        if not name:
            continue
        try:
            out.add(registry.get(kind, name).plugin or "core")
        except FerbenchError:
            continue
    return tuple(sorted(out))


def _fold_dir(record: FoldRecord, output_dir: Path) -> Path | None:
    """The record's fold folder under ``output_dir`` (or the output folder the run was given)."""
    candidates = [output_dir]
    recorded = record.config.get("output_dir")
    if recorded:
        candidates.append(Path(str(recorded)).expanduser())
    for base in candidates:
        path = base / "runs" / record.config_hash / f"fold{record.fold}"
        if path.is_dir():
            return path
    return None


def class_names_from_predictions(path: Path | None, k: int) -> tuple[str, ...] | None:
    """The ``p_<class>`` column names of a ``predictions.csv`` header, when it has exactly ``k`` of them."""
    if path is None:
        return None
    try:
        with open(path, newline="") as fh:
            header = next(csv.reader(fh), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    names = tuple(h[2:] for h in header if h.startswith("p_"))
    return names if len(names) == k and k else None


def _num_classes(records: Sequence[FoldRecord]) -> int:
    sizes = [len(r.metrics.get("confusion") or []) for r in records]
    sizes = [s for s in sizes if s]
    return max(set(sizes), key=sizes.count) if sizes else 0


def _dedupe(records: Sequence[FoldRecord]) -> list[FoldRecord]:
    """One record per (config hash, seed, fold): the newest (records come in insertion order)."""
    latest: dict[tuple, FoldRecord] = {}
    for r in records:
        latest[(r.config_hash, int(r.seed), int(r.fold))] = r
    return list(latest.values())


def _board_rows(board: pd.DataFrame, plugins: dict[str, tuple[str, ...]]) -> list[BoardRow]:
    rows = []
    for _, r in board.iterrows():
        kind = _text(r["kind"])
        seeds = tuple(int(s) for s in _text(r["seeds"]).split(",") if s.strip())
        source = _text(r["source"])
        if kind == "reported":
            row_plugins = (source.split(" ", 1)[0],) if source else ()
        else:
            row_plugins = plugins.get(_text(r["id"]), ())
        folds = _number(r["folds"])
        rows.append(BoardRow(
            id=_text(r["id"]), dataset=_text(r["dataset"]), dataset_name=dataset_name(_text(r["dataset"])),
            protocol=_text(r["protocol"]), combination=_text(r["combination"]), setup=_text(r["setup"]),
            kind=kind, selection=_text(r["selection"]), folds=None if folds is None else int(folds),
            war=_number(r["war"]), war_std=_number(r["war_std"]), uar=_number(r["uar"]),
            uar_std=_number(r["uar_std"]), macro_f1=_number(r["macro_f1"]), macro_f1_std=_number(r["macro_f1_std"]),
            params=_number(r["params"]), macs=_number(r["macs"]), frames_per_s=_number(r["frames_per_s"]),
            seeds=seeds, source=source, plugins=row_plugins,
        ))
    return rows


def gather_report(output_dir: str | Path, registry: Any, datasets: Sequence[str] | None = None) -> ReportData:
    """Read the store and claims under ``output_dir`` and build the report's data.

    Args:
        output_dir: the folder with ``results.sqlite``, ``runs/`` and (optionally) ``claims.json``.
        registry: installed plugins (reported rows, component plugins).
        datasets: keep only these dataset names (measured and reported); None keeps all.

    Raises:
        FerbenchError: a requested dataset has neither measured nor reported rows.
    """
    output_dir = Path(output_dir).expanduser()
    store_path = output_dir / "results.sqlite"
    notes: list[str] = []
    wanted = set(datasets) if datasets else None
    if store_path.is_file():
        store = ResultsStore(store_path)
        records = [r for r in store.records(status="ok")
                   if wanted is None or dataset_name(r.dataset) in wanted]
        frame = store.dataframe(status="ok")
        if wanted is not None and len(frame):
            frame = frame[frame["dataset"].map(dataset_name).isin(wanted)]
    else:
        notes.append(f"no results yet at {store_path}: reported rows only (run 'ferbench run' first)")
        records, frame = [], pd.DataFrame()
    board = build_leaderboard(frame, registry.reported_results())
    if wanted is not None and len(board):
        board = board[board["dataset"].map(dataset_name).isin(wanted)]
    if wanted is not None:
        present = {dataset_name(d) for d in board["dataset"]} if len(board) else set()
        missing = sorted(wanted - present)
        if missing:
            raise FerbenchError(
                f"no measured or reported rows for dataset(s) {', '.join(missing)}; "
                f"run them first or drop them from --dataset"
            )

    by_row: dict[str, list[FoldRecord]] = {}
    for record in _dedupe(records):
        by_row.setdefault(_record_row_id(record), []).append(record)
    plugins = {rid: tuple(sorted({p for r in recs for p in _component_plugins(r, registry)}))
               for rid, recs in by_row.items()}
    rows = _board_rows(board, plugins)

    measured: dict[str, MeasuredRow] = {}
    for row in rows:
        if not row.measured:
            continue
        recs = sorted(by_row.get(row.id, []), key=lambda r: (int(r.seed), int(r.fold)))
        if not recs:
            notes.append(f"row {row.id} ({row.combination}) has no fold records to show")
            continue
        entries = tuple(FoldEntry(r, _fold_dir(r, output_dir)) for r in recs)
        k = _num_classes(recs)
        names = next((n for n in (class_names_from_predictions(e.file("predictions.csv"), k) for e in entries) if n),
                     None)
        measured[row.id] = MeasuredRow(row, entries, names or tuple(f"class {i}" for i in range(k)))

    claims, claims_problem = None, ""
    claims_path = output_dir / CLAIMS_FILE
    if claims_path.is_file():
        claims, claims_problem = read_claims(claims_path)
    return ReportData(tuple(rows), measured, claims, claims_problem, store_path, output_dir, tuple(notes))

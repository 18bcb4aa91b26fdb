"""Results store: one SQLite row per (run, fold), safe under concurrency and kills.

Properties the engine relies on:

* **One record, one transaction.** :meth:`ResultsStore.add` inserts a record in
  a single ``BEGIN IMMEDIATE ... COMMIT``; a process killed at any point leaves
  every earlier committed record intact and the half-written one absent.
* **Concurrent writers lose nothing.** The database runs in WAL mode with a
  busy timeout, and operations that still meet ``database is locked`` /
  ``busy`` are retried with jittered back-off for up to ``retry_s`` seconds.
* **Process/fork safe.** No connection is kept: every operation opens and
  closes its own, so a store object may be pickled, forked or shared by
  ``multiprocessing`` workers. Only rank 0 should write under DDP.
* **Versioned schema.** A ``schema_version`` table holds :data:`SCHEMA_VERSION`;
  a newer database is refused with a one-line :class:`ResultsStoreError`, an
  older one is migrated in place (v1 -> v2 adds ``history`` and ``sweep``).
* **One "ok" record per fold.** A unique index allows at most one ``"ok"``
  record per (config hash, seed, fold). :meth:`ResultsStore.add` refuses a
  second one with :class:`~ferbench.errors.DuplicateRecordError` unless
  ``replace=True``, which marks the old one ``"superseded"`` and inserts the
  new one in the same transaction. Migrating a v1 database marks every older
  duplicate ``"superseded"`` (kept, never counted).

Dict fields (``config``, ``metrics``, ``timings``, ``versions``) are stored as
JSON text. Metric values are percentages (see :mod:`ferbench.metrics`).
"""

from __future__ import annotations

import dataclasses
import json
import random
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from .errors import DuplicateRecordError, FerbenchError
from .records import HEADLINE_METRICS, SELECTIONS, STATUSES, FoldRecord, RunSummary, utc_now_iso

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "SCHEMA_VERSION",
    "STATUSES",
    "SELECTIONS",
    "FoldRecord",
    "RunSummary",
    "ResultsStore",
    "ResultsStoreError",
    "utc_now_iso",
]

SCHEMA_VERSION = 2
_JSON_FIELDS = ("config", "metrics", "timings", "versions", "history")
_T = TypeVar("_T")


class ResultsStoreError(FerbenchError):
    """A results database that cannot be opened, read or written."""


_COLUMNS = [f.name for f in dataclasses.fields(FoldRecord)]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id      TEXT NOT NULL,
    config_hash TEXT NOT NULL,
    combination TEXT NOT NULL,
    dataset     TEXT NOT NULL,
    protocol    TEXT NOT NULL,
    fold        INTEGER NOT NULL,
    seed        INTEGER NOT NULL,
    status      TEXT NOT NULL,
    selection   TEXT NOT NULL,
    config      TEXT NOT NULL,
    metrics     TEXT NOT NULL,
    timings     TEXT NOT NULL,
    versions    TEXT NOT NULL,
    host        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    error       TEXT NOT NULL DEFAULT '',
    history     TEXT NOT NULL DEFAULT '[]',
    sweep       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS records_config_hash ON records (config_hash, status);
CREATE INDEX IF NOT EXISTS records_dataset ON records (dataset, status);
CREATE INDEX IF NOT EXISTS records_run ON records (run_id);
"""

#: at most one "ok" record per (config hash, seed, fold); created after migrating duplicates away
_UNIQUE_OK = ("CREATE UNIQUE INDEX IF NOT EXISTS records_one_ok ON records (config_hash, seed, fold) "
              "WHERE status = 'ok'")

_MIGRATE_V1 = (
    "ALTER TABLE records ADD COLUMN history TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE records ADD COLUMN sweep TEXT NOT NULL DEFAULT ''",
    # every "ok" record that has a newer "ok" twin (same config, seed, fold) is superseded
    "UPDATE records SET status = 'superseded' WHERE status = 'ok' AND EXISTS (SELECT 1 FROM records AS newer "
    "WHERE newer.status = 'ok' AND newer.config_hash = records.config_hash AND newer.seed = records.seed "
    "AND newer.fold = records.fold AND newer.id > records.id)",
)


def _is_busy(err: sqlite3.OperationalError) -> bool:
    text = str(err).lower()
    return "locked" in text or "busy" in text


class ResultsStore:
    """SQLite results database at ``path`` (created with its schema if missing).

    Args:
        path: database file; parent folders are created.
        timeout_s: SQLite busy timeout per statement, seconds.
        retry_s: total time to keep retrying an operation that is still locked.

    Use as ``with ResultsStore(p) as store: ...`` or plainly; there is nothing
    to close, since each operation opens its own connection.
    """

    def __init__(self, path: str | Path, *, timeout_s: float = 30.0, retry_s: float = 120.0) -> None:
        self.path = Path(path)
        self.timeout_s = float(timeout_s)
        self.retry_s = float(retry_s)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ResultsStoreError(
                f"cannot create folder for results database {self.path}: {err.strerror}; "
                "choose another results path"
            ) from None
        self._retry(self._init_schema)

    # ------------------------------------------------------------------ plumbing

    def __enter__(self) -> "ResultsStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to release (connections are per operation); kept for symmetry."""

    def __repr__(self) -> str:
        return f"ResultsStore({str(self.path)!r})"

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(str(self.path), timeout=self.timeout_s, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {int(self.timeout_s * 1000)}")
        return conn

    def _retry(self, op: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run ``op(conn)`` on a fresh connection, retrying while the DB is locked."""
        deadline = time.monotonic() + self.retry_s
        delay = 0.01
        while True:
            conn = None
            try:
                conn = self._connect()
                return op(conn)
            except sqlite3.OperationalError as err:
                if not _is_busy(err) or time.monotonic() > deadline:
                    raise ResultsStoreError(
                        f"results database {self.path}: {err}; "
                        "check the path is writable and not on a network filesystem"
                    ) from None
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.5)
            except sqlite3.DatabaseError as err:
                raise ResultsStoreError(
                    f"results database {self.path} is unreadable ({err}); "
                    "move it aside or choose another results path"
                ) from None
            finally:
                if conn is not None:
                    conn.close()

    def _init_schema(self, conn: sqlite3.Connection) -> None:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":  # pragma: no cover - e.g. unsupported filesystem
            raise sqlite3.OperationalError("database is locked (could not enable WAL)")
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
            if row[0] is None:
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            elif int(row[0]) > SCHEMA_VERSION:
                conn.execute("ROLLBACK")
                raise ResultsStoreError(
                    f"results database {self.path} has schema {row[0]}, newer than this "
                    f"ferbench understands ({SCHEMA_VERSION}); upgrade ferbench or use another path"
                )
            elif int(row[0]) == 1:
                for statement in _MIGRATE_V1:
                    conn.execute(statement)
                conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
            conn.execute(_UNIQUE_OK)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def schema_version(self) -> int:
        """Schema version stored in the database."""
        return int(self._retry(lambda c: c.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]))

    # ------------------------------------------------------------------ writing

    def add(self, record: FoldRecord, *, replace: bool = False) -> int:
        """Insert ``record`` in its own committed transaction; return its row id.

        An ``"ok"`` record whose (config hash, seed, fold) already has one raises
        :class:`~ferbench.errors.DuplicateRecordError`; with ``replace=True`` the old one
        is marked ``"superseded"`` in the same transaction.
        """
        if record.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {record.status!r}")
        if record.selection not in SELECTIONS:
            raise ValueError(f"selection must be one of {SELECTIONS}, got {record.selection!r}")
        values = []
        for name in _COLUMNS:
            value = getattr(record, name)
            if name in _JSON_FIELDS:
                value = json.dumps(value, sort_keys=True, default=str)
            elif name in ("fold", "seed"):
                value = int(value)
            else:
                value = str(value)
            values.append(value)
        sql = f"INSERT INTO records ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"

        key = (record.config_hash, int(record.seed), int(record.fold))

        def op(conn: sqlite3.Connection) -> int:
            conn.execute("BEGIN IMMEDIATE")
            try:
                if record.status == "ok":
                    where = "config_hash = ? AND seed = ? AND fold = ? AND status = 'ok'"
                    if replace:
                        conn.execute(f"UPDATE records SET status = 'superseded' WHERE {where}", key)
                    elif conn.execute(f"SELECT 1 FROM records WHERE {where}", key).fetchone():
                        raise DuplicateRecordError(
                            f"fold {key[2]} of config {key[0]} (seed {key[1]}) is already recorded; "
                            "rerun with --force to replace it"
                        )
                rowid = conn.execute(sql, values).lastrowid
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return int(rowid)

        return self._retry(op)

    # ------------------------------------------------------------------ reading

    def _select(self, where: str, params: tuple) -> list[tuple]:
        sql = f"SELECT id, {', '.join(_COLUMNS)} FROM records {where} ORDER BY id"
        return self._retry(lambda c: c.execute(sql, params).fetchall())

    @staticmethod
    def _filters(dataset: str | None, status: str | None) -> tuple[str, tuple]:
        clauses, params = [], []
        if dataset is not None:
            clauses.append("dataset = ?")
            params.append(dataset)
        if status is not None:
            clauses.append("status = ?")
            params.append(status)
        return ("WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)

    @staticmethod
    def _to_record(row: tuple) -> FoldRecord:
        kwargs = dict(zip(_COLUMNS, row[1:]))
        for name in _JSON_FIELDS:
            kwargs[name] = json.loads(kwargs[name])
        return FoldRecord(**kwargs)

    def records(self, dataset: str | None = None, status: str | None = "ok") -> list[FoldRecord]:
        """Records in insertion order, filtered by dataset and status (None = any)."""
        where, params = self._filters(dataset, status)
        return [self._to_record(row) for row in self._select(where, params)]

    def dataframe(self, dataset: str | None = None, status: str | None = "ok") -> "pd.DataFrame":
        """One row per record: identity columns, ``war``/``uar``/``macro_f1``
        (percent), every other scalar number in ``metrics`` (``params``, ``macs``,
        ``frames_per_s`` ...) and in ``timings`` (``train_s`` ...) as columns.

        Identity columns: ``id, run_id, config_hash, combination, dataset,
        protocol, fold, seed, status, selection, host, created_at, error, sweep``.
        Missing numbers are NaN. An empty store gives an empty frame with the
        identity and headline columns.
        """
        import pandas as pd

        ident = ["id"] + [c for c in _COLUMNS if c not in _JSON_FIELDS]
        where, params = self._filters(dataset, status)
        rows = []
        for row in self._select(where, params):
            rec = self._to_record(row)
            flat: dict[str, Any] = {"id": row[0]}
            flat.update({c: getattr(rec, c) for c in ident[1:]})
            flat["setup"] = str(rec.config.get("setup", ""))
            for name in HEADLINE_METRICS:
                flat[name] = _number(rec.metrics.get(name))
            for source in (rec.metrics, rec.timings):
                for key, value in source.items():
                    if key not in flat and _is_number(value):
                        flat[key] = float(value)
            rows.append(flat)
        frame = pd.DataFrame(rows)
        for name in ident + list(HEADLINE_METRICS):
            if name not in frame.columns:
                frame[name] = pd.Series(dtype="float64" if name in HEADLINE_METRICS else "object")
        extras = sorted(c for c in frame.columns if c not in ident and c not in HEADLINE_METRICS)
        return frame[ident + list(HEADLINE_METRICS) + extras]

    def completed_folds(self, config_hash: str, seed: int | None = None) -> set[int]:
        """Folds that have an ``"ok"`` record for ``config_hash`` (and ``seed``, when given)."""
        sql = "SELECT DISTINCT fold FROM records WHERE config_hash = ? AND status = 'ok'"
        params: tuple = (config_hash,)
        if seed is not None:
            sql += " AND seed = ?"
            params += (int(seed),)
        return {int(r[0]) for r in self._retry(lambda c: c.execute(sql, params).fetchall())}

    def runs(self) -> list[RunSummary]:
        """One summary per ``run_id``, in order of first record."""
        sql = (
            "SELECT run_id, config_hash, combination, dataset, protocol, seed, status, created_at "
            "FROM records ORDER BY id"
        )
        summaries: dict[str, RunSummary] = {}
        for run_id, chash, combo, dataset, protocol, seed, status, created in self._retry(
            lambda c: c.execute(sql).fetchall()
        ):
            s = summaries.get(run_id)
            if s is None:
                s = summaries[run_id] = RunSummary(
                    run_id, chash, combo, dataset, protocol, [], 0, 0, 0, created, created
                )
            if seed not in s.seeds:
                s.seeds.append(int(seed))
            if status == "ok":
                s.folds_ok += 1
            elif status == "failed":
                s.folds_failed += 1
            elif status == "interrupted":
                s.folds_interrupted += 1
            s.first_at, s.last_at = min(s.first_at, created), max(s.last_at, created)
        return list(summaries.values())

    def __len__(self) -> int:
        return int(self._retry(lambda c: c.execute("SELECT COUNT(*) FROM records").fetchone()[0]))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(value: Any) -> float:
    return float(value) if _is_number(value) else float("nan")

"""Tests for ferbench.results: round trip, concurrent writers, kills, resume."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
import time

import pytest

from ferbench.results import FoldRecord, ResultsStore, ResultsStoreError


def make_record(i: int = 0, *, run_id: str = "run-a", fold: int = 0, status: str = "ok",
                config_hash: str = "abc123", dataset: str = "synthetic", war: float = 80.0) -> FoldRecord:
    return FoldRecord(
        run_id=run_id,
        config_hash=config_hash,
        combination="rgb+small-cnn+mean+none+none",
        dataset=dataset,
        protocol="5-fold subject-independent",
        fold=fold,
        seed=0,
        status=status,
        selection="last",
        config={"input": "rgb", "epochs": 2, "i": i},
        metrics={"war": war, "uar": war - 5, "macro_f1": war - 10, "per_class_recall": [war, None],
                 "confusion": [[1, 0], [0, 1]], "support": [1, 1], "params": 1234, "macs": 5678,
                 "frames_per_s": 99.5},
        timings={"train_s": 1.5, "eval_s": 0.25, "wall_s": 2.0},
        versions={"python": "3.11", "torch": "2.x", "ferbench": "0.1.0", "plugins": {"core": "0.1.0"}},
        host="testhost",
        created_at=f"2024-01-01T00:00:{i % 60:02d}+00:00",
    )


# ---------------------------------------------------------------- worker processes (spawn)


def _writer(path: str, tag: str, n: int) -> None:
    store = ResultsStore(path)
    for i in range(n):
        store.add(make_record(i, run_id=tag, fold=i, config_hash=f"cfg-{tag}"))


def _writer_then_hang(path: str, n: int, ready) -> None:
    """Commit ``n`` records, then start a transaction it never commits, then hang."""
    store = ResultsStore(path)
    for i in range(n):
        store.add(make_record(i, run_id="killed", fold=i))
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "INSERT INTO records (run_id, config_hash, combination, dataset, protocol, fold, seed, "
        "status, selection, config, metrics, timings, versions, host, created_at) "
        "VALUES ('half', 'h', 'c', 'd', 'p', 99, 0, 'ok', 'last', '{', '{', '{', '{', 'h', 'now')"
    )
    ready.set()
    time.sleep(60)


# ---------------------------------------------------------------- tests


def test_round_trip(tmp_path):
    with ResultsStore(tmp_path / "sub" / "results.db") as store:
        rec = make_record(3, fold=2)
        rowid = store.add(rec)
        assert rowid >= 1
        assert store.records() == [rec]
        assert store.schema_version() == 2
    again = ResultsStore(tmp_path / "sub" / "results.db")  # reopening keeps rows and schema
    assert again.records() == [rec]
    assert len(again) == 1


def test_filters_and_dataframe(tmp_path):
    store = ResultsStore(tmp_path / "r.db")
    store.add(make_record(0, fold=0, war=80.0))
    store.add(make_record(1, fold=1, war=90.0, dataset="afew"))
    store.add(make_record(2, fold=2, status="failed"))
    assert len(store.records()) == 2
    assert len(store.records(status=None)) == 3
    assert [r.fold for r in store.records(dataset="afew")] == [1]
    df = store.dataframe()
    assert list(df["war"]) == [80.0, 90.0]
    assert list(df["uar"]) == [75.0, 85.0]
    assert list(df["macro_f1"]) == [70.0, 80.0]
    for col in ("params", "macs", "frames_per_s", "train_s", "combination", "seed", "fold"):
        assert col in df.columns
    assert "confusion" not in df.columns and "per_class_recall" not in df.columns
    empty = ResultsStore(tmp_path / "empty.db").dataframe()
    assert len(empty) == 0 and {"war", "uar", "macro_f1", "combination"} <= set(empty.columns)


def test_completed_folds_and_runs(tmp_path):
    store = ResultsStore(tmp_path / "r.db")
    store.add(make_record(0, fold=0))
    store.add(make_record(1, fold=1, status="failed"))
    store.add(make_record(2, fold=2))
    store.add(make_record(3, fold=1, status="interrupted"))
    store.add(make_record(4, fold=4, config_hash="other", run_id="run-b"))
    assert store.completed_folds("abc123") == {0, 2}
    assert store.completed_folds("other") == {4}
    assert store.completed_folds("missing") == set()
    runs = {r.run_id: r for r in store.runs()}
    assert (runs["run-a"].folds_ok, runs["run-a"].folds_failed, runs["run-a"].folds_interrupted) == (2, 1, 1)
    assert runs["run-b"].folds_ok == 1 and runs["run-b"].seeds == [0]


def test_bad_status_rejected(tmp_path):
    store = ResultsStore(tmp_path / "r.db")
    with pytest.raises(ValueError):
        store.add(make_record(status="done"))


def test_not_a_database_is_one_line_error(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ResultsStoreError) as err:
        ResultsStore(path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_newer_schema_refused(tmp_path):
    path = tmp_path / "r.db"
    ResultsStore(path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(ResultsStoreError, match="schema 99"):
        ResultsStore(path)


def test_concurrent_writers_lose_nothing(tmp_path):
    path = str(tmp_path / "r.db")
    ctx = mp.get_context("spawn")
    n = 50
    procs = [ctx.Process(target=_writer, args=(path, tag, n)) for tag in ("p1", "p2")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    store = ResultsStore(path)
    records = store.records()
    assert len(records) == 2 * n
    for tag in ("p1", "p2"):
        assert sorted(r.fold for r in records if r.run_id == tag) == list(range(n))


def test_killed_writer_leaves_committed_rows(tmp_path):
    path = str(tmp_path / "r.db")
    ResultsStore(path)  # create schema before the child starts
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    proc = ctx.Process(target=_writer_then_hang, args=(path, 5, ready))
    proc.start()
    try:
        assert ready.wait(60), "child never reached its open transaction"
        proc.kill()  # SIGKILL mid-transaction
        proc.join(30)
    finally:
        if proc.is_alive():  # pragma: no cover
            proc.kill()
    store = ResultsStore(path)
    records = store.records(status=None)
    assert [r.fold for r in records] == [0, 1, 2, 3, 4]  # half-written row absent
    store.add(make_record(9, fold=9))  # and the DB is still writable
    assert store.completed_folds("abc123") == {0, 1, 2, 3, 4, 9}
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# ---------------------------------------------------------------- one "ok" record per fold (issue: duplicates)


def test_second_ok_record_of_a_fold_is_refused_and_force_replaces_it(tmp_path):
    from ferbench.errors import DuplicateRecordError

    store = ResultsStore(tmp_path / "r.db")
    store.add(make_record(0, fold=1, war=70.0))
    with pytest.raises(DuplicateRecordError, match="--force"):
        store.add(make_record(1, fold=1, war=90.0))
    store.add(make_record(2, fold=1, war=90.0), replace=True)
    ok = store.records()
    assert [r.metrics["war"] for r in ok] == [90.0]
    assert [r.status for r in store.records(status=None)] == ["superseded", "ok"]
    store.add(make_record(3, fold=1, status="failed"))  # failures never count as duplicates
    assert store.completed_folds("abc123") == {1} and store.completed_folds("abc123", seed=5) == set()


def test_history_and_sweep_round_trip(tmp_path):
    store = ResultsStore(tmp_path / "r.db")
    rec = make_record(0)
    rec.history = [{"epoch": 1, "loss": 1.5}, {"epoch": 2, "loss": 1.0}]
    rec.sweep = "grid"
    store.add(rec)
    again = store.records()[0]
    assert again.history == rec.history and again.sweep == "grid"
    assert store.dataframe()["sweep"].tolist() == ["grid"]
    assert FoldRecord.from_json(rec.to_json()) == rec


def test_v1_database_is_migrated_and_its_duplicates_superseded(tmp_path):
    """A store written by ferbench before this fix (schema 1, duplicate fold records) is upgraded in place:
    nothing is deleted, the newest record of each fold stays "ok", the leaderboard counts each fold once."""
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript("""
        CREATE TABLE schema_version (version INTEGER NOT NULL);
        INSERT INTO schema_version VALUES (1);
        CREATE TABLE records (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, config_hash TEXT NOT NULL,
            combination TEXT NOT NULL, dataset TEXT NOT NULL, protocol TEXT NOT NULL, fold INTEGER NOT NULL,
            seed INTEGER NOT NULL, status TEXT NOT NULL, selection TEXT NOT NULL, config TEXT NOT NULL,
            metrics TEXT NOT NULL, timings TEXT NOT NULL, versions TEXT NOT NULL, host TEXT NOT NULL,
            created_at TEXT NOT NULL, error TEXT NOT NULL DEFAULT '');
    """)
    for run, war in (("a", 50.0), ("b", 60.0), ("c", 70.0)):
        for fold in (0, 1):
            conn.execute("INSERT INTO records (run_id, config_hash, combination, dataset, protocol, fold, seed, status, "
                         "selection, config, metrics, timings, versions, host, created_at) VALUES "
                         "(?, 'h', 'rgb+small-cnn+mean+none+none', 'synthetic', '5-fold subject-independent', ?, 0, "
                         "'ok', 'last', '{}', ?, '{}', '{}', 'x', '2024')",
                         (run, fold, f'{{"war": {war}, "uar": {war}, "macro_f1": {war}}}'))
    conn.close()
    store = ResultsStore(path)
    assert store.schema_version() == 2
    assert len(store.records(status=None)) == 6
    ok = store.records()
    assert sorted((r.run_id, r.fold) for r in ok) == [("c", 0), ("c", 1)]
    from ferbench.leaderboard import build_leaderboard

    board = build_leaderboard(store.dataframe())
    assert board["folds"].tolist() == [2] and board["war"].tolist() == [70.0]

"""Find a recorded run from what a user types: a config hash, a run folder or a leaderboard row id."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Callable

from ..errors import FerbenchError
from ..results import FoldRecord, ResultsStore

_HASH = re.compile(r"^[0-9a-f]{12}$")
_ROW_ID = re.compile(r"^[0-9a-f]{6}$")


@dataclasses.dataclass
class RecordedRun:
    """A run's "ok" fold records and where its outputs live.

    Attributes:
        config_hash: the run's config hash.
        output_dir: the folder holding ``results.sqlite`` and ``runs/<hash>/``.
        records: fold index -> its "ok" record.
    """

    config_hash: str
    output_dir: Path
    records: dict[int, FoldRecord]


def find_run(run: str, output_dir: str | Path, log: Callable[[str], None] = print) -> RecordedRun:
    """The recorded run ``run`` names.

    Args:
        run: a config hash (12 hex digits), a run folder (``<output>/runs/<hash>``) or a leaderboard
            row id (6 hex digits; a row pooling several seeds gives its lowest seed's run, with a note).
        output_dir: where ``results.sqlite`` lives (ignored for a run folder, which names its own).

    Raises:
        FerbenchError: no store, no such run, or no "ok" fold record for it.
    """
    path = Path(run).expanduser()
    output = Path(output_dir).expanduser()
    if path.is_dir() and path.parent.name == "runs" and _HASH.match(path.name):
        config_hash, output = path.name, path.parent.parent
    elif _HASH.match(run):
        config_hash = run
    elif _ROW_ID.match(run):
        config_hash = ""
    else:
        raise FerbenchError(f"'{run}' is not a config hash (12 hex digits), a run folder (.../runs/<hash>) or a "
                            f"leaderboard row id (6 hex digits); see 'ferbench leaderboard'")
    store_path = output / "results.sqlite"
    if not store_path.is_file():
        raise FerbenchError(f"no results database at {store_path}; pass --output-dir of the run")
    store = ResultsStore(store_path)
    records = store.records(status="ok")
    if not config_hash:
        config_hash = _hash_of_row(run, store, log)
    mine = {r.fold: r for r in records if r.config_hash == config_hash}
    if any("cross_dataset" in r.config for r in mine.values()):
        raise FerbenchError(f"config {config_hash} is a cross-dataset evaluation ('ferbench evaluate'), not a training "
                            f"run; export the run that trained the model")
    if not mine:
        raise FerbenchError(f"no recorded fold for config {config_hash} in {store_path}; train it with 'ferbench run' "
                            f"or pass the --output-dir it was recorded in")
    return RecordedRun(config_hash, output, mine)


def _hash_of_row(row: str, store: ResultsStore, log: Callable[[str], None]) -> str:
    from ..leaderboard import build_leaderboard

    board = build_leaderboard(store.dataframe())
    match = board[board["id"] == row]
    if match.empty:
        raise FerbenchError(f"no leaderboard row '{row}' among the measured rows of {store.path}; "
                            f"see 'ferbench leaderboard --output-dir {store.path.parent}'")
    r = match.iloc[0]
    frame = store.dataframe()
    keys = ["dataset", "protocol", "combination", "setup", "selection"]
    chosen = frame
    for k in keys:
        chosen = chosen[chosen[k].fillna("") == (r[k] if isinstance(r[k], str) else "")]
    by_seed = chosen.sort_values(["seed", "id"]).drop_duplicates("config_hash")
    if by_seed.empty:
        raise FerbenchError(f"leaderboard row '{row}' has no recorded run; pass a config hash instead")
    if len(by_seed) > 1:
        others = ", ".join(f"{h} (seed {s})" for h, s in zip(by_seed["config_hash"][1:], by_seed["seed"][1:]))
        log(f"note: row {row} pools {len(by_seed)} runs; exporting seed {by_seed['seed'].iloc[0]} "
            f"({by_seed['config_hash'].iloc[0]}); the others: {others}")
    return str(by_seed["config_hash"].iloc[0])

"""How to reproduce a measured row: a TOML run file and the ``ferbench run`` commands that use it.

The run file is :func:`ferbench.engine.config.config_dict_from_record` of the
row's first record (components, options and training values that were set;
no cache or output paths), written with ``tomli-w``. A row pools fold records
of one or more seeds: the file carries the first seed and there is one command
per seed (``--seed``). When every record came from a run restricted to some
folds, ``folds`` lists the folds the row holds; otherwise it is left out (all folds).
"""

from __future__ import annotations

import dataclasses
import shlex
from typing import Any, Mapping, Sequence

import tomli_w

from ..engine.config import config_dict_from_record
from ..results import FoldRecord

__all__ = ["Reproduction", "reproduction"]


@dataclasses.dataclass(frozen=True)
class Reproduction:
    """What reproduces a row.

    Attributes:
        toml: the run file's text (TOML).
        commands: one ``ferbench run --config FILE`` command per seed of the row.
    """

    toml: str
    commands: tuple[str, ...]


def _without_none(value: Any) -> Any:
    """TOML has no null: drop None values and empty tables (recursively)."""
    if isinstance(value, Mapping):
        return {str(k): _without_none(v) for k, v in value.items()
                if v is not None and not (isinstance(v, Mapping) and not v)}
    if isinstance(value, (list, tuple)):
        return [_without_none(v) for v in value if v is not None]
    return value


def reproduction(records: Sequence[FoldRecord], file_name: str) -> Reproduction:
    """The run file and commands that reproduce ``records`` (one leaderboard row), the file saved as ``file_name``."""
    if not records:
        raise ValueError("a row to reproduce needs at least one fold record")
    config = config_dict_from_record(records[0].config)
    config.pop("folds", None)
    if all(r.config.get("folds") is not None for r in records):
        config["folds"] = sorted({int(r.fold) for r in records})
    seeds = sorted({int(r.seed) for r in records})
    config["seed"] = seeds[0]
    ordered = {k: config[k] for k in ("seed", "folds", "root") if k in config}
    ordered.update({k: v for k, v in config.items() if k not in ordered})
    text = tomli_w.dumps(_without_none(ordered))
    base = f"ferbench run --config {shlex.quote(file_name)}"
    commands = tuple(base if s == seeds[0] else f"{base} --seed {s}" for s in seeds)
    return Reproduction(text, commands)

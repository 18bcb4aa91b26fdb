"""What the results store holds: one :class:`FoldRecord` per scored (or failed) fold, and the
per-run :class:`RunSummary` the store lists. Metric values are percentages (:mod:`ferbench.metrics`)."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json

STATUSES = ("ok", "failed", "interrupted", "superseded")
SELECTIONS = ("last", "best-val")
HEADLINE_METRICS = ("war", "uar", "macro_f1")

def utc_now_iso() -> str:
    """Current UTC time as ISO 8601 with seconds, e.g. ``2024-05-01T12:00:00+00:00``."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


@dataclasses.dataclass
class FoldRecord:
    """Everything stored about one fold of one run (enough to reproduce it).

    Attributes:
        run_id: id of the run (one CLI invocation / seed); groups its folds.
        config_hash: :func:`ferbench.options.stable_hash` of the config minus
            volatile keys; ``--resume`` skips folds already "ok" for it.
        combination: ``"input+backbone+aggregator+disentangler+selector"``.
        dataset: dataset name (``"afew"``).
        protocol: e.g. ``"5-fold subject-independent"``.
        fold: fold index (0-based; 0 for single-split protocols).
        seed: random seed.
        status: ``"ok"``, ``"failed"`` or ``"interrupted"``.
        selection: checkpoint evaluated: ``"last"`` or ``"best-val"``.
        config: full run config (JSON-serialisable).
        metrics: ``ClassificationMetrics.to_dict()`` (percent) plus numeric
            extras such as ``params``, ``macs`` (per sample), ``samples_per_s``,
            ``frames_per_s``.
        timings: seconds, e.g. ``train_s``, ``eval_s``, ``wall_s``.
        versions: ``python``, ``torch``, ``ferbench``, ``plugins`` ...
        host: host name.
        created_at: ISO 8601 UTC timestamp (defaults to now).
        error: one-line error for failed/interrupted folds, else ``""``.
        history: per-epoch training statistics (``epoch``, ``loss``, ``train_acc``, ``lr``,
            ``val_war`` ... one dict per epoch).
        sweep: name of the sweep that recorded the fold, ``""`` for a plain run.
    """

    run_id: str
    config_hash: str
    combination: str
    dataset: str
    protocol: str
    fold: int
    seed: int
    status: str
    selection: str
    config: dict
    metrics: dict
    timings: dict
    versions: dict
    host: str
    created_at: str = dataclasses.field(default_factory=utc_now_iso)
    error: str = ""
    history: list = dataclasses.field(default_factory=list)
    sweep: str = ""

    def to_json(self) -> str:
        """The record as JSON text (what sweep workers hand back to the driver)."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True, default=str)

    @classmethod
    def from_json(cls, text: str) -> "FoldRecord":
        raw = json.loads(text)
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in fields})


@dataclasses.dataclass
class RunSummary:
    """One run as :meth:`ResultsStore.runs` lists it (counts are fold records)."""

    run_id: str
    config_hash: str
    combination: str
    dataset: str
    protocol: str
    seeds: list[int]
    folds_ok: int
    folds_failed: int
    folds_interrupted: int
    first_at: str
    last_at: str

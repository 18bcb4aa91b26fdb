"""A measured row's page: folds, mean confusion and recall, curves, how to reproduce, fold lists, versions.

:func:`row_files` names what the page links to for download (the run file,
and per fold its ``fold.json`` and ``predictions.csv`` copied from the fold
folder, plus ``folds.csv`` with every fold's sample ids); the site writer
copies or writes them under ``rows/<id>/``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path
from typing import Any

from ..fileio import csv_text, read_json
from .gather import FoldEntry, MeasuredRow
from ..leaderboard import human_count
from .html import esc, fmt_mean_std, fmt_number, page, table, wrap_label
from .plots import confusion_svg, curves_svg, recall_svg
from .reproduce import reproduction
from .stats import class_summary

__all__ = ["RowFiles", "row_files", "row_html"]

SPLITS = ("train", "val", "test")


@dataclasses.dataclass(frozen=True)
class RowFiles:
    """The downloads of a row page, as paths relative to ``rows/<id>/``.

    Attributes:
        toml_name: the run file (``reproduce.toml``).
        toml_text: its content.
        folds_csv: every fold's sample ids (``folds.csv``), or ``""`` when no fold list exists.
        folds_csv_text: its content.
        copies: (file name under ``rows/<id>/``, source path) of each fold's ``fold.json`` and ``predictions.csv``.
        commands: the ``ferbench run`` commands that reproduce the row.
    """

    toml_name: str
    toml_text: str
    folds_csv: str
    folds_csv_text: str
    copies: tuple[tuple[str, Path], ...]
    commands: tuple[str, ...]


def _fold_stem(row: MeasuredRow, entry: FoldEntry) -> str:
    """``seed<s>-fold<k>``, plus the config hash when another record of the row has the same seed and fold."""
    rec = entry.record
    stem = f"seed{int(rec.seed)}-fold{int(rec.fold)}"
    twins = sum((r.seed, r.fold) == (rec.seed, rec.fold) for r in row.records)
    return f"{stem}-{re.sub(r'[^0-9A-Za-z_.-]', '_', rec.config_hash)}" if twins > 1 else stem


def _fold_lists(entry: FoldEntry) -> dict[str, list[str]] | None:
    """The fold's sample ids per split from its ``fold.json`` (None when missing or malformed)."""
    path = entry.file("fold.json")
    raw: Any = read_json(path) if path else None
    if not isinstance(raw, dict):
        return None
    out = {}
    for split in SPLITS:
        ids = raw.get(split, [])
        if not isinstance(ids, list):
            return None
        out[split] = [str(i) for i in ids]
    return out


def row_files(row: MeasuredRow) -> RowFiles:
    """What the row page offers for download."""
    toml_name = "reproduce.toml"
    rep = reproduction(row.records, toml_name)
    copies, lines = [], []
    for entry in row.folds:
        stem = _fold_stem(row, entry)
        for name, suffix in (("fold.json", "json"), ("predictions.csv", "predictions.csv")):
            source = entry.file(name)
            if source is not None:
                copies.append((f"{stem}.{suffix}", source))
        lists = _fold_lists(entry)
        if lists:
            lines += [[entry.record.seed, entry.record.fold, split, sample]
                      for split in SPLITS for sample in lists[split]]
    folds_csv = "folds.csv" if lines else ""
    text = csv_text(["seed", "fold", "split", "sample_id"], lines) if lines else ""
    return RowFiles(toml_name, rep.toml, folds_csv, text, tuple(copies), rep.commands)


def _cards(row: MeasuredRow) -> str:
    r = row.row
    n = r.folds or 0
    items = [("WAR %", fmt_mean_std(r.war, r.war_std, n)), ("UAR %", fmt_mean_std(r.uar, r.uar_std, n)),
             ("macro-F1 %", fmt_mean_std(r.macro_f1, r.macro_f1_std, n)), ("fold records", str(n)),
             ("seeds used", ",".join(map(str, r.seeds))), ("params", human_count(r.params)),
             ("MACs / sample", human_count(r.macs)), ("frames / s", fmt_number(r.frames_per_s, 1))]
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="k">{esc(k)}</div><div class="v">{esc(v) or "–"}</div></div>' for k, v in items
    ) + "</div>"


def _metric(record_metrics: dict, key: str, digits: int = 2) -> str:
    value = record_metrics.get(key)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or math.isnan(float(value)):
        return ""
    return fmt_number(float(value), digits)


def _fold_table(row: MeasuredRow, files: RowFiles) -> str:
    copied = {name for name, _ in files.copies}
    body = []
    for entry in row.folds:
        rec, stem = entry.record, _fold_stem(row, entry)
        m = rec.metrics
        selected = m.get("selected_epoch")
        links = [f'<a href="{esc(row.row.id)}/{esc(name)}" download>{esc(label)}</a>'
                 for name, label in ((f"{stem}.json", "fold list"), (f"{stem}.predictions.csv", "predictions"))
                 if name in copied]
        body.append([
            esc(rec.seed), esc(rec.fold), _metric(m, "war"), _metric(m, "uar"), _metric(m, "macro_f1"),
            esc(rec.selection) + (f" (epoch {esc(selected)})" if selected is not None else ""),
            esc(m.get("n_scored", "")), human_count(m.get("params") if isinstance(m.get("params"), (int, float)) else None),
            human_count(m.get("macs") if isinstance(m.get("macs"), (int, float)) else None),
            _metric(m, "frames_per_s", 1), _metric(rec.timings, "train_s", 1), esc(rec.created_at),
            " · ".join(links) or '<span class="muted">fold folder missing</span>',
        ])
    headers = ["seed", "fold", "WAR %", "UAR %", "macro-F1 %", "checkpoint", "test samples", "params", "MACs",
               "frames/s", "train s", "recorded", "files"]
    return table(headers, body, numeric=(0, 1, 2, 3, 4, 6, 7, 8, 9, 10), cls="folds")


def _classes(row: MeasuredRow) -> str:
    k = len(row.class_names)
    summary = class_summary(row.records, k)
    if summary is None:
        return '<p class="empty">No confusion matrix recorded for these folds.</p>'
    salt = f"row-{row.row.id}"
    recall_rows = []
    for i, name in enumerate(row.class_names):
        mean, std = float(summary.recall_mean[i]), float(summary.recall_std[i])
        shown = "" if math.isnan(mean) else fmt_mean_std(mean, std, summary.folds_used)
        recall_rows.append([esc(name), esc(shown), esc(int(summary.support[i]))])
    return (
        '<div class="figs">'
        f'<figure id="confusion">{confusion_svg(summary, row.class_names, salt + "-confusion")}'
        f"<figcaption>Mean confusion matrix over {summary.folds_used} fold record(s): each row is a true class, "
        "in percent of its test samples (row-normalised per fold, then averaged).</figcaption></figure>"
        f'<figure id="recall">{recall_svg(summary, row.class_names, salt + "-recall")}'
        "<figcaption>Per-class recall, mean ± std over fold records.</figcaption>"
        f'{table(["class", "recall %", "test samples"], recall_rows, numeric=(1, 2), cls="recall")}</figure>'
        "</div>"
    )


def _curves(row: MeasuredRow) -> str:
    svg = curves_svg(row.records, f"row-{row.row.id}-curves")
    if svg is None:
        return '<p class="empty" id="curves">No curve recorded: these records have no per-epoch history.</p>'
    missing = sum(not r.history for r in row.records)
    note = f'<p class="muted">{missing} fold record(s) have no history and are not drawn.</p>' if missing else ""
    return f'<figure id="curves" class="plot-wide">{svg}</figure>{note}'


def _reproduce(row: MeasuredRow, files: RowFiles) -> str:
    rid = esc(row.row.id)
    commands = "\n".join(files.commands)
    return (
        f'<p>Save <a href="{rid}/{esc(files.toml_name)}" download>{esc(files.toml_name)}</a> and run:</p>'
        f'<pre id="command">{esc(commands)}</pre>'
        f'<pre id="toml">{esc(files.toml_text)}</pre>'
    )


def _fold_downloads(row: MeasuredRow, files: RowFiles) -> str:
    rid = esc(row.row.id)
    items = []
    if files.folds_csv:
        items.append(f'<li><a href="{rid}/{esc(files.folds_csv)}" download>{esc(files.folds_csv)}</a>: '
                     "seed, fold, split and sample id of every fold</li>")
    items += [f'<li><a href="{rid}/{esc(name)}" download>{esc(name)}</a></li>'
              for name, _ in files.copies if name.endswith(".json")]
    missing = [e for e in row.folds if e.file("fold.json") is None]
    note = ""
    if missing:
        names = ", ".join(f"seed {e.record.seed} fold {e.record.fold}" for e in missing)
        note = (f'<p class="note">No fold list for {esc(names)}: the fold folder under '
                "<code>runs/&lt;config hash&gt;/</code> is missing or older than fold lists.</p>")
    listing = f'<ul class="files">{"".join(items)}</ul>' if items else ""
    return listing + note


def _versions(row: MeasuredRow) -> str:
    groups: dict[str, list[FoldEntry]] = {}
    for entry in row.folds:
        groups.setdefault(json.dumps(entry.record.versions, sort_keys=True, default=str), []).append(entry)
    out = []
    for key, entries in groups.items():
        versions = json.loads(key)
        rows = [[esc(k), esc(v)] for k, v in versions.items() if not isinstance(v, dict)]
        for k, v in versions.items():
            if isinstance(v, dict):
                rows += [[esc(f"{k}: {name}"), esc(value)] for name, value in sorted(v.items())]
        hosts = sorted({e.record.host for e in entries})
        which = ", ".join(f"seed {e.record.seed} fold {e.record.fold}" for e in entries)
        out.append(f'<p class="muted">{esc(which)} (host {esc(", ".join(hosts))})</p>'
                   + table(["package", "version"], rows, cls="versions"))
    return "".join(out)


def row_html(row: MeasuredRow, files: RowFiles, generated: str) -> str:
    """The row page's HTML (it lives in ``rows/``, one level below the index)."""
    r = row.row
    meta = [("dataset", r.dataset), ("protocol", r.protocol), ("training", r.setup or "defaults"),
            ("checkpoint", r.selection), ("plugins", ", ".join(r.plugins)), ("row id", r.id)]
    body = [
        f'<p class="combo-title"><code>{wrap_label(r.combination)}</code></p>',
        '<p class="muted">' + " · ".join(f"{esc(k)}: {esc(v)}" for k, v in meta) + "</p>",
        _cards(row),
        "<h2>Folds</h2>", _fold_table(row, files),
        "<h2>Classes</h2>", _classes(row),
        "<h2>Training curves</h2>", _curves(row),
        "<h2>Reproduce</h2>", _reproduce(row, files),
        "<h2>Fold lists</h2>", _fold_downloads(row, files),
        "<h2>Versions</h2>", _versions(row),
        '<p><a href="../index.html">← all leaderboards</a></p>',
    ]
    return page(f"{r.dataset_name}: row {r.id}", "\n".join(body), depth=1, generated=generated,
                subtitle=f"measured on {r.dataset} ({r.protocol})")

"""The index: one sortable, filterable leaderboard per dataset, measured and reported rows together.

Within a dataset the rows are in the leaderboard's order (headline metric,
best first); the protocol is a column, because the papers word their
protocols in their own way and a table per protocol string would rarely put
a measured row beside a paper's. Measured rows link to their row page.
"""

from __future__ import annotations

from typing import Sequence

from .gather import BoardRow, ReportData
from ..leaderboard import human_count
from .html import data_value, esc, fmt_mean_std, fmt_number, page, wrap_label

__all__ = ["index_html", "row_page_name"]

#: (header, data type) of the leaderboard columns
COLUMNS = (
    ("combination", "text"), ("kind", "text"), ("protocol", "text"),
    ("WAR %", "num"), ("UAR %", "num"), ("macro-F1 %", "num"), ("folds", "num"), ("seeds", "num"),
    ("params", "num"), ("MACs/sample", "num"), ("frames/s", "num"),
)


def row_page_name(row_id: str) -> str:
    """The row page's path, relative to the site root."""
    return f"rows/{row_id}.html"


def _search_text(row: BoardRow) -> str:
    return " ".join([row.combination, row.dataset, row.protocol, row.setup, row.source, row.id, row.kind]).lower()


def _combination_cell(row: BoardRow, linked: bool) -> str:
    label = wrap_label(row.combination)
    name = f'<a href="{esc(row_page_name(row.id))}">{label}</a>' if linked else label
    subs = []
    if row.dataset != row.dataset_name:
        subs.append(f"dataset: {esc(row.dataset)}")
    if row.setup:
        subs.append(f"training: {esc(row.setup)}")
    if row.measured and row.selection:
        subs.append(f"checkpoint: {esc(row.selection)}")
    if not row.measured and row.source:
        subs.append(esc(row.source))
    subs.append(f"id {esc(row.id)}")
    return name + "".join(f'<span class="sub">{s}</span>' for s in subs)


def _row_html(row: BoardRow, linked: bool) -> str:
    n = row.folds or 0
    cells = [
        f'<td class="combo"{data_value(row.combination)}>{_combination_cell(row, linked)}</td>',
        f'<td{data_value(row.kind)}><span class="badge {esc(row.kind)}">{esc(row.kind)}</span></td>',
        f'<td class="proto"{data_value(row.protocol)}>{esc(row.protocol)}</td>',
    ]
    for metric in ("war", "uar", "macro_f1"):
        mean, std = row.metric(metric)
        cells.append(f'<td class="num"{data_value(mean)}>{esc(fmt_mean_std(mean, std, n))}</td>')
    cells.append(f'<td class="num"{data_value(None if row.folds is None else float(row.folds))}>'
                 f'{"" if row.folds is None else row.folds}</td>')
    seeds = ",".join(str(s) for s in row.seeds)
    listed = f'<span class="sub">{"seed" if len(row.seeds) == 1 else "seeds"} {esc(seeds)}</span>' if seeds else ""
    cells.append(f'<td class="num"{data_value(float(len(row.seeds)) if row.seeds else None)}>'
                 f'{len(row.seeds) if row.seeds else ""}{listed}</td>')
    cells.append(f'<td class="num"{data_value(row.params)}>{esc(human_count(row.params))}</td>')
    cells.append(f'<td class="num"{data_value(row.macs)}>{esc(human_count(row.macs))}</td>')
    cells.append(f'<td class="num"{data_value(row.frames_per_s)}>{esc(fmt_number(row.frames_per_s, 1))}</td>')
    # data-label: the column's title, shown before the value where the phone layout stacks the cells
    cells = [c.replace("<td", f'<td data-label="{esc(COLUMNS[i][0])}"', 1) for i, c in enumerate(cells)]
    return (f'<tr class="{esc(row.kind)}" data-id="{esc(row.id)}" data-kind="{esc(row.kind)}" '
            f'data-plugins="{esc(" ".join(row.plugins))}" data-search="{esc(_search_text(row))}">'
            + "".join(cells) + "</tr>")


def board_table(rows: Sequence[BoardRow], linked: set[str]) -> str:
    """One sortable leaderboard table (class ``board``: the filters apply to it)."""
    head = "".join(
        f'<th{" class=num" if kind == "num" else ""} data-type="{kind}" scope="col"><button type="button">'
        f"{esc(title)}</button></th>" for title, kind in COLUMNS
    )
    body = "".join(_row_html(r, r.id in linked) for r in rows)
    return (f'<div class="table-wrap stack-wrap"><table class="board stack sortable"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def _controls(data: ReportData) -> str:
    kinds = "".join(
        f'<label><input type="checkbox" data-kind="{k}" checked> {k}</label>' for k in ("measured", "reported")
    )
    plugins = "".join(
        f'<label><input type="checkbox" data-plugin="{esc(p)}" checked> {esc(p)}</label>' for p in data.plugins()
    )
    return (
        '<div class="controls" role="search">'
        '<label for="filter" class="muted">Filter</label>'
        '<input id="filter" type="search" placeholder="component names, e.g. eian" autocomplete="off">'
        f"<fieldset><legend>kind</legend>{kinds}</fieldset>"
        f"<fieldset><legend>plugin</legend>{plugins}</fieldset>"
        "</div>"
    )


def index_html(data: ReportData, generated: str) -> str:
    """The index page's HTML."""
    datasets = data.datasets()
    n_measured = sum(r.measured for r in data.rows)
    summary = (f"{n_measured} measured and {len(data.rows) - n_measured} reported rows over {len(datasets)} "
               f"dataset(s). Metrics in percent: mean ± sample std over fold records (folds and seeds together); "
               f"reported rows are the papers' numbers under their own protocols. Click a header to sort.")
    parts = [f'<p>{esc(summary)}</p>', f'<p class="muted">Results: <code>{esc(data.store_path)}</code></p>']
    parts += [f'<p class="note">{esc(n)}</p>' for n in data.notes]
    if not data.rows:
        parts.append('<p class="empty">No rows: nothing measured and no plugin reports a number.</p>')
        return page("Leaderboards", "\n".join(parts), active="index.html", generated=generated)
    parts.append(_controls(data))
    parts.append('<ul class="toc">' + "".join(
        f'<li><a href="#ds-{i}">{esc(name)}</a> <span class="muted">'
        f"({sum(r.dataset_name == name for r in data.rows)})</span></li>" for i, name in enumerate(datasets)
    ) + "</ul>")
    linked = set(data.measured)
    for i, name in enumerate(datasets):
        rows = [r for r in data.rows if r.dataset_name == name]
        parts.append(
            f'<section id="ds-{i}" data-dataset="{esc(name)}"><h2>{esc(name)}<span class="count"></span></h2>'
            f"{board_table(rows, linked)}"
            '<p class="empty none-match" hidden>No row of this dataset matches the filter.</p></section>'
        )
    return page("Leaderboards", "\n".join(parts), active="index.html", generated=generated)

"""Accuracy vs cost: per dataset, WAR (or UAR) against MACs per sample with the Pareto front.

A row is plotted when it has both the metric and a cost: measured rows carry
the MACs ferbench counted for one sample; reported rows carry a cost when
their plugin gives the paper's (``ReportedResult.macs``). A table under each
plot lists the points, marking the ones on the front.
"""

from __future__ import annotations

from .gather import BoardRow, ReportData
from ..leaderboard import human_count
from .html import esc, fmt_number, page, table, wrap_label
from .index_page import row_page_name
from .plots import CostPoint, cost_svg
from .stats import pareto_front

__all__ = ["cost_html"]

METRICS = (("war", "WAR"), ("uar", "UAR"))


def _plotted(rows: list[BoardRow], metric: str) -> list[BoardRow]:
    return [r for r in rows if getattr(r, metric) is not None and r.macs is not None and r.macs > 0]


def _dataset_block(name: str, rows: list[BoardRow], metric: str, title: str, linked: set[str], salt: str) -> str:
    chosen = _plotted(rows, metric)
    if not chosen:
        return (f'<div data-metric="{metric}"><p class="empty">No {title} row of {esc(name)} has a cost '
                "(MACs per sample) to plot.</p></div>")
    points = [CostPoint(r.combination, float(r.macs), float(getattr(r, metric)), not r.measured,
                        row_page_name(r.id) if r.id in linked else "") for r in chosen]
    front = set(pareto_front([p.macs for p in points], [p.score for p in points]))
    svg = cost_svg(points, title, salt, title=name)
    body = []
    for i, r in enumerate(chosen):
        label = wrap_label(r.combination)
        if r.id in linked:
            label = f'<a href="{esc(row_page_name(r.id))}">{label}</a>'
        body.append([label, f'<span class="badge {esc(r.kind)}">{esc(r.kind)}</span>',
                     fmt_number(getattr(r, metric)), esc(human_count(r.macs)), "yes" if i in front else ""])
    listing = table(["combination", "kind", f"{title} %", "MACs/sample", "on front"], body, numeric=(2, 3),
                    cls="points")
    return (f'<div data-metric="{metric}"><figure class="plot-wide">{svg}<figcaption>{esc(title)} against MACs per '
            f"sample for {esc(name)}; the dashed staircase is the Pareto front (no other row is both cheaper and "
            f"better). Click a measured point for its page.</figcaption></figure>{listing}</div>")


def cost_html(data: ReportData, generated: str) -> str:
    """The accuracy-vs-cost page's HTML: one section per dataset, WAR and UAR switchable."""
    switch = '<div class="controls"><fieldset><legend>metric</legend>' + "".join(
        f'<label><input type="radio" name="metric" value="{m}"{" checked" if m == "war" else ""}> {t}</label>'
        for m, t in METRICS
    ) + "</fieldset></div>"
    intro = ("MACs are multiply-accumulates for one sample (a video or an image) at test time; measured rows "
             "were counted by ferbench, reported rows come from the papers where they give a cost.")
    parts = [f"<p>{esc(intro)}</p>", switch]
    linked = set(data.measured)
    without = []
    for i, name in enumerate(data.datasets()):
        rows = [r for r in data.rows if r.dataset_name == name]
        if not any(_plotted(rows, m) for m, _ in METRICS):
            without.append(name)
            continue
        blocks = "".join(_dataset_block(name, rows, m, t, linked, f"cost-{i}-{m}") for m, t in METRICS)
        parts.append(f'<section id="cost-{i}" data-dataset="{esc(name)}"><h2>{esc(name)}</h2>{blocks}</section>')
    if without:
        parts.append(f'<p class="muted">No row with a cost for: {esc(", ".join(without))}.</p>')
    if not data.rows:
        parts.append('<p class="empty">No rows to plot.</p>')
    return page("Accuracy vs cost", "\n".join(parts), active="cost.html", generated=generated)


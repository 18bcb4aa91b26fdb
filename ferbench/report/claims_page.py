"""The claims page: each paper claim with its arms, effect, 95% CI, p-value and verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from .claims import VERDICTS, ClaimRow
from .html import data_value, esc, fmt_number, page, wrap_label

__all__ = ["claims_html"]

COLUMNS = (("plugin", "text"), ("claim", "text"), ("dataset", "text"), ("arms", "text"), ("metric", "text"),
           ("n", "num"), ("mean diff", "num"), ("95% CI", "num"), ("p", "num"), ("verdict", "text"))


def _verdict_class(verdict: str) -> str:
    return verdict.replace(" ", "-") if verdict in VERDICTS else "other"


def _expectation(c: ClaimRow) -> str:
    """What the claim expects of the difference A - B, e.g. ``"A > B by ≥ 1.00"``."""
    delta = "" if c.min_effect is None else fmt_number(c.min_effect)
    if c.direction == "greater":
        return f"A > B by ≥ {delta}" if delta else "A > B"
    if c.direction == "less":
        return f"A < B by ≥ {delta}" if delta else "A < B"
    if c.direction == "equal":
        return f"|A − B| < {delta}" if delta else "A = B"
    return c.direction


def _row(c: ClaimRow) -> str:
    claim = f"<strong>{esc(c.name)}</strong>"
    if c.statement:
        claim += f'<span class="sub">{esc(c.statement)}</span>'
    source = " ".join(x for x in (c.paper, c.source) if x)
    if source or c.paper_effect:
        claim += f'<span class="sub">{esc(source)}{": " if source and c.paper_effect else ""}{esc(c.paper_effect)}</span>'
    if c.command:
        claim += f'<span class="sub"><code>{esc(c.command)}</code></span>'
    means = (c.mean_a, c.mean_b)
    names = list(c.arms)
    if len(c.arms) == 1:
        names = [f"{c.metric} of {c.arms[0]}", f"{c.baseline_metric or 'baseline'} of {c.arms[0]}"]
    arms = " vs ".join(
        wrap_label(a) + (f' <span class="muted">({fmt_number(means[i])})</span>' if i < 2 and means[i] is not None else "")
        for i, a in enumerate(names)
    )
    expect = _expectation(c)
    metric = esc(c.metric) + (f'<span class="sub">{esc(expect)}</span>' if expect else "")
    if c.scale:
        metric += f'<span class="sub">scale: {esc(c.scale)}</span>'
    ci = (f"[{fmt_number(c.ci_low)}, {fmt_number(c.ci_high)}]" if c.ci_low is not None and c.ci_high is not None
          else "")
    p = "" if c.p_value is None else (f"{c.p_value:.3g}")
    cells = [
        f'<td class="labelled"{data_value(c.plugin)}>{esc(c.plugin)}</td>',
        f'<td class="combo"{data_value(c.name)}>{claim}</td>',
        f'<td class="labelled"{data_value(c.dataset)}>{esc(c.dataset)}</td>',
        f'<td class="combo"{data_value(" vs ".join(c.arms))}>{arms}</td>',
        f'<td class="labelled"{data_value(c.metric)}>{metric}</td>',
        f'<td class="num"{data_value(None if c.n is None else float(c.n))}>{"" if c.n is None else c.n}</td>',
        f'<td class="num"{data_value(c.mean_diff)}>{fmt_number(c.mean_diff)}</td>',
        f'<td class="num"{data_value(c.ci_low)}>{ci}</td>',
        f'<td class="num"{data_value(c.p_value)}>{esc(p)}</td>',
        f'<td{data_value(c.verdict)}><span class="badge {esc(_verdict_class(c.verdict))}">{esc(c.verdict)}</span>'
        + (f'<span class="sub">{esc(c.note)}</span>' if c.note else "") + "</td>",
    ]
    # data-label: the column's title, shown before the value where the phone layout stacks the cells
    cells = [cell.replace("<td", f'<td data-label="{esc(COLUMNS[i][0])}"', 1) for i, cell in enumerate(cells)]
    return "<tr>" + "".join(cells) + "</tr>"


def claims_html(claims: Sequence[ClaimRow] | None, problem: str, claims_path: Path, generated: str) -> str:
    """The claims page's HTML; without a claims file it says how to make one."""
    if problem:
        body = f'<p class="note">{esc(problem)}</p>'
    elif claims is None:
        body = (f'<p class="empty">No claims file at <code>{esc(claims_path)}</code>. '
                "Run <code>ferbench claims</code> to test the papers' claims; this page shows its verdicts.</p>")
    elif not claims:
        body = f'<p class="empty"><code>{esc(claims_path)}</code> lists no claims.</p>'
    else:
        counts = {v: sum(c.verdict == v for c in claims) for v in VERDICTS}
        summary = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
        head = "".join(
            f'<th{" class=num" if kind == "num" else ""} data-type="{kind}" scope="col"><button type="button">'
            f"{esc(title)}</button></th>" for title, kind in COLUMNS
        )
        body = (f"<p>{esc(len(claims))} claim(s): {esc(summary)}. The mean difference is A − B (one-arm "
                "claims: the metric minus its baseline metric of the same records) over n paired (seed, fold) "
                "records, with its 95% bootstrap confidence interval and Wilcoxon p-value, as "
                "<code>ferbench claims</code> computed them; arm means in parentheses.</p>"
                f'<p class="muted">From <code>{esc(claims_path)}</code>.</p>'
                '<div class="table-wrap stack-wrap"><table class="claims stack sortable">'
                f"<thead><tr>{head}</tr></thead><tbody>"
                + "".join(_row(c) for c in claims) + "</tbody></table></div>")
    return page("Claims", body, active="claims.html", generated=generated)

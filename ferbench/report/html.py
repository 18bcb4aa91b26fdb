"""HTML building blocks shared by the report's pages: escaping, the page shell, number formats.

Every string that comes from data (dataset, component, class, sample and
plugin names, paths, claim text) goes through :func:`esc` before it is placed
in markup, in text and in attribute values alike. The page shell adds a
Content-Security-Policy that allows no network fetch at all and only the
site's own inline script (by hash), so even a name that slipped through
unescaped could not run a script.
"""

from __future__ import annotations

import html
import math
from typing import Iterable

from .. import __version__
from .assets import CSS, SCRIPT, script_hash

__all__ = ["esc", "page", "fmt_mean_std", "fmt_number", "data_value", "wrap_label"]

#: (file name, title) of the pages in the navigation bar, in order
NAV = (("index.html", "Leaderboards"), ("cost.html", "Accuracy vs cost"), ("claims.html", "Claims"))


def esc(value: object) -> str:
    """``value`` as text safe in HTML text and in quoted attribute values."""
    return html.escape("" if value is None else str(value), quote=True)


def wrap_label(label: str) -> str:
    """An escaped combination label with break opportunities after ``+`` and ``,`` (long labels wrap)."""
    return esc(label).replace("+", "+<wbr>").replace(",", ",<wbr>")


def fmt_number(value: float | None, digits: int = 2) -> str:
    """A fixed-point number; missing -> ``""``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{float(value):.{digits}f}"


def fmt_mean_std(mean: float | None, std: float | None, n: int | None) -> str:
    """``"87.50 ± 2.10"``; just the mean for one record or a reported row; ``""`` when missing."""
    if mean is None:
        return ""
    if not n or n <= 1 or std is None:
        return f"{mean:.2f}"
    return f"{mean:.2f} ± {std:.2f}"


def data_value(value: float | str | None) -> str:
    """The ``data-value`` attribute the sort script reads (empty when missing: sorted last)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ' data-value=""'
    if isinstance(value, float):
        return f' data-value="{value!r}"'
    return f' data-value="{esc(value)}"'


def csp() -> str:
    """No network, no plugins, no frames; inline styles (matplotlib's SVG uses them) and only our script."""
    return ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
            f"script-src {script_hash()}; base-uri 'none'; form-action 'none'")


def page(title: str, body: str, *, active: str = "", depth: int = 0, subtitle: str = "",
         generated: str = "") -> str:
    """A complete HTML document: head (charset, viewport, CSP, inline CSS), site header with the
    navigation, ``body`` (already HTML) inside ``<main>``, footer, and the inline script.

    Args:
        title: the page title (escaped here).
        body: the page's HTML.
        active: the navigation file this page is (``"index.html"``), marked as current.
        depth: folders below the site root (row pages: 1), for relative links.
        subtitle: text under the title (escaped here).
        generated: when the site was built, for the footer (escaped here).
    """
    up = "../" * depth
    nav = "".join(
        f'<a href="{up}{name}"{" aria-current=page" if name == active else ""}>{esc(text)}</a>' for name, text in NAV
    )
    sub = f'<p class="lead">{esc(subtitle)}</p>' if subtitle else ""
    stamp = f" on {esc(generated)}" if generated else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp()}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{esc(title)} · ferbench report</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f'<header class="site"><a class="brand" href="{up}index.html">ferbench report</a><nav>{nav}</nav></header>\n'
        f"<main>\n<h1>{esc(title)}</h1>\n{sub}\n{body}\n"
        f"<footer>Built by ferbench {esc(__version__)}{stamp} with <code>ferbench report</code>; "
        "static files, no network access.</footer>\n</main>\n"
        f"<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )


def table(headers: Iterable[str], rows: Iterable[Iterable[str]], numeric: Iterable[int] = (),
          cls: str = "") -> str:
    """A plain table; ``headers`` are escaped here, ``rows`` hold cell HTML already escaped; the
    columns in ``numeric`` are right-aligned."""
    numeric = set(numeric)
    head = "".join(f'<th{" class=num" if i in numeric else ""}>{esc(h)}</th>' for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f'<td{" class=num" if i in numeric else ""}>{c}</td>' for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return (f'<div class="table-wrap"><table class="{esc(cls)}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")

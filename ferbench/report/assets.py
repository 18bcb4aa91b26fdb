"""The site's style sheet and script, inlined into every page (no files to fetch, no build step).

The script is plain JavaScript without libraries. It adds, where the page has them:

* sortable tables (``table.sortable``): a header button sorts by its column;
  cells carry their sort key in ``data-value`` (numbers for ``data-type="num"``
  columns); rows without a value stay last in both directions; the header
  gets ``aria-sort``;
* row filters (``#filter`` text box, ``input[data-kind]`` and
  ``input[data-plugin]`` check boxes): a row (``tr[data-search]``) stays visible
  when every word of the filter occurs in its ``data-search`` text, its
  ``data-kind`` is ticked and at least one of its ``data-plugins`` is ticked;
  each table's ``.count`` says how many rows are shown;
* a metric switch (``input[name=metric]``) on the cost page, showing the
  ``[data-metric]`` blocks of the chosen metric.
"""

from __future__ import annotations

import base64
import hashlib

__all__ = ["CSS", "SCRIPT", "script_hash"]

CSS = """
:root { --fg:#1d232b; --muted:#5b6573; --line:#d9dee5; --bg:#ffffff; --panel:#f4f6f9;
        --measured:#1f5fa8; --reported:#b35a00; --ok:#1b7a3a; --bad:#b3261e; --warn:#8a6d00; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: var(--fg); background: var(--bg); }
header.site { background: #18212d; color: #fff; padding: .6rem 1rem; display: flex; flex-wrap: wrap;
              align-items: baseline; gap: .4rem 1.4rem; }
header.site .brand { font-weight: 700; font-size: 1.1rem; color: #fff; text-decoration: none; }
header.site nav { display: flex; flex-wrap: wrap; gap: .2rem 1rem; }
header.site nav a { color: #c9d6e8; text-decoration: none; }
header.site nav a[aria-current=page] { color: #fff; border-bottom: 2px solid #7fb0ff; }
main { max-width: 1240px; margin: 0 auto; padding: .8rem 1rem 3rem; }
h1 { font-size: 1.45rem; margin: .6rem 0 .3rem; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin: 1.8rem 0 .5rem; overflow-wrap: anywhere; border-bottom: 1px solid var(--line);
     padding-bottom: .2rem; }
h3 { font-size: 1.02rem; margin: 1.2rem 0 .4rem; }
p.lead, .muted { color: var(--muted); }
code, pre { font: 13px/1.4 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
pre { background: var(--panel); border: 1px solid var(--line); padding: .6rem .8rem; overflow-x: auto;
      white-space: pre; border-radius: 4px; }
a { color: #1a56b8; }
.controls { display: flex; flex-wrap: wrap; gap: .5rem 1.4rem; align-items: center; background: var(--panel);
            border: 1px solid var(--line); border-radius: 6px; padding: .6rem .8rem; margin: .6rem 0 1rem;
            position: sticky; top: 0; z-index: 2; }
.controls input[type=search] { font: inherit; padding: .3rem .5rem; min-width: 16rem; max-width: 100%;
                               border: 1px solid #b8c0cc; border-radius: 4px; }
.controls fieldset { border: 0; padding: 0; margin: 0; display: flex; flex-wrap: wrap; gap: .2rem .8rem; }
.controls legend { float: left; margin-right: .5rem; color: var(--muted); }
.controls label { white-space: nowrap; }
.toc { display: flex; flex-wrap: wrap; gap: .3rem .9rem; margin: .2rem 0 .8rem; padding: 0; list-style: none; }
.table-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { padding: .35rem .45rem; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: var(--panel); font-weight: 600; white-space: nowrap; font-size: 13px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:hover { background: #f8fafc; }
tr.reported { background: #fffaf3; }
th button { font: inherit; font-weight: 600; background: none; border: 0; padding: 0; cursor: pointer; color: inherit; }
th button::after { content: "\\2195"; color: #9aa4b1; font-size: .8em; margin-left: .15em; }
th[aria-sort=ascending] button::after { content: "\\2191"; color: var(--fg); }
th[aria-sort=descending] button::after { content: "\\2193"; color: var(--fg); }
td.combo { min-width: 13rem; max-width: 26rem; overflow-wrap: anywhere; }
td .sub { display: block; font-size: 12px; color: var(--muted); }
td.proto { min-width: 8rem; max-width: 13rem; font-size: 13px; }
.combo-title code { font-size: 15px; overflow-wrap: anywhere; }
.badge { display: inline-block; font-size: 12px; padding: 0 .45rem; border-radius: 9px; color: #fff; white-space: nowrap; }
.badge.measured { background: var(--measured); }
.badge.reported { background: var(--reported); }
.badge.reproduced { background: var(--ok); }
.badge.contradicted { background: var(--bad); }
.badge.inconclusive { background: var(--warn); }
.badge.not-run, .badge.other { background: #6b7480; }
.count { color: var(--muted); font-size: 13px; font-weight: normal; margin-left: .5rem; }
.empty { color: var(--muted); padding: .6rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(9.5rem, 1fr)); gap: .5rem; margin: .6rem 0; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .45rem .6rem; }
.card .k { color: var(--muted); font-size: 12px; }
.card .v { font-size: 1.05rem; font-weight: 600; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.figs { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
.figs > figure { margin: 0; flex: 1 1 22rem; min-width: 0; }
figure { margin: 0; }
figcaption { color: var(--muted); font-size: 13px; }
svg.plot { display: block; width: 100%; height: auto; max-width: 760px; }
.plot-wide svg.plot { max-width: 900px; }
.note { background: #fff7e0; border: 1px solid #edd9a3; border-radius: 4px; padding: .4rem .7rem; margin: .4rem 0; }
[hidden] { display: none !important; }
ul.files { padding-left: 1.2rem; }
footer { color: var(--muted); font-size: 12px; margin-top: 2.5rem; }
@media (max-width: 640px) {
  body { font-size: 14px; }
  main { padding: .5rem .6rem 2rem; }
  .controls { position: static; }
  .controls input[type=search] { min-width: 0; width: 100%; }
  td.combo { min-width: 12rem; }
  th, td { padding: .3rem .4rem; }
  /* wide plots keep a legible size and scroll sideways */
  figure.plot-wide { overflow-x: auto; }
  figure.plot-wide svg.plot { min-width: 34rem; }
  /* leaderboard and claims tables as stacked cards: the sort buttons wrap above, each row is a block */
  .table-wrap.stack-wrap { overflow: visible; border: 0; }
  table.stack, table.stack tbody, table.stack tr { display: block; }
  table.stack thead tr { display: flex; flex-wrap: wrap; gap: .1rem .2rem; background: var(--panel);
                         border: 1px solid var(--line); border-radius: 6px; padding: .2rem; }
  table.stack thead th { display: block; border: 0; padding: .15rem .35rem; }
  table.stack tbody tr { border: 1px solid var(--line); border-radius: 6px; margin: .4rem 0; padding: .35rem .5rem; }
  table.stack tbody tr[hidden] { display: none; }
  table.stack td { display: inline-block; border: 0; padding: .05rem .8rem .05rem 0; text-align: left; }
  table.stack td.combo { display: block; min-width: 0; max-width: none; padding-bottom: .25rem; }
  table.stack td.proto { display: block; max-width: none; }
  table.stack td.num::before, table.stack td.labelled::before { content: attr(data-label) " "; color: var(--muted);
                                                                font-size: 12px; }
  table.stack td.num:empty, table.stack td.labelled:empty { display: none; }
  table.stack td .sub { display: inline; margin-left: .3rem; }
  table.stack td.combo .sub { display: block; margin-left: 0; }
}
"""

SCRIPT = r"""
(function () {
  "use strict";
  function cellValue(row, col, numeric) {
    var cell = row.cells[col];
    var raw = cell ? cell.getAttribute("data-value") : null;
    if (raw === null || raw === "") { return null; }
    if (numeric) { var x = parseFloat(raw); return isNaN(x) ? null : x; }
    return raw.toLowerCase();
  }
  function sortBy(table, th) {
    var col = th.cellIndex, numeric = th.getAttribute("data-type") === "num";
    var current = th.getAttribute("aria-sort");
    var dir = current === "descending" ? "ascending" : current === "ascending" ? "descending"
              : (numeric ? "descending" : "ascending");
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir);
    var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
    var sign = dir === "ascending" ? 1 : -1;
    rows.sort(function (a, b) {
      var x = cellValue(a, col, numeric), y = cellValue(b, col, numeric);
      if (x === null && y === null) { return 0; }
      if (x === null) { return 1; }
      if (y === null) { return -1; }
      return x < y ? -sign : x > y ? sign : 0;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("thead th button").forEach(function (button) {
      button.addEventListener("click", function () { sortBy(table, button.parentNode); });
    });
  });

  var box = document.getElementById("filter");
  var kinds = document.querySelectorAll("input[data-kind]");
  var plugins = document.querySelectorAll("input[data-plugin]");
  function ticked(inputs, attr) {
    var on = {};
    inputs.forEach(function (i) { if (i.checked) { on[i.getAttribute(attr)] = true; } });
    return on;
  }
  function applyFilters() {
    var words = box ? box.value.toLowerCase().split(/\s+/).filter(Boolean) : [];
    var kindOn = ticked(kinds, "data-kind"), pluginOn = ticked(plugins, "data-plugin");
    document.querySelectorAll("table.board").forEach(function (table) {
      var shown = 0, rows = table.tBodies[0].rows;
      Array.prototype.forEach.call(rows, function (row) {
        var text = row.getAttribute("data-search") || "";
        var ok = words.every(function (w) { return text.indexOf(w) !== -1; });
        if (ok && kinds.length) { ok = !!kindOn[row.getAttribute("data-kind")]; }
        if (ok && plugins.length) {
          ok = (row.getAttribute("data-plugins") || "").split(" ").some(function (p) { return pluginOn[p]; });
        }
        row.hidden = !ok;
        if (ok) { shown += 1; }
      });
      var section = table.closest("section");
      var count = section ? section.querySelector(".count") : null;
      if (count) { count.textContent = shown + " of " + rows.length + " rows"; }
      var none = section ? section.querySelector(".none-match") : null;
      if (none) { none.hidden = shown > 0; }
    });
  }
  if (box) { box.addEventListener("input", applyFilters); }
  kinds.forEach(function (i) { i.addEventListener("change", applyFilters); });
  plugins.forEach(function (i) { i.addEventListener("change", applyFilters); });
  if (box || kinds.length || plugins.length) { applyFilters(); }

  var metrics = document.querySelectorAll("input[name=metric]");
  function showMetric() {
    var chosen = "war";
    metrics.forEach(function (m) { if (m.checked) { chosen = m.value; } });
    document.querySelectorAll("[data-metric]").forEach(function (el) {
      el.hidden = el.getAttribute("data-metric") !== chosen;
    });
  }
  metrics.forEach(function (m) { m.addEventListener("change", showMetric); });
  if (metrics.length) { showMetric(); }
})();
"""


def script_hash() -> str:
    """The Content-Security-Policy source (``'sha256-...'``) that allows exactly :data:`SCRIPT`."""
    digest = hashlib.sha256(SCRIPT.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"

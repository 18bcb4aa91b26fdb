"""``ferbench report``: the leaderboard as a static web site.

:func:`build_report` reads the results store (and ``claims.json`` when the
claims command wrote one) and writes a self-contained site: an index with one
sortable, filterable leaderboard per dataset (measured and reported rows), an
accuracy-vs-cost page with the Pareto front, a page per measured row (folds,
mean confusion matrix, per-class recall, training curves, the TOML and command
that reproduce it, fold lists, versions) and the claims table. Plots are
matplotlib SVG inlined in the pages; the script is a few lines of plain
JavaScript inlined too, so the site opens from the file system and needs no
network.

Modules: :mod:`.gather` (data), :mod:`.stats` (confusion, recall, Pareto
front), :mod:`.reproduce` (TOML and commands), :mod:`.claims` (claims file),
:mod:`.plots` (SVG), :mod:`.html` and :mod:`.assets` (page shell, CSS, JS),
one module per page, :mod:`.site` (writing the folder).
"""

from .site import MARKER, ReportOptions, ReportSummary, build_report

__all__ = ["MARKER", "ReportOptions", "ReportSummary", "build_report"]

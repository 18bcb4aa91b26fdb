"""``ferbench compare A B``: paired comparison of two leaderboard rows."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import FerbenchError
from ..paths import default_output_dir


def cmd_compare(args: argparse.Namespace) -> int:
    from ..compare import compare_rows, render_comparison
    from ..leaderboard import build_leaderboard
    from ..results import ResultsStore

    store_path = Path(args.output_dir or default_output_dir()).expanduser() / "results.sqlite"
    if not store_path.is_file():
        raise FerbenchError(f"no results at {store_path}; run something first or pass --output-dir")
    records = ResultsStore(store_path).dataframe(dataset=None)
    board = build_leaderboard(records, dataset=args.dataset)
    comparison = compare_rows(records, board, args.a, args.b, args.metric)
    print(render_comparison(comparison, args.format), end="")
    return 0


def register(sub) -> None:
    p = sub.add_parser("compare", help="paired comparison of two leaderboard rows (mean diff, bootstrap CI, Wilcoxon)")
    p.add_argument("a", help="row A: its id from 'ferbench leaderboard', or its combination label")
    p.add_argument("b", help="row B")
    p.add_argument("--metric", default="war", help="war (default), uar, f1, or a metric the runs record")
    p.add_argument("--dataset", help="only rows of this dataset (to disambiguate labels)")
    p.add_argument("--format", choices=("md", "csv", "json"), default="md")
    p.add_argument("--output-dir", help="where results.sqlite lives (default $FERBENCH_OUTPUT or ferbench-out)")
    p.set_defaults(func=cmd_compare)

"""``ferbench leaderboard``: one row per combination, measured and reported."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..paths import default_output_dir


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from ..leaderboard import build_leaderboard, render_leaderboard
    from ..results import ResultsStore
    from .components import registry

    store_path = Path(args.output_dir or default_output_dir()).expanduser() / "results.sqlite"
    reg = registry()
    if store_path.is_file():
        df = ResultsStore(store_path).dataframe()  # build_leaderboard filters, variants (synthetic[...]) included
    else:
        import pandas as pd

        print(f"note: no results yet at {store_path}; showing reported rows only", file=sys.stderr)
        df = pd.DataFrame()
    board = build_leaderboard(df, reg.reported_results(), dataset=args.dataset)
    text = render_leaderboard(board, args.format)
    if args.out:
        from ..fileio import atomic_write_text

        atomic_write_text(args.out, text)
        print(f"wrote {args.out} ({len(board)} rows)")
    else:
        print(text)
    return 0


def register(sub) -> None:
    p = sub.add_parser("leaderboard", help="one row per (dataset, protocol, combination), with reported rows")
    p.add_argument("--dataset")
    p.add_argument("--format", choices=("csv", "md"), default="md")
    p.add_argument("--out")
    p.add_argument("--output-dir", help="where results.sqlite lives (default $FERBENCH_OUTPUT or ferbench-out)")
    p.set_defaults(func=cmd_leaderboard)

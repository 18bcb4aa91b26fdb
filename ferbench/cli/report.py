"""``ferbench report``: write the leaderboard, cost plots, row pages and claims as a static site."""

from __future__ import annotations

import argparse

from ..paths import default_output_dir


def cmd_report(args: argparse.Namespace) -> int:
    from ..report import ReportOptions, build_report
    from ..report.site import report_datasets
    from .components import registry

    options = ReportOptions(out=args.out, output_dir=args.output_dir or default_output_dir(),
                            datasets=report_datasets(args.dataset))
    summary = build_report(options, registry())
    for note in summary.notes:
        print(f"note: {note}")
    claims = "no claims.json" if summary.claims is None else f"{summary.claims} claim(s)"
    print(f"wrote {summary.index} ({summary.rows} leaderboard rows over {len(summary.datasets)} dataset(s), "
          f"{summary.row_pages} row page(s), {claims}); open it in a browser")
    return 0


def register(sub) -> None:
    p = sub.add_parser("report", help="write the leaderboard as a static web site (plots, row pages, claims)")
    p.add_argument("--dataset", action="extend", nargs="+", metavar="D",
                   help="only these datasets (names, space- or comma-separated; default: all)")
    p.add_argument("--out", default="site", help="site folder, replaced whole (default: site)")
    p.add_argument("--output-dir", help="where results.sqlite lives (default $FERBENCH_OUTPUT or ferbench-out)")
    p.set_defaults(func=cmd_report)

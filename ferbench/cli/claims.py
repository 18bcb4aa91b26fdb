"""``ferbench claims``: list, run and judge the papers' claims."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from ..errors import FerbenchError
from ..paths import default_output_dir
from .sweep import add_launcher_arguments, make_launcher, path_overrides


def cmd_claims(args: argparse.Namespace) -> int:
    from ..claims import claims_page, evaluate_claim, list_table, render_results, run_claim, select_claims
    from ..fileio import atomic_write_json, atomic_write_text
    from .components import registry as make_registry

    registry = make_registry()
    claims = select_claims(registry, args.plugins)
    if args.list:
        print(list_table(claims), end="")
        return 0
    if not claims:
        raise FerbenchError("no plugin declares claims; see 'ferbench plugins'")
    overrides = path_overrides(args)
    if args.root:
        overrides["root"] = args.root
    if args.real and not args.root:
        raise FerbenchError("--real runs the claims on the papers' datasets: give --root PATH of your copy")
    command = "ferbench " + shlex.join(args.argv)
    output_dir = Path(args.output_dir or default_output_dir()).expanduser()
    progress = not args.no_progress and sys.stderr.isatty()
    results = []
    for claim in claims:
        if args.real and not claim.real:
            continue
        if args.run:
            launcher = make_launcher(args, registry, output_dir / "sweeps" / f"claim-{claim.plugin}-{claim.name}")
            print(f"claim {claim.key} ({args.scale} scale): running its arms")
            results.append(run_claim(claim, args.scale, registry, launcher, overrides=overrides, real=args.real,
                                     progress=progress))
        else:
            results.append(evaluate_claim(claim, args.scale, registry, overrides=overrides, real=args.real))
    atomic_write_json(output_dir / "claims.json", [r.as_dict(command) for r in results])
    if args.out:
        text = claims_page(results, command, args.scale) if args.format == "md" else render_results(results, args.format, command)
        atomic_write_text(args.out, text)
        print(f"wrote {args.out}")
    print(render_results(results, args.format if not args.out else "md", command), end="")
    return 0


def register(sub) -> None:
    p = sub.add_parser("claims", help="list, run and judge the papers' claims (reproduced / contradicted / inconclusive)")
    p.add_argument("plugins", nargs="*", help="plugins (or plugin/claim) to check; default all")
    p.add_argument("--list", action="store_true", help="list the declared claims and exit")
    p.add_argument("--run", action="store_true", help="train the arms whose records are missing (else judge existing records)")
    p.add_argument("--scale", choices=("cpu", "gpu"), default="cpu", help="how many seeds/folds and what model size")
    p.add_argument("--real", action="store_true", help="on the papers' real datasets (needs --root)")
    p.add_argument("--root", help="dataset root for --real")
    p.add_argument("--format", choices=("md", "csv", "json"), default="md")
    p.add_argument("--out", help="write the table there (md: the full docs page, e.g. docs/claims.md)")
    add_launcher_arguments(p)
    p.set_defaults(func=cmd_claims)

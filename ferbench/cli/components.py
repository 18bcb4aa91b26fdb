"""``ferbench list``, ``ferbench info`` and ``ferbench plugins``: what is installed.

These are the diagnostic commands: they load plugins with ``strict=False``, so
a clash between two plugins is shown instead of disabling them.
"""

from __future__ import annotations

import argparse
import difflib

from ..errors import FerbenchError
from ..kinds import KINDS
from ..options import option_fields


def registry(*, strict: bool = True):
    """The installed plugins' registry (``strict=False``: clashes recorded, not raised)."""
    from ..plugins import Registry

    return Registry(strict=strict)


def _print_problems(reg) -> None:
    for clash in reg.clashes:
        print(f"\nCLASH: {clash}")
    for p in reg.plugins.values():
        if p.broken:
            print(f"\nbroken plugin '{p.name}' ({p.module}): {p.error}")


def cmd_list(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    reg = registry(strict=False)
    kinds = [args.kind] if args.kind else list(KINDS)
    rows = [[s.kind, s.name, s.plugin, s.paper, s.description] for k in kinds for s in reg.components(k)]
    print(tabulate(rows, headers=["kind", "name", "plugin", "paper", "description"], tablefmt="simple"))
    _print_problems(reg)
    return 0


def option_help(doc: str) -> dict[str, str]:
    """Field help from an options docstring's ``Attributes:`` section (continuation lines joined)."""
    helps: dict[str, str] = {}
    lines = doc.splitlines()
    start = next((i + 1 for i, line in enumerate(lines) if line.strip() == "Attributes:"), len(lines))
    current, indent = None, None
    for line in lines[start:]:
        stripped = line.strip()
        if not stripped:
            continue
        lead = len(line) - len(line.lstrip())
        indent = lead if indent is None else indent
        name, sep, text = stripped.partition(":")
        if lead == indent and sep and name.isidentifier():
            current = name
            helps[name] = text.strip()
        elif lead > indent and current is not None:
            helps[current] += " " + stripped
        else:
            break
    return helps


def cmd_info(args: argparse.Namespace) -> int:
    reg = registry(strict=False)
    specs = [reg.get(args.kind, args.name)] if args.kind else reg.find(args.name)
    if not specs:
        names = sorted({s.name for s in reg.components()})
        close = difflib.get_close_matches(args.name, names, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise FerbenchError(f"no component named '{args.name}'.{hint} See 'ferbench list'.")
    for spec in specs:
        print(f"{spec.kind} '{spec.name}' (plugin {spec.plugin}, paper {spec.paper})")
        print(f"  {spec.description}")
        if spec.companions:
            brings = " ".join(f"--{k} {v}" for k, v in spec.companions.items())
            print(f"  brings, unless chosen otherwise: {brings}")
        helps = option_help(spec.options.__doc__ or "")
        print(f"  options ({spec.options.__name__}):")
        defaults = spec.options()
        for name, typ in option_fields(spec.options).items():
            tname = getattr(typ, "__name__", str(typ)).replace("typing.", "")
            print(f"    {name} = {getattr(defaults, name)!r}  [{tname}]  {helps.get(name, '')}")
        if not option_fields(spec.options):
            print("    (none)")
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    reg = registry(strict=False)
    rows = [
        [p.name, p.version or "-", p.module,
         "BROKEN: " + p.error if p.broken else ", ".join(h.replace("ferbench_", "") for h in p.hooks)]
        for p in reg.plugins.values()
    ]
    print(tabulate(rows, headers=["plugin", "version", "module", "hooks"], tablefmt="simple"))
    _print_problems(reg)
    return 0


def register(sub) -> None:
    p = sub.add_parser("list", help="list components (optionally of one kind)")
    p.add_argument("kind", nargs="?", choices=KINDS)
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("info", help="show a component's description and options")
    p.add_argument("name")
    p.add_argument("--kind", choices=KINDS)
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("plugins", help="list installed plugins, versions and hooks (and clashes)")
    p.set_defaults(func=cmd_plugins)

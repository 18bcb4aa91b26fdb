"""``ferbench cache list|clean``: what the cache holds, and removing what is no longer needed.

``list`` shows one row per generated dataset, prepared dataset, input cache
and stage group, with the dataset and options it belongs to, its size and when
it was last used. ``clean`` removes entries: all of them, or those of one kind
or dataset, or those not used for a while (``--older-than 30d``); ``--dry-run``
shows what it would remove.
"""

from __future__ import annotations

import argparse
import datetime
import time

from tabulate import tabulate

from ..paths import cache_path


def _rows(entries, root) -> list[list[str]]:
    from ..data.cache_space import format_bytes

    def where(e):
        try:
            return str(e.location.relative_to(root))
        except ValueError:
            return str(e.location)

    return [[e.kind, e.dataset or "-", e.what, format_bytes(e.bytes), e.files,
             datetime.datetime.fromtimestamp(e.last_used).strftime("%Y-%m-%d %H:%M") if e.last_used else "-", where(e)]
            for e in entries]


HEADERS = ["kind", "dataset", "what", "size", "files", "last used", "where"]


def _entries(args: argparse.Namespace):
    from ..cache_inventory import inventory, parse_age, select

    root = cache_path(args.cache_dir)
    older = parse_age(args.older_than) if getattr(args, "older_than", None) else None
    return root, select(inventory(root), kind=args.kind, dataset=args.dataset, older_than=older, now=time.time())


def cmd_cache_list(args: argparse.Namespace) -> int:
    from ..data.cache_space import format_bytes

    root, entries = _entries(args)
    if not entries:
        print(f"nothing cached in {root}" + (" that matches" if args.kind or args.dataset else ""))
        return 0
    print(f"cache {root}")
    print(tabulate(_rows(entries, root), headers=HEADERS, tablefmt="simple"))
    print(f"{len(entries)} entries, {format_bytes(sum(e.bytes for e in entries))}")
    return 0


def cmd_cache_clean(args: argparse.Namespace) -> int:
    from ..cache_inventory import remove
    from ..data.cache_space import format_bytes

    root, entries = _entries(args)
    if not entries:
        print(f"nothing to remove in {root}")
        return 0
    print(tabulate(_rows(entries, root), headers=HEADERS, tablefmt="simple"))
    total = format_bytes(sum(e.bytes for e in entries))
    if args.dry_run:
        print(f"would remove {len(entries)} entries, {total} (dry run)")
        return 0
    for e in entries:
        remove(e)
    print(f"removed {len(entries)} entries, {total}")
    return 0


def register(sub) -> None:
    from ..cache_inventory import KINDS

    p = sub.add_parser("cache", help="list or clean the cache (generated data, prepared faces, decoded inputs, stages)")
    verbs = p.add_subparsers(dest="cache_command", required=True, metavar="VERB")
    for name, func, text in (("list", cmd_cache_list, "list cache entries with size and last use"),
                             ("clean", cmd_cache_clean, "remove cache entries (all, or the ones selected)")):
        q = verbs.add_parser(name, help=text)
        q.add_argument("--cache-dir", help="cache folder (default $FERBENCH_CACHE or ~/.cache/ferbench)")
        q.add_argument("--kind", choices=KINDS, help="only entries of this kind")
        q.add_argument("--dataset", help="only entries of this dataset")
        q.add_argument("--older-than", metavar="AGE", help="only entries not used for AGE (30d, 12h, 90m, 2w)")
        if name == "clean":
            q.add_argument("--dry-run", action="store_true", help="show what would be removed, remove nothing")
        q.set_defaults(func=func)

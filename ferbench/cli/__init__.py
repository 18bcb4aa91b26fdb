"""The ``ferbench`` command line: one module per group of commands.

Each module in :data:`COMMAND_MODULES` has ``register(subparsers)``, which adds
its commands and sets ``func`` on each. User errors print one line (no
traceback) and exit with status 2; Ctrl-C and SIGTERM (what Slurm and
Kubernetes send) print one line with the resume hint and exit with 130 / 143.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
from typing import Sequence

from .. import __version__
from ..errors import FerbenchError

#: modules of ``ferbench.cli`` that contribute commands, in help order
COMMAND_MODULES = ("components", "run", "results", "data", "cache")


class Terminated(KeyboardInterrupt):
    """Raised by the SIGTERM handler so a terminated run unwinds like Ctrl-C."""


def _on_sigterm(signum, frame) -> None:  # noqa: ARG001 - signal handler signature
    raise Terminated()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ferbench", description="Plugin-based facial expression recognition benchmark.")
    parser.add_argument("--version", action="version", version=f"ferbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # what a command re-launches (run --nproc)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return args.func(args)
    except FerbenchError as err:
        print(f"ferbench: error: {err}", file=sys.stderr)
        return 2
    except Terminated:
        print("ferbench: terminated (SIGTERM); finished folds are recorded, continue with the same command plus --resume",
              file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("ferbench: interrupted; finished folds are recorded, continue with the same command plus --resume", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)

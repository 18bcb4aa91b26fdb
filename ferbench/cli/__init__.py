"""The ``ferbench`` command line: one module per group of commands.

Each module in :data:`COMMAND_MODULES` has ``register(subparsers)``, which adds
its commands and sets ``func`` on each. User errors print one line (no
traceback) and exit with status 2; Ctrl-C and SIGTERM (what Slurm and
Kubernetes send) print one line with the resume hint and exit with 130 / 143.
"""

from __future__ import annotations

import os

# PyTorch's OpenMP threads sleep instead of spinning while they wait for each other. On a
# machine whose cores are busy with other work (shared servers, CI, a loader worker) the
# spinning threads take the cores from the threads they wait for: one epoch of the default
# command ran about 6x slower in wall time on a shared 2-core machine (docs/performance.md).
# Read once, when PyTorch loads its OpenMP runtime: set before any torch import, and only
# when the user has not chosen (OMP_WAIT_POLICY=ACTIVE brings spinning back).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import importlib  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from typing import Sequence  # noqa: E402

from .. import __version__
from ..errors import FerbenchError

#: modules of ``ferbench.cli`` that contribute commands, in help order
COMMAND_MODULES = ("components", "run", "sweep", "claims", "results", "compare", "report", "data", "bundle", "cache")


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
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv  # the command as typed (claims record it in their table's header; run --nproc relaunches it)
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

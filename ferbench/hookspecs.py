"""pluggy hook specifications: one hook per component kind, plus reported results, claims and launchers.

A plugin is a module (or object) with functions decorated by
``ferbench.hookspecs.hookimpl`` and named as below, registered through the
entry-point group ``ferbench``. The component hooks are generated from
:data:`ferbench.kinds.KIND_SPECS` (one per kind, e.g. ``ferbench_inputs``);
each returns a list of :class:`ferbench.components.ComponentSpec` of its kind.
Every hook is documented in ``docs/hooks.md`` (a test checks it).
"""

from __future__ import annotations

from typing import Any, Callable

import pluggy

from .components import ComponentSpec, ReportedResult
from .kinds import HOOK_KINDS, KIND_SPECS, KindSpec

PROJECT = "ferbench"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


def _component_hook(kind: KindSpec) -> Callable[[], list[ComponentSpec]]:
    def hook() -> list[ComponentSpec]:
        return []

    hook.__name__ = hook.__qualname__ = kind.hook
    hook.__doc__ = f"Components of kind '{kind.name}' ({kind.title}): ``{kind.factory}``."
    return hookspec(hook)


for _kind in KIND_SPECS:
    globals()[_kind.hook] = _component_hook(_kind)


@hookspec
def ferbench_reported_results() -> list[ReportedResult]:
    """Numbers the plugin's paper reports, shown as ``reported`` leaderboard rows."""


@hookspec
def ferbench_claims() -> list[Any]:
    """The paper's central effects as :class:`ferbench.claims.Claim` objects, checked by ``ferbench claims``."""


@hookspec
def ferbench_launchers() -> list[Any]:
    """Where sweep runs execute: :class:`ferbench.sweep.launchers.LauncherSpec` objects (``--launcher NAME``)."""


__all__ = ["PROJECT", "HOOK_KINDS", "hookimpl", "hookspec", "ferbench_reported_results", "ferbench_claims",
           "ferbench_launchers", *(k.hook for k in KIND_SPECS)]

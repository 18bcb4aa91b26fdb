"""pluggy hook specifications: one hook per component kind, plus reported results.

A plugin is a module (or object) with functions decorated by
``ferbench.hookimpl`` and named as below, registered through the entry-point
group ``ferbench``. Each hook returns a list of :class:`ferbench.components.ComponentSpec`
of its kind. Each hook is documented in ``docs/hooks.md`` (a test checks it).
"""

from __future__ import annotations

import pluggy

from .components import ComponentSpec, ReportedResult

PROJECT = "ferbench"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def ferbench_inputs() -> list[ComponentSpec]:
    """Input representations: media -> ``{"x": [T, C, H, W], ...side}``."""


@hookspec
def ferbench_backbones() -> list[ComponentSpec]:
    """Per-frame backbones: [N, C, H, W] -> [N, D]."""


@hookspec
def ferbench_aggregators() -> list[ComponentSpec]:
    """Temporal aggregators with classifier: [B, T, D] -> embedding, logits, extras."""


@hookspec
def ferbench_disentanglers() -> list[ComponentSpec]:
    """Identity-disentanglement modules: extra losses from batch and outputs."""


@hookspec
def ferbench_selectors() -> list[ComponentSpec]:
    """Sample selectors: per-sample loss weights in [0, 1]."""


@hookspec
def ferbench_datasets() -> list[ComponentSpec]:
    """Dataset adapters: a dataset on disk (or generated) -> Manifest."""


@hookspec
def ferbench_reported_results() -> list[ReportedResult]:
    """Numbers the plugin's paper reports, shown as ``reported`` leaderboard rows."""


#: hook name -> component kind
HOOK_KINDS = {
    "ferbench_inputs": "input",
    "ferbench_backbones": "backbone",
    "ferbench_aggregators": "aggregator",
    "ferbench_disentanglers": "disentangler",
    "ferbench_selectors": "selector",
    "ferbench_datasets": "dataset",
}

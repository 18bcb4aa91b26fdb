"""ferbench plugin for CEFLNet (Liu et al., "Clip-aware Expressive Feature Learning for
Video-based Facial Expression Recognition", Information Sciences 2022).

Registers the aggregator ``eian`` (clip-based feature encoder SAL + LRL and the
emotional intensity activation network) and the paper's reported results. Clip
sampling lives in the core (``ferbench.data.clip_sampling``) and is an option of
the ``rgb`` input: ``--input-opt sampling=clips``.
"""

from __future__ import annotations

from ferbench.components import ComponentSpec, ReportedResult
from ferbench.claims import claims_hook
from ferbench.hookspecs import hookimpl

from .aggregator import CEFLNetAggregator, EIANOptions, build_eian
from .reported import reported_results

PAPER = "ceflnet"


@hookimpl
def ferbench_aggregators() -> list[ComponentSpec]:
    return [
        ComponentSpec(
            "aggregator", "eian", build_eian, EIANOptions,
            "CEFLNet: per-clip self-attention + local-global relation (CFE), clip activation map (EIAN); T = clips x frames",
            paper=PAPER,
        )
    ]


@hookimpl
def ferbench_reported_results() -> list[ReportedResult]:
    return reported_results()


__all__ = ["CEFLNetAggregator", "EIANOptions", "build_eian"]


#: the paper's central effects, declared as data in claims.toml beside this file
ferbench_claims = claims_hook(__file__)

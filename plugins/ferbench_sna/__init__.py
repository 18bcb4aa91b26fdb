"""ferbench plugin ``sna``: Semantic Neighborhood-Aware deep FER (Fu, Wu, Li, Pan, Luo).

Components: input ``gray112``, backbone ``sna-multiscale`` (Table II),
aggregator ``sna-fusion`` (its three heads and summed loss), selector ``sna``
(Algorithm 1 with the Table I autoencoder as a pre-training stage).
See README.md in this folder.
"""

from __future__ import annotations

from ferbench.components import ComponentSpec
from ferbench.claims import claims_hook
from ferbench.hookspecs import hookimpl

from .input_gray112 import Gray112Options, build_gray112
from .multiscale import FusionOptions, MultiScaleOptions, build_fusion, build_multiscale
from .reported import PAPER, reported_results
from .selector import build_sna_selector
from .selector_options import SNAOptions


@hookimpl
def ferbench_inputs() -> list[ComponentSpec]:
    return [ComponentSpec("input", "gray112", build_gray112, Gray112Options,
                          "grey-scale 112x112 frames in [-1, 1], peak frames by default (SNA preprocessing)", paper=PAPER)]


@hookimpl
def ferbench_backbones() -> list[ComponentSpec]:
    return [ComponentSpec("backbone", "sna-multiscale", build_multiscale, MultiScaleOptions,
                          "Table II two-branch (original + half scale) CNN, D=64+32", paper=PAPER)]


@hookimpl
def ferbench_aggregators() -> list[ComponentSpec]:
    return [ComponentSpec("aggregator", "sna-fusion", build_fusion, FusionOptions,
                          "Ori/Half/Fuse-FC heads over sna-multiscale features, sum of the three losses", paper=PAPER)]


@hookimpl
def ferbench_selectors() -> list[ComponentSpec]:
    return [ComponentSpec("selector", "sna", build_sna_selector, SNAOptions,
                          "mask samples whose prediction diverges on an autoencoder semantic neighbour (Alg. 1)", paper=PAPER)]


@hookimpl
def ferbench_reported_results():
    return reported_results()


#: the paper's central effects, declared as data in claims.toml beside this file
ferbench_claims = claims_hook(__file__)

"""ferbench plugin for IFERCV: identity-aware facial expression recognition in compressed video.

Liu, Jin, Han, Lu, You, Kong, "Identity-aware Facial Expression Recognition in
Compressed Video" (ICPR 2020). Registers the compressed-domain inputs
(``residual``, ``residual-acc``, ``mv``, ``residual+mv``, ``iframe``), the
frame embedding network ``ifercv-cnn`` and the disentangler ``ifercv``. See
README.md in this folder.
"""

from __future__ import annotations

from ferbench.components import ComponentSpec, ReportedResult
from ferbench.claims import claims_hook
from ferbench.hookspecs import hookimpl

from .backbone import IFERCVCNNOptions, build_ifercv_cnn
from .disentangler import IFERCVOptions, build_ifercv
from .inputs import CompressedOptions, ResidualAccOptions, builder
from .reported import reported_results

PAPER = "ifercv"


@hookimpl
def ferbench_inputs() -> list[ComponentSpec]:
    def spec(name: str, options: type, text: str) -> ComponentSpec:
        return ComponentSpec("input", name, builder(name), options, text, paper=PAPER)

    return [
        spec("residual", CompressedOptions, "compressed domain: T P-frame residuals Δ^t (3 ch) + side iframe/apex"),
        spec("residual-acc", ResidualAccOptions, "compressed domain: residuals accumulated to the GOP's I-frame (CoViAR)"),
        spec("mv", CompressedOptions, "compressed domain: T P-frame motion-vector maps (dx, dy; 2 ch)"),
        spec("residual+mv", CompressedOptions, "compressed domain: residual and motion vectors concatenated (5 ch), IFERCV+T^t"),
        spec("iframe", CompressedOptions, "compressed domain: the decoded I-frames (RGB, 3 ch)"),
    ]


@hookimpl
def ferbench_backbones() -> list[ComponentSpec]:
    return [ComponentSpec("backbone", "ifercv-cnn", build_ifercv_cnn, IFERCVCNNOptions,
                          "IFERCV f_E: light VGG-style CNN for residual frames, D=512", paper=PAPER)]


@hookimpl
def ferbench_disentanglers() -> list[ComponentSpec]:
    return [ComponentSpec("disentangler", "ifercv", build_ifercv, IFERCVOptions,
                          "IFERCV: frozen I-frame identity encoder, independence critic (alpha), apex reconstruction (beta)",
                          paper=PAPER)]


@hookimpl
def ferbench_reported_results() -> list[ReportedResult]:
    return reported_results()


#: the paper's central effects, declared as data in claims.toml beside this file
ferbench_claims = claims_hook(__file__)

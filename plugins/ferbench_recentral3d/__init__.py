"""ferbench plugin ``recentral3d``: single-image FER by deep 3D re-centralization (Bao, You, Gu, Yang).

Components: inputs ``shading3d`` (re-centralized 100x100 shading map + face
crop + landmark distances) and ``landmarks`` (face crop + landmark
distances), backbone ``recentral3d-fusion`` (the Section 4 fusion network).
See README.md in this folder.
"""

from __future__ import annotations

from ferbench.components import ComponentSpec
from ferbench.claims import claims_hook
from ferbench.hookspecs import hookimpl

from .fusion import FusionOptions, build_fusion
from .inputs import LandmarksOptions, Shading3DOptions, build_landmarks, build_shading3d
from .reported import PAPER, reported_results


@hookimpl
def ferbench_inputs() -> list[ComponentSpec]:
    return [
        ComponentSpec("input", "shading3d", build_shading3d, Shading3DOptions,
                      "re-centralized 3D shading map [T,1,100,100] + side face crop and 2278 landmark distances",
                      paper=PAPER),
        ComponentSpec("input", "landmarks", build_landmarks, LandmarksOptions,
                      "landmark-box face crop [T,3,100,100] + side 2278 landmark distances", paper=PAPER),
    ]


@hookimpl
def ferbench_backbones() -> list[ComponentSpec]:
    return [ComponentSpec("backbone", "recentral3d-fusion", build_fusion, FusionOptions,
                          "Sec. 4 fusion net: 2D ResNet-style + 3D shading + landmark branches, D=128",
                          paper=PAPER)]


@hookimpl
def ferbench_reported_results():
    return reported_results()


#: the paper's central effects, declared as data in claims.toml beside this file
ferbench_claims = claims_hook(__file__)

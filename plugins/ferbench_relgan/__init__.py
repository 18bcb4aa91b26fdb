"""ferbench plugin ``relgan``: Face Reenactment Based FER (REL-GAN; Ali and Hughes, 2020).

Components: disentangler ``relgan`` (REL-GAN pre-training, Eq. 1-4, as a
cached stage; then hands its G_es to the backbone), backbones
``relgan-encoder`` (frozen G_es -> 30-d f(e)) and ``relgan-cnn`` (the
paper's CNN baseline encoder, trained end to end), aggregator ``relgan-mlp``
(MLP on f(e)), input ``rgb-peak`` (RGB frames of the apex window: the
paper's peak images). See README.md in this folder.
"""

from __future__ import annotations

from ferbench.components import ComponentSpec, TakesPretrainedEncoder
from ferbench.claims import claims_hook
from ferbench.hookspecs import hookimpl

from .components import build_cnn, build_encoder, build_mlp, build_relgan
from .input_peak import PeakRGBOptions, build_rgb_peak
from .options import EncoderOptions, MLPOptions, RelGANOptions
from .reported import PAPER, reported_results


@hookimpl
def ferbench_inputs() -> list[ComponentSpec]:
    return [ComponentSpec("input", "rgb-peak", build_rgb_peak, PeakRGBOptions,
                          "RGB frames of the apex window (the k frames ending at the apex): REL-GAN's peak images", paper=PAPER)]


@hookimpl
def ferbench_backbones() -> list[ComponentSpec]:
    return [
        ComponentSpec("backbone", "relgan-encoder", build_encoder, EncoderOptions,
                      "REL-GAN G_es per frame -> 30-d f(e), loaded and frozen by --disentangler relgan", paper=PAPER),
        ComponentSpec("backbone", "relgan-cnn", build_cnn, EncoderOptions,
                      "REL-GAN's CNN baseline: the G_es architecture trained end to end (use with aggregator mean)", paper=PAPER),
    ]


@hookimpl
def ferbench_aggregators() -> list[ComponentSpec]:
    return [ComponentSpec("aggregator", "relgan-mlp", build_mlp, MLPOptions,
                          "masked mean of f(e) over frames + MLP (REL-GAN stage 2 classifier)", paper=PAPER)]


@hookimpl
def ferbench_disentanglers() -> list[ComponentSpec]:
    return [ComponentSpec("disentangler", "relgan", build_relgan, RelGANOptions,
                          "REL-GAN face-reenactment pre-training (cached stage), then G_es frozen in relgan-encoder", paper=PAPER,
                          companions={"input": "rgb-peak", "backbone": "relgan-encoder", "aggregator": "relgan-mlp"},
                          requires={"backbone": TakesPretrainedEncoder})]


@hookimpl
def ferbench_reported_results():
    return reported_results()


#: the paper's central effects, declared as data in claims.toml beside this file
ferbench_claims = claims_hook(__file__)

"""The ``core`` plugin: baseline components that are not specific to a paper.

Registered through the ``ferbench`` entry-point group like any third-party plugin.
The ``none`` disentangler and selector are built into the registry (see
:mod:`ferbench.kinds`), so they exist whichever plugins load.
"""

from __future__ import annotations

from ..components import ComponentSpec
from ..hookspecs import hookimpl
from .aggregator_lstm import LSTMOptions, build_lstm
from .aggregator_mean import MeanOptions, build_mean
from .backbone_resnet18 import ResNet18Options, build_resnet18
from .backbone_small_cnn import SmallCNNOptions, build_small_cnn
from .input_rgb import RGBOptions, build_rgb


@hookimpl
def ferbench_inputs() -> list[ComponentSpec]:
    return [ComponentSpec("input", "rgb", build_rgb, RGBOptions, "T RGB frames sampled uniformly, resized, normalised")]


@hookimpl
def ferbench_backbones() -> list[ComponentSpec]:
    return [
        ComponentSpec("backbone", "resnet18", build_resnet18, ResNet18Options, "torchvision ResNet-18 trunk, D=512; random init or a local weights file"),
        ComponentSpec("backbone", "small-cnn", build_small_cnn, SmallCNNOptions, "four conv blocks, D=8*width; fast CPU baseline"),
    ]


@hookimpl
def ferbench_aggregators() -> list[ComponentSpec]:
    return [
        ComponentSpec("aggregator", "mean", build_mean, MeanOptions, "average of frame features + linear classifier"),
        ComponentSpec("aggregator", "lstm", build_lstm, LSTMOptions, "LSTM over frame features, last hidden state + linear classifier"),
    ]


@hookimpl
def ferbench_launchers():
    from ..sweep.launchers import builtin_launchers

    return builtin_launchers()

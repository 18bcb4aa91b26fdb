"""A test-only plugin: a tiny video dataset and components that exercise engine features.

Loaded in-process through the same entry-point code as installed plugins
(``Registry(entry_points=[..., EntryPoint("toy", "toy_plugin", "ferbench")])``).

Dataset ``toy``: 3 classes x 6 subjects x 2 videos of 6 frames, 32x32 H.264;
the class is where a bright square sits (left / centre / right), the subject
sets the background grey level.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import av
import numpy as np
import torch

from ferbench.components import Backbone, ComponentSpec, Disentangler, ReportedResult, Selector, Stage
from ferbench.data.manifest import Manifest, ProtocolSpec, Sample
from ferbench.hookspecs import hookimpl
from ferbench.options import NoOptions

CLASSES = ["left", "centre", "right"]


@dataclasses.dataclass(frozen=True)
class ToyOptions:
    subjects: int = 6
    videos: int = 2
    frames: int = 6
    folds: int = 3


def _write_video(path: Path, frames: np.ndarray) -> None:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        stream.options = {"bf": "0", "g": "4", "sc_threshold": "0", "threads": "1"}
        for f in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


class ToyDataset:
    def __init__(self, options: ToyOptions, root: Path | None, cache_dir: Path) -> None:
        self.o = options
        self.dir = Path(cache_dir) / "toy" / f"{options.subjects}-{options.videos}-{options.frames}"

    def manifest(self) -> Manifest:
        self.dir.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(0)
        samples = []
        for s in range(self.o.subjects):
            for c in range(len(CLASSES)):
                for v in range(self.o.videos):
                    sid = f"s{s}_c{c}_v{v}"
                    path = self.dir / f"{sid}.mp4"
                    frames = np.full((self.o.frames, 32, 32, 3), 40 + 20 * s, np.uint8)
                    for t in range(self.o.frames):
                        y = 8 + int(rng.integers(0, 10))
                        x = 2 + 11 * c + int(rng.integers(0, 3))
                        frames[t, y : y + 8, x : x + 8] = 250
                    if not path.is_file():
                        _write_video(path, frames)
                    samples.append(Sample(id=sid, path=str(path), label=c, subject=f"s{s}", apex=self.o.frames - 1, num_frames=self.o.frames))
        return Manifest("toy", list(CLASSES), samples, ProtocolSpec("kfold", folds=self.o.folds), root=str(self.dir))


class SideBackbone(Backbone):
    """Needs a side input called 'landmarks' (no built-in input provides it)."""

    out_dim = 4
    side_inputs = ("landmarks",)

    def __init__(self, options, signature):
        super().__init__()
        self.fc = torch.nn.Linear(1, 4)

    def forward(self, x, landmarks):
        return self.fc(landmarks[:, :1])


class PooledLinear(Backbone):
    """No batch statistics (no BatchNorm): a 4x4 average pool and a linear layer. Training it in
    several processes gives the single-process gradients exactly (up to rounding)."""

    out_dim = 16

    def __init__(self, options, signature):
        super().__init__()
        self.pool = torch.nn.AdaptiveAvgPool2d(4)
        self.fc = torch.nn.Linear(signature.channels * 16, 16)

    def forward(self, x):
        return torch.relu(self.fc(self.pool(x).flatten(1)))


class CountingStageDisentangler(Disentangler):
    """A disentangler with one pre-training stage; counts how often the stage trains."""

    trained = 0

    def __init__(self, options, ctx):
        super().__init__()
        self.prior = torch.nn.Linear(ctx.embedding_dim, 1)

    def stages(self):
        def train(stage_ctx):
            CountingStageDisentangler.trained += 1
            with torch.no_grad():
                self.prior.weight.fill_(0.5)

        return [Stage("prior", self.prior, train, key="v1")]

    def losses(self, batch, output, epoch):
        return {"prior": 0.0 * self.prior(output.embedding).mean()}


class DropClassZeroSelector(Selector):
    """Weight 0 for every sample labelled 0, 1 otherwise."""

    def __init__(self, options, ctx):
        super().__init__()

    def weights(self, batch, output, model):
        return (batch.label != 0).float()

    def fold_metrics(self, report):
        """Percent of training samples kept (mean over epochs) and the share of classes 1 and 2."""
        kept = [h["kept"] for h in report.history]
        return {"toy_kept": 100.0 * sum(kept) / len(kept), "toy_expected": 100.0 * 2 / 3}


@hookimpl
def ferbench_datasets():
    return [ComponentSpec("dataset", "toy", ToyDataset, ToyOptions, "moving-square toy videos (tests)", paper="test")]


@hookimpl
def ferbench_backbones():
    return [ComponentSpec("backbone", "needs-landmarks", SideBackbone, NoOptions, "needs a landmarks side input", paper="test"),
            ComponentSpec("backbone", "pooled-linear", PooledLinear, NoOptions, "pool + linear, no BatchNorm", paper="test")]


@hookimpl
def ferbench_disentanglers():
    return [ComponentSpec("disentangler", "counting-stage", CountingStageDisentangler, NoOptions, "stage counter", paper="test")]


@hookimpl
def ferbench_selectors():
    return [ComponentSpec("selector", "drop-class0", DropClassZeroSelector, NoOptions, "masks class 0", paper="test")]


def _claims():
    from ferbench.claims import Arm, Claim, Scale

    base = {"options": {"input": {"frames": 2, "size": 32, "hflip": "false"}}, "train": {"epochs": 1, "batch_size": 8}}
    toy = {"components": {"dataset": "toy"}}
    cpu = {"cpu": Scale(seeds=(0, 1), folds=(0, 1, 2))}
    return [
        Claim("wide-beats-narrow", "toy", "a wider CNN is better", "Table 0", "+1 point", "war", "greater", 1.0,
              (Arm("wide", {"options": {"backbone": {"width": 8}}}), Arm("narrow", {"options": {"backbone": {"width": 2}}})),
              base, toy, cpu),
        Claim("masks-a-third", "toy", "drop-class0 keeps two thirds", "Sec. 0", "66.7 %", "toy_kept", "equal", 5.0,
              (Arm("drop-class0", {"components": {"selector": "drop-class0"}}),), base, toy, cpu,
              baseline_metric="toy_expected"),
    ]


@hookimpl
def ferbench_claims():
    return _claims()


@hookimpl
def ferbench_reported_results():
    return [ReportedResult("toy", "ToyNet", "rgb+small-cnn+mean+none+none", "toy", "3-fold", "war", 99.0, "Table 0")]

"""Component specs and the contracts between component kinds.

A plugin contributes components by returning :class:`ComponentSpec` objects
from its hooks (see :mod:`ferbench.hookspecs`). Each spec names a factory;
the factory's signature depends on the kind:

=============  ==================================================================
kind           factory(options, ...) -> object
=============  ==================================================================
input          ``factory(options) -> InputRepresentation``
backbone       ``factory(options, signature: InputSignature) -> Backbone``
aggregator     ``factory(options, in_dim: int, num_classes: int) -> Aggregator``
disentangler   ``factory(options, ctx: ModelContext) -> Disentangler``
selector       ``factory(options, ctx: ModelContext) -> Selector``
dataset        ``factory(options, root: Path | None, cache_dir: Path) -> DatasetAdapter``
=============  ==================================================================

Data crossing component lines is typed: :class:`InputSignature`,
:class:`Batch`, :class:`ModelOutput`, :class:`ModelContext`, :class:`Stage`.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from .data.batch import Batch, InputRepresentation, InputSignature
from .data.manifest import Manifest, Sample
from .timing import eta_seconds, format_seconds

if TYPE_CHECKING:  # pragma: no cover
    from torch.utils.data import DataLoader

__all__ = [
    "Aggregator", "AggregatorOutput", "Backbone", "Batch", "ComponentSpec", "DatasetAdapter", "Disentangler",
    "Evaluation", "FoldReport", "HasPerceptualFeatures", "InputRepresentation", "InputSignature", "Kind",
    "Manifest", "ModelContext", "ModelOutput", "ReportedResult", "Sample", "Selector", "Stage", "StageContext",
    "TakesPretrainedEncoder",
]

#: a component kind name (see :data:`ferbench.kinds.KINDS`)
Kind = str


@dataclasses.dataclass(frozen=True)
class ComponentSpec:
    """What a plugin registers for one component.

    Attributes:
        kind: one of :data:`ferbench.kinds.KINDS`.
        name: the name users type (``--aggregator eian``); unique per kind.
        factory: builds the component (signature per kind, see module docstring).
        options: dataclass type of the component's options; every field has a default.
        description: one line for ``ferbench list``.
        paper: short id of the source paper (``"ceflnet"``) or ``"core"``.
        plugin: name of the plugin that registered it (filled in by the plugin manager).
        companions: kind -> component name this component needs when the user has not
            chosen that kind (``{"backbone": "relgan-encoder"}``): ``--disentangler relgan``
            then runs with that backbone instead of the core default. An explicit choice
            always wins (and may then be rejected by the factory).
    """

    kind: Kind
    name: str
    factory: Callable[..., Any]
    options: type
    description: str
    paper: str = "core"
    plugin: str = ""
    companions: Mapping[str, str] = dataclasses.field(default_factory=dict, hash=False)
    requires: Mapping[str, type] = dataclasses.field(default_factory=dict, hash=False)


@dataclasses.dataclass(frozen=True)
class ReportedResult:
    """A number a paper reports, shown in the leaderboard as a ``reported`` row.

    The row's combination is given as components and options (``components``,
    ``options``), exactly as a run would choose them; the registry turns them
    into the leaderboard label a matching run records, so a changed default can
    never silently un-match a reported row. (A literal ``combination`` label is
    still accepted for combinations that cannot be built here.)

    Attributes:
        paper: short paper id (``"ifercv"``).
        method: method name as the paper writes it (``"IFERCV+Adv"``).
        dataset: ferbench dataset name (``"ckplus"``, ``"afew"``).
        protocol: protocol as the paper states it (``"10-fold subject-independent"``).
        metric: ``"war"``, ``"uar"`` or ``"f1"``, in percent.
        value: the reported value, in percent.
        source: where in the paper (``"Table I"``).
        combination: the leaderboard label; filled in by the registry from ``components``
            and ``options`` when empty.
        components: kind -> component name (unset kinds: the kind's default).
        options: kind -> option values that differ from the component's defaults.
        macs: multiply-accumulates per sample the paper reports, if any (accuracy-vs-cost plots).
        params: parameters the paper reports, if any.
    """

    paper: str
    method: str
    combination: str
    dataset: str
    protocol: str
    metric: str
    value: float
    source: str
    components: Mapping[str, str] = dataclasses.field(default_factory=dict, hash=False)
    options: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict, hash=False)
    macs: float | None = None
    params: float | None = None


@dataclasses.dataclass
class AggregatorOutput:
    """What an aggregator returns.

    Attributes:
        embedding: [B, D'] video embedding z.
        logits: [B, K] class scores (before softmax).
        extras: named extra tensors (attention [B, T], clip scores [B, n, K], ...).
    """

    embedding: torch.Tensor
    logits: torch.Tensor
    extras: dict[str, torch.Tensor] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class ModelOutput(AggregatorOutput):
    """Aggregator output plus the per-frame features it was computed from.

    Attributes:
        features: [B, T, D] backbone features.
    """

    features: torch.Tensor | None = None


@dataclasses.dataclass
class Evaluation:
    """A model's predictions on one split of a fold.

    Attributes:
        probs: [N, K] softmax probabilities.
        labels: [N] scored labels (``Sample.eval_label``).
        indices: [N] positions of the samples in the manifest.
        extras: the aggregator's named extras, each [N, ...] (attention, clip scores, P_e).
        frame_index: [N, T] source-frame index of every input frame, when the input reports
            it (``sample()`` returning ``"frame_index"``), else None.
        embeddings: [N, D'] video embeddings z, when asked for, else None.
    """

    probs: np.ndarray
    labels: np.ndarray
    indices: np.ndarray
    extras: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    frame_index: np.ndarray | None = None
    embeddings: np.ndarray | None = None

    @property
    def predictions(self) -> np.ndarray:
        """[N] predicted class indices."""
        return self.probs.argmax(1)


@dataclasses.dataclass
class FoldReport:
    """What components see after a fold is scored (``fold_metrics``).

    Attributes:
        fold: fold index.
        evaluation: the scored split's predictions (test fold).
        manifest: the dataset manifest (``manifest.samples[i]`` for ``evaluation.indices``).
        history: per-epoch training statistics (``loss``, ``train_acc``, selector stats, ...).
    """

    fold: int
    evaluation: Evaluation
    manifest: Manifest
    history: list[dict[str, float]]


# --------------------------------------------------------------------------- modules


class Backbone(nn.Module):
    """Per-frame feature extractor: [N, C, H, W] -> [N, out_dim].

    Subclasses set ``out_dim``. A backbone that needs side inputs lists their
    names in ``side_inputs``; they are passed to ``forward`` as keyword
    arguments, flattened the same way as ``x`` ([N, ...] with N = B*T).
    """

    out_dim: int = 0
    side_inputs: tuple[str, ...] = ()


@runtime_checkable
class TakesPretrainedEncoder(Protocol):
    """Capability of a backbone: a stage may hand it a pre-trained encoder, which it copies in and
    freezes (``relgan-encoder`` takes REL-GAN's G_es). Declared with ``ComponentSpec.requires``."""

    def load_encoder(self, encoder: nn.Module) -> None: ...


@runtime_checkable
class HasPerceptualFeatures(Protocol):
    """Capability of a backbone: its intermediate feature maps, for perceptual losses of a stage
    (``sna-multiscale``'s Conv3-Conv5): ``perceptual_features(x [N, C, H, W]) -> list of [N, C_i, H_i, W_i]``."""

    def perceptual_features(self, x: torch.Tensor) -> list[torch.Tensor]: ...


class Aggregator(nn.Module):
    """Temporal aggregator and classifier: [B, T, D] (+mask [B, T]) -> AggregatorOutput.

    An aggregator whose paper prescribes its own loss overrides
    :meth:`classification_loss`; returning None means "use the run's loss".
    """

    embedding_dim: int = 0

    def classification_loss(
        self, output: AggregatorOutput, target: torch.Tensor
    ) -> torch.Tensor | None:
        """Per-sample loss [B], or None to use the run's configured loss."""
        return None

    def fold_metrics(self, report: FoldReport) -> dict[str, float]:
        """Extra numbers to store in the fold's record (e.g. how often P_e finds the apex clip)."""
        return {}


@dataclasses.dataclass
class ModelContext:
    """What disentanglers and selectors are built from.

    Attributes:
        signature: the input's signature.
        feature_dim: D of backbone features.
        embedding_dim: D' of the aggregator embedding.
        num_classes: K.
        manifest: the dataset manifest (samples, apex conventions, subjects).
        cache_dir: the run's cache directory, for artefacts a component shares across
            folds and runs (a pre-trained encoder, say); None when the run has none.
    """

    signature: InputSignature
    feature_dim: int
    embedding_dim: int
    num_classes: int
    manifest: Manifest
    cache_dir: Path | None = None


@dataclasses.dataclass
class StageContext:
    """Handed to a :class:`Stage` when it runs before the classifier is trained.

    Attributes:
        train_loader: yields :class:`Batch` objects of the fold's training samples.
        device: where to train.
        model: the FER model (backbone + aggregator) being trained afterwards.
        seed: the run's seed.
        log: callable taking one line of text.
        fold: index of the fold being trained.
        cache_dir: the run's cache directory (for artefacts shared across folds/runs).
        started: when the stage started (``time.perf_counter()``), for :meth:`eta`.
    """

    train_loader: "DataLoader"
    device: torch.device
    model: nn.Module
    seed: int
    log: Callable[[str], None]
    fold: int = 0
    cache_dir: Path | None = None
    started: float = dataclasses.field(default_factory=time.perf_counter)

    def eta(self, done: float, total: float) -> str:
        """``"ETA stage 3m10s"``: the time left when ``done`` of ``total`` units (steps, epochs) are
        finished, from the time since the stage started; for a stage's progress lines."""
        return f"ETA stage {format_seconds(eta_seconds(time.perf_counter() - self.started, done, total))}"


@dataclasses.dataclass
class Stage:
    """A pre-training stage a component declares (autoencoder, GAN, ...).

    The engine runs stages in order before training the classifier. ``train``
    fits ``module`` in place; the engine then caches ``module.state_dict()``
    per fold under ``name`` and ``key`` (a hash of everything the stage depends
    on besides the fold), and on a later run loads it instead of training.
    """

    name: str
    module: nn.Module
    train: Callable[[StageContext], None]
    key: str = ""


class Disentangler(nn.Module):
    """Extra training objectives computed from the batch and model outputs.

    ``losses`` returns named scalar losses, already weighted; the engine adds
    them to the classification loss. Parameters of the disentangler are
    trained jointly with the model; only the backbone and aggregator are used
    at test time. ``stages`` lists pre-training stages.
    """

    def losses(self, batch: Batch, output: ModelOutput, epoch: int) -> dict[str, torch.Tensor]:
        return {}

    def stages(self) -> list[Stage]:
        return []

    def fold_metrics(self, report: FoldReport) -> dict[str, float]:
        """Extra numbers to store in the fold's record."""
        return {}


class Selector(nn.Module):
    """Per-sample loss weights in [0, 1] (masks are weights of 0 or 1).

    ``weights`` runs under ``torch.no_grad`` with the model's current
    parameters; ``model`` maps a :class:`Batch`-like input to a
    :class:`ModelOutput`. ``epoch_stats`` returns numbers to log per epoch
    (e.g. the fraction of samples masked) and resets them.
    """

    def weights(self, batch: Batch, output: ModelOutput, model: nn.Module) -> torch.Tensor:
        return torch.ones(len(batch), device=batch.label.device)

    def stages(self) -> list[Stage]:
        return []

    def epoch_stats(self) -> dict[str, float]:
        return {}

    def fold_metrics(self, report: FoldReport) -> dict[str, float]:
        """Extra numbers to store in the fold's record (e.g. masking precision over training)."""
        return {}


@runtime_checkable
class DatasetAdapter(Protocol):
    """Reads (or generates) a dataset and returns its manifest."""

    def manifest(self) -> Manifest: ...


"""Run configuration: which components, their options, and how to train.

A :class:`RunConfig` is everything that determines a result. It comes from
CLI flags or an equivalent TOML file (see ``docs/config.md``) and is stored
with every record; :meth:`RunConfig.config_hash` identifies runs for
``--resume`` and the results store.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..components import KINDS
from ..errors import FerbenchError, IncompatibleCombinationError
from ..options import build_options, stable_hash

if TYPE_CHECKING:  # pragma: no cover
    from ..plugins import Registry

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclasses.dataclass(frozen=True)
class TrainOptions:
    """How a model is trained and which checkpoint is scored.

    Attributes:
        epochs: training epochs per fold.
        batch_size: samples per batch.
        optimizer: "adamw", "adam" or "sgd".
        lr: peak learning rate.
        weight_decay: decoupled (adamw) or L2 (adam, sgd) weight decay.
        momentum: SGD momentum.
        schedule: "cosine" (with linear warm-up), "step" or "none".
        warmup_epochs: linear warm-up epochs (cosine).
        step_size: epochs between decays (step).
        gamma: decay factor (step).
        loss: "ce" (cross-entropy) or "focal".
        focal_gamma: focusing parameter of the focal loss.
        focal_alpha: class-agnostic focal weight; 0 means none.
        label_smoothing: cross-entropy label smoothing.
        balanced_sampling: class-balanced batches (batch_size a multiple of K).
        grad_clip: max gradient norm; 0 disables.
        amp: bf16 autocast on CUDA (ignored on CPU).
        device: "auto" (CUDA when present), "cpu", "cuda", "cuda:1", ...
        num_workers: DataLoader workers.
        val_fraction: fraction of training subjects held out for validation.
        select: "last" (last epoch) or "best-val" (best validation epoch; needs val_fraction > 0).
            Never the test fold.
        patience: early stopping: end a fold once validation WAR has not improved for this
            many epochs (needs select=best-val); 0 trains all epochs.
    """

    epochs: int = 20
    batch_size: int = 8
    optimizer: Literal["adamw", "adam", "sgd"] = "adamw"
    lr: float = 3e-3
    weight_decay: float = 1e-4
    momentum: float = 0.9
    schedule: Literal["cosine", "step", "none"] = "cosine"
    warmup_epochs: int = 1
    step_size: int = 10
    gamma: float = 0.1
    loss: Literal["ce", "focal"] = "ce"
    focal_gamma: float = 2.0
    focal_alpha: float = 0.0
    label_smoothing: float = 0.0
    balanced_sampling: bool = False
    grad_clip: float = 5.0
    amp: bool = True
    device: str = "auto"
    num_workers: int = 0
    val_fraction: float = 0.0
    select: Literal["last", "best-val"] = "last"
    patience: int = 0

    def __post_init__(self) -> None:
        if self.select == "best-val" and self.val_fraction <= 0:
            raise ValueError("select=best-val needs val_fraction > 0 (validation subjects carved from training)")
        if self.patience and self.select != "best-val":
            raise ValueError("patience needs select=best-val and val_fraction > 0 (early stopping watches validation)")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch_size must be >= 1")


#: TrainOptions fields that do not change results (excluded from the config hash)
_RUNTIME_ONLY = ("device", "num_workers")


@dataclasses.dataclass(frozen=True)
class ComponentChoice:
    """A component name and its raw option values (strings or TOML values)."""

    name: str
    options: dict[str, Any] = dataclasses.field(default_factory=dict)


DEFAULT_COMPONENTS = {
    "dataset": "synthetic",
    "input": "rgb",
    "backbone": "small-cnn",
    "aggregator": "mean",
    "disentangler": "none",
    "selector": "none",
}


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """One run: a dataset, five components, training options, seed, folds, paths.

    Attributes:
        components: kind -> ComponentChoice for every kind in :data:`ferbench.components.KINDS`.
        train: training options.
        seed: seeds folds, initialisation, sampling.
        folds: fold indices to run (None = all).
        root: dataset root on disk (real datasets; ignored by synthetic).
        cache_dir: generated data, decoded-input and stage caches.
        output_dir: checkpoints, confusion matrices, results database.
    """

    components: dict[str, ComponentChoice]
    train: TrainOptions = TrainOptions()
    seed: int = 0
    folds: tuple[int, ...] | None = None
    root: str | None = None
    cache_dir: str = "~/.cache/ferbench"
    output_dir: str = "ferbench-out"

    def choice(self, kind: str) -> ComponentChoice:
        return self.components[kind]

    @property
    def combination(self) -> str:
        """``input+backbone+aggregator+disentangler+selector``."""
        return "+".join(self.components[k].name for k in KINDS if k != "dataset")

    @property
    def dataset(self) -> str:
        return self.components["dataset"].name

    @property
    def setup(self) -> str:
        """Training options that differ from the defaults: ``"epochs=2, lr=0.0001"``."""
        chosen, defaults = dataclasses.asdict(self.train), dataclasses.asdict(TrainOptions())
        return ", ".join(
            f"{k}={v}" for k, v in chosen.items() if v != defaults[k] and k not in _RUNTIME_ONLY
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "components": {k: {"name": c.name, "options": dict(c.options)} for k, c in self.components.items()},
            "train": dataclasses.asdict(self.train),
            "seed": self.seed,
            "folds": list(self.folds) if self.folds is not None else None,
            "root": self.root,
            "cache_dir": self.cache_dir,
            "output_dir": self.output_dir,
            "setup": self.setup,
        }

    def config_hash(self, resolved_options: dict[str, dict[str, Any]] | None = None) -> str:
        """Hash of what determines results: components with (resolved) options,
        training options (not device/workers), seed and dataset root."""
        train = {k: v for k, v in dataclasses.asdict(self.train).items() if k not in _RUNTIME_ONLY}
        comps = {
            k: {"name": c.name, "options": (resolved_options or {}).get(k, c.options)}
            for k, c in sorted(self.components.items())
        }
        return stable_hash({"components": comps, "train": train, "seed": self.seed, "root": self.root})


def make_config(
    components: dict[str, str | None] | None = None,
    component_options: dict[str, dict[str, Any]] | None = None,
    train: dict[str, Any] | None = None,
    registry: Registry | None = None,
    **fields: Any,
) -> RunConfig:
    """Build a RunConfig from plain values (names, option dicts, train dict).

    Kinds missing from ``components`` get :data:`DEFAULT_COMPONENTS`, unless a chosen
    component names a companion for that kind (:attr:`ComponentSpec.companions`, looked
    up in ``registry`` when given): ``--disentangler relgan`` alone brings its backbone.
    """
    chosen = {k: v for k, v in (components or {}).items() if v}
    unknown = set(chosen) - set(KINDS)
    if unknown:
        raise FerbenchError(f"unknown component kind(s) {sorted(unknown)}; kinds are {', '.join(KINDS)}")
    names = {**DEFAULT_COMPONENTS, **(companion_components(chosen, registry) if registry else {}), **chosen}
    opts = component_options or {}
    choices = {k: ComponentChoice(names[k], dict(opts.get(k, {}))) for k in KINDS}
    return RunConfig(components=choices, train=build_options(TrainOptions, train or {}, owner="train"), **fields)


def companion_components(chosen: dict[str, str], registry: Registry) -> dict[str, str]:
    """Components that the ``chosen`` ones name as companions, for kinds not chosen.

    Raises:
        IncompatibleCombinationError: two chosen components ask for different companions of one kind.
    """
    out: dict[str, tuple[str, str]] = {}  # kind -> (name, who asked)
    for kind in KINDS:
        if kind not in chosen:
            continue
        spec = registry.get(kind, chosen[kind])
        for other, name in spec.companions.items():
            if other in chosen:
                continue
            if other in out and out[other][0] != name:
                raise IncompatibleCombinationError(
                    f"{kind} '{spec.name}' needs {other} '{name}' but {out[other][1]} needs {other} "
                    f"'{out[other][0]}'; choose one with --{other}"
                )
            out[other] = (name, f"{kind} '{spec.name}'")
    return {k: name for k, (name, _) in out.items()}


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a TOML run file into make_config keyword arguments.

    Layout (every key optional)::

        seed = 0
        folds = [0, 2]
        root = "/data/afew"
        [components]
        input = "rgb"
        aggregator = "lstm"
        [options.input]        # per-kind component options
        frames = 16
        [train]
        epochs = 10
    """
    path = Path(path)
    if not path.is_file():
        raise FerbenchError(f"config file not found: {path}")
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise FerbenchError(f"config file {path} is not valid TOML: {err}") from None
    allowed = {"components", "options", "train", "seed", "folds", "root", "cache_dir", "output_dir"}
    extra = set(raw) - allowed
    if extra:
        raise FerbenchError(f"config file {path}: unknown keys {sorted(extra)}; allowed: {sorted(allowed)}")
    out: dict[str, Any] = {
        "components": raw.get("components", {}),
        "component_options": raw.get("options", {}),
        "train": raw.get("train", {}),
    }
    for key in ("seed", "root", "cache_dir", "output_dir"):
        if key in raw:
            out[key] = raw[key]
    if "folds" in raw:
        out["folds"] = tuple(int(f) for f in raw["folds"])
    return out

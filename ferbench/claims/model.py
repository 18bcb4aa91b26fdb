"""What a claim is: a paper's effect, declared as data so anyone can check it.

A plugin returns :class:`Claim` objects from its ``ferbench_claims`` hook. A
claim compares two arms (A vs B, same dataset, same recipe, paired by seed and
fold), or one arm's metric against a second metric of the same records (say,
masking precision against the noise base rate). ``ferbench claims`` runs the
arms as a sweep (or reuses their records) and gives a verdict.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal, Mapping

from ..engine.config import check_config_dict
from ..errors import ConfigError

Direction = Literal["greater", "less", "equal"]


@dataclasses.dataclass(frozen=True)
class Scale:
    """How much evidence a claim needs at one scale.

    Attributes:
        seeds: seeds to run each arm with.
        folds: folds of each seed (None = every fold of the protocol).
        config: a config layer for this scale (CPU-sized epochs and image sizes, say), for every arm.
        arm_config: arm label -> a further layer for that arm only at this scale (a GAN's steps, say).
    """

    seeds: tuple[int, ...]
    folds: tuple[int, ...] | None = None
    config: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    arm_config: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Arm:
    """One side of a claim: a label and a config layer over the claim's base.

    Attributes:
        label: short name in tables (``"residual"``).
        config: config-dict layer (components, options, train) that makes this arm.
    """

    label: str
    config: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Claim:
    """A paper's central effect.

    Attributes:
        name: unique within the plugin, kebab-case (``"residual-beats-rgb-under-identity-bias"``).
        paper: short paper id.
        statement: the paper's words, quoted briefly.
        source: where the paper says it (``"Table I"``, ``"Sec. IV-C"``).
        paper_effect: the effect the paper reports, as text (``"+2.9 WAR points (97.44 vs 94.52)"``).
        metric: record metric compared: ``war``, ``uar``, ``macro_f1``, or one a component records
            (``identity_probe``, ``pe_apex_hit`` ...), in percent or its own unit.
        direction: ``greater`` (A > B), ``less`` (A < B), or ``equal`` (|A - B| < min_effect).
        min_effect: the smallest effect that counts (metric units, >= 0); for ``equal``, the margin.
        arms: (A, B), or (A,) with ``baseline_metric``.
        base: the config dict both arms start from (the shared recipe: components, options, train).
        synthetic: the dataset layer on SynthFER (``{"components": {"dataset": "synthetic"},
            "options": {"dataset": {"identity_bias": 0.8}}}``).
        scales: ``"cpu"`` and ``"gpu"`` (at least ``"cpu"``): seeds, folds, config layer.
        baseline_metric: for one-arm claims: compare ``metric`` with this metric of the same records.
        real: the dataset layer of the paper's real dataset, used instead of ``synthetic`` by
            ``ferbench claims --real --root PATH`` (for users who have the data).
        plugin: filled in by the registry.
    """

    name: str
    paper: str
    statement: str
    source: str
    paper_effect: str
    metric: str
    direction: Direction
    min_effect: float
    arms: tuple[Arm, ...]
    base: Mapping[str, Any]
    synthetic: Mapping[str, Any]
    scales: Mapping[str, Scale]
    baseline_metric: str = ""
    real: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    plugin: str = ""

    def __post_init__(self) -> None:
        where = f"claim '{self.name}'"
        if self.direction not in ("greater", "less", "equal"):
            raise ConfigError(f"{where}: direction must be greater, less or equal, got {self.direction!r}")
        if self.min_effect < 0:
            raise ConfigError(f"{where}: min_effect must be >= 0, got {self.min_effect}")
        if len(self.arms) == 1 and not self.baseline_metric:
            raise ConfigError(f"{where}: a one-arm claim needs baseline_metric (the metric it is compared with)")
        if len(self.arms) not in (1, 2):
            raise ConfigError(f"{where}: needs two arms (A vs B) or one arm and baseline_metric")
        if "cpu" not in self.scales:
            raise ConfigError(f"{where}: needs at least a 'cpu' scale")
        check_config_dict(self.base, f"{where} base")
        for name, layer in (("synthetic", self.synthetic), ("real", self.real)):
            check_config_dict(layer, f"{where} {name}")
            if (layer or name == "synthetic") and "dataset" not in layer.get("components", {}):
                raise ConfigError(f"{where}: the {name} layer must name its dataset in components")
        for arm in self.arms:
            check_config_dict(arm.config, f"{where} arm '{arm.label}'")
        labels = {a.label for a in self.arms}
        for name, scale in self.scales.items():
            check_config_dict(scale.config, f"{where} scale {name}")
            for label, layer in scale.arm_config.items():
                if label not in labels:
                    raise ConfigError(f"{where}: scale {name} configures arm '{label}', which is not an arm")
                check_config_dict(layer, f"{where} scale {name} arm {label}")

    @property
    def key(self) -> str:
        """``plugin/name``: how the claim is named on the command line and in tables."""
        return f"{self.plugin or self.paper}/{self.name}"

    @property
    def comparison(self) -> str:
        """``"A vs B"`` or ``"metric vs baseline_metric of A"``."""
        if len(self.arms) == 2:
            return f"{self.arms[0].label} vs {self.arms[1].label}"
        return f"{self.metric} vs {self.baseline_metric} ({self.arms[0].label})"

"""Sweep specs: a run config plus axes, expanded into ordinary runs.

A sweep spec is a TOML run config (exactly what ``ferbench run --config``
reads) plus a ``[sweep]`` table::

    folds = [0, 1]                       # top-level run settings come first (TOML)

    [sweep]
    name = "tiny-grid"
    zip = [["input", "backbone"]]        # optional: axes that vary together
    exclude = [{input = "residual", aggregator = "lstm"}]   # optional
    compare = ["input=residual,aggregator=mean", "input=rgb,aggregator=mean"]   # optional: printed at the end

    [sweep.axes]
    input = ["rgb", "residual"]          # a component kind: the component
    backbone = ["small-cnn", "ifercv-cnn"]
    aggregator = ["mean", "eian"]
    "aggregator.hidden" = [256, 512]     # KIND.OPTION: a component option
    "dataset.identity_bias" = [0, 0.8]   # dataset options are component options too
    "train.lr" = [1e-3, 3e-3]            # train.FIELD (or the bare field name): a training option
    seed = [0, 1, 2]
    arm = [{label = "paper", options = {aggregator = {variant = "paper"}}},
           {label = "code", options = {aggregator = {variant = "code"}}}]   # tables: whole config layers

    [components]
    dataset = "synthetic-tiny"
    [train]
    epochs = 2

Axes combine as a product, except that the axes of one ``zip`` group advance
together (their lists must have the same length). An ``exclude`` entry drops
every combination whose values match all of its keys. An axis whose values
are tables merges each table into the run's config as a layer (an optional
``label`` key names it in run labels).

Axis keys are written as config paths (``components.input``,
``options.aggregator.hidden``, ``train.lr``, ``seed``) or in the short forms
above; both mean the same thing.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import Any, Mapping

from ..engine.config import TrainOptions, check_config_dict, merge_config_dicts, read_toml
from ..errors import ConfigError
from ..kinds import KINDS
from ..options import option_fields


_TRAIN_FIELDS = tuple(option_fields(TrainOptions))
_SCALARS = ("seed", "folds", "root")


@dataclasses.dataclass(frozen=True)
class Axis:
    """One axis of a sweep, or one zip group of axes that advance together.

    Attributes:
        keys: config paths (``components.input``) or, for a layer axis, its name.
        values: one tuple per position, one value per key.
        layer: values are config-dict layers (tables), not single settings.
    """

    keys: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]
    layer: bool = False


@dataclasses.dataclass(frozen=True)
class PlannedRun:
    """One expanded run of a sweep.

    Attributes:
        label: the axis values that make this run, ``"input=rgb,aggregator=eian,seed=0"``.
        values: axis name -> value (layers by their label).
        config: the run's full config dict (base, then the axis values).
    """

    label: str
    values: dict[str, Any]
    config: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class SweepSpec:
    """A parsed sweep spec (see the module docstring).

    Attributes:
        name: the sweep's name (stored with its records).
        base: the run config every expanded run starts from.
        axes: the axes, zip groups joined.
        exclude: combinations to drop, as axis name -> value.
        source: where the spec came from (for messages).
        compare: two run selections (``"input=residual,aggregator=mean"``: axis values, seeds
            pooled) whose leaderboard rows ``ferbench sweep`` compares when it ends.
    """

    name: str
    base: dict[str, Any]
    axes: tuple[Axis, ...]
    exclude: tuple[dict[str, Any], ...] = ()
    source: str = "sweep spec"
    compare: tuple[str, ...] = ()

    def select(self, selection: str, runs: list[PlannedRun]) -> list[PlannedRun]:
        """The runs whose axis values match ``"axis=value,axis=value"`` (values compared as text)."""
        wanted = dict(part.split("=", 1) for part in selection.split(",") if "=" in part)
        return [r for r in runs if all(_fmt(r.values.get(k, "")) == v for k, v in wanted.items())]

    def expand(self) -> list[PlannedRun]:
        """Every combination of the axes (zip groups together), minus the excluded ones, in order."""
        runs = []
        for combo in itertools.product(*(range(len(a.values)) for a in self.axes)):
            layers, values = [], {}
            for axis, i in zip(self.axes, combo):
                for key, value in zip(axis.keys, axis.values[i]):
                    if axis.layer:
                        values[key] = layer_label(value, i)
                        layers.append({k: v for k, v in value.items() if k != "label"})
                    else:
                        values[axis_name(key)] = value
                        layers.append(set_path({}, key, value))
            if any(all(values.get(k) == v for k, v in ex.items()) for ex in self.exclude):
                continue
            label = ",".join(f"{k}={_fmt(v)}" for k, v in values.items())
            config = merge_config_dicts(self.base, *(check_config_dict(layer, f"{self.source}: axis value")
                                                     for layer in layers))
            runs.append(PlannedRun(label or self.name, values, config))
        return runs


def _fmt(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def layer_label(value: Mapping[str, Any], index: int) -> str:
    """The label of a layer axis value: its ``label`` key, else ``#<index>``."""
    return str(value.get("label", f"#{index}"))


def canonical_path(key: str, where: str = "sweep") -> str:
    """``input`` -> ``components.input``; ``aggregator.hidden`` -> ``options.aggregator.hidden``;
    ``lr`` -> ``train.lr``; config paths pass unchanged (and are checked)."""
    parts = key.split(".")
    if parts[0] in _SCALARS and len(parts) == 1:
        return key
    if parts[0] == "components" and len(parts) == 2 and parts[1] in KINDS:
        return key
    if parts[0] == "options" and len(parts) == 3 and parts[1] in KINDS:
        return key
    if parts[0] == "train" and len(parts) == 2:
        return key
    if len(parts) == 1 and parts[0] in KINDS:
        return f"components.{key}"
    if len(parts) == 2 and parts[0] in KINDS:
        return f"options.{key}"
    if len(parts) == 1 and parts[0] in _TRAIN_FIELDS:
        return f"train.{key}"
    raise ConfigError(
        f"{where}: axis '{key}' is not a setting; use a kind (input), KIND.OPTION (aggregator.hidden), "
        f"train.FIELD (train.lr), seed, folds or root"
    )


def axis_name(path: str) -> str:
    """The short name of a config path, as run labels show it (``options.aggregator.hidden`` -> ``aggregator.hidden``)."""
    parts = path.split(".")
    if parts[0] in ("components", "train"):
        return parts[1]
    if parts[0] == "options":
        return ".".join(parts[1:])
    return path


def set_path(config: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Set a canonical config path in a config dict (in place); returns the dict."""
    parts = path.split(".")
    if parts[0] in _SCALARS:
        config[parts[0]] = value
    elif parts[0] in ("components", "train"):
        config.setdefault(parts[0], {})[parts[1]] = value
    else:
        config.setdefault("options", {}).setdefault(parts[1], {})[parts[2]] = value
    return config


def parse_sweep(raw: Mapping[str, Any], source: str = "sweep spec", *, name: str = "") -> SweepSpec:
    """A :class:`SweepSpec` from a spec's TOML content (a run config plus ``[sweep]``)."""
    raw = dict(raw)
    table = raw.pop("sweep", None)
    if not isinstance(table, Mapping):
        raise ConfigError(f"{source}: no [sweep] table; add [sweep] with name = \"...\" and [sweep.axes]")
    unknown = set(table) - {"name", "axes", "zip", "exclude", "compare"}
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {sorted(unknown)} in [sweep] (keys: name, axes, zip, exclude, compare)")
    compare = table.get("compare", [])
    if compare and (not isinstance(compare, list) or len(compare) != 2 or not all(isinstance(c, str) for c in compare)):
        raise ConfigError(f"{source}: compare must name two run selections, e.g. "
                          f"[\"input=residual,aggregator=mean\", \"input=rgb,aggregator=mean\"]")
    base = check_config_dict(raw, source)
    sweep_name = str(table.get("name") or name or Path(source).stem)
    axes_raw = table.get("axes", {})
    if not isinstance(axes_raw, Mapping) or not axes_raw:
        raise ConfigError(f"{source}: [sweep.axes] must map each setting to a list of values, e.g. seed = [0, 1]")
    paths: dict[str, str] = {}  # written key -> canonical path or layer name
    lists: dict[str, list[Any]] = {}
    layers: set[str] = set()
    for key, values in axes_raw.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{source}: axis '{key}' must be a non-empty list of values, got {values!r}")
        if all(isinstance(v, Mapping) for v in values):
            paths[key] = key
            layers.add(key)
            for i, v in enumerate(values):
                check_config_dict({k: x for k, x in v.items() if k != "label"}, f"{source}: axis '{key}' value {i}")
        else:
            paths[key] = canonical_path(key, source)
        lists[paths[key]] = values
    groups = _zip_groups(table.get("zip", []), paths, lists, source)
    grouped = {k for g in groups for k in g}
    axes = []
    for key in paths.values():
        if key in grouped:
            group = next(g for g in groups if key in g)
            if key == group[0]:
                axes.append(Axis(tuple(group), tuple(zip(*(lists[k] for k in group))), layer=key in layers))
        else:
            axes.append(Axis((key,), tuple((v,) for v in lists[key]), layer=key in layers))
    exclude = []
    for entry in table.get("exclude", []):
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{source}: each exclude entry must be a table like {{input = \"rgb\"}}, got {entry!r}")
        exclude.append({(k if k in layers else axis_name(canonical_path(k, source))): v for k, v in entry.items()})
    return SweepSpec(sweep_name, base, tuple(axes), tuple(exclude), source, tuple(compare))


def _zip_groups(raw: Any, paths: dict[str, str], lists: dict[str, list], source: str) -> list[list[str]]:
    if not isinstance(raw, list) or not all(isinstance(g, list) for g in raw):
        raise ConfigError(f"{source}: zip must be a list of axis lists, e.g. zip = [[\"input\", \"backbone\"]]")
    groups = []
    for group in raw:
        keys = []
        for key in group:
            canon = paths.get(key) or paths.get(next((k for k, v in paths.items() if v == canonical_path(key, source)), ""))
            if canon is None:
                raise ConfigError(f"{source}: zip names '{key}', which is not an axis in [sweep.axes]")
            keys.append(canon)
        if len({len(lists[k]) for k in keys}) > 1:
            raise ConfigError(f"{source}: zip group {group} needs lists of the same length "
                              f"(got {[len(lists[k]) for k in keys]})")
        groups.append(keys)
    return groups


def load_sweep(path: str | Path) -> SweepSpec:
    """Read a sweep spec file."""
    path = Path(path)
    return parse_sweep(read_toml(path, "sweep spec"), str(path), name=path.stem)

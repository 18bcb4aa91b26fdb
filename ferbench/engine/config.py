"""Run configuration: which components, their options, and how to train.

A :class:`RunConfig` is everything that determines a result. It is assembled
from layers of plain mappings (the *config dict*, the shape of a TOML run
file), later layers winning key by key::

    defaults  <  TOML file (--config)  <  overrides (flags, sweep axes)

:func:`check_config_dict` validates a layer's shape and types before any work
is done (one :class:`~ferbench.errors.ConfigError` line per problem, with a
suggestion for misspelt keys and kinds); :func:`merge_config_dicts` layers
them; :func:`config_from_dict` turns the result into a :class:`RunConfig`.
The CLI, sweeps, claims and benchmarks all assemble configs this way, so a
value that was not set never overrides one that was (an explicit
``--cache-dir`` equal to the default still beats the file).

:meth:`RunConfig.config_hash` identifies runs for the results store.

Layout of a config dict (every key optional)::

    seed = 0
    folds = [0, 2]
    root = "/data/afew"
    cache_dir = "~/.cache/ferbench"
    output_dir = "ferbench-out"
    [components]
    input = "rgb"
    aggregator = "lstm"
    [options.input]        # per-kind component options
    frames = 16
    [train]                # TrainOptions fields
    epochs = 10
"""

from __future__ import annotations

import dataclasses
import difflib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from ..errors import ConfigError, IncompatibleCombinationError
from ..kinds import DEFAULT_COMPONENTS, KINDS, kind_spec
from ..options import build_options, options_to_dict, stable_hash
from ..paths import default_cache_dir, default_output_dir
from .train_options import TrainOptions, train_setup

if TYPE_CHECKING:  # pragma: no cover
    from ..plugins import Registry

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

@dataclasses.dataclass(frozen=True)
class ComponentChoice:
    """A component name and its raw option values (strings or TOML values)."""

    name: str
    options: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """One run: a dataset, one component per kind, training options, seed, folds, paths.

    Attributes:
        components: kind -> ComponentChoice for every kind in :data:`ferbench.kinds.KINDS`.
        train: training options.
        seed: seeds folds, initialisation, sampling.
        folds: fold indices to run (None = all).
        root: dataset root on disk (real datasets; ignored by synthetic).
        cache_dir: generated data, decoded-input and stage caches.
        output_dir: checkpoints, confusion matrices, results database.
        sweep: name of the sweep that runs this config ('' for a single run); stored
            with the records, not part of the config hash.
    """

    components: dict[str, ComponentChoice]
    train: TrainOptions = TrainOptions()
    seed: int = 0
    folds: tuple[int, ...] | None = None
    root: str | None = None
    cache_dir: str = dataclasses.field(default_factory=default_cache_dir)
    output_dir: str = dataclasses.field(default_factory=default_output_dir)
    sweep: str = ""

    def choice(self, kind: str) -> ComponentChoice:
        return self.components[kind]

    @property
    def dataset(self) -> str:
        return self.components["dataset"].name

    @property
    def setup(self) -> str:
        """Training options that differ from the defaults: ``"epochs=2, lr=0.0001"``."""
        return train_setup(self.train)

    def to_dict(self) -> dict[str, Any]:
        """The config as a config dict (plus ``setup``); ``config_from_dict`` of it rebuilds the run."""
        return {
            "components": {k: {"name": c.name, "options": dict(c.options)} for k, c in self.components.items()},
            "train": dataclasses.asdict(self.train),
            "seed": self.seed,
            "folds": list(self.folds) if self.folds is not None else None,
            "root": self.root,
            "cache_dir": self.cache_dir,
            "output_dir": self.output_dir,
            "sweep": self.sweep,
            "setup": self.setup,
        }

    def to_config_dict(self) -> dict[str, Any]:
        """The config in the TOML run-file layout (what ``ferbench run --config`` reads)."""
        out: dict[str, Any] = {
            "seed": self.seed,
            "components": {k: c.name for k, c in self.components.items()},
            "options": {k: dict(c.options) for k, c in self.components.items() if c.options},
            "train": {k: v for k, v in options_to_dict(self.train).items()
                      if v != options_to_dict(TrainOptions())[k]},
        }
        if self.folds is not None:
            out["folds"] = list(self.folds)
        if self.root:
            out["root"] = self.root
        return out

    def config_hash(self, resolved_options: dict[str, dict[str, Any]] | None = None) -> str:
        """Hash of what determines results: components with (resolved) options,
        training options (not the runtime ones), seed and dataset root."""
        comps = {
            k: {"name": c.name, "options": (resolved_options or {}).get(k, c.options)}
            for k, c in sorted(self.components.items())
        }
        train = options_to_dict(self.train, runtime=False)
        return stable_hash({"components": comps, "train": train, "seed": self.seed, "root": self.root})


# --------------------------------------------------------------------------- config dicts

#: top-level keys of a config dict
CONFIG_KEYS = ("components", "options", "train", "seed", "folds", "root", "cache_dir", "output_dir")


def _suggest(word: str, choices: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_config_dict(raw: Mapping[str, Any], where: str = "config") -> dict[str, Any]:
    """Validate a config dict's keys and value types; return a normalised copy.

    A top-level kind (``dataset = "afew"``) is shorthand for ``[components] dataset = "afew"``.
    Checks what can be checked without plugins: known top-level keys, kinds in
    ``[components]`` and ``[options.KIND]`` (with "did you mean"), component names
    are strings, option and train sections are tables, ``seed`` an integer,
    ``folds`` a non-empty list of fold indices, paths strings. Component option
    keys and train keys are checked when the config is built.

    Raises:
        ConfigError: one line naming ``where``, the key and the fix.
    """
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a table of settings, got {type(raw).__name__}")
    out: dict[str, Any] = {}
    raw = dict(raw)
    shorthand = {k: raw.pop(k) for k in list(raw) if k in KINDS}  # `dataset = "afew"` at the top level
    if shorthand:
        raw["components"] = {**shorthand, **(raw.get("components") or {})} if isinstance(raw.get("components", {}), Mapping) \
            else raw["components"]
    for key, value in raw.items():
        if key not in CONFIG_KEYS:
            raise ConfigError(f"{where}: unknown key '{key}'{_suggest(key, CONFIG_KEYS)} (keys: {', '.join(CONFIG_KEYS)})")
        if key == "components":
            out[key] = _check_components(value, where)
        elif key == "options":
            out[key] = _check_options(value, where)
        elif key == "train":
            if not isinstance(value, Mapping):
                raise ConfigError(f"{where}: [train] must be a table of training options like epochs = 10, "
                                  f"got {value!r}")
            out[key] = dict(value)
        elif key == "seed":
            if not _is_int(value):
                raise ConfigError(f"{where}: seed must be an integer like 0, got {value!r}")
            out[key] = value
        elif key == "folds":
            out[key] = _check_folds(value, where)
        else:  # root, cache_dir, output_dir
            if value is not None and not isinstance(value, (str, Path)):
                raise ConfigError(f"{where}: {key} must be a path (a string), got {value!r}")
            out[key] = None if value is None else str(value)
    return out


def _kind_table(value: Any, where: str, section: str, example: str) -> Mapping[str, Any]:
    """``value`` as a table keyed by component kinds, or one line naming the unknown kind."""
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: [{section}] must be a table keyed by component kind, like {example}; got {value!r}")
    for kind in value:
        if kind not in KINDS:
            raise ConfigError(f"{where}: unknown component kind '{kind}' in [{section}]{_suggest(kind, KINDS)} "
                              f"(kinds: {', '.join(KINDS)})")
    return value


def _check_components(value: Any, where: str) -> dict[str, str]:
    out = {}
    for kind, name in _kind_table(value, where, "components", 'input = "rgb"').items():
        if name is None:
            continue
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{where}: the {kind} must be a component name (a string, see 'ferbench list {kind}'), "
                              f"got {name!r}")
        out[kind] = name
    return out


def _check_options(value: Any, where: str) -> dict[str, dict[str, Any]]:
    out = {}
    for kind, opts in _kind_table(value, where, "options", "[options.input]").items():
        if not isinstance(opts, Mapping):
            raise ConfigError(f"{where}: [options.{kind}] must be a table of option = value, got {opts!r}")
        out[kind] = dict(opts)
    return out


def _check_folds(value: Any, where: str) -> tuple[int, ...] | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)) and value and all(_is_int(f) and f >= 0 for f in value):
        return tuple(int(f) for f in value)
    raise ConfigError(f"{where}: folds must be a non-empty list of fold indices like [0, 2], got {value!r}")


def merge_config_dicts(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Layer checked config dicts: later layers win key by key (``options`` per kind and key)."""
    out: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if key in ("components", "train"):
                out[key] = {**out.get(key, {}), **value}
            elif key == "options":
                merged = dict(out.get("options", {}))
                for kind, opts in value.items():
                    merged[kind] = {**merged.get(kind, {}), **opts}
                out["options"] = merged
            else:
                out[key] = value
    return out


def config_from_dict(raw: Mapping[str, Any], registry: Registry | None = None, *, where: str = "config",
                     sweep: str = "") -> RunConfig:
    """Build a RunConfig from a config dict (validated here); see :func:`make_config` for defaults."""
    raw = check_config_dict(raw, where)
    fields = {k: raw[k] for k in ("seed", "folds", "root", "cache_dir", "output_dir") if raw.get(k) is not None}
    return make_config(raw.get("components"), raw.get("options"), raw.get("train"), registry=registry, sweep=sweep,
                       **fields)


def config_dict_from_record(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config dict (TOML run-file layout) of a stored record's ``config`` (:meth:`RunConfig.to_dict`),
    with only the options and training values that were set: what reproduces the record's run."""
    out: dict[str, Any] = {
        "seed": config.get("seed", 0),
        "components": {k: c["name"] for k, c in config.get("components", {}).items()},
        "options": {k: dict(c.get("options") or {}) for k, c in config.get("components", {}).items() if c.get("options")},
    }
    defaults = options_to_dict(TrainOptions())
    train = {k: v for k, v in (config.get("train") or {}).items() if k in defaults and v != defaults[k]}
    if train:
        out["train"] = train
    for key in ("folds", "root"):
        if config.get(key) is not None:
            out[key] = config[key]
    return out


def read_toml(path: str | Path, what: str) -> dict[str, Any]:
    """The table of a TOML file; ``what`` names the file in errors (``"config file"``).

    Raises:
        ConfigError: ``<what> not found: <path>`` or ``<what> <path> is not valid TOML: <why>``.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{what} not found: {path}")
    try:
        return tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{what} {path} is not valid TOML: {err}") from None


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read and check a TOML run file; returns its config dict."""
    return check_config_dict(read_toml(path, "config file"), f"config file {path}")


def make_config(
    components: Mapping[str, str | None] | None = None,
    component_options: Mapping[str, Mapping[str, Any]] | None = None,
    train: Mapping[str, Any] | None = None,
    registry: Registry | None = None,
    **fields: Any,
) -> RunConfig:
    """Build a RunConfig from plain values (names, option dicts, train dict).

    Kinds missing from ``components`` get their kind's default
    (:data:`ferbench.kinds.DEFAULT_COMPONENTS`), unless a chosen component names a
    companion for that kind (:attr:`ComponentSpec.companions`, looked up in
    ``registry`` when given): ``--disentangler relgan`` alone brings its backbone.

    Raises:
        ConfigError: an unknown kind, or a bad training option.
    """
    chosen = {k: v for k, v in (components or {}).items() if v}
    for kind in list(chosen) + list(component_options or {}):
        kind_spec(kind)  # unknown kinds raise with a suggestion
    names = {**DEFAULT_COMPONENTS, **(companion_components(chosen, registry) if registry else {}), **chosen}
    opts = component_options or {}
    choices = {k: ComponentChoice(names[k], dict(opts.get(k, {}))) for k in KINDS}
    return RunConfig(components=choices, train=build_options(TrainOptions, train or {}, owner="train"), **fields)


def companion_components(chosen: Mapping[str, str], registry: Registry) -> dict[str, str]:
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

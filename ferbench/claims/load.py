"""Claims declared in a TOML file: how plugins ship their papers' claims as data.

A plugin keeps ``claims.toml`` beside its code and returns
``load_claims(Path(__file__).with_name("claims.toml"))`` from its
``ferbench_claims`` hook. Layout::

    paper = "ifercv"

    [recipe]                     # config layer every claim of the file starts from
    components = {backbone = "ifercv-cnn"}
    train = {epochs = 10}

    [datasets.biased]            # named dataset layers (a claim's synthetic = / real =)
    components = {dataset = "synthetic"}
    options = {dataset = {identity_bias = 0.8}}

    [scales.gpu]                 # named scales a claim can reuse (scales.gpu = "gpu")
    seeds = [0, 1, 2]
    config = {train = {epochs = 30}}

    [[claims]]
    name = "residual-beats-rgb-under-identity-bias"
    statement = "..."            # the paper's words
    source = "Table I"
    paper_effect = "..."
    metric = "war"
    direction = "greater"        # greater | less | equal
    min_effect = 2.0
    synthetic = "biased"
    real = "ckplus"              # optional
    base = {components = {input = "residual"}}   # optional, on top of [recipe]
    baseline_metric = ""         # one-arm claims
    arms = [{label = "residual", components = {input = "residual"}}, {label = "rgb", components = {input = "rgb"}}]
    scales = {cpu = {seeds = [0, 1, 2], folds = [0, 1, 2, 3, 4]}, gpu = "gpu"}

An arm is a label plus a config layer (``components``, ``options``, ``train``);
a scale is ``seeds``, optional ``folds``, ``config`` (a layer for every arm) and
``arms`` (label -> a layer for that arm only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from ..engine.config import merge_config_dicts, read_toml
from ..errors import ConfigError
from .model import Arm, Claim, Scale


_CLAIM_KEYS = {"name", "statement", "source", "paper_effect", "metric", "direction", "min_effect", "synthetic", "real",
               "base", "baseline_metric", "arms", "scales"}
_SCALE_KEYS = {"seeds", "folds", "config", "arms"}


def _named(table: Mapping[str, Any], value: Any, what: str, where: str) -> Any:
    """A table given inline, or the name of one in ``table``."""
    if isinstance(value, str):
        if value not in table:
            raise ConfigError(f"{where}: no {what} named '{value}' (defined: {', '.join(table) or 'none'})")
        return table[value]
    return value


def _scale(raw: Any, where: str) -> Scale:
    if not isinstance(raw, Mapping) or "seeds" not in raw:
        raise ConfigError(f"{where}: a scale is a table with seeds = [...] (and folds, config, arms)")
    unknown = set(raw) - _SCALE_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown scale key(s) {sorted(unknown)} (keys: {', '.join(sorted(_SCALE_KEYS))})")
    folds = raw.get("folds")
    return Scale(seeds=tuple(raw["seeds"]), folds=None if folds is None else tuple(folds),
                 config=dict(raw.get("config", {})), arm_config={k: dict(v) for k, v in raw.get("arms", {}).items()})


def _arm(raw: Any, where: str) -> Arm:
    if not isinstance(raw, Mapping) or "label" not in raw:
        raise ConfigError(f"{where}: an arm is a table with a label and a config layer, e.g. "
                          "{label = \"rgb\", components = {input = \"rgb\"}}")
    return Arm(str(raw["label"]), {k: v for k, v in raw.items() if k != "label"})


def claims_hook(module_file: str | Path):
    """A ``ferbench_claims`` hook implementation that loads ``claims.toml`` beside ``module_file``.

    In a plugin's ``__init__.py``: ``ferbench_claims = claims_hook(__file__)``.
    """
    from ..hookspecs import hookimpl

    path = Path(module_file).with_name("claims.toml")

    @hookimpl
    def ferbench_claims() -> list[Claim]:
        return load_claims(path)

    return ferbench_claims


def load_claims(path: str | Path) -> list[Claim]:
    """The claims of a claims file (see the module docstring); every claim is validated.

    Raises:
        ConfigError: one line naming the file, the claim and the problem.
    """
    path = Path(path)
    raw = read_toml(path, "claims file")
    paper = str(raw.get("paper", ""))
    recipe = raw.get("recipe", {})
    datasets = raw.get("datasets", {})
    scales = {name: _scale(s, f"claims file {path}: scale '{name}'") for name, s in raw.get("scales", {}).items()}
    claims = []
    for entry in raw.get("claims", []):
        where = f"claims file {path}: claim '{entry.get('name', '?')}'"
        unknown = set(entry) - _CLAIM_KEYS
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)} (keys: {', '.join(sorted(_CLAIM_KEYS))})")
        missing = {"name", "statement", "source", "metric", "direction", "arms", "synthetic", "scales"} - set(entry)
        if missing:
            raise ConfigError(f"{where}: missing {', '.join(sorted(missing))}")
        claims.append(Claim(
            name=entry["name"], paper=paper, statement=entry["statement"], source=entry["source"],
            paper_effect=entry.get("paper_effect", ""), metric=entry["metric"], direction=entry["direction"],
            min_effect=float(entry.get("min_effect", 0.0)),
            arms=tuple(_arm(a, where) for a in entry["arms"]),
            base=merge_config_dicts(recipe, entry.get("base", {})),
            synthetic=_named(datasets, entry["synthetic"], "dataset layer", where),
            real=_named(datasets, entry.get("real", {}), "dataset layer", where),
            scales={name: (_named(scales, s, "scale", where) if isinstance(s, str) else _scale(s, f"{where}: scale "
                                                                                                  f"'{name}'"))
                    for name, s in entry["scales"].items()},
            baseline_metric=entry.get("baseline_metric", ""),
        ))
    return claims

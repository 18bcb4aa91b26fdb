"""Checking a claim: its arms as a sweep, its records paired, and a verdict.

The arms of a claim at a scale are one sweep: a ``arm`` axis (each arm's
config layer) times a ``seed`` axis, over the claim's base config plus the
scale's layer, on the scale's folds. Its records are ordinary records (tagged
``claim-<plugin>-<name>-<scale>``), so they also appear in the leaderboard.

Verdict, from the 95 % CI [lo, hi] of the paired effect e = A - B (or
metric - baseline_metric), turned so that the claimed direction is positive
(``less``: e -> -e), with δ = ``min_effect``:

* ``contradicted``: hi < δ: the effect is credibly smaller than the smallest that counts
  (or opposite);
* ``reproduced``: lo > 0 (and hi >= δ): the effect is credibly there, as large as claimed
  or larger within the interval;
* ``inconclusive``: otherwise: the CI contains both zero and δ (too few folds or seeds);
* ``equal`` claims: ``reproduced`` when -δ < lo and hi < δ (equivalent within the margin),
  ``contradicted`` when lo >= δ or hi <= -δ, else ``inconclusive``;
* ``not run``: no paired records (run ``ferbench claims --run``); fewer than 2 pairs is
  ``inconclusive``.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from ..compare import PairedEffect, compare_records, metric_column, paired_effect
from ..engine.assemble import resolve
from ..engine.config import config_from_dict, merge_config_dicts
from ..errors import ConfigError, FerbenchError
from ..plugins import Registry
from ..results import ResultsStore
from ..sweep.launchers import Launcher
from ..sweep.spec import Axis, SweepSpec
from .model import Claim

VERDICTS = ("reproduced", "contradicted", "inconclusive", "not run")


@dataclasses.dataclass
class ClaimResult:
    """A claim's measured effect and verdict at one scale.

    Attributes:
        claim: the claim.
        scale: ``cpu`` or ``gpu``.
        dataset: the dataset label the arms ran on.
        effect: paired statistics of A - B (or metric - baseline), None when not run.
        mean_a, mean_b: the arms' means over the pairs (B: the baseline metric for one-arm claims).
        verdict: one of :data:`VERDICTS`.
        note: why a claim was not checked, or what was left out.
    """

    claim: Claim
    scale: str
    dataset: str = ""
    effect: PairedEffect | None = None
    mean_a: float = math.nan
    mean_b: float = math.nan
    verdict: str = "not run"
    note: str = ""

    def as_dict(self, command: str = "") -> dict[str, Any]:
        """The row ``claims.json`` stores (and the report site reads)."""
        c, e = self.claim, self.effect
        nan = math.nan
        return {
            "plugin": c.plugin, "paper": c.paper, "name": c.name, "statement": c.statement, "source": c.source,
            "paper_effect": c.paper_effect, "metric": c.metric, "baseline_metric": c.baseline_metric,
            "direction": c.direction, "min_effect": c.min_effect, "scale": self.scale, "dataset": self.dataset,
            "arms": [a.label for a in c.arms], "n": e.n if e else 0, "mean_a": self.mean_a, "mean_b": self.mean_b,
            "mean_diff": e.mean if e else nan, "ci_low": e.ci_low if e else nan, "ci_high": e.ci_high if e else nan,
            "p_value": e.p_value if e else nan, "verdict": self.verdict, "note": self.note, "command": command,
        }


def verdict(effect: PairedEffect, direction: str, min_effect: float) -> str:
    """The verdict of a paired effect (see the module docstring)."""
    if effect.n == 0:
        return "not run"
    if effect.n < 2 or math.isnan(effect.ci_low):
        return "inconclusive"
    lo, hi = effect.ci_low, effect.ci_high
    if direction == "equal":
        if -min_effect < lo and hi < min_effect:
            return "reproduced"
        return "contradicted" if lo >= min_effect or hi <= -min_effect else "inconclusive"
    if direction == "less":
        lo, hi = -hi, -lo
    if hi < min_effect:
        return "contradicted"
    return "reproduced" if lo > 0 else "inconclusive"


def sweep_name(claim: Claim, scale: str, real: bool = False) -> str:
    return f"claim-{claim.plugin or claim.paper}-{claim.name}-{scale}" + ("-real" if real else "")


def claim_sweep(claim: Claim, scale: str, *, real: bool = False) -> SweepSpec:
    """The sweep that produces a claim's records at ``scale`` (``real``: on the paper's dataset)."""
    if scale not in claim.scales:
        raise ConfigError(f"claim '{claim.key}' has no '{scale}' scale (it has {', '.join(claim.scales)})")
    if real and not claim.real:
        raise ConfigError(f"claim '{claim.key}' declares no real-dataset setting")
    s = claim.scales[scale]
    base = merge_config_dicts(claim.base, claim.real if real else claim.synthetic, s.config)
    if s.folds is not None:
        base["folds"] = list(s.folds)
    arms = Axis(("arm",), tuple(({"label": a.label, **merge_config_dicts(a.config, s.arm_config.get(a.label, {}))},)
                                for a in claim.arms), layer=True)
    seeds = Axis(("seed",), tuple((seed,) for seed in s.seeds))
    return SweepSpec(sweep_name(claim, scale, real), base, (arms, seeds), source=f"claim '{claim.key}'")


def _arm_records(spec: SweepSpec, registry: Registry, overrides: dict[str, Any]) -> tuple[dict[str, pd.DataFrame], str]:
    """Per arm label, its "ok" records (config hashes computed without loading any data), and the dataset label."""
    hashes: dict[str, set[str]] = {}
    store_paths: set[Path] = set()
    dataset = ""
    for run in spec.expand():
        config = config_from_dict(merge_config_dicts(run.config, overrides), registry, where=spec.source)
        resolved = resolve(config, registry)
        hashes.setdefault(run.values["arm"], set()).add(config.config_hash(resolved.options_dict(runtime=False)))
        store_paths.add(Path(config.output_dir).expanduser() / "results.sqlite")
        dataset = resolved.label("dataset")
    frames = [ResultsStore(p).dataframe() for p in store_paths if p.is_file()]
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["config_hash"])
    folds = spec.base.get("folds")
    out = {}
    for arm, hs in hashes.items():
        rows = df[df["config_hash"].isin(hs)]
        if folds is not None and len(rows):
            rows = rows[rows["fold"].isin(folds)]
        out[arm] = rows
    return out, dataset


def evaluate_claim(claim: Claim, scale: str, registry: Registry, *, overrides: dict[str, Any] | None = None,
                   real: bool = False) -> ClaimResult:
    """The claim's verdict from the records that exist (nothing is trained)."""
    spec = claim_sweep(claim, scale, real=real)
    per_arm, dataset = _arm_records(spec, registry, overrides or {})
    result = ClaimResult(claim, scale, dataset)
    metric = metric_column(claim.metric)
    a = per_arm[claim.arms[0].label]
    if len(claim.arms) == 2:
        b = per_arm[claim.arms[1].label]
        if a.empty or b.empty:
            result.note = "no records yet (ferbench claims --run)"
            return result
        try:
            comparison = compare_records(a, b, metric, labels=(claim.arms[0].label, claim.arms[1].label))
        except FerbenchError as err:
            result.note = str(err)
            return result
        result.effect, result.mean_a, result.mean_b = comparison.effect, comparison.mean_a, comparison.mean_b
        if comparison.unpaired:
            result.note = f"{comparison.unpaired} unpaired record(s) left out"
    else:
        baseline = metric_column(claim.baseline_metric)
        if a.empty:
            result.note = "no records yet (ferbench claims --run)"
            return result
        missing = [m for m in (metric, baseline) if m not in a.columns or a[m].isna().all()]
        if missing:
            result.note = f"records lack {', '.join(missing)}"
            return result
        rows = a.dropna(subset=[metric, baseline])
        result.effect = paired_effect((rows[metric] - rows[baseline]).tolist())
        result.mean_a, result.mean_b = float(rows[metric].mean()), float(rows[baseline].mean())
    result.verdict = verdict(result.effect, claim.direction, claim.min_effect)
    return result


def run_claim(claim: Claim, scale: str, registry: Registry, launcher: Launcher, *,
              overrides: dict[str, Any] | None = None, real: bool = False,
              log: Callable[[str], None] = print, progress: bool = True) -> ClaimResult:
    """Run the claim's missing records through ``launcher`` (the sweep driver), then evaluate it."""
    from ..sweep.driver import run_sweep

    run_sweep(claim_sweep(claim, scale, real=real), registry, launcher, overrides=overrides, log=log, progress=progress)
    return evaluate_claim(claim, scale, registry, overrides=overrides, real=real)


def select_claims(registry: Registry, names: list[str]) -> list[Claim]:
    """The claims of the named plugins (or ``plugin/claim`` keys); all claims when ``names`` is empty."""
    claims = registry.claims()
    if not names:
        return claims
    chosen = []
    for name in names:
        hit = [c for c in claims if c.plugin == name or c.key == name]
        if not hit:
            plugins = sorted({c.plugin for c in claims})
            raise FerbenchError(f"no claims for '{name}'; plugins with claims: {', '.join(plugins) or 'none'} "
                                "(see 'ferbench claims --list')")
        chosen += [c for c in hit if c not in chosen]
    return chosen

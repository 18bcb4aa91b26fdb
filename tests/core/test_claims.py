"""ferbench claims: declared claims, their sweeps, paired verdicts, the docs page and claims.json."""

from __future__ import annotations

import json
import math

import pytest

from ferbench.claims import (Arm, Claim, Scale, claim_sweep, claims_page, evaluate_claim, list_table, render_results,
                             run_claim, select_claims, verdict)
from ferbench.compare import PairedEffect
from ferbench.errors import ConfigError, FerbenchError
from ferbench.results import ResultsStore
from ferbench.sweep import run_job


def effect(lo, hi, n=10, mean=None):
    return PairedEffect(n, (lo + hi) / 2 if mean is None else mean, lo, hi, 0.01)


@pytest.mark.parametrize("lo,hi,direction,delta,expected", [
    (0.5, 3.0, "greater", 1.0, "reproduced"),     # excludes 0, reaches the claimed effect
    (-1.0, 3.0, "greater", 1.0, "inconclusive"),  # holds both 0 and the claimed effect
    (-3.0, 0.5, "greater", 1.0, "contradicted"),  # entirely below the smallest effect that counts
    (0.1, 0.5, "greater", 1.0, "contradicted"),   # real but smaller than claimed
    (-4.0, -1.0, "less", 0.0, "reproduced"),
    (1.0, 4.0, "less", 0.0, "contradicted"),
    (-1.0, 1.0, "equal", 2.0, "reproduced"),      # within the margin
    (2.5, 4.0, "equal", 2.0, "contradicted"),
    (-1.0, 3.0, "equal", 2.0, "inconclusive"),
])
def test_verdicts(lo, hi, direction, delta, expected):
    assert verdict(effect(lo, hi), direction, delta) == expected


def test_too_few_pairs_are_not_run_or_inconclusive():
    assert verdict(PairedEffect(0, math.nan, math.nan, math.nan, math.nan), "greater", 0) == "not run"
    assert verdict(PairedEffect(1, 5.0, math.nan, math.nan, 1.0), "greater", 0) == "inconclusive"


def test_claims_are_validated_when_declared():
    base, toy = {}, {"components": {"dataset": "toy"}}
    cpu = {"cpu": Scale(seeds=(0,))}
    with pytest.raises(ConfigError, match="needs baseline_metric"):
        Claim("x", "p", "s", "T1", "e", "war", "greater", 0, (Arm("a"),), base, toy, cpu)
    with pytest.raises(ConfigError, match="direction"):
        Claim("x", "p", "s", "T1", "e", "war", "up", 0, (Arm("a"), Arm("b")), base, toy, cpu)
    with pytest.raises(ConfigError, match="'cpu' scale"):
        Claim("x", "p", "s", "T1", "e", "war", "greater", 0, (Arm("a"), Arm("b")), base, toy, {})
    with pytest.raises(ConfigError, match="unknown component kind 'inptu'"):
        Claim("x", "p", "s", "T1", "e", "war", "greater", 0, (Arm("a", {"components": {"inptu": "rgb"}}), Arm("b")),
              base, toy, cpu)
    with pytest.raises(ConfigError, match="must name its dataset"):
        Claim("x", "p", "s", "T1", "e", "war", "greater", 0, (Arm("a"), Arm("b")), base, {}, cpu)


def test_a_claim_is_a_sweep_over_arms_and_seeds(registry):
    claim = next(c for c in registry.claims() if c.name == "wide-beats-narrow")
    assert claim.plugin == "toy" and claim.key == "toy/wide-beats-narrow"
    spec = claim_sweep(claim, "cpu")
    runs = spec.expand()
    assert [r.label for r in runs] == ["arm=wide,seed=0", "arm=wide,seed=1", "arm=narrow,seed=0", "arm=narrow,seed=1"]
    assert runs[0].config["folds"] == [0, 1, 2] and runs[0].config["options"]["backbone"] == {"width": 8}
    with pytest.raises(ConfigError, match="no 'gpu' scale"):
        claim_sweep(claim, "gpu")
    assert select_claims(registry, ["toy"]) == [c for c in registry.claims() if c.plugin == "toy"]
    with pytest.raises(FerbenchError, match="no claims for 'nope'"):
        select_claims(registry, ["nope"])
    assert "wide-beats-narrow" in list_table(select_claims(registry, ["toy"]))


class InProcess:
    """A launcher (the Launcher protocol) that runs jobs here, with the test's registry (toy plugin)."""

    def __init__(self, registry):
        self.registry = registry

    def launch(self, jobs):
        for job in jobs:
            yield run_job(job, self.registry)


def test_run_then_judge_both_kinds_of_claim(registry, dirs, one_torch_thread):
    two_arms, one_arm = (next(c for c in registry.claims() if c.name == n) for n in ("wide-beats-narrow", "masks-a-third"))
    before = evaluate_claim(two_arms, "cpu", registry, overrides=dirs)
    assert before.verdict == "not run" and "claims --run" in before.note
    result = run_claim(two_arms, "cpu", registry, InProcess(registry), overrides=dirs, log=lambda s: None, progress=False)
    assert result.effect.n == 6 and result.verdict in ("reproduced", "contradicted", "inconclusive")
    assert result.dataset == "toy"
    store = ResultsStore(f"{dirs['output_dir']}/results.sqlite")
    assert {r.sweep for r in store.records()} == {"claim-toy-wide-beats-narrow-cpu"}
    again = evaluate_claim(two_arms, "cpu", registry, overrides=dirs)  # judged from the stored records
    assert again.effect == result.effect

    masked = run_claim(one_arm, "cpu", registry, InProcess(registry), overrides=dirs, log=lambda s: None, progress=False)
    assert masked.effect.n == 6
    assert masked.mean_b == pytest.approx(200 / 3)  # the toy selector's fold metric, stored in the records
    rows = [r.as_dict("ferbench claims toy --run") for r in (result, masked)]
    assert json.loads(json.dumps(rows, default=str))[0]["verdict"] == result.verdict
    page = claims_page([result, masked], "ferbench claims toy --run --scale cpu", "cpu")
    assert page.startswith("# Paper claims") and "`ferbench claims toy --run --scale cpu`" in page
    assert "toy/masks-a-third" in page and "| toy " in page
    csv_lines = render_results([result], "csv").splitlines()
    assert csv_lines[0].startswith("plugin,paper,name,statement") and "verdict" in csv_lines[0]


def test_every_paper_plugin_declares_claims_that_resolve(registry):
    """Each paper plugin declares at least one claim; every run of every scale builds a valid config
    (components exist, options parse) without loading any data."""
    from ferbench.engine.assemble import resolve
    from ferbench.engine.config import config_from_dict

    claims = [c for c in registry.claims() if c.plugin != "toy"]
    assert {c.plugin for c in claims} >= {"ifercv", "ceflnet", "sna", "relgan", "recentral3d"}
    assert len({c.key for c in claims}) == len(claims)
    for claim in claims:
        for scale in claim.scales:
            for real in (False, True) if claim.real else (False,):
                for run in claim_sweep(claim, scale, real=real).expand():
                    resolve(config_from_dict(run.config, registry), registry)


@pytest.mark.parametrize("text,needle", [
    ('paper = "p"\n[[claims]]\nname = "x"\ncolour = 1\n', "unknown key"),
    ('paper = "p"\n[[claims]]\nname = "x"\nstatement = "s"\n', "missing"),
    ('paper = "p"\n[[claims]]\nname = "x"\nstatement = "s"\nsource = "T"\nmetric = "war"\ndirection = "greater"\n'
     'arms = [{label = "a"}, {label = "b"}]\nsynthetic = "nope"\nscales = {cpu = {seeds = [0]}}\n',
     "no dataset layer named 'nope'"),
    ('paper = "p"\n[[claims]]\nname = "x"\nstatement = "s"\nsource = "T"\nmetric = "war"\ndirection = "greater"\n'
     'arms = [{components = {}}]\nsynthetic = {components = {dataset = "toy"}}\nscales = {cpu = {seeds = [0]}}\n',
     "an arm is a table with a label"),
    ("paper = \n", "claims file"),
])
def test_claims_files_are_checked_when_loaded(tmp_path, text, needle):
    from ferbench.claims import load_claims

    path = tmp_path / "claims.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=needle):
        load_claims(path)

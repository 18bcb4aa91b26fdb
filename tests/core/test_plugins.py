"""Plugin discovery, broken-plugin isolation, clashes, restriction, docs of hook specs."""

from __future__ import annotations

import importlib.metadata as md
import inspect
import re
import sys
import types

import pytest

from ferbench import hookspecs
from ferbench.components import ComponentSpec
from ferbench.errors import PluginClashError, UnknownComponentError
from ferbench.hookspecs import hookimpl
from ferbench.options import NoOptions
from ferbench.plugins import ENTRY_POINT_GROUP, Registry

from repo import ROOT

DOCS = ROOT / "docs"


def _ep(name: str, module: str) -> md.EntryPoint:
    return md.EntryPoint(name=name, value=module, group=ENTRY_POINT_GROUP)


def _fake_module(name: str, **hooks) -> str:
    mod = types.ModuleType(name)
    for hook_name, fn in hooks.items():
        setattr(mod, hook_name, hookimpl(fn))
    sys.modules[name] = mod
    return name


def test_installed_entry_points_provide_the_core_components():
    reg = Registry()
    assert "core" in reg.plugins and not reg.plugins["core"].broken
    assert {"rgb"} <= set(reg.names("input"))
    assert {"resnet18", "small-cnn"} <= set(reg.names("backbone"))
    assert {"mean", "lstm"} <= set(reg.names("aggregator"))
    assert reg.get("disentangler", "none").plugin == "core"
    assert reg.get("selector", "none").plugin == "core"
    assert "ferbench_backbones" in reg.plugins["core"].hooks


def test_plugin_that_fails_to_import_is_listed_broken_and_others_work():
    reg = Registry(entry_points=[_ep("core", "ferbench.builtin"), _ep("ghost", "no_such_module_xyz")])
    assert reg.plugins["ghost"].broken
    assert "ModuleNotFoundError" in reg.plugins["ghost"].error
    assert reg.get("aggregator", "mean").plugin == "core"


def test_plugin_whose_hook_raises_is_broken_and_contributes_nothing():
    def ferbench_aggregators():
        raise RuntimeError("boom")

    name = _fake_module("fb_raising_plugin", ferbench_aggregators=ferbench_aggregators)
    reg = Registry(entry_points=[_ep("core", "ferbench.builtin"), _ep("raiser", name)])
    assert "boom" in reg.plugins["raiser"].error
    assert reg.names("aggregator") == ["lstm", "mean"]


def test_name_clash_names_both_plugins():
    def ferbench_aggregators():
        return [ComponentSpec("aggregator", "mean", lambda o, d, k: None, NoOptions, "another mean")]

    name = _fake_module("fb_clashing_plugin", ferbench_aggregators=ferbench_aggregators)
    with pytest.raises(PluginClashError, match=r"'core'.*'clasher'|'clasher'.*'core'"):
        Registry(entry_points=[_ep("core", "ferbench.builtin"), _ep("clasher", name)])


def test_environment_variable_restricts_plugins(monkeypatch):
    monkeypatch.setenv("FERBENCH_PLUGINS", "core")
    reg = Registry(entry_points=[_ep("core", "ferbench.builtin"), _ep("ghost", "no_such_module_xyz")])
    assert list(reg.plugins) == ["core"]


def test_unknown_component_suggests_and_lists_choices():
    reg = Registry(only=["core"])
    with pytest.raises(UnknownComponentError, match=r"Did you mean 'lstm'\?.*Choices: lstm, mean"):
        reg.get("aggregator", "lsmt")


def test_reported_results_are_collected(registry):
    rows = registry.reported_results()
    assert any(r.paper == "toy" and r.value == 99.0 for r in rows)


def _hook_sections() -> dict[str, str]:
    """docs/hooks.md: hook name -> the text of its section."""
    text = (DOCS / "hooks.md").read_text()
    parts = re.split(r"^## `(ferbench_\w+)`\s*$", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def test_every_hook_spec_is_documented():
    sections = _hook_sections()
    specs = [n for n, f in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(f, "ferbench_spec")]
    assert specs, "no hook specs found"
    for name in specs:
        assert name in sections, f"hook spec {name} has no section in docs/hooks.md"


def test_each_kind_descriptor_agrees_with_its_hook_and_its_docs():
    """One KindSpec per kind: its hook exists as a pluggy spec, and its docs/hooks.md section names the same
    factory signature, so descriptor, hook and documentation cannot drift apart."""
    from ferbench.kinds import KIND_SPECS

    sections = _hook_sections()
    for kind in KIND_SPECS:
        assert hasattr(getattr(hookspecs, kind.hook, None), "ferbench_spec"), f"no hook spec {kind.hook}"
        assert kind.hook in sections, f"kind '{kind.name}': no section for {kind.hook} in docs/hooks.md"
        assert f"`{kind.factory}`" in sections[kind.hook], (
            f"kind '{kind.name}': docs/hooks.md section {kind.hook} does not state the factory `{kind.factory}`")

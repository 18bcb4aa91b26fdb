"""Plugin discovery and the component registry.

Plugins are found through the entry-point group ``ferbench`` (built-in ones
too). The environment variable ``FERBENCH_PLUGINS`` (comma-separated plugin
names) restricts which plugins load. A plugin that fails to import, or whose
hook raises, is recorded as broken with its error; the others keep working.
Two plugins that register the same (kind, name) clash: the clash is recorded
with both names (``Registry.clashes``) and, by default, raised as
:class:`PluginClashError` once loading ends. Diagnostic commands (``ferbench
plugins``, ``ferbench list``) build the registry with ``strict=False`` so they
still work and show the clash.

Kinds built from a model context (disentangler, selector, see
:mod:`ferbench.kinds`) always have a built-in ``none`` component.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib.metadata as importlib_metadata
import os
from typing import Any, Iterable

import pluggy

from . import hookspecs
from .components import ComponentSpec, ReportedResult
from .errors import PluginClashError, UnknownComponentError
from .kinds import CONTEXT_KINDS, HOOK_KINDS, KINDS, kind_spec
from .options import NoOptions

ENTRY_POINT_GROUP = "ferbench"
ENV_PLUGINS = "FERBENCH_PLUGINS"


@dataclasses.dataclass
class PluginInfo:
    """One plugin as ``ferbench plugins`` shows it."""

    name: str
    module: str
    version: str
    distribution: str
    hooks: list[str] = dataclasses.field(default_factory=list)
    error: str | None = None

    @property
    def broken(self) -> bool:
        return self.error is not None


def _entry_point_version(ep: importlib_metadata.EntryPoint) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "", ""
    return dist.metadata["Name"] or "", dist.version or ""


class Registry:
    """All components of all loaded plugins, keyed by (kind, name)."""

    def __init__(
        self,
        entry_points: Iterable[importlib_metadata.EntryPoint] | None = None,
        only: Iterable[str] | None = None,
        *,
        strict: bool = True,
    ) -> None:
        """Load plugins.

        Args:
            entry_points: entry points to load; default: the installed ``ferbench`` group.
            only: plugin names to load; default: ``$FERBENCH_PLUGINS`` or all.
            strict: raise :class:`PluginClashError` when two plugins clash (else record it
                in :attr:`clashes`, keep the first registration and carry on).
        """
        if entry_points is None:
            entry_points = importlib_metadata.entry_points(group=ENTRY_POINT_GROUP)
        if only is None and os.environ.get(ENV_PLUGINS):
            only = [p.strip() for p in os.environ[ENV_PLUGINS].split(",") if p.strip()]
        self._only = set(only) if only is not None else None
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self._components: dict[tuple[str, str], ComponentSpec] = {}
        self._reported: list[ReportedResult] = []
        self._resolved_reported: list[ReportedResult] | None = None
        #: reported rows whose combination could not be resolved (plugin, method, reason)
        self.reported_problems: list[str] = []
        self._claims: list[Any] = []
        self._launchers: list[Any] = []
        #: one line per clash ("... registered by both plugin 'a' and plugin 'b' ...")
        self.clashes: list[str] = []
        for kind in CONTEXT_KINDS:
            self._components[(kind, "none")] = _none_spec(kind)
        for ep in sorted(entry_points, key=lambda e: e.name):
            self.load_entry_point(ep)
        if strict and self.clashes:
            raise PluginClashError(self.clashes[0] + (f" ({len(self.clashes) - 1} more clash(es); see 'ferbench plugins')"
                                                      if len(self.clashes) > 1 else ""))

    # ------------------------------------------------------------------ loading
    def load_entry_point(self, ep: importlib_metadata.EntryPoint) -> PluginInfo:
        """Import one entry point, register it and collect its components."""
        dist_name, version = _entry_point_version(ep)
        info = PluginInfo(name=ep.name, module=ep.value, version=version, distribution=dist_name)
        if self._only is not None and ep.name not in self._only:
            return info
        self.plugins[ep.name] = info
        try:
            module = ep.load()
        except Exception as err:  # a broken plugin must not take the others down
            info.error = f"import failed: {type(err).__name__}: {err}"
            return info
        if self.pm.is_registered(module) or self.pm.get_plugin(ep.name) is not None:
            self.clashes.append(f"plugin '{ep.name}' ({ep.value}) is registered twice; uninstall one copy")
            info.error = "registered twice (see the clash above)"
            return info
        self.pm.register(module, name=ep.name)
        self._collect(info, module)
        return info

    def _collect(self, info: PluginInfo, module: object) -> None:
        found: list[ComponentSpec] = []
        reported: list[ReportedResult] = []
        extra: dict[str, list[Any]] = {}
        try:
            for hook_name, kind in HOOK_KINDS.items():
                fn = self._impl(module, hook_name)
                if fn is None:
                    continue
                info.hooks.append(hook_name)
                for spec in fn() or []:
                    if spec.kind != kind:
                        raise TypeError(f"{hook_name} returned a '{spec.kind}' spec ({spec.name})")
                    found.append(dataclasses.replace(spec, plugin=info.name))
            fn = self._impl(module, "ferbench_reported_results")
            if fn is not None:
                info.hooks.append("ferbench_reported_results")
                reported = list(fn() or [])
            for hook_name in ("ferbench_claims", "ferbench_launchers"):
                fn = self._impl(module, hook_name)
                if fn is not None:
                    info.hooks.append(hook_name)
                    extra[hook_name] = [dataclasses.replace(x, plugin=info.name) if hasattr(x, "plugin") else x
                                        for x in (fn() or [])]
        except Exception as err:
            info.error = f"hook failed: {type(err).__name__}: {err}"
            self.pm.unregister(module)
            return
        for spec in found:
            key = (spec.kind, spec.name)
            if key in self._components:
                other = self._components[key].plugin
                self.clashes.append(
                    f"{spec.kind} '{spec.name}' is registered by both plugin '{other}' and plugin "
                    f"'{spec.plugin}'; uninstall one or restrict with {ENV_PLUGINS}=..."
                )
                continue
            self._components[key] = spec
        self._reported.extend(reported)
        self._claims.extend(extra.get("ferbench_claims", []))
        self._launchers.extend(extra.get("ferbench_launchers", []))

    def _impl(self, module: object, hook_name: str):
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            if impl.plugin is module:
                return impl.function
        return None

    # ------------------------------------------------------------------ queries
    def components(self, kind: str | None = None) -> list[ComponentSpec]:
        """Specs, sorted by kind then name."""
        specs = [s for (k, _), s in self._components.items() if kind is None or k == kind]
        return sorted(specs, key=lambda s: (KINDS.index(s.kind), s.name))

    def names(self, kind: str) -> list[str]:
        return [s.name for s in self.components(kind)]

    def get(self, kind: str, name: str) -> ComponentSpec:
        """The spec of ``name``; unknown names raise with a suggestion and the choices."""
        spec = self._components.get((kind, name))
        if spec is not None:
            return spec
        choices = self.names(kind)
        close = difflib.get_close_matches(name, choices, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        broken = [p.name for p in self.plugins.values() if p.broken]
        note = f" Broken plugins: {', '.join(broken)} (see 'ferbench plugins')." if broken else ""
        raise UnknownComponentError(
            f"unknown {kind} '{name}'.{hint} Choices: {', '.join(choices) or 'none'}.{note}"
        )

    def find(self, name: str) -> list[ComponentSpec]:
        """All specs called ``name``, whatever their kind."""
        return [s for s in self.components() if s.name == name]

    def reported_results(self) -> list[ReportedResult]:
        """Every plugin's reported results, each with its combination label resolved through this
        registry (from ``components`` and ``options``). A row whose components cannot be resolved
        keeps a label of the names and is listed in :attr:`reported_problems`."""
        if self._resolved_reported is None:
            from .engine.assemble import combination_label

            out, self.reported_problems = [], []
            for r in self._reported:
                if r.components or not r.combination:
                    try:
                        label = combination_label(self, dict(r.components), {k: dict(v) for k, v in r.options.items()})
                    except Exception as err:  # noqa: BLE001 - one bad row must not hide the leaderboard
                        self.reported_problems.append(f"{r.paper} {r.method} ({r.source}): {err}")
                        label = "+".join(r.components.values())
                    r = dataclasses.replace(r, combination=label)
                out.append(r)
            self._resolved_reported = out
        return list(self._resolved_reported)

    def claims(self) -> list[Any]:
        """Every plugin's :class:`ferbench.claims.Claim` objects, in plugin order."""
        return list(self._claims)

    def launchers(self) -> list[Any]:
        """Every plugin's :class:`ferbench.sweep.launchers.LauncherSpec` objects."""
        return list(self._launchers)

    def launcher(self, name: str) -> Any:
        """The launcher spec called ``name``; an unknown name raises with a suggestion and the choices."""
        by_name = {spec.name: spec for spec in self._launchers}
        if name in by_name:
            return by_name[name]
        close = difflib.get_close_matches(name, list(by_name), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise UnknownComponentError(f"unknown launcher '{name}'.{hint} Choices: {', '.join(sorted(by_name)) or 'none'}.")


def _none_spec(kind: str) -> ComponentSpec:
    """The built-in no-op component of a context kind: an instance of the kind's protocol class."""
    spec = kind_spec(kind)
    return ComponentSpec(kind, "none", lambda options, ctx: spec.protocol(), NoOptions,
                         f"no {spec.title} (built in)", paper="core", plugin="core")

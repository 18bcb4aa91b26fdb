"""From a bundle's description to the input representation and an untrained model of the right shape.

Only the kinds that run at test time are built: the input, the backbone and
the aggregator (disentanglers and selectors shape training only; they are
recorded in ``model.json`` for provenance). Each is looked up in the installed
plugins and its plugin version is checked: the installed version must be of
the same release series (same major version; same minor for 0.x versions) and
not older than the one that exported the bundle.
"""

from __future__ import annotations

import re

from ..components import InputRepresentation
from ..engine.assemble import FERModel
from ..errors import FerbenchError, UnknownComponentError
from ..options import build_options
from ..plugins import Registry
from .schema import BundledComponent, BundleError, BundleInfo

#: the kinds a bundle's model runs
RUNTIME_KINDS = ("input", "backbone", "aggregator")


def _release(version: str) -> tuple[int, ...] | None:
    match = re.match(r"^\s*v?(\d+(?:\.\d+)*)", version or "")
    return tuple(int(p) for p in match.group(1).split(".")) + (0, 0) if match else None


def compatible(installed: str, needed: str) -> bool:
    """True when plugin version ``installed`` can run what ``needed`` exported.

    Same major version (same major.minor below 1.0), and ``installed >= needed``.
    Unknown versions (plugins run from a source tree) only match themselves.
    """
    have, want = _release(installed), _release(needed)
    if have is None or want is None:
        return installed == needed
    series = 1 if want[0] > 0 else 2
    return have[:series] == want[:series] and have[:3] >= want[:3]


def series(version: str) -> str:
    """The release series a version belongs to, as a requirement: ``"0.1.2"`` -> ``">=0.1.2,<0.2"``."""
    want = _release(version)
    if want is None:
        return f"=={version}"
    upper = f"{want[0] + 1}" if want[0] > 0 else f"0.{want[1] + 1}"
    return f">={version},<{upper}"


def check_component(component: BundledComponent, registry: Registry, where: str):
    """The installed spec for ``component``; one :class:`BundleError` line when it is missing or too old/new."""
    need = f"plugin '{component.plugin}' {series(component.plugin_version)}"
    try:
        spec = registry.get(component.kind, component.name)
    except UnknownComponentError:
        raise BundleError(f"{where} needs {component.kind} '{component.name}' from {need}, which is not installed; "
                          f"install that plugin version (see 'ferbench plugins')") from None
    info = registry.plugins.get(spec.plugin)
    installed = info.version if info is not None else ""
    if spec.plugin != component.plugin or not compatible(installed, component.plugin_version):
        raise BundleError(f"{where} needs {component.kind} '{component.name}' from {need}; installed: plugin "
                          f"'{spec.plugin}' {installed or 'without a version'}; install {need}")
    return spec


def build_runtime(info: BundleInfo, registry: Registry, where: str) -> tuple[InputRepresentation, FERModel]:
    """The bundle's input representation and its model (random weights), after checking every plugin.

    Raises:
        BundleError: a component is not installed, its plugin version does not fit, or its stored
            options no longer build it.
    """
    specs = {kind: check_component(info.components[kind], registry, where) for kind in RUNTIME_KINDS}
    options = {}
    for kind, spec in specs.items():
        try:
            options[kind] = build_options(spec.options, info.components[kind].options, owner=f"{kind} '{spec.name}'")
        except FerbenchError as err:
            raise BundleError(f"{where}: the installed plugin '{spec.plugin}' no longer accepts the bundle's "
                              f"options ({err})") from None
    try:
        rep = specs["input"].factory(options["input"])
        backbone = specs["backbone"].factory(options["backbone"], rep.signature)
        aggregator = specs["aggregator"].factory(options["aggregator"], backbone.out_dim, len(info.classes))
    except FerbenchError:
        raise
    except Exception as err:  # noqa: BLE001 - a plugin's factory failing on stored options is the bundle's problem
        raise BundleError(f"{where}: the installed components cannot be built from the bundle's options "
                          f"({type(err).__name__}: {err}); install the plugin versions it names") from None
    return rep, FERModel(backbone, aggregator)

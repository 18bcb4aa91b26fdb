"""Resolve component names into objects and assemble the FER model.

Combinations are checked before any training: each factory is called with
what the previous components declare, and a dry forward pass on zeros checks
the shapes. A failure is an :class:`IncompatibleCombinationError` naming the
components involved and the mismatch.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..components import (
    Aggregator,
    Backbone,
    ComponentSpec,
    InputRepresentation,
    InputSignature,
    ModelContext,
    ModelOutput,
)
from ..data.manifest import Manifest
from ..errors import FerbenchError, IncompatibleCombinationError
from ..kinds import COMBINATION_KINDS, CONTEXT_KINDS, kind_spec
from ..options import build_options, options_to_dict
from ..plugins import Registry
from .config import RunConfig


class FERModel(nn.Module):
    """Backbone per frame, then the aggregator: x [B, T, C, H, W] -> :class:`ModelOutput`."""

    def __init__(self, backbone: Backbone, aggregator: Aggregator) -> None:
        super().__init__()
        self.backbone = backbone
        self.aggregator = aggregator

    def forward(
        self, x: torch.Tensor, side: dict[str, torch.Tensor] | None = None, mask: torch.Tensor | None = None
    ) -> ModelOutput:
        b, t = x.shape[:2]
        kwargs = {k: (side or {})[k].flatten(0, 1) for k in self.backbone.side_inputs}
        feats = self.backbone(x.flatten(0, 1), **kwargs).reshape(b, t, -1)
        out = self.aggregator(feats, mask)
        return ModelOutput(embedding=out.embedding, logits=out.logits, extras=out.extras, features=feats)


@dataclasses.dataclass
class Resolved:
    """Specs and typed options of every kind of a run."""

    specs: dict[str, ComponentSpec]
    options: dict[str, Any]

    def options_dict(self, *, runtime: bool = True) -> dict[str, dict[str, Any]]:
        """Kind -> options as a dict; ``runtime=False`` leaves out speed-only fields."""
        return {k: options_to_dict(v, runtime=runtime) for k, v in self.options.items()}

    def label(self, kind: str) -> str:
        """Component name plus its non-default options: ``rgb[frames=16,size=112]``."""
        return component_label(self.specs[kind], self.options[kind])

    @property
    def combination(self) -> str:
        """``input+backbone+aggregator+disentangler+selector`` labels (leaderboard identity)."""
        return "+".join(self.label(k) for k in COMBINATION_KINDS)


def component_label(spec: ComponentSpec, options: Any) -> str:
    """A component's leaderboard label: its name plus the options that differ from its defaults,
    runtime options left out (``rgb[frames=16,size=112]``, ``eian``)."""
    chosen = options_to_dict(options, runtime=False)
    defaults = options_to_dict(spec.options(), runtime=False)
    diff = {k: v for k, v in chosen.items() if defaults.get(k) != v}
    if not diff:
        return spec.name
    return f"{spec.name}[{','.join(f'{k}={v}' for k, v in sorted(diff.items()))}]"


def combination_label(registry: Registry, components: dict[str, str],
                      options: dict[str, dict[str, Any]] | None = None) -> str:
    """The leaderboard combination label of component names and raw options (unset kinds: defaults).

    This is what a run of that combination records, so a plugin's reported rows can name
    the measured combination they correspond to: ``combination_label(reg, {"input": "residual"})``.
    """
    from .config import make_config

    return resolve(make_config(components, options, registry=registry), registry).combination


def resolve(config: RunConfig, registry: Registry) -> Resolved:
    """Look up every component and parse its options (unknown names/keys raise)."""
    specs, options = {}, {}
    for kind, choice in config.components.items():
        spec = registry.get(kind, choice.name)
        specs[kind] = spec
        options[kind] = build_options(spec.options, choice.options, owner=f"{kind} '{spec.name}'")
    return Resolved(specs, options)


def build_input(resolved: Resolved) -> InputRepresentation:
    spec = resolved.specs["input"]
    try:
        rep = spec.factory(resolved.options["input"])
    except FerbenchError:
        raise
    except Exception as err:
        raise FerbenchError(f"input '{spec.name}' could not be built: {err}") from None
    _check_protocol(resolved, "input", rep)
    return rep


@dataclasses.dataclass
class Assembled:
    """Everything a fold trains.

    Attributes:
        model: backbone + aggregator (what runs at test time).
        auxiliary: kind -> component built from the model context (disentangler, selector, ...).
        context: what the auxiliary components were built from.
    """

    model: FERModel
    auxiliary: dict[str, nn.Module]
    context: ModelContext

    @property
    def disentangler(self) -> nn.Module:
        return self.auxiliary["disentangler"]

    @property
    def selector(self) -> nn.Module:
        return self.auxiliary["selector"]


def _names(resolved: Resolved, *kinds: str) -> str:
    return " + ".join(f"{k} '{resolved.specs[k].name}'" for k in kinds)


def assemble(resolved: Resolved, signature: InputSignature, manifest: Manifest,
             cache_dir: Path | None = None) -> Assembled:
    """Build backbone, aggregator and every context kind's component, and dry-run the model.

    Each factory's result is checked against its kind's protocol (:mod:`ferbench.kinds`).
    """
    s, o = resolved.specs, resolved.options
    try:
        backbone = s["backbone"].factory(o["backbone"], signature)
        _check_protocol(resolved, "backbone", backbone)
    except FerbenchError:
        raise
    except Exception as err:
        raise IncompatibleCombinationError(
            f"{_names(resolved, 'input', 'backbone')} are incompatible: {err} "
            f"(input gives {signature.channels} channels at {signature.height}x{signature.width})"
        ) from None
    missing = [k for k in backbone.side_inputs if k not in signature.side]
    if missing:
        raise IncompatibleCombinationError(
            f"backbone '{s['backbone'].name}' needs side inputs {missing} that input '{s['input'].name}' "
            f"does not provide (it provides {sorted(signature.side) or 'none'}); choose a matching input"
        )
    try:
        aggregator = s["aggregator"].factory(o["aggregator"], backbone.out_dim, manifest.num_classes)
        _check_protocol(resolved, "aggregator", aggregator)
    except FerbenchError:
        raise
    except Exception as err:
        raise IncompatibleCombinationError(f"{_names(resolved, 'backbone', 'aggregator')} are incompatible: {err}") from None
    model = FERModel(backbone, aggregator)
    _dry_run(model, signature, manifest.num_classes, resolved)
    ctx = ModelContext(
        signature=signature,
        feature_dim=backbone.out_dim,
        embedding_dim=aggregator.embedding_dim,
        num_classes=manifest.num_classes,
        manifest=manifest,
        cache_dir=cache_dir,
    )
    _check_requirements(resolved, {"backbone": backbone, "aggregator": aggregator})
    auxiliary = {}
    for kind in CONTEXT_KINDS:
        try:
            auxiliary[kind] = s[kind].factory(o[kind], ctx)
        except FerbenchError:
            raise
        except Exception as err:
            raise IncompatibleCombinationError(
                f"{kind} '{s[kind].name}' cannot work with {_names(resolved, 'input', 'backbone', 'aggregator')}: {err}"
            ) from None
        _check_protocol(resolved, kind, auxiliary[kind])
    _check_combination({"backbone": backbone, "aggregator": aggregator, **auxiliary})
    return Assembled(model=model, auxiliary=auxiliary, context=ctx)


def _check_combination(built: dict[str, Any]) -> None:
    """Let each component that defines ``check_combination(components)`` look at the others (kind ->
    built component) and refuse the run before any training with an IncompatibleCombinationError."""
    for component in built.values():
        check = getattr(component, "check_combination", None)
        if callable(check):
            check(built)


def _check_requirements(resolved: Resolved, built: dict[str, Any]) -> None:
    """Every ``ComponentSpec.requires`` capability is implemented by the run's component of that kind."""
    for kind, spec in resolved.specs.items():
        for other, capability in spec.requires.items():
            if other in built and not isinstance(built[other], capability):
                raise IncompatibleCombinationError(
                    f"{kind} '{spec.name}' needs a {other} that implements {capability.__name__}, but {other} "
                    f"'{resolved.specs[other].name}' does not; choose a {other} that does"
                    + (f" (e.g. --{other} {spec.companions[other]})" if other in spec.companions else "")
                )


def _check_protocol(resolved: Resolved, kind: str, component: Any) -> None:
    protocol = kind_spec(kind).protocol
    if not isinstance(component, protocol):
        spec = resolved.specs[kind]
        raise FerbenchError(f"{kind} '{spec.name}' (plugin {spec.plugin}) returned {type(component).__name__}, "
                            f"not a {protocol.__name__}; fix the plugin's factory")


def dummy_input(signature: InputSignature, batch: int = 2) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Zeros shaped like a batch of the signature."""
    x = torch.zeros(batch, signature.frames, signature.channels, signature.height, signature.width)
    side = {k: torch.zeros(batch, *shape) for k, shape in signature.side.items()}
    return x, side


def _dry_run(model: FERModel, signature: InputSignature, num_classes: int, resolved: Resolved) -> None:
    x, side = dummy_input(signature)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(x, side)
    except Exception as err:
        raise IncompatibleCombinationError(
            f"{_names(resolved, 'input', 'backbone', 'aggregator')} fail on a dummy batch "
            f"{tuple(x.shape)}: {type(err).__name__}: {err}"
        ) from None
    finally:
        model.train(was_training)
    if out.logits.shape != (2, num_classes):
        raise IncompatibleCombinationError(
            f"aggregator '{resolved.specs['aggregator'].name}' returned logits {tuple(out.logits.shape)}, "
            f"expected (2, {num_classes})"
        )

"""The component kinds: one descriptor per kind, the single source of truth.

Hook specs (:mod:`ferbench.hookspecs`), ``ferbench run`` flags, config
validation, default components, model assembly, stage discovery and the
``docs/hooks.md`` check all read :data:`KIND_SPECS`. Adding a kind means
adding one :class:`KindSpec` here and its section in ``docs/hooks.md``.

How the engine builds a component of each kind (``KindSpec.build``):

=============  ==========================================================================
build          factory call, and what the engine does with the result
=============  ==========================================================================
dataset        ``factory(options, root, cache_dir) -> DatasetAdapter``; its manifest feeds the run
input          ``factory(options) -> InputRepresentation``; loads and samples the media
backbone       ``factory(options, signature) -> Backbone``; per-frame features
aggregator     ``factory(options, in_dim, num_classes) -> Aggregator``; embedding and logits
context        ``factory(options, ctx: ModelContext) -> nn.Module`` implementing ``protocol``:
               a :class:`~ferbench.components.Disentangler` adds losses, a
               :class:`~ferbench.components.Selector` weights samples. Such kinds get a
               built-in ``none`` component (an instance of ``protocol`` itself, which is a
               no-op), so they are optional in every run.
=============  ==========================================================================
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from .components import Aggregator, Backbone, DatasetAdapter, Disentangler, InputRepresentation, Selector

Build = Literal["dataset", "input", "backbone", "aggregator", "context"]


@dataclasses.dataclass(frozen=True)
class KindSpec:
    """Everything ferbench knows about one component kind.

    Attributes:
        name: the kind as users write it (``--input``, ``[components] input = ...``).
        hook: the pluggy hook that returns this kind's :class:`~ferbench.components.ComponentSpec` list.
        title: what the kind is, for help texts (``"input representation"``).
        default: component used when a run does not choose this kind.
        factory: the factory signature, as ``docs/hooks.md`` documents it (a test checks it).
        build: how the engine calls the factory (see the module docstring).
        protocol: the class (or runtime-checkable Protocol) the factory's result must be.
        stages: components of this kind may declare pre-training stages (``stages()``).
        in_combination: part of the leaderboard combination label (every kind but the dataset).
    """

    name: str
    hook: str
    title: str
    default: str
    factory: str
    build: Build
    protocol: type
    stages: bool = False
    in_combination: bool = True

    @property
    def flag(self) -> str:
        """The ``ferbench run`` flag that chooses the component (``--input``)."""
        return f"--{self.name}"


KIND_SPECS: tuple[KindSpec, ...] = (
    KindSpec("input", "ferbench_inputs", "input representation", "rgb",
             "factory(options) -> InputRepresentation", "input", InputRepresentation),
    KindSpec("backbone", "ferbench_backbones", "per-frame backbone", "small-cnn",
             "factory(options, signature: InputSignature) -> Backbone", "backbone", Backbone, stages=True),
    KindSpec("aggregator", "ferbench_aggregators", "temporal aggregator and classifier", "mean",
             "factory(options, in_dim: int, num_classes: int) -> Aggregator", "aggregator", Aggregator, stages=True),
    KindSpec("disentangler", "ferbench_disentanglers", "identity disentangler", "none",
             "factory(options, ctx: ModelContext) -> Disentangler", "context", Disentangler, stages=True),
    KindSpec("selector", "ferbench_selectors", "sample selector", "none",
             "factory(options, ctx: ModelContext) -> Selector", "context", Selector, stages=True),
    KindSpec("dataset", "ferbench_datasets", "dataset adapter", "synthetic",
             "factory(options, root: Path | None, cache_dir: Path) -> DatasetAdapter", "dataset", DatasetAdapter,
             in_combination=False),
)

#: kind names in order (the combination label's order, then the dataset)
KINDS: tuple[str, ...] = tuple(k.name for k in KIND_SPECS)
#: kind name -> descriptor
BY_NAME: dict[str, KindSpec] = {k.name: k for k in KIND_SPECS}
#: hook name -> kind name
HOOK_KINDS: dict[str, str] = {k.hook: k.name for k in KIND_SPECS}
#: kind name -> default component name
DEFAULT_COMPONENTS: dict[str, str] = {k.name: k.default for k in KIND_SPECS}
#: kinds whose components are built from a ModelContext (losses, weights), in order
CONTEXT_KINDS: tuple[str, ...] = tuple(k.name for k in KIND_SPECS if k.build == "context")
#: kinds whose components may declare stages, in the order stages run
STAGE_KINDS: tuple[str, ...] = tuple(k.name for k in KIND_SPECS if k.stages)
#: kinds that make up the combination label, in order
COMBINATION_KINDS: tuple[str, ...] = tuple(k.name for k in KIND_SPECS if k.in_combination)


def kind_spec(name: str) -> KindSpec:
    """The descriptor of kind ``name``; an unknown kind raises with a suggestion."""
    spec = BY_NAME.get(name)
    if spec is None:
        import difflib

        from .errors import FerbenchError

        close = difflib.get_close_matches(name, KINDS, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise FerbenchError(f"unknown component kind '{name}'{hint} (kinds: {', '.join(KINDS)})")
    return spec

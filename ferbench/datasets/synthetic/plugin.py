"""pluggy registration of SynthFER's presets as ``dataset`` components.

Each preset is a spec whose ``options`` is the preset's options class (a
:class:`~.options.SynthOptions` subclass with the preset's defaults), so
``build_options(spec.options, {"identity_bias": "0.8"})`` changes one knob of
that preset. The dataset root is ignored: videos are generated under
``cache_dir / "synthetic"``.
"""

from __future__ import annotations

import functools
from pathlib import Path

from ...components import ComponentSpec
from ...errors import OptionError
from ...hookspecs import hookimpl
from .generate import SynthFERDataset
from .options import PRESETS, SynthOptions


def make_dataset(name: str, options: SynthOptions, root: Path | None, cache_dir: Path) -> SynthFERDataset:
    """Dataset factory of preset ``name`` (``root`` is ignored)."""
    if not isinstance(options, SynthOptions):
        raise OptionError(f"dataset '{name}': options must be SynthOptions, got {type(options).__name__}")
    return SynthFERDataset(options, name, cache_dir)


@hookimpl
def ferbench_datasets() -> list[ComponentSpec]:
    return [
        ComponentSpec(kind="dataset", name=name, factory=functools.partial(make_dataset, name), options=cls,
                      description=description, paper="core")
        for name, (cls, description) in PRESETS.items()
    ]

"""Where ferbench keeps things by default: the cache and the output folder.

The cache (generated SynthFER videos, prepared face tracks, decoded inputs,
stage checkpoints) defaults to ``~/.cache/ferbench`` or ``$FERBENCH_CACHE``;
outputs (results database, run folders) to ``./ferbench-out`` or
``$FERBENCH_OUTPUT``. Every default in the code base comes from here.
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "FERBENCH_CACHE"
OUTPUT_ENV = "FERBENCH_OUTPUT"
DEFAULT_CACHE_DIR = "~/.cache/ferbench"
DEFAULT_OUTPUT_DIR = "ferbench-out"


def default_cache_dir() -> str:
    """``$FERBENCH_CACHE`` or ``~/.cache/ferbench`` (not expanded)."""
    return os.environ.get(CACHE_ENV) or DEFAULT_CACHE_DIR


def default_output_dir() -> str:
    """``$FERBENCH_OUTPUT`` or ``ferbench-out`` (not expanded)."""
    return os.environ.get(OUTPUT_ENV) or DEFAULT_OUTPUT_DIR


def cache_path(cache_dir: str | Path | None = None) -> Path:
    """The cache folder, expanded: ``cache_dir`` or the default."""
    return Path(cache_dir if cache_dir else default_cache_dir()).expanduser()

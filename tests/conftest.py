"""Shared fixtures: a registry with the test-only ``toy`` plugin, tmp cache/output dirs."""

from __future__ import annotations

import importlib.metadata as md

import pytest
import torch

from ferbench.plugins import ENTRY_POINT_GROUP, Registry

torch.set_num_threads(2)


def toy_entry_point() -> md.EntryPoint:
    return md.EntryPoint(name="toy", value="toy_plugin", group=ENTRY_POINT_GROUP)


@pytest.fixture
def registry() -> Registry:
    """Installed plugins plus the in-process ``toy`` plugin."""
    installed = list(md.entry_points(group=ENTRY_POINT_GROUP))
    return Registry(entry_points=installed + [toy_entry_point()])


@pytest.fixture
def dirs(tmp_path):
    """cache_dir and output_dir for a run."""
    return {"cache_dir": str(tmp_path / "cache"), "output_dir": str(tmp_path / "out")}


@pytest.fixture
def one_torch_thread():
    """Small tensors: one intra-op thread is faster, and far faster on a loaded machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

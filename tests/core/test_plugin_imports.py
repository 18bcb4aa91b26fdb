"""Plugins build only on the core's public surface, exactly what a third-party plugin has."""

from __future__ import annotations

import ast
from pathlib import Path

from repo import ROOT


#: the core modules a plugin may import (documented in docs/plugin-guide.md, "Public services")
PUBLIC = {
    "ferbench", "ferbench.components", "ferbench.hookspecs", "ferbench.errors", "ferbench.options", "ferbench.nn",
    "ferbench.losses", "ferbench.seeding", "ferbench.fileio", "ferbench.paths", "ferbench.kinds", "ferbench.claims",
    "ferbench.testing", "ferbench.data.manifest", "ferbench.data.video", "ferbench.data.frame_sampling",
    "ferbench.data.clip_sampling", "ferbench.data.compressed", "ferbench.data.motion", "ferbench.datasets.synthetic",
}


def _imports(path: Path) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name) for alias in node.names)
    return out


def test_plugins_import_only_public_core_modules():
    bad = []
    for path in sorted((ROOT / "plugins").rglob("*.py")):
        for line, module in _imports(path):
            if module.split(".")[0] == "ferbench" and module not in PUBLIC:
                bad.append(f"{path.relative_to(ROOT)}:{line}: {module}")
    assert bad == [], "plugins import core internals (use or extend the public surface):\n" + "\n".join(bad)


def test_the_public_surface_is_documented():
    guide = (ROOT / "docs" / "plugin-guide.md").read_text()
    missing = [m for m in sorted(PUBLIC) if m != "ferbench" and f"`{m}`" not in guide]
    assert missing == [], f"docs/plugin-guide.md does not list the public modules {missing}"

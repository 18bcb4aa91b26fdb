"""Plugins, benchmarks and examples use only the core's public surface (what a third-party author has)."""

from __future__ import annotations

import ast
from pathlib import Path

from repo import ROOT

OUTSIDE_CORE = ("plugins", "benchmarks", "examples")


def _private_accesses(path: Path) -> list[str]:
    """``obj._name`` where obj is not self/cls (nor ``super()``): reaching into another object's internals."""
    hits = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")):
            continue
        base = node.value
        if isinstance(base, ast.Name) and base.id in ("self", "cls"):
            continue
        if isinstance(base, ast.Call) and isinstance(base.func, ast.Name) and base.func.id == "super":
            continue
        hits.append(f"{path.relative_to(ROOT)}:{node.lineno}: .{node.attr}")
    return hits


def test_no_file_outside_the_core_touches_a_private_member():
    hits = [hit for d in OUTSIDE_CORE for p in sorted((ROOT / d).rglob("*.py")) for hit in _private_accesses(p)]
    assert hits == [], "private members used outside ferbench/ (make them public and documented):\n" + "\n".join(hits)

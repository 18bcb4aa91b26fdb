"""The core's import graph has no cycles, between modules or between its packages.

Only imports that run when a module is imported count: module-level ones (including those in
``if``/``try`` blocks), not those inside functions or under ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import ferbench

CORE = Path(ferbench.__file__).parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(CORE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_time_imports(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If):
            if "TYPE_CHECKING" not in ast.unparse(node.test):
                found += _import_time_imports(node.body)
            found += _import_time_imports(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *[h.body for h in node.handlers]):
                found += _import_time_imports(block)
    return found


def _module_graph() -> dict[str, set[str]]:
    paths = {_module_name(p): p for p in CORE.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in paths}
    for module, path in paths.items():
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        for node in _import_time_imports(ast.parse(path.read_text()).body):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base = package[: len(package) - (node.level - 1)]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                targets = [source] + [f"{source}.{alias.name}" for alias in node.names]
            graph[module] |= {t for t in targets if t in paths and t != module}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_in_a_cycle():
    assert _cycles(_module_graph()) == []


def test_no_cycle_between_the_cores_packages():
    def package(module: str) -> str:
        return ".".join(module.split(".")[:2])  # ferbench.data, ferbench.engine, ferbench.components, ...

    graph: dict[str, set[str]] = {}
    for module, targets in _module_graph().items():
        graph.setdefault(package(module), set()).update(package(t) for t in targets if package(t) != package(module))
    for targets in list(graph.values()):
        for target in targets:
            graph.setdefault(target, set())
    assert _cycles(graph) == []


def test_the_graph_sees_imports():
    """The check above cannot pass vacuously: known edges are in the graph."""
    graph = _module_graph()
    assert "ferbench.data.batch" in graph["ferbench.components"]
    assert "ferbench.data.manifest" in graph["ferbench.data.batch"]
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]

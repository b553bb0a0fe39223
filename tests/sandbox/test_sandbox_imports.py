"""The sandbox's import graph: no cycles, the Talos nodes independent of the talosctl command line, nothing from
the collection (the sandbox is an independent implementation the collection is tested against)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from sandbox_testlib import REPO_ROOT

SANDBOX = REPO_ROOT / "sandbox"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path, module: str) -> Iterator[str]:
    """Every module name an import statement of ``path`` names, wherever it stands (top, function, TYPE_CHECKING)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(path): path for path in SANDBOX.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges = set()
        for target in _imported(path, name):
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):  # a package's own __init__ aside
                edges.add(target)
        graph[name] = edges
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_sandbox_has_no_import_cycle() -> None:
    assert _cycles(_graph()) == []


def test_the_talos_nodes_do_not_import_the_talosctl_command_line() -> None:
    graph = _graph()
    offending = {
        name: sorted(target for target in targets if target.startswith("sandbox.talosctl"))
        for name, targets in graph.items()
        if name.startswith("sandbox.simulators.") or name.startswith("sandbox.kube")
    }
    assert {name: targets for name, targets in offending.items() if targets} == {}


def test_nothing_in_the_sandbox_comes_from_the_collection() -> None:
    for path in SANDBOX.rglob("*.py"):
        names = set(_imported(path, _module_name(path)))
        assert not {name for name in names if name.startswith(("ansible_collections", "plugins"))}, path

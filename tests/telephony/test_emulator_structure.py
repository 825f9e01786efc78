"""The emulator's modules form a one-way stack and stand apart from the portal."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

PACKAGE = "telephony.emulator"
ROOT = Path(__file__).resolve().parents[2] / "telephony" / "emulator"
MODULES = sorted(ROOT.glob("*.py"))
FORBIDDEN = ("django", "telephony", "billing", "accounts", "portal")
MAX_LINES = 500


def _module_name(path: Path) -> str:
    return PACKAGE if path.stem == "__init__" else f"{PACKAGE}.{path.stem}"


def _imports(path: Path) -> list[tuple[str, ast.AST]]:
    """Every module ``path`` imports, anywhere in the file, as an absolute dotted name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = PACKAGE if path.stem == "__init__" else _module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
                # "from . import x" imports the submodules themselves
                names = [f"{target}.{a.name}" for a in node.names] if not node.module else []
                found += [(n, node) for n in names] or [(target, node)]
            else:
                found.append((node.module or "", node))
    return found


def _internal_graph() -> dict[str, set[str]]:
    known = {_module_name(p) for p in MODULES}
    graph: dict[str, set[str]] = {}
    for path in MODULES:
        deps = {name for name, _ in _imports(path) if name in known}
        graph[_module_name(path)] = deps - {_module_name(path)}
    return graph


def test_the_emulator_modules_are_found():
    names = {p.stem for p in MODULES}
    assert {"__init__", "state", "seed", "calls", "server", "interfaces", "faults"} <= names


def test_internal_imports_form_a_dag():
    graph = _internal_graph()
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:  # pragma: no cover - the failure message names the cycle
        pytest.fail(f"import cycle in the emulator: {exc.args[1]}")
    assert set(order) == set(graph)


def test_the_state_container_is_below_calls_and_seeds():
    graph = _internal_graph()
    state = f"{PACKAGE}.state"
    assert graph[state] <= {f"{PACKAGE}.records", f"{PACKAGE}.wire"}
    assert state in graph[f"{PACKAGE}.calls"]
    assert f"{PACKAGE}.calls" in graph[f"{PACKAGE}.seed"]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_module_imports_django_or_the_portal(path):
    for name, node in _imports(path):
        top = name.split(".")[0]
        if name == PACKAGE or name.startswith(PACKAGE + "."):
            continue
        assert top not in FORBIDDEN, f"{path.name}:{node.lineno} imports {name}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_imports_are_at_module_level(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for inner in ast.walk(node):
                assert not isinstance(inner, ast.Import | ast.ImportFrom), (
                    f"{path.name}:{inner.lineno} imports inside {node.name}"
                )


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_modules_stay_small(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.name} has {lines} lines"

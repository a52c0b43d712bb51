"""The house rules the code base can check about itself: no import cycle between toolkit's modules at load
time (package __init__ re-exports and imports inside functions aside), and the functions over 80 lines
are known ones (a list that may only shrink)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.paths import ROOT

PACKAGE = ROOT / "toolkit"

#: Functions over 80 lines, to be split (issue 17); a new one fails the test, a split one must leave the list.
LONG_FUNCTIONS = {
    "toolkit/identifiers.py:discover_identifiers",
    "toolkit/io/har.py:add",
    "toolkit/io/packet_batch.py:read_ethernet_batch",
    "toolkit/io/pcapfile.py:_pcapng_packets",
    "toolkit/lab/truth.py:ground_truth",
    "toolkit/plots.py:request_timeline",
    "toolkit/plots.py:identifier_persistence",
    "toolkit/plots.py:decryption_coverage",
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports_at_load(path: Path) -> set[str]:
    """toolkit modules ``path`` imports when it is loaded (not inside functions, not for type checking only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for inner in ast.walk(node) if not isinstance(node, ast.FunctionDef | ast.ClassDef) else ():
            if isinstance(inner, ast.Import):
                found |= {a.name for a in inner.names if a.name.startswith("toolkit")}
            elif isinstance(inner, ast.ImportFrom) and inner.level == 0 and (inner.module or "").startswith("toolkit"):
                module = inner.module or ""
                found.add(module)
                found |= {f"{module}.{a.name}" for a in inner.names}  # `from toolkit.io import har`
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in _imports_at_load(path) if m in modules and m != name} for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` that does not run through a package's ``__init__`` re-exports, or None."""
    packages = {name for name in graph if (PACKAGE.parent / name.replace(".", "/") / "__init__.py").is_file()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node] - packages):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_between_modules() -> None:
    assert _cycle(_graph()) is None


def test_the_cycle_finder_finds_one() -> None:
    assert _cycle({"toolkit.a": {"toolkit.b"}, "toolkit.b": {"toolkit.a"}}) == ["toolkit.a", "toolkit.b", "toolkit.a"]


def test_no_new_function_over_80_lines() -> None:
    long = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            is_function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            if is_function and node.end_lineno and node.end_lineno - node.lineno + 1 > 80:
                long.add(f"{path.relative_to(ROOT)}:{node.name}")
    assert long == LONG_FUNCTIONS

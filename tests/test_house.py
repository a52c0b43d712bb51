"""The house rules the code base can check about itself: no import cycle between toolkit's modules at load
time (package __init__ re-exports and imports inside functions aside), no function over 80 lines (but
the few still being split, a list that may only shrink), a module over 500 lines says in its
docstring why it stays one module, and no code opts out of ``ruff format``."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.paths import ROOT

PACKAGE = ROOT / "toolkit"

#: Functions over 80 lines; a new one fails the test (issue 17 split the last ones), so this stays empty.
LONG_FUNCTIONS: set[str] = set()

#: Lines above which a module states, in a docstring paragraph starting ``Why one module:``, why it is
#: not split.
LONG_MODULE = 500
#: Modules over :data:`LONG_MODULE` lines whose reason is being written with their rework (issue 17's pcap
#: knot); an entry may only leave.
MODULES_AWAITING_A_REASON: set[str] = set()


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


def test_no_function_over_80_lines() -> None:
    long = set()
    for path in PACKAGE.rglob("*.py"):
        long |= _long_functions(ast.parse(path.read_text(encoding="utf-8")), str(path.relative_to(ROOT)))
    assert long == LONG_FUNCTIONS


def _long_functions(tree: ast.AST, path: str) -> set[str]:
    return {
        f"{path}:{node.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno
        and node.end_lineno - node.lineno + 1 > 80
    }


def test_the_function_measure_counts_decorators_out_and_nested_functions_in() -> None:
    decorated = "@decorator\ndef f():\n" + "    x = 1\n" * 79  # 80 lines from `def`
    nested = "def g():\n    def inner():\n" + "        x = 1\n" * 80
    assert _long_functions(ast.parse(decorated), "m.py") == set()
    assert _long_functions(ast.parse(nested), "m.py") == {"m.py:g", "m.py:inner"}


def _without_reason(package: Path) -> set[str]:
    """Modules of ``package`` over :data:`LONG_MODULE` lines whose docstring has no paragraph starting
    ``Why one module:`` (paths from the package's parent)."""
    missing = set()
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if text.count("\n") <= LONG_MODULE:
            continue
        doc = ast.get_docstring(ast.parse(text)) or ""
        if not any(line.startswith("Why one module: ") and len(line) > 40 for line in doc.splitlines()):
            missing.add(str(path.relative_to(package.parent)))
    return missing


def test_a_long_module_says_why_it_is_one_module() -> None:
    assert _without_reason(PACKAGE) <= MODULES_AWAITING_A_REASON


def test_the_reason_finder_finds_a_long_module_without_one(tmp_path: Path) -> None:
    package = tmp_path / "toolkit"
    package.mkdir()
    body = "x = 1\n" * LONG_MODULE
    (package / "silent.py").write_text('"""Long."""\n' + body)
    (package / "reasoned.py").write_text(
        '"""Long.\n\nWhy one module: one parser, one state machine, one file.\n"""\n' + body
    )
    (package / "short.py").write_text('"""Short."""\n')
    assert _without_reason(package) == {"toolkit/silent.py"}


def _format_opt_outs(root: Path) -> list[str]:
    marks = ("# fmt: " + "skip", "# fmt: " + "off")  # (split, so that this file is not one of them)
    found = []
    for folder in ("toolkit", "tests", "bench", "scripts"):
        for path in sorted((root / folder).rglob("*.py")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if line.rstrip().endswith(marks):
                    found.append(f"{path.relative_to(root)}:{number}")
    return found


def test_no_code_opts_out_of_the_formatter() -> None:
    """``make lint`` checks the format; a ``# fmt: skip`` would exempt a line from it."""
    assert _format_opt_outs(ROOT) == []


def test_the_opt_out_finder_finds_one(tmp_path: Path) -> None:
    (tmp_path / "toolkit").mkdir()
    (tmp_path / "toolkit" / "x.py").write_text("table = [1,2]  # fmt: " + "skip\n")
    assert _format_opt_outs(tmp_path) == ["toolkit/x.py:1"]

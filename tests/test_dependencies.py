"""The package's runtime dependencies are exactly what ``toolkit`` imports (outside the lab and the
optional paths); the lab, the tests and the benchmarks get theirs from extras."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from tests.paths import ROOT

#: imported only on request, each from an extra: module -> extra
OPTIONAL = {"dask": "scale", "ahocorasick": "bench", "h2": "lab", "aioquic": "lab"}
#: Needed only to record a lab scenario again (toolkit.lab.http3's servers), never by the tests.
RECORDING_ONLY = frozenset({"aioquic"})


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imported_modules(folder: Path) -> dict[str, set[str]]:
    """Top-level third-party modules imported by the files under ``folder``, with the importing files."""
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top != "toolkit" and top not in sys.stdlib_module_names:
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def _project() -> dict[str, object]:
    project: dict[str, object] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project


def _names(requirements: object) -> set[str]:
    assert isinstance(requirements, list)
    return {_canonical(re.split(r"[<>=!~\[ ;]", r, maxsplit=1)[0]) for r in requirements}


def test_runtime_dependencies_are_what_the_package_imports() -> None:
    distributions = packages_distributions()
    imported = _imported_modules(ROOT / "toolkit")
    required = {
        _canonical(distributions[module][0]) for module in imported if module not in OPTIONAL
    }  # every import resolves to an installed distribution
    assert required == _names(_project()["dependencies"])


def test_optional_imports_are_in_their_extras_and_not_at_module_level() -> None:
    extras = _project()["optional-dependencies"]
    assert isinstance(extras, dict)
    distributions = packages_distributions()
    for module, extra in OPTIONAL.items():
        if module in RECORDING_ONLY:  # not installed by `make test`: its distribution has the module's name
            assert _canonical(module) in _names(extras[extra])
            continue
        assert _canonical(distributions[module][0]) in _names(extras[extra])
        assert _canonical(distributions[module][0]) in _names(extras["test"])
    imported = _imported_modules(ROOT / "toolkit")
    assert imported["h2"] <= {"toolkit/lab/http2.py"}  # loaded only by `python -m toolkit lab`


def test_the_package_is_typed() -> None:
    assert (ROOT / "toolkit" / "py.typed").is_file()

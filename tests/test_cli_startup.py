"""Start-up: `python -m toolkit --help` and `import toolkit` do not load pandas or the readers.

What is checked is what a fresh interpreter has imported (``sys.modules``), not a time: the time
is measured by bench/bench_startup.py.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.paths import ROOT

HEAVY = ("pandas", "numpy", "matplotlib", "scapy", "pyarrow", "toolkit.capture")

_RUN_AND_LIST_MODULES = """
import json, runpy, sys
sys.argv = ["toolkit", *sys.argv[1:]]
try:
    runpy.run_module("toolkit", run_name="__main__")
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after(*argv: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", _RUN_AND_LIST_MODULES, *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


@pytest.mark.parametrize("argv", [["--help"], ["analyze", "--help"], ["--version"], ["analyze"]])
def test_help_and_usage_errors_load_no_heavy_module(argv: list[str]) -> None:
    loaded = _modules_after(*argv)
    assert "toolkit.cli" in loaded  # the command line did run
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_analyze_loads_the_readers_when_it_reads() -> None:
    loaded = _modules_after("analyze", "data/sample.har")
    assert {"pandas", "toolkit.capture"} <= loaded


def test_import_toolkit_is_lazy_and_every_public_name_resolves() -> None:
    code = (
        "import json, sys, toolkit; before = sorted(sys.modules); "
        "names = {n: type(getattr(toolkit, n)).__name__ for n in toolkit.__all__}; "
        "from toolkit import Study, load; "
        "print(json.dumps([before, names, callable(load) and isinstance(Study, type)]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    before, names, imported = json.loads(done.stdout)
    assert "pandas" not in before
    assert set(names) == {
        "TABLES",
        "Analysis",
        "analyze",
        "Capture",
        "CaptureError",
        "CaptureNotFoundError",
        "Context",
        "MalformedCaptureError",
        "Provenance",
        "Session",
        "Study",
        "TruncatedCaptureError",
        "UnsupportedFormatError",
        "classify",
        "evaluate",
        "find_leaks",
        "load",
        "read_claims",
        "registrable_domain",
    }
    assert names["load"] == "function" and names["Capture"] == "type"
    assert imported


def test_an_unknown_name_is_an_attribute_error() -> None:
    import toolkit

    with pytest.raises(AttributeError, match="no_such_name"):
        _ = toolkit.no_such_name  # type: ignore[attr-defined]

"""Every Python code block of the README runs as written, from the repository's root."""

from __future__ import annotations

import os
import re
from pathlib import Path

import matplotlib
import pytest

from .paths import ROOT

matplotlib.use("Agg")

_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def _blocks() -> list[str]:
    return _BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))


def test_the_readme_has_python_blocks() -> None:
    assert len(_blocks()) >= 1


@pytest.mark.parametrize("index", range(len(_blocks())))
def test_readme_python_block_runs(index: int, tmp_path: Path) -> None:
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        exec(compile(_blocks()[index], f"README.md python block {index + 1}", "exec"), {"__name__": "readme"})
    finally:
        os.chdir(here)

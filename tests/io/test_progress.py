"""Reading progress: shown when asked (or on a terminal for large files), never in logs."""

from __future__ import annotations

import pytest

import toolkit
from tests.paths import DATA


def test_progress_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    toolkit.load(DATA / "lab" / "normal.pcapng", progress=True)
    assert "reading normal.pcapng: 100% of" in capsys.readouterr().err


def test_quiet_when_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    toolkit.load(DATA / "lab" / "normal.pcapng")
    toolkit.load(DATA / "lab" / "normal.har", progress=None)
    assert capsys.readouterr().err == ""

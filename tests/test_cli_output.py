"""What a run leaves and says: each table once, the report's path printed, nothing without --out."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.paths import DATA
from toolkit.cli import main

SAMPLE = DATA / "sample.har"


def test_a_single_capture_report_links_the_tables_written_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["analyze", str(SAMPLE), "--out", str(out), "--report"]) == 0
    printed = capsys.readouterr().out
    assert f"report: {out / 'report.html'}" in printed.splitlines()[-1]
    assert not (out / "tables").exists()
    tables = sorted(p.name for p in out.glob("*.csv"))
    assert "requests.csv" in tables
    html = (out / "report.html").read_text(encoding="utf-8")
    for name in tables:
        assert f'href="{name}"' in html or f">{name}<" in html, name


def test_a_masked_report_exports_its_masked_tables_apart(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["analyze", str(SAMPLE), "--out", str(out), "--report", "--mask"]) == 0
    assert (out / "tables" / "requests.csv").is_file() and (out / "requests.csv").is_file()


def test_analyze_without_out_writes_nothing_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["analyze", str(SAMPLE), "--report"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("nothing written: give --out DIR")
    assert os.listdir(tmp_path) == []


def test_analyze_help_says_that_without_out_nothing_is_written(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["analyze", "--help"])
    assert "without --out nothing is written" in " ".join(capsys.readouterr().out.split())

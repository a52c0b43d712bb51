"""The command line contract that scripts rely on: files written, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from toolkit.cli import main

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample.har"


def test_analyze_writes_every_table_and_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(SAMPLE), "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "endpoints.csv", "problems.csv", "requests.csv", "summary.json"]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["provenance"]["format"] == "har"
    assert summary["rows"] == {"requests": 5, "endpoints": 5, "problems": 0}
    requests = pd.read_csv(tmp_path / "requests.csv")
    assert requests["host"].tolist()[-1] == "sa.api.intl.miui.com"
    assert requests["body"].iloc[-1].startswith("crc=")
    assert "sample.har" in capsys.readouterr().out


def test_parquet_keeps_bodies_binary(tmp_path: Path) -> None:
    assert main(["analyze", str(SAMPLE), "--out", str(tmp_path), "--format", "parquet"]) == 0
    requests = pd.read_parquet(tmp_path / "requests.parquet")
    assert isinstance(requests["body"].iloc[-1], bytes)


@pytest.mark.parametrize("content", [b"", b"\x00\x01garbage", b'{"not": "a har"}'])
def test_unreadable_input_is_one_line_and_exit_2(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.har"
    bad.write_bytes(content)
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", "analyze", str(bad), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: bad.har: ")
    assert "Traceback" not in done.stderr


def test_missing_file_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "/nonexistent/capture.har"]) == 2
    assert "capture.har: cannot open" in capsys.readouterr().err


def test_schema_command_prints_the_reference(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    assert "### `requests`" in capsys.readouterr().out

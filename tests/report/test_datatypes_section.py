"""The report shows the data-type table, and says which SDK payloads could not be read."""

from __future__ import annotations

import re
from pathlib import Path

from tests.sdk.test_multi_sdk import _har
from toolkit.cli import main

ROOT = Path(__file__).resolve().parent.parent.parent


def _section(html: str) -> str:
    match = re.search(r'id="datatypes".*?(?=<section|<h2 id=|\Z)', html, re.S)
    assert match, "no data-type section"
    return match.group(0)


def test_analyze_report_shows_data_types_and_encrypted_payloads(tmp_path: Path) -> None:
    har = _har(tmp_path)
    assert main(["analyze", str(har), "--out", str(tmp_path / "out"), "--report"]) == 0
    section = _section((tmp_path / "out" / "report.html").read_text())
    for shown in ("Data types sent", "advertising_id", "Google Mobile Ads", "Huawei HiAnalytics", "query:rdid"):
        assert shown in section, shown
    assert "encrypted" in section and "AppsFlyer SDK 6.x encrypts its event body" in section
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert "Data types sent" in markdown and "| Google Mobile Ads |" in markdown


def test_masked_study_report_has_the_section(tmp_path: Path) -> None:
    args = ["analyze", str(ROOT / "data" / "xiaomi-2020.toml"), "--out", str(tmp_path), "--report", "--mask"]
    assert main(args) == 0
    section = _section((tmp_path / "report.html").read_text())
    assert "Sensors Analytics" in section and "device_model" in section and "Redmi Note 8" in section
    assert "android_id" in section and "8e5fbce04dc91566" not in section  # masked like everywhere else

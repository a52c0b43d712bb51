"""The HTML report in headless Chromium: it renders with no console message and a screenshot is kept.

Runs where Debian's ``chromium`` is installed (``make test`` installs it when it can) and is skipped
elsewhere. Chromium is started with no network: every host name resolves to nothing and background
services are off, so a report that tried to load anything would show a console error here (the
page's Content-Security-Policy reports every blocked load to the console). The screenshot goes to
``build/screenshots/report.png`` (or ``$TOOLKIT_SCREENSHOTS``) for a person to look at.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest

from tests.paths import ROOT
from tests.report.hostile import hostile_provenance, hostile_tables
from toolkit.report import build_report, write_html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
SCREENSHOTS = Path(os.environ.get("TOOLKIT_SCREENSHOTS", ROOT / "build" / "screenshots"))


def _render(page: Path, screenshot: Path, profile: Path) -> list[str]:
    """Open ``page``, write a screenshot, and return the console messages Chromium logged."""
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-sync",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1280,2400",
        f"--screenshot={screenshot}",
        page.resolve().as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert screenshot.is_file(), done.stderr[-2000:]
    return [line for line in done.stderr.splitlines() if re.search(r":CONSOLE[:(]", line)]


def test_console_messages_are_seen(tmp_path: Path) -> None:
    """The check below can fail: a page that loads a remote image and runs a script is reported."""
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><meta http-equiv="Content-Security-Policy" content="default-src \'none\'">'
        '<img src="http://example.com/x.png"><script>console.log(1)</script>',
        encoding="utf-8",
    )
    messages = _render(page, tmp_path / "bad.png", tmp_path / "profile")
    assert any("Content Security Policy" in m for m in messages)


def test_report_renders_without_console_messages(tmp_path: Path) -> None:
    report = build_report(
        hostile_tables(),
        provenance=hostile_provenance(),
        command="pytest tests/report",
        mask_identifiers=True,
    )
    page = write_html(tmp_path / "report.html", report)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    screenshot = SCREENSHOTS / "report.png"
    messages = _render(page, screenshot, tmp_path / "profile")
    assert messages == []
    assert screenshot.stat().st_size > 10_000  # a page was drawn, not a blank one

"""The HTML report in headless Chromium: it renders with no console message and a screenshot is kept.

Runs where Debian's ``chromium`` is installed (``make test`` installs it when it can) and is skipped
elsewhere. Chromium is started with no network: every host name resolves to nothing and background
services are off, so a report that tried to load anything would show a console error here (the
page's Content-Security-Policy reports every blocked load to the console). The screenshots go to
``build/screenshots/`` (or ``$TOOLKIT_SCREENSHOTS``) for a person to look at: ``report.png`` (the
hostile tables), ``report-demo.png`` (the demo's Xiaomi study) and ``report-capture.png`` (one
capture), the latter two also in the test's tmp_path.
"""

from __future__ import annotations

import html
import json
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


def _render(page: Path, screenshot: Path, profile: Path, size: tuple[int, int] = (1280, 2400)) -> list[str]:
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
        f"--window-size={size[0]},{size[1]}",
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


# --- the published pages: height, broken words, screenshots (issue 19) ----------------------

#: Appended to a copy of a page (its Content-Security-Policy removed, the copy only): writes what
#: Chromium laid out into the DOM, which `--dump-dom` prints. Cells that must not break (class
#: ``nowrap``, or ``check`` in the control page) are broken when their text spans two line boxes.
_MEASURE = """<script>
window.addEventListener("load", () => {
  const broken = [];
  for (const cell of document.querySelectorAll("td.nowrap, td.check")) {
    const range = document.createRange();
    range.selectNodeContents(cell);
    const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
    if (lines.size > 1) broken.push(cell.textContent);
  }
  const out = document.createElement("pre");
  out.id = "measured";
  out.textContent = JSON.stringify({
    height: document.documentElement.scrollHeight, width: window.innerWidth, broken,
    cells: document.querySelectorAll("td.nowrap").length, open: document.querySelectorAll("details[open]").length,
  });
  document.body.appendChild(out);
});
</script>"""

WIDTH = 1400


def _measure(page: Path, work: Path) -> dict[str, object]:
    """Lay ``page`` out at 1,400 px wide in Chromium, details folded as the page ships."""
    assert CHROMIUM is not None
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page.read_text(encoding="utf-8"))
    probe = work / f"{page.stem}-measured.html"
    probe.write_text(text.replace("</body>", _MEASURE + "</body>"), encoding="utf-8")
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-sync",
        "--disable-background-networking",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={work / 'm'}",
        f"--window-size={WIDTH},1000",
        "--dump-dom",
        probe.resolve().as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    found = re.search(r'<pre id="measured">(.*?)</pre>', done.stdout, re.S)
    assert found is not None, done.stderr[-2000:]
    return json.loads(html.unescape(found.group(1)))


def test_broken_words_are_seen(tmp_path: Path) -> None:
    """The measurement can fail: a word broken in a narrow cell is reported, a nowrap one is not."""
    page = tmp_path / "narrow.html"
    page.write_text(
        '<!DOCTYPE html><html><body><table><tr><td class="check" style="width:30px;overflow-wrap:anywhere">'
        'contradicted</td><td class="nowrap" style="white-space:nowrap">✗ contradicted</td></tr></table></body></html>',
        encoding="utf-8",
    )
    measured = _measure(page, tmp_path)
    assert measured["broken"] == ["contradicted"] and measured["width"] == WIDTH


@pytest.mark.parametrize("name", ["demo", "capture"])
def test_published_page_in_chromium(name: str, published_reports: dict[str, Path], tmp_path: Path) -> None:
    """Shorter than 6,000 px at 1,400 px wide with details folded, no verdict broken inside a word,
    no console message; the whole page kept as a screenshot in tmp_path and build/screenshots/."""
    page = published_reports[name]
    measured = _measure(page, tmp_path)
    assert measured["width"] == WIDTH and measured["open"] == 0
    assert 1000 < int(measured["height"]) < 6000, measured  # type: ignore[call-overload]
    assert measured["broken"] == [], measured
    if name == "demo":
        assert int(measured["cells"]) >= 12, measured  # type: ignore[call-overload]  # claim and verdict per claim
    screenshot = tmp_path / f"report-{name}.png"
    messages = _render(page, screenshot, tmp_path / "profile", size=(WIDTH, int(measured["height"])))  # type: ignore[call-overload]
    assert messages == []
    assert screenshot.stat().st_size > 50_000
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(screenshot, SCREENSHOTS / screenshot.name)

"""The reports a reporter would publish, made as a user makes them: `demo` (the Xiaomi study,
data/xiaomi-2020.toml) and `analyze <capture> --report` on one lab capture; and how to read a page.

Both are made once per test session (:func:`published_reports` in ``conftest.py``): the Chromium
tests and the HTML-structure tests check the same pages.
"""

from __future__ import annotations

import os
from html.parser import HTMLParser
from pathlib import Path

from tests.paths import DATA, ROOT

MANIFEST = DATA / "xiaomi-2020.toml"
ONE_CAPTURE = DATA / "lab" / "incognito.har"


def make_reports(out: Path) -> dict[str, Path]:
    """``{"demo": report.html, "capture": report.html}``, written under ``out``."""
    from toolkit.cli import main

    here = Path.cwd()
    os.chdir(ROOT)  # `demo` reads data/xiaomi-2020.toml from the repository's root, as `make demo` does
    try:
        assert main(["demo", "--out", str(out / "demo")]) == 0
        assert main(["analyze", str(ONE_CAPTURE), "--out", str(out / "capture"), "--report"]) == 0
    finally:
        os.chdir(here)
    return {"demo": out / "demo" / "report.html", "capture": out / "capture" / "report.html"}


class Page(HTMLParser):
    """A page's elements in order (tag, attributes, text inside), enough to check its structure."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None], list[str]]] = []
        self._open: list[int] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs), []))
        if tag not in ("meta", "img", "br", "hr", "link", "input"):
            self._open.append(len(self.elements) - 1)

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self.elements[self._open.pop()][0] == tag:
                break

    def handle_data(self, data: str) -> None:
        for index in self._open:
            self.elements[index][2].append(data)

    def text_of(self, index: int) -> str:
        return "".join(self.elements[index][2])

    def find(self, tag: str, cls: str | None = None) -> list[int]:
        """Indices of the elements ``tag`` (with class ``cls`` among their classes)."""
        return [
            i
            for i, (name, attrs, _text) in enumerate(self.elements)
            if name == tag and (cls is None or cls in (attrs.get("class") or "").split())
        ]

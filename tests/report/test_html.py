"""The HTML report: self-contained, no element or attribute from captured data, every value shown as text."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest

from tests.report.hostile import (
    ANDROID_ID,
    DISTINCT_ID,
    MARKERS,
    PAYLOADS,
    hostile_provenance,
    hostile_tables,
)
from toolkit.report import build_report, render_html, render_markdown, write_html
from toolkit.report.document import FigureBlock
from toolkit.report.html import CONTENT_SECURITY_POLICY
from toolkit.schema import TABLES

#: Every element the renderer writes; anything else came from captured data.
ALLOWED_TAGS = {
    "details",
    "summary",
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "header",
    "h1",
    "h2",
    "p",
    "nav",
    "ol",
    "li",
    "a",
    "main",
    "section",
    "dl",
    "dt",
    "dd",
    "code",
    "span",
    "table",
    "caption",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "figure",
    "img",
    "figcaption",
}
ALLOWED_ATTRIBUTES = {"lang", "charset", "http-equiv", "content", "name", "href", "id", "class", "src", "alt"}


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.style = ""
        self._in_style = False
        self.comments: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))
        self._in_style = tag == "style"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.style += data
        else:
            self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def hostile_page() -> tuple[str, int]:
    report = build_report(
        hostile_tables(),
        provenance=hostile_provenance(),
        command=["python", "-m", "toolkit", "analyze", PAYLOADS[0]],
        mask_values=(),
    )
    figures = sum(isinstance(b, FigureBlock) for s in report.sections for b in s.walk())
    return render_html(report), figures


def test_no_element_or_attribute_comes_from_captured_data(hostile_page: tuple[str, int]) -> None:
    page, figures = hostile_page
    parsed = _parse(page)
    tags = {tag for tag, _attrs in parsed.elements}
    assert tags <= ALLOWED_TAGS
    assert not parsed.comments
    ids = set()
    for tag, attrs in parsed.elements:
        for name, value in attrs:
            assert name in ALLOWED_ATTRIBUTES, (tag, name)
            for marker in MARKERS:
                assert marker not in (value or ""), (tag, name, value)
            if name == "id":
                ids.add(value)
    for tag, attrs in parsed.elements:
        for name, value in attrs:
            if name == "href":
                assert value is not None and value.startswith("#") and value[1:] in ids  # internal links only
            if name == "src":
                assert tag == "img" and value is not None and value.startswith("data:image/png;base64,")
    assert sum(tag == "img" for tag, _attrs in parsed.elements) == figures > 0
    assert len(re.findall(r"<img\b", page)) == figures


def test_every_payload_is_shown_as_text(hostile_page: tuple[str, int]) -> None:
    page, _figures = hostile_page
    text = "".join(_parse(page).text)
    for payload in PAYLOADS:
        assert payload in text, payload
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_page_is_self_contained(hostile_page: tuple[str, int]) -> None:
    page, _figures = hostile_page
    parsed = _parse(page)
    metas = [dict(attrs) for tag, attrs in parsed.elements if tag == "meta"]
    assert {"http-equiv": "Content-Security-Policy", "content": CONTENT_SECURITY_POLICY} in metas
    assert "default-src 'none'" in CONTENT_SECURITY_POLICY and "script-src" not in CONTENT_SECURITY_POLICY
    assert "url(" not in parsed.style and "@import" not in parsed.style and "@font-face" not in parsed.style
    for _tag, attrs in parsed.elements:
        for name, value in attrs:
            if name in {"href", "src"}:
                assert not re.match(r"(?i)\s*(https?:|//|javascript:|file:)", value or "")
    assert page.count("<style>") == 1  # ours; captured <style> payloads are text


def test_unmasked_report_shows_identifiers(hostile_page: tuple[str, int]) -> None:
    page, _figures = hostile_page
    assert ANDROID_ID in page and DISTINCT_ID in page


def test_masked_report_hides_identifiers_everywhere(tmp_path: Path) -> None:
    report = build_report(hostile_tables(), provenance=hostile_provenance(), mask_identifiers=True)
    page = render_html(report)
    assert ANDROID_ID not in page and DISTINCT_ID not in page
    assert ANDROID_ID.upper() not in page
    text = "".join(_parse(page).text)
    assert "⟦android_id-1⟧" in text and "⟦distinct_id-1⟧" in text
    requests = report.tables["requests"]
    assert "aid=⟦android_id-1⟧&" in requests["url"].iloc[0]  # inside a URL: the same mask
    assert ("X-Id", "⟦distinct_id-1⟧") in requests["request_headers"].iloc[0]
    assert str(requests["url"].dtype) == "string" and str(requests["session"].dtype) == "category"
    assert "masked for publication" in text
    # The report's own tables are masked too, so exports cannot leak what the page hides.
    assert not report.tables["requests"]["url"].str.contains(ANDROID_ID).any()
    written = write_html(tmp_path / "r.html", report)
    assert ANDROID_ID not in written.read_text(encoding="utf-8")


def test_long_values_are_cut_and_point_to_the_export() -> None:
    url = "https://t.example/?" + "x" * 5000
    leaks = TABLES["leaks"].frame(
        {
            "needle_kind": ["url"],
            "needle": [url],
            "host": ["t.example"],
            "kind": ["leak"],
            "severity": ["full_url"],
        }
    )
    page = render_html(build_report({"leaks": leaks}, figures=False, max_chars=80))
    assert url not in page
    assert "x" * 61 in page and "x" * 62 not in page  # 80 characters in all, of which 19 before the x's
    assert "(+4939 characters)" in page
    assert "exported table <code>leaks</code>" in page


def test_rows_beyond_the_limit_are_counted() -> None:
    n = 30
    leaks = TABLES["leaks"].frame(
        {
            "needle_kind": ["url"] * n,
            "needle": [f"https://s.example/{i}" for i in range(n)],
            "host": ["t.example"] * n,
            "kind": ["leak"] * n,
        }
    )
    page = render_html(build_report({"leaks": leaks}, figures=False, max_rows=10))
    assert "First 10 of 30 groups shown." in page  # one group per value and receiver, each folded
    assert "https://s.example/9 →" in page and "https://s.example/10 →" not in page


def test_control_and_bidi_characters_are_made_visible() -> None:
    leaks = TABLES["leaks"].frame(
        {
            "needle_kind": ["url"],
            "needle": ["a\u202eexe.txt\x00\x1b[31m"],
            "host": ["t.example"],
            "kind": ["leak"],
        }
    )
    page = render_html(build_report({"leaks": leaks}, figures=False))
    assert "\u202e" not in page and "\x00" not in page and "\x1b" not in page
    assert "a\\u202eexe.txt\\x00\\x1b[31m" in page


def test_empty_tables_give_a_complete_report() -> None:
    page = render_html(build_report({}, figures=True))
    parsed = _parse(page)
    headings = [t.strip() for t in parsed.text if t.strip()]
    for title in ("Finding", "Leaks", "Endpoints", "Decryption coverage", "Identifiers", "Provenance"):
        assert title in headings
    assert "No leak was found." in headings


def test_provenance_names_hashes_versions_and_command() -> None:
    report = build_report(
        {"requests": TABLES["requests"].empty()},
        provenance=hostile_provenance(),
        command="python -m toolkit analyze x.har --report",
        figures=False,
    )
    text = "".join(_parse(render_html(report)).text)
    assert "ab" * 32 in text
    assert "python -m toolkit analyze x.har --report" in text
    assert "endpoint data version" in text and "atlas.csv sha256" in text
    assert "pandas" in text and "matplotlib" in text


def test_lab_captures_render(tmp_path: Path) -> None:
    import toolkit
    from tests.paths import DATA
    from toolkit.endpoints.classify import Context, classify
    from toolkit.leaks.detect import find_leaks

    capture = toolkit.load(DATA / "lab" / "incognito.har")
    leaks = find_leaks(capture, identifiers=[f"android_id={ANDROID_ID}"])
    endpoints = classify(capture, context=Context(sites=("example-news.com",), vendors=("Xiaomi",)))
    tables = {
        "requests": capture.requests,
        "leaks": leaks,
        "endpoints": endpoints,
        "problems": capture.problems,
    }
    report = build_report(tables, provenance=[capture.provenance], command="test", mask_identifiers=True)
    page = write_html(tmp_path / "report.html", report).read_text(encoding="utf-8")
    assert capture.provenance.sha256 in page
    assert "sa.api.intl.miui.com" in page and "form:data_list &gt; urldecode &gt; base64 &gt; gzip" in page
    assert ANDROID_ID not in page
    assert isinstance(report.tables["leaks"], pd.DataFrame) and len(report.tables["leaks"]) == len(leaks)


def test_decoded_urls_and_group_summaries_stay_text() -> None:
    """A percent-encoded needle is shown decoded beside its raw form: what decoding reveals (a tag,
    a right-to-left override) is escaped like any captured text, in the folded group's summary too."""
    raw = "https://x.example/%3Cscript%3Ealert(1)%3C/script%3E%E2%80%AEgpj.exe"
    leaks = TABLES["leaks"].frame(
        {"needle_kind": ["url"], "needle": [raw], "matched_form": [raw], "host": ["t.example"], "kind": ["leak"]}
    )
    page = render_html(build_report({"leaks": leaks}, figures=False))
    assert "<script>" not in page and "\u202e" not in page
    summary = next(t for t in _parse(page).text if "→ t.example" in t)
    assert summary.startswith("https://x.example/<script>alert(1)</script>\\u202egpj.exe  (raw: " + raw + ")")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\\u202egpj.exe" in page
    markdown = render_markdown(build_report({"leaks": leaks}, figures=False))
    assert "\u202e" not in markdown
    outside_code = re.sub(r"(`+).*?\1", "", markdown)  # a code span is never read as HTML
    assert "<script>" in markdown and "<script>" not in outside_code

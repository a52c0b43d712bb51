"""The Markdown report: rendered by a CommonMark parser (raw HTML on), captured values stay inert text."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest

from tests.report.hostile import ANDROID_ID, MARKERS, PAYLOADS, hostile_provenance, hostile_tables
from tests.report.test_html import _parse
from toolkit.report import build_report, render_markdown, write_markdown
from toolkit.report.markdown import code_span, escape_text
from toolkit.schema import TABLES

markdown_it = pytest.importorskip("markdown_it")

#: What our Markdown may produce; a link (``a``) or raw HTML would have come from captured data.
ALLOWED_TAGS = {
    "h1",
    "h2",
    "p",
    "ul",
    "li",
    "code",
    "strong",
    "em",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "img",
    "blockquote",
}


def _to_html(text: str) -> str:
    # Raw HTML on, as GitHub and most renderers allow it: escaping must not rely on the renderer.
    return str(markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").render(text))


@pytest.fixture(scope="module")
def hostile_markdown() -> str:
    report = build_report(hostile_tables(), provenance=hostile_provenance(), command=["toolkit", PAYLOADS[3]])
    return render_markdown(report, figure_dir="report_figures")


def test_no_element_or_link_comes_from_captured_data(hostile_markdown: str) -> None:
    parsed = _parse(_to_html(hostile_markdown))
    assert {tag for tag, _attrs in parsed.elements} <= ALLOWED_TAGS
    for tag, attrs in parsed.elements:
        for name, value in attrs:
            assert name in {"src", "alt"} and tag == "img", (tag, name, value)
            for marker in MARKERS:
                assert marker not in (value or "")
            if name == "src":
                assert value is not None and value.startswith("report_figures/") and value.endswith(".png")


def test_every_payload_is_shown_as_text(hostile_markdown: str) -> None:
    text = "".join(_parse(_to_html(hostile_markdown)).text)
    for payload in PAYLOADS:
        assert payload in text, payload


def test_pipes_and_newlines_cannot_break_table_rows(hostile_markdown: str) -> None:
    parsed = _parse(_to_html(hostile_markdown))
    # Count cells per row: every row of a table has as many cells as its header.
    rows: list[int] = []
    tables: list[list[int]] = []
    for tag, _attrs in parsed.elements:
        if tag == "table":
            tables.append(rows := [])
        elif tag == "tr":
            rows.append(0)
        elif tag in {"td", "th"}:
            rows[-1] += 1
    assert tables
    for table in tables:
        assert len(set(table)) == 1, table


def test_code_span_survives_backticks_and_pipes() -> None:
    for value in ["`", "``a``", "a | b", " x ", "`x`", "[a](javascript:b)", "<img src=x>"]:
        html = _to_html(f"| h |\n| --- |\n| {code_span(value)} |\n")
        text = "".join(_parse(html).text).strip()
        assert text.endswith(value.strip()) or value.strip() in text, (value, html)
        assert "<a " not in html and "<img" not in html


def test_escape_text_keeps_plain_text() -> None:
    for value in ["*a* _b_ [c](d) <e> # f", "1. not a list", "&amp; entity", "![img](x.png)"]:
        html = _to_html(escape_text(value))
        assert "".join(_parse(html).text).strip() == value
        assert "<a " not in html and "<img" not in html and "<em>" not in html


def test_masked_markdown_hides_identifiers(tmp_path: Path) -> None:
    report = build_report(hostile_tables(), mask_identifiers=True)
    path = write_markdown(tmp_path / "report.md", report)
    text = path.read_text(encoding="utf-8")
    assert ANDROID_ID not in text and "⟦android_id-1⟧" in text
    figures = sorted(p.name for p in (tmp_path / "report_figures").iterdir())
    assert "leak-matrix.png" in figures
    for name in figures:
        assert f"report_figures/{name}" in text


def test_long_values_cut_in_markdown() -> None:
    leaks = TABLES["leaks"].frame(
        {"needle_kind": ["url"], "needle": ["y" * 400], "host": ["t.example"], "kind": ["leak"]}
    )
    text = render_markdown(build_report({"leaks": leaks}, figures=False, max_chars=50))
    assert "y" * 50 in text and "y" * 51 not in text
    assert "+350 characters" in text


def test_no_autolink_survives_escaping() -> None:
    escaped = escape_text("see https://evil.example/x, www.evil.example and me@evil.example")
    assert "https://" not in escaped and "www." not in escaped and "me@" not in escaped
    assert "".join(_parse(_to_html(escaped)).text).strip() == (
        "see https://evil.example/x, www.evil.example and me@evil.example"
    )

"""The published pages, read as HTML (no browser needed): what issue 19 asks to see on them.

The demo's report (the Xiaomi study) opens with the finding, says what the verdicts apply to,
shows the study's description, each session's app version and toggles, a scope line per verdict,
sources or the label "illustrative" per quote, leak rows folded by value and receiver, decoded
URLs beside raw ones, and every capture file with its SHA-256. ``test_browser.py`` renders the same
pages in Chromium (height, broken words, screenshots).
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from tests.report.published import MANIFEST, ONE_CAPTURE, Page
from toolkit.claims import SCOPES
from toolkit.report.document import VERDICT_LABELS
from toolkit.report.finding import DEFAULT_SCOPE


@pytest.fixture(scope="module")
def demo(published_reports: dict[str, Path]) -> tuple[Page, str, Path]:
    path = published_reports["demo"]
    text = path.read_text(encoding="utf-8")
    return Page(text), text, path.parent


@pytest.fixture(scope="module")
def manifest() -> dict:
    return tomllib.loads(MANIFEST.read_text(encoding="utf-8"))


def _sections(page: Page) -> list[str]:
    return [str(page.elements[i][1].get("id")) for i in page.find("section")]


def _rows(page: Page, caption: str) -> list[dict[str, int]]:
    """The rows of the table with ``caption``: header → index of the cell's element."""
    table = next(i for i in page.find("table") if page.text_of(i + 1).startswith(caption))
    end = next((j for j in page.find("table") if j > table), len(page.elements))
    headers = [page.text_of(i) for i in page.find("th") if table < i < end]
    cells = [i for i in page.find("td") if table < i < end]
    return [dict(zip(headers, cells[k : k + len(headers)], strict=True)) for k in range(0, len(cells), len(headers))]


def test_the_page_opens_with_the_finding_then_evidence_then_method(demo: tuple[Page, str, Path]) -> None:
    page, _text, _out = demo
    assert _sections(page) == [
        "summary",
        "claims",
        "leaks",
        "identifiers",
        "datatypes",
        "timeline",
        "endpoints",
        "decryption",
        "problems",
        "method",
        "provenance",
    ]
    lead = page.find("p", "lead")
    assert len(lead) == 1 and lead[0] < page.find("section")[1]
    sentences = re.findall(r"[^.]+\.(?:\s|$)", page.text_of(lead[0]))
    assert 1 <= len(sentences) <= 3, sentences
    assert page.text_of(lead[0]).startswith("The captures contradict 3 of 6 claims checked")
    assert "not proof" in page.text_of(lead[0])


def test_the_lab_caveat_description_versions_and_toggles_are_on_the_page(
    demo: tuple[Page, str, Path], manifest: dict
) -> None:
    page, _text, _out = demo
    scope = page.find("p", "scope")
    assert scope and scope[0] < page.find("section")[1]  # the caveat is in the opening section
    assert page.text_of(scope[0]) == manifest["study"]["scope"]
    assert "not to Xiaomi's phones" in page.text_of(scope[0])
    assert manifest["study"]["description"] in page.text_of(page.find("section")[-2])  # "What was studied"
    rows = _rows(page, "Sessions: app versions and settings")
    by_session = {page.text_of(r["session"]): r for r in rows}
    assert set(by_session) == {s["name"] for s in manifest["session"]}
    for session in manifest["session"]:
        row = by_session[session["name"]]
        assert page.text_of(row["version"]) == session["version"]
        assert session["app"] in page.text_of(row["app"]) and page.text_of(row["device"]) == session["device"]
        for name, value in session.get("toggles", {}).items():
            assert f"{name}: {'on' if value else 'off'}" in page.text_of(row["toggles"])


def test_every_verdict_states_its_scope_in_honest_words(demo: tuple[Page, str, Path], manifest: dict) -> None:
    page, _text, out = demo
    claims = pd.read_csv(out / "claims.csv")
    rows = _rows(page, "Claims and their verdicts")
    assert [page.text_of(r["claim"]) for r in rows] == list(claims["claim"])
    checks = {c["id"]: c["check"] for c in manifest["claim"]}
    for row, verdict, claim in zip(rows, claims["verdict"], claims["claim"], strict=True):
        cell = page.elements[row["verdict"]][1].get("class") or ""
        assert {"nowrap", f"tone-{verdict}"} <= set(cell.split())
        assert page.text_of(row["verdict"]) == VERDICT_LABELS[verdict]
        assert page.text_of(row["what this check can and cannot show"]) == SCOPES[checks[claim]]
    words = {page.text_of(r["verdict"]) for r in rows}
    assert not any("supported" in w for w in words)
    assert set(claims["verdict"]) == {"contradicted", "not_observed"}
    own = next(r for r in rows if page.text_of(r["claim"]) == "own-servers")
    assert "cannot see where data is stored" in page.text_of(own["what this check can and cannot show"])
    assert re.search(r"in \d+ requests to \d+ hosts", page.text_of(own["what the captures show"]))


def test_every_quote_has_a_public_source_or_is_labelled_illustrative(demo: tuple[Page, str, Path]) -> None:
    page, _text, _out = demo
    for row in _rows(page, "Claims and their verdicts"):
        source = page.text_of(row["quote is (source)"])
        assert source.startswith("illustrative") or re.search(r"\b[a-z0-9-]+\.(com|org|net)/", source), source
        assert "this project" not in source
    tls = next(r for r in _rows(page, "Claims and their verdicts") if page.text_of(r["claim"]) == "tls")
    assert page.text_of(tls["quote is (source)"]).startswith("illustrative")


def test_leak_rows_are_folded_by_value_and_receiver(demo: tuple[Page, str, Path]) -> None:
    page, _text, out = demo
    leaks = pd.read_csv(out / "leaks.csv")
    sent = leaks[leaks["direction"].fillna("request") != "response"]
    receiver = sent["organisation"].fillna(sent["host"])
    groups = sent.groupby([sent["needle"], receiver]).size()
    section = page.find("section")[_sections(page).index("leaks")]
    following = page.find("section")[_sections(page).index("leaks") + 1]
    folded = [i for i in page.find("details") if section < i < following]
    summaries = [page.text_of(i + 1) for i in folded if page.elements[i + 1][0] == "summary"]
    leak_groups = [s for s in summaries if " → " in s]
    assert len(leak_groups) == len(groups) < len(sent)  # 72 rows in 11 groups
    assert all("open" not in page.elements[i][1] for i in page.find("details"))  # everything starts folded
    tables = [i for i in page.find("table") if section < i < following]
    inside = {t for t in tables for d in folded if d < t}
    assert len(inside) >= len(groups)
    german = next(s for s in leak_groups if "krankenh" in s)
    assert "krankenhäuser-in-der-nähe" in german and "(raw: " in german and "krankenh%C3%A4user" in german


def test_decoding_chains_come_from_the_session_the_finding_is_about(demo: tuple[Page, str, Path]) -> None:
    page, _text, _out = demo
    captions = [page.text_of(i) for i in page.find("figcaption") if "Decoding chain" in page.text_of(i)]
    assert 1 <= len(captions) <= 2
    assert all("in session incognito " in c for c in captions), captions


def test_provenance_lists_every_file_with_its_sha256_and_the_toolkit_version(
    demo: tuple[Page, str, Path], manifest: dict
) -> None:
    page, text, _out = demo
    rows = _rows(page, "Captures: each file with its SHA-256")
    shown = {page.text_of(r["path"]): page.text_of(r["sha256"]) for r in rows}
    for session in manifest["session"]:
        for capture in session["captures"]:
            for key in ("path", "keylog"):
                if key in capture:
                    path = MANIFEST.parent / capture[key]
                    digest = hashlib.sha256(path.read_bytes()).hexdigest()
                    assert shown[f"data/{capture[key]}"] == digest
    from importlib.metadata import version

    assert f"<dt>toolkit version</dt><dd><code>{version('toolkit')}</code></dd>" in text


def test_verdict_cells_cannot_break_inside_a_word(demo: tuple[Page, str, Path]) -> None:
    _page, text, _out = demo
    rule = re.search(r"td\.nowrap[^{]*\{([^}]*)\}", text)
    assert rule is not None
    declarations = {k.strip(): v.strip() for k, v in (d.split(":") for d in rule.group(1).split(";") if ":" in d)}
    assert declarations["white-space"] == "nowrap"
    assert declarations["word-break"] == "normal" and declarations["overflow-wrap"] == "normal"


def test_one_capture_report_says_what_it_saw_and_what_it_applies_to(published_reports: dict[str, Path]) -> None:
    text = published_reports["capture"].read_text(encoding="utf-8")
    page = Page(text)
    lead = page.text_of(page.find("p", "lead")[0])
    assert re.match(r"In \d+ requests to \d+ hosts, \d+ findings of \d+ visited URLs", lead), lead
    assert page.text_of(page.find("p", "scope")[0]) == DEFAULT_SCOPE
    assert "method" not in _sections(page)  # no study: nothing to say about sessions
    assert hashlib.sha256(ONE_CAPTURE.read_bytes()).hexdigest() in text

"""The HAR reader on every HAR of the shared corpus (files written by real browsers and proxies).

Three checks: an independent oracle (plain ``json`` gives the entries; every one must be a row
with the same method, URL and status), golden files per dialect (``har_golden.py``), and the
malformed files, which must end in a ``CaptureError`` or in a partial result with problems.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import toolkit
from tests.io.har_golden import DIALECTS, GOLDEN, dialect_path, summarise
from tests.paths import BUNDLED, CORPUS

CORPUS_HAR = CORPUS / "har"
#: every corpus HAR; on a clone without ../shared, the bundled ones (tests/data/corpus/har)
FILES = sorted((CORPUS_HAR if CORPUS_HAR.is_dir() else BUNDLED / "har").glob("*"))
GOOD = [f for f in FILES if ".malformed." not in f.name]
MALFORMED = [f for f in FILES if ".malformed." in f.name]


def plain_entries(path: Path) -> list[dict[str, Any]]:
    """The entries as the standard library sees them (BOM and JSONP wrapper removed)."""
    text = path.read_text(encoding="utf-8-sig")
    wrapped = re.match(r"\s*[A-Za-z_$][\w$.]*\s*\(", text)
    if wrapped:
        text = text[wrapped.end() : text.rindex(")")]
    entries: list[dict[str, Any]] = json.loads(text)["log"].get("entries", [])
    return entries


@pytest.mark.skipif(not CORPUS_HAR.is_dir(), reason="../shared/corpus is not present")
def test_corpus_has_the_expected_files() -> None:
    assert len(GOOD) >= 40 and len(MALFORMED) >= 8


def test_the_bundled_hars_cover_several_tools() -> None:
    bundled = sorted((BUNDLED / "har").glob("*.har*"))
    tools = {toolkit.load(p).provenance.tool.split()[0] for p in bundled if ".malformed." not in p.name}
    assert {"WebInspector", "Firefox", "Playwright", "mitmproxy", "Charles", "Insomnia"} <= tools, tools
    bundled_dialects = {d for d in DIALECTS if (BUNDLED / "har" / DIALECTS[d]).is_file()}
    assert len(bundled_dialects) >= 12, bundled_dialects


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_every_entry_is_a_row_with_its_method_url_and_status(path: Path) -> None:
    capture = toolkit.load(path)
    requests = capture.requests
    entries = plain_entries(path)
    assert len(requests) == len(entries)
    assert requests["url"].tolist() == [e["request"]["url"] for e in entries]
    expected_methods = [e["request"]["method"].upper() or None for e in entries]
    assert [None if pd.isna(m) else m for m in requests["method"]] == expected_methods
    expected_status = [e["response"]["status"] if e["response"]["status"] > 0 else None for e in entries]
    assert [None if pd.isna(s) else s for s in requests["status"]] == expected_status
    assert requests["evidence"].tolist() == [f"{path.name}#entry={i}" for i in range(len(entries))]
    # only Playwright's external body, absent from the corpus, is allowed to be a problem here
    assert set(capture.problems["kind"]) <= {"missing"}, capture.problems.to_dict("records")
    toolkit.TABLES["requests"].validate(requests)


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_golden_file_per_dialect(dialect: str) -> None:
    path = dialect_path(dialect)
    if path is None:
        pytest.skip(f"{DIALECTS[dialect]} is neither in ../shared/corpus nor bundled")
    expected = json.loads((GOLDEN / f"{dialect}.json").read_text(encoding="utf-8"))
    assert summarise(path) == expected


@pytest.mark.parametrize("path", MALFORMED, ids=lambda p: p.name)
@pytest.mark.parametrize("strict", [False, True])
def test_malformed_files_give_capture_errors_or_problems(path: Path, strict: bool) -> None:
    try:
        capture = toolkit.load(path, strict=strict)
    except toolkit.CaptureError as exc:
        assert str(exc).startswith(path.name + ": ")
        assert "\n" not in str(exc)
        return
    assert not strict, "strict mode returned a result for a malformed file"
    assert not capture.problems.empty, f"{path.name} loaded without any problem listed"

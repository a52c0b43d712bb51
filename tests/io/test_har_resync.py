"""A HAR entry that is not valid JSON costs that entry only: the reader resynchronises at the next one."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toolkit
from toolkit.errors import CaptureError, MalformedCaptureError

# A Firefox 43 HAR of 12 entries from the shared corpus (SOURCES.tsv: sitespeedio/pagexray, MIT).
FIREFOX_12 = "har/pagexray__http1.1-firefox.har"


def _break_entry(text: str, index: int) -> str:
    """``text`` with the colon after entry ``index``'s ``"request"`` key removed (a JSON syntax error)."""
    parts = text.split('"request":')
    assert len(parts) > index + 1
    return '"request":'.join(parts[: index + 1]) + '"request"' + '"request":'.join(parts[index + 1 :])


def test_a_real_har_with_one_broken_entry_keeps_the_eleven_others(corpus: Path, tmp_path: Path) -> None:
    original = corpus / FIREFOX_12
    urls = [e["request"]["url"] for e in json.loads(original.read_text(encoding="utf-8-sig"))["log"]["entries"]]
    assert len(urls) == 12
    broken = tmp_path / "broken.har"
    broken.write_text(_break_entry(original.read_text(encoding="utf-8-sig"), 5), encoding="utf-8")
    capture = toolkit.load(broken)
    assert capture.requests["url"].tolist() == urls[:5] + urls[6:]
    problems = capture.problems
    assert problems[["record", "kind"]].values.tolist() == [["entry 5", "malformed"]]
    assert "invalid JSON" in problems["message"].iloc[0]


def test_under_strict_the_broken_entry_is_an_error_that_does_not_say_skipped(corpus: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.har"
    broken.write_text(_break_entry((corpus / FIREFOX_12).read_text(encoding="utf-8-sig"), 5), encoding="utf-8")
    with pytest.raises(MalformedCaptureError, match="entry 5: invalid JSON") as error:
        toolkit.load(broken, strict=True)
    assert "skipped" not in str(error.value)


def _json_problems(capture: toolkit.Capture) -> list[str]:
    problems = capture.problems
    return problems.loc[problems["message"].str.contains("invalid JSON"), "record"].tolist()


def _entry(n: int, padding: int) -> str:
    body = "x" * padding  # long strings: the broken entry spans several read chunks
    return json.dumps({"request": {"method": "GET", "url": f"https://example.org/{n}", "comment": body}})


@pytest.mark.parametrize("padding", [10, 5_000, 3_000_000])
def test_brackets_and_quotes_inside_strings_do_not_confuse_the_resync(tmp_path: Path, padding: int) -> None:
    tricky = json.dumps({"request": {"url": "https://example.org/1", "comment": 'a "}]}, {" string'}})
    tricky = tricky.replace('"url":', '"url"', 1)  # broken, with brackets and escaped quotes in a string
    entries = [_entry(0, padding), tricky, _entry(2, padding), _entry(3, 0)]
    path = tmp_path / "t.har"
    path.write_text('{"log": {"version": "1.2", "entries": [' + ",\n".join(entries) + "]}}")
    capture = toolkit.load(path)
    assert capture.requests["url"].tolist() == [f"https://example.org/{n}" for n in (0, 2, 3)]
    assert _json_problems(capture) == ["entry 1"]


def test_a_broken_bracket_still_stops_the_reading_with_a_problem(tmp_path: Path) -> None:
    broken = _entry(1, 10).replace('{"method"', '{{"method"', 1)  # unbalanced: no way to find the entry's end
    path = tmp_path / "t.har"
    path.write_text('{"log": {"entries": [' + ",".join([_entry(0, 10), broken, _entry(2, 10)]) + "]}}")
    capture = toolkit.load(path)
    assert capture.requests["url"].tolist() == ["https://example.org/0"]
    assert _json_problems(capture) == ["entry 1"]
    assert capture.problems["message"].str.contains("rest of the file is not read").any()


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 6), st.data())
def test_any_one_deleted_syntax_character_loses_at_most_what_the_problems_name(count: int, data: st.DataObject) -> None:
    entries = [_entry(n, 5) for n in range(count)]
    text = '{"log": {"entries": [' + ", ".join(entries) + "]}}"
    start = text.index("[") + 1
    in_urls = {i for n in range(count) for at in [text.index(f"https://example.org/{n}")] for i in range(at, at + 21)}
    syntax = [i for i in range(start, len(text) - 3) if text[i] in '{}[],:"' and i not in in_urls]
    cut = data.draw(st.sampled_from(syntax), label="deleted character")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.har"
        path.write_text(text[:cut] + text[cut + 1 :])
        try:
            capture = toolkit.load(path)
        except CaptureError:
            return  # the file as a whole is no longer a HAR
    urls = capture.requests["url"].tolist()
    assert len(urls) == len(set(urls)) and set(urls) <= {f"https://example.org/{n}" for n in range(count)}
    assert urls == sorted(urls)  # in file order, none invented
    if len(urls) < count:
        assert len(capture.problems)  # every lost entry is accounted for by a problem row

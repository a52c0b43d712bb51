"""Issue 16: a JSON body nested 100,000 deep (200 KB) is searched in seconds, its path shortened,
with a problem row; the JSON path of ordinary documents is unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.io.hostile import har_entry, har_text, run_measured
from toolkit.leaks.unwrap import JsonCursor

DEPTH = 100_000
ID = "8e5fbce04dc91566"

FIND = """
import toolkit
from toolkit.leaks import find_leaks
leaks = find_leaks(toolkit.load(sys.argv[1]), identifiers=["ID=8e5fbce04dc91566"])
result = {"chains": leaks["chain"].tolist(), "problems": leaks.attrs["problems"]["message"].tolist()}
"""


@pytest.mark.parametrize(("opening", "closing"), [("[", "]"), ('{"a":', "}")])
@pytest.mark.slow
def test_100000_deep_body_is_searched_in_seconds(tmp_path: Path, opening: str, closing: str) -> None:
    body = opening * DEPTH + json.dumps(ID) + closing * DEPTH
    post = {"mimeType": "application/json", "text": body}
    path = tmp_path / "deep.har"
    path.write_text(har_text([har_entry(url="https://t.example/collect", post=post)]))
    result = run_measured(FIND, str(path))
    print(f"{opening}: {result['seconds']:.1f} s, {result['peak_mb']:.0f} MB peak")  # shown with -s
    assert result["seconds"] < 60  # took 30 s for arrays before (10 x the bound of 10 s, loaded machine)
    assert result["peak_mb"] < 1024
    [chain] = result["chains"]
    step = "[0]" if opening == "[" else ".a"
    assert chain == "json:" + (step * 64).lstrip(".") + f"[…{DEPTH - 128} levels…]" + step * 64
    assert result["problems"] == [f"JSON nested {DEPTH} levels deep; paths into it are shortened"]


def test_paths_of_ordinary_documents_are_unchanged() -> None:
    doc = b'{"a": [1, {"b": "x"}, "yy"], "c d": {"e": "z"}, "[0]": [{"k": "w"}]}'
    cursor = JsonCursor(doc)
    found = [cursor.path_at(doc.index(value)) for value in (b'"x"', b'"yy"', b'"z"', b'"w"')]
    assert found == ["a[1].b", "a[2]", '["c d"].e', '["[0]"][0].k']
    assert cursor.shortened_depth == 0


def test_path_just_below_the_shortening_depth_is_whole() -> None:
    doc = b"[" * 128 + b'"x"' + b"]" * 128
    cursor = JsonCursor(doc)
    assert cursor.path_at(doc.index(b'"x"')) == "[0]" * 128 and cursor.shortened_depth == 0


def test_paths_asked_again_in_any_order_are_the_paths_of_a_fresh_cursor() -> None:
    doc = b'{"a": {"b c": ["x", "y"]}, "d": [{"e": "z"}, "w"], "a b": {"c": "v"}}'
    offsets = [doc.index(value) for value in (b'"x"', b'"y"', b'"z"', b'"w"', b'"v"')]
    fresh = [JsonCursor(doc).path_at(offset) for offset in offsets]
    assert fresh == ['a["b c"][0]', 'a["b c"][1]', "d[0].e", "d[1]", '["a b"].c']
    cursor = JsonCursor(doc)
    asked = offsets + offsets[::-1] + offsets[1::2] + offsets
    assert [cursor.path_at(offset) for offset in asked] == [fresh[offsets.index(offset)] for offset in asked]

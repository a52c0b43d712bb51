"""The incremental JSON walker: fed whole, a byte at a time, truncated, and with junk appended."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.io.jsonstream import JsonStream, JsonSyntaxError

DOC = {
    "log": {
        "version": "1.2",
        "creator": {"name": "x", "version": "1"},
        "entries": [
            {"n": 123456789, "f": -1.5e-3, "s": 'caf\u00e9 \\" \U0001f600', "t": True, "z": None},
            {"n": 0, "list": [1, [2, [3]]], "empty": {}},
            [],
        ],
        "pages": [],
    }
}


def walk(stream: JsonStream) -> dict[str, Any]:
    """Read DOC's shape with the streaming API: entries item by item, the rest as values."""
    out: dict[str, Any] = {}
    for key in stream.object_keys():
        log: dict[str, Any] = {}
        for log_key in stream.object_keys():
            log[log_key] = list(stream.array_items()) if log_key == "entries" else stream.read_value()
        out[key] = log
    return out


def text(doc: Any, indent: int | None = None) -> bytes:
    return json.dumps(doc, indent=indent, ensure_ascii=False).encode()


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 7, 64, 1 << 20])
@pytest.mark.parametrize("indent", [None, 2])
def test_any_chunking_gives_the_document(chunk_size: int, indent: int | None) -> None:
    assert walk(JsonStream(io.BytesIO(text(DOC, indent)), chunk_size=chunk_size)) == DOC


def test_byte_order_mark_is_skipped() -> None:
    assert walk(JsonStream(io.BytesIO(b"\xef\xbb\xbf" + text(DOC)), chunk_size=1)) == DOC


def test_number_cut_at_a_chunk_boundary_is_read_whole() -> None:
    stream = JsonStream(io.BytesIO(b"[12345678901234567890, 1e10]"), chunk_size=4)
    assert list(stream.array_items()) == [12345678901234567890, 1e10]


@pytest.mark.parametrize("cut", range(1, len(text(DOC)) - 1, 5))
def test_every_truncation_is_a_truncated_syntax_error(cut: int) -> None:
    data = text(DOC)[:cut]
    with pytest.raises(JsonSyntaxError) as info:
        walk(JsonStream(io.BytesIO(data), chunk_size=3))
    assert info.value.truncated, info.value


def test_junk_inside_is_malformed_with_its_offset() -> None:
    data = b'{"log": {"entries": [{"a": 1} {"b": 2}]}}'
    with pytest.raises(JsonSyntaxError) as info:
        walk(JsonStream(io.BytesIO(data), chunk_size=2))
    assert not info.value.truncated
    assert info.value.offset == data.index(b"{", 25)


def test_junk_appended_is_visible_to_the_caller() -> None:
    import re

    stream = JsonStream(io.BytesIO(text(DOC) + b"  garbage"))
    assert walk(stream) == DOC
    assert not stream.rest_is(re.compile(r"\s*"))


def test_invalid_utf8_is_replaced_and_flagged() -> None:
    stream = JsonStream(io.BytesIO(b'["a\xff"]'))
    assert list(stream.array_items()) == ["a\ufffd"]
    assert stream.replaced_bytes


def test_value_larger_than_the_limit_is_refused() -> None:
    stream = JsonStream(io.BytesIO(b'["' + b"x" * 5000 + b'"]'), chunk_size=16, max_value_size=1000)
    with pytest.raises(JsonSyntaxError, match="larger than"):
        list(stream.array_items())


def test_deep_nesting_is_a_syntax_error_not_a_crash() -> None:
    stream = JsonStream(io.BytesIO(b"[" + b"[" * 100_000 + b"]" * 100_000 + b"]"))
    with pytest.raises(JsonSyntaxError, match="nesting"):
        list(stream.array_items())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(items=st.lists(json_values, max_size=6), chunk_size=st.integers(1, 40))
def test_array_items_round_trip(items: list[Any], chunk_size: int) -> None:
    stream = JsonStream(io.BytesIO(json.dumps(items).encode()), chunk_size=chunk_size)
    assert list(stream.array_items()) == items

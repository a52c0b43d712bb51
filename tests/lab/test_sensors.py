"""The Sensors Analytics wire format: Java's String.hashCode and the crc/gzip/data_list body."""

from __future__ import annotations

import base64
import gzip
import json
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit.lab.sensors import decode_batch, encode_batch, event_json, java_string_hash


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("hello", 99162322),  # "hello".hashCode() in Java
        ("polygenelubricants", -(1 << 31)),  # the well-known Integer.MIN_VALUE hash
        ("ä", 228),
        ("😀", 55357 * 31 + 56832),  # a surrogate pair: Java hashes UTF-16 code units
    ],
)
def test_java_string_hash_matches_java(text: str, expected: int) -> None:
    assert java_string_hash(text) == expected


def test_body_is_android_uri_encoded() -> None:
    body = encode_batch([{"event": "x", "properties": {"url": "https://a.example/?q=ü"}}] * 5)
    names = [pair.split("=")[0] for pair in body.split("&")]
    assert names == ["crc", "gzip", "data_list"]
    data_list = body.split("data_list=")[1]
    assert "+" not in data_list and "/" not in data_list and "=" not in data_list


def test_event_json_escapes_slashes_like_org_json() -> None:
    assert event_json([{"u": "a/b", "w": "ä"}]) == '[{"u":"a\\/b","w":"ä"}]'


@given(st.lists(st.dictionaries(st.text(max_size=8), st.text(max_size=30) | st.integers()), max_size=5))
def test_encode_decode_round_trip(events: list[dict[str, object]]) -> None:
    body = encode_batch(events)
    fields = dict(parse_qsl(body))
    assert int(fields["crc"]) == java_string_hash(fields["data_list"])
    assert json.loads(gzip.decompress(base64.b64decode(fields["data_list"]))) == events
    assert decode_batch(body) == events


@pytest.mark.parametrize("bad", ["12345", "abc", ""])
def test_decode_rejects_a_wrong_crc(bad: str) -> None:
    body = encode_batch([{"event": "x"}])
    body = f"crc={bad}&" + body.split("&", 1)[1]
    with pytest.raises(ValueError, match="crc"):
        decode_batch(body)


def test_decode_rejects_a_body_without_data_list() -> None:
    with pytest.raises(ValueError, match="data_list"):
        decode_batch("crc=0&gzip=1")

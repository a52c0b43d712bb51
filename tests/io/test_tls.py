"""TLS hellos: what they offer and choose, read whole, split, or damaged."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.io.tls import (
    HandshakeReader,
    TlsError,
    parse_client_hello,
    parse_server_hello,
)
from toolkit.lab.tls_hellos import client_hello_for_tests, server_hello_for_tests


def test_client_hello_fields_and_grease() -> None:
    record = client_hello_for_tests("Example.ORG", alpn=["h2"], versions=(0x1A1A, 0x0304, 0x0303), ech=True)
    hello = parse_client_hello(record[9:])
    assert hello.sni == "example.org"
    assert hello.versions == ["TLS 1.3", "TLS 1.2"]  # GREASE 0x1a1a dropped
    assert hello.alpn == ["h2"] and hello.ech


def test_server_hello_supported_versions_and_alpn() -> None:
    reader = HandshakeReader()
    ((kind, body),) = reader.feed(server_hello_for_tests(version=0x0303, cipher=0xC02F, alpn="h2"))
    chosen = parse_server_hello(body)
    assert (kind, chosen.version, chosen.alpn) == (2, "TLS 1.2", "h2")
    assert chosen.cipher == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
    tls13 = parse_server_hello(HandshakeReader().feed(server_hello_for_tests())[0][1])
    assert tls13.version == "TLS 1.3" and tls13.cipher == "TLS_AES_128_GCM_SHA256"


@pytest.mark.parametrize("size", [1, 2, 5, 7, 64])
def test_client_hello_split_over_pieces(size: int) -> None:
    record = client_hello_for_tests("split.example")
    # also split over two TLS records, as some stacks do
    body = record[5:]
    records = (
        b"\x16\x03\x01"
        + (40).to_bytes(2, "big")
        + body[:40]
        + b"\x16\x03\x01"
        + (len(body) - 40).to_bytes(2, "big")
        + body[40:]
    )
    reader = HandshakeReader()
    messages = [m for i in range(0, len(records), size) for m in reader.feed(records[i : i + size])]
    assert [parse_client_hello(b).sni for _, b in messages] == ["split.example"]


def test_reader_stops_at_encrypted_records_and_junk() -> None:
    reader = HandshakeReader()
    assert reader.feed(b"\x17\x03\x03\x00\x05hello") == [] and reader.done and reader.error is None
    junk = HandshakeReader()
    junk.feed(b"GET / HTTP/1.1\r\n")
    assert junk.done and junk.error


@given(st.binary(max_size=400))
@settings(max_examples=300, deadline=None)
def test_garbage_hellos_raise_tls_error(data: bytes) -> None:
    for parse in (parse_client_hello, parse_server_hello):
        with contextlib.suppress(TlsError):
            parse(data)

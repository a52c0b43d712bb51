"""Hand-written HTTP/1.1: what goes on the wire and back."""

from __future__ import annotations

import gzip

import pytest

from toolkit.lab.exchange import Request, Response
from toolkit.lab.http1 import parse_request, parse_response, request_bytes, response_bytes


def test_request_wire_format() -> None:
    request = Request(
        "POST",
        "sa.api.intl.miui.com",
        "/sa?project=global_browser_mini&r=ES",
        [("User-Agent", "Dalvik/2.1.0")],
        b"crc=1&gzip=1&data_list=x",
    )
    wire = request_bytes(request)
    assert wire == (
        b"POST /sa?project=global_browser_mini&r=ES HTTP/1.1\r\nHost: sa.api.intl.miui.com\r\n"
        b"User-Agent: Dalvik/2.1.0\r\nContent-Length: 24\r\n\r\ncrc=1&gzip=1&data_list=x"
    )
    assert parse_request(wire) == request


def test_gzip_response_round_trip() -> None:
    wire = response_bytes(Response(200, [("content-type", "text/html")], b"<html>" * 50, gzip_body=True))
    head, body = wire.split(b"\r\n\r\n", 1)
    assert b"Content-Encoding: gzip" in head and b"Content-Type: text/html" in head
    assert gzip.decompress(body) == b"<html>" * 50
    assert parse_response(wire)[::2] == (200, b"<html>" * 50)


def test_truncated_body_is_an_error() -> None:
    with pytest.raises(ValueError, match="Content-Length"):
        parse_response(response_bytes(Response(200, [], b"abcdef"))[:-1])

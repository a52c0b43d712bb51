"""HAR entries: bodies, headers and timings as HAR 1.2 asks."""

from __future__ import annotations

import base64

from toolkit.lab.exchange import Exchange, Request
from toolkit.lab.har_writer import har_document, har_entry


def _exchange(body: bytes, mime: str, request_body: bytes = b"") -> Exchange:
    request = Request(
        "POST" if request_body else "GET",
        "a.example",
        "/p?x=1&y=",
        [("Content-Type", "application/x-www-form-urlencoded")],
        request_body,
    )
    return Exchange(
        request,
        200,
        [("content-type", mime)],
        body,
        "HTTP/1.1",
        [("Host", "a.example")],
        1_000_000,
        1_250_000,
        2,
        "192.0.2.1",
    )


def test_binary_bodies_are_base64_and_text_is_text() -> None:
    png = har_entry(_exchange(b"\x89PNG\0", "image/png"), pageref=None)
    assert png["response"]["content"] == {
        "size": 5,
        "mimeType": "image/png",
        "text": base64.b64encode(b"\x89PNG\0").decode(),
        "encoding": "base64",
    }
    html = har_entry(_exchange("é".encode(), "text/html; charset=utf-8"), pageref="page_1")
    assert html["response"]["content"]["text"] == "é" and html["pageref"] == "page_1"
    assert "pageref" not in png


def test_request_fields() -> None:
    entry = har_entry(_exchange(b"", "text/plain", b"a=1"), pageref=None)
    request = entry["request"]
    assert request["postData"] == {"mimeType": "application/x-www-form-urlencoded", "text": "a=1"}
    assert request["queryString"] == [{"name": "x", "value": "1"}, {"name": "y", "value": ""}]
    assert (entry["time"], entry["connection"], entry["serverIPAddress"]) == (250.0, "2", "192.0.2.1")
    document = har_document([entry], [], creator=("c", "1"), browser=("b", "2"), comment="x")
    assert document["log"]["version"] == "1.2" and document["log"]["entries"] == [entry]

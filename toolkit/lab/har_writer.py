"""A HAR 1.2 file of a lab session, as a proxy on the phone (mitmproxy, Charles) would record it.

Request headers are the ones sent on the wire (HTTP/2 pseudo-headers included, as Chrome writes
them); response bodies are stored decoded, text as text and binary as base64 (HAR 1.2 ``content``).

>>> from toolkit.lab.exchange import Exchange, Request
>>> exchange = Exchange(Request("GET", "www.example-news.com", "/a?b=1"), 200,
...     [("content-type", "text/html")], b"<p>", "HTTP/2", [(":method", "GET")], 0, 1000, 0, "198.51.100.10")
>>> entry = har_entry(exchange, pageref="page_1")
>>> entry["request"]["queryString"], entry["response"]["content"]["text"], entry["time"]
([{'name': 'b', 'value': '1'}], '<p>', 1.0)
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from toolkit.lab.exchange import Exchange

__all__ = ["har_document", "har_entry", "iso_time"]

_TEXT_TYPES = ("text/", "application/javascript", "application/json", "application/x-www-form-urlencoded")


def iso_time(ts_us: int) -> str:
    """A capture time as HAR writes it: ISO 8601, milliseconds, ``Z``.

    >>> iso_time(1_588_237_200_123_456)
    '2020-04-30T09:00:00.123Z'
    """
    moment = datetime.fromtimestamp(ts_us / 1_000_000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((v for n, v in headers if n.lower() == name), None)


def _content(body: bytes, mime: str) -> dict[str, Any]:
    content: dict[str, Any] = {"size": len(body), "mimeType": mime}
    if mime.startswith(_TEXT_TYPES):
        content["text"] = body.decode("utf-8")
    elif body:
        content["text"] = base64.b64encode(body).decode("ascii")
        content["encoding"] = "base64"
    return content


def har_entry(exchange: Exchange, *, pageref: str | None) -> dict[str, Any]:
    """One HAR entry for ``exchange``."""
    request = exchange.request
    version = "HTTP/2.0" if exchange.http_version == "HTTP/2" else exchange.http_version
    har_request: dict[str, Any] = {
        "method": request.method,
        "url": request.url,
        "httpVersion": version,
        "cookies": [],
        "headers": [{"name": n, "value": v} for n, v in exchange.wire_request_headers],
        "queryString": [{"name": n, "value": v} for n, v in parse_qsl(urlsplit(request.url).query, True)],
        "headersSize": -1,
        "bodySize": len(request.body),
    }
    if request.body:
        mime = _header(request.headers, "content-type") or "application/octet-stream"
        har_request["postData"] = {"mimeType": mime, "text": request.body.decode("utf-8")}
    mime = _header(exchange.response_headers, "content-type") or ""
    elapsed = (exchange.ended_us - exchange.started_us) / 1000
    entry: dict[str, Any] = {
        "startedDateTime": iso_time(exchange.started_us),
        "time": elapsed,
        "request": har_request,
        "response": {
            "status": exchange.response_status,
            "statusText": HTTPStatus(exchange.response_status).phrase,
            "httpVersion": version,
            "cookies": [],
            "headers": [{"name": n, "value": v} for n, v in exchange.response_headers],
            "content": _content(exchange.response_body, mime),
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
        },
        "cache": {},
        "timings": {"blocked": -1, "dns": -1, "connect": -1, "ssl": -1, "send": 0, "wait": elapsed, "receive": 0},
        "serverIPAddress": exchange.server_ip,
        "connection": str(exchange.connection),
    }
    if pageref is not None:
        entry = {"pageref": pageref, **entry}
    return entry


def har_document(
    entries: list[dict[str, Any]],
    pages: list[dict[str, Any]],
    *,
    creator: tuple[str, str],
    browser: tuple[str, str],
    comment: str,
) -> dict[str, Any]:
    """The whole HAR ``{"log": ...}`` object."""
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": creator[0], "version": creator[1]},
            "browser": {"name": browser[0], "version": browser[1]},
            "pages": pages,
            "entries": entries,
            "comment": comment,
        }
    }

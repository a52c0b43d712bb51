"""HTTP/1.1 written and parsed by hand (RFC 9112): requests with Content-Length bodies, responses
with Content-Length and optional gzip Content-Encoding, over a persistent connection.

>>> from toolkit.lab.exchange import Request, Response
>>> wire = request_bytes(Request("POST", "sa.api.intl.miui.com", "/sa?r=ES", [("Accept", "*/*")], b"a=1"))
>>> wire.split(b"\\r\\n")[:2]
[b'POST /sa?r=ES HTTP/1.1', b'Host: sa.api.intl.miui.com']
>>> parse_request(wire).body
b'a=1'
>>> status, headers, body = parse_response(response_bytes(Response(200, [("Content-Type", "text/plain")], b"ok")))
>>> status, body
(200, b'ok')
"""

from __future__ import annotations

from http import HTTPStatus

from toolkit.lab.exchange import Request, Response

__all__ = ["parse_request", "parse_response", "request_bytes", "request_wire_headers", "response_bytes"]


def request_wire_headers(request: Request) -> list[tuple[str, str]]:
    """The header lines of ``request`` as sent: Host first, Content-Length last when there is a body."""
    headers = [("Host", request.host), *request.headers]
    if request.body or request.method in {"POST", "PUT"}:
        headers.append(("Content-Length", str(len(request.body))))
    return headers


def request_bytes(request: Request) -> bytes:
    """The request line, header lines, blank line and body."""
    lines = [f"{request.method} {request.path} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in request_wire_headers(request)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + request.body


def response_bytes(response: Response) -> bytes:
    """The status line, headers (with Content-Length), blank line and the body as it travels."""
    body = response.wire_body
    lines = [f"HTTP/1.1 {response.status} {HTTPStatus(response.status).phrase}"]
    lines += [f"{_title_case(name)}: {value}" for name, value in response.wire_headers]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _title_case(name: str) -> str:
    """``content-type`` → ``Content-Type``, the spelling most HTTP/1.1 servers use."""
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


def _split(message: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
    head, separator, rest = message.partition(b"\r\n\r\n")
    if not separator:
        raise ValueError("HTTP/1.1 message without the blank line after its headers")
    first, *lines = head.decode("latin-1").split("\r\n")
    headers = []
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon:
            raise ValueError(f"bad header line {line!r}")
        headers.append((name, value.strip()))
    length = int(next((v for n, v in headers if n.lower() == "content-length"), "0"))
    if len(rest) != length:
        raise ValueError(f"body has {len(rest)} bytes, Content-Length says {length}")
    return first, headers, rest


def parse_request(message: bytes) -> Request:
    """Read one complete request (as the lab's server does)."""
    first, headers, body = _split(message)
    method, target, version = first.split(" ")
    if version != "HTTP/1.1":
        raise ValueError(f"not HTTP/1.1: {first!r}")
    host = next(v for n, v in headers if n.lower() == "host")
    extra = [(n, v) for n, v in headers if n.lower() not in {"host", "content-length"}]
    return Request(method, host, target, extra, body)


def parse_response(message: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """Read one complete response: status, headers, decoded body."""
    first, headers, body = _split(message)
    status = int(first.split(" ")[1])
    encoding = next((v for n, v in headers if n.lower() == "content-encoding"), None)
    return status, headers, Response.decode_wire_body(body, encoding)

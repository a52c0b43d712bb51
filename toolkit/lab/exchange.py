"""HTTP requests and responses as the lab's endpoints exchange them, whatever the HTTP version.

>>> request = Request("GET", "www.example-news.com", "/", [("user-agent", "demo")])
>>> request.url
'https://www.example-news.com/'
>>> response = Response(200, [("content-type", "text/html")], b"<p>hi</p>", gzip_body=True)
>>> Response.decode_wire_body(response.wire_body, "gzip")
b'<p>hi</p>'
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field

__all__ = ["Exchange", "Request", "Response"]


@dataclass(frozen=True)
class Request:
    """One HTTP request; ``headers`` are the ones the client adds besides Host/Content-Length."""

    method: str
    host: str
    path: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    scheme: str = "https"

    @property
    def url(self) -> str:
        """The URL as sent: scheme, host and path with its query (never a fragment)."""
        return f"{self.scheme}://{self.host}{self.path}"


@dataclass(frozen=True)
class Response:
    """One HTTP response; ``body`` is the decoded content, sent gzip-compressed when ``gzip_body``."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    gzip_body: bool = False

    @property
    def wire_body(self) -> bytes:
        """The body as it travels (gzip with mtime 0, so it is deterministic)."""
        return gzip.compress(self.body, mtime=0) if self.gzip_body and self.body else self.body

    @property
    def wire_headers(self) -> list[tuple[str, str]]:
        """``headers`` plus Content-Encoding when the body is compressed."""
        if self.gzip_body and self.body:
            return [*self.headers, ("content-encoding", "gzip")]
        return list(self.headers)

    @staticmethod
    def decode_wire_body(data: bytes, content_encoding: str | None) -> bytes:
        """Undo the content coding the lab uses (gzip or none)."""
        return gzip.decompress(data) if content_encoding == "gzip" else data


@dataclass
class Exchange:
    """A request, the response the client read, and where and when it happened."""

    request: Request
    response_status: int
    response_headers: list[tuple[str, str]]
    response_body: bytes
    """Decoded response content as the client read it."""
    http_version: str
    """``HTTP/1.1`` or ``HTTP/2``."""
    wire_request_headers: list[tuple[str, str]]
    """Request headers exactly as sent (HTTP/2 pseudo-headers first)."""
    started_us: int
    ended_us: int
    connection: int
    """Index of the connection (TCP flow) in the session, from 0."""
    server_ip: str
    stream_id: int | None = None

"""HTTP/1.x messages from reassembled TCP streams, as a sans-IO core.

An :class:`Http1Connection` takes the client's and the server's bytes as they come (with the frame
that carried them) and returns whole :class:`HttpMessage` objects: keep-alive and pipelined
requests, ``Content-Length``, ``chunked`` and read-until-close bodies, HEAD/204/304 responses
without a body, ``100 Continue``, ``101 Switching Protocols`` and ``CONNECT`` tunnels (after which
:attr:`Http1Connection.tunnel` says where the stream went). A gap in the stream ends the message it
hits; parsing resumes at the next line that starts a message.

>>> connection = Http1Connection()
>>> requests = connection.client(b"GET /a HTTP/1.1\\r\\nHost: x\\r\\n\\r\\nGET /b HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n", 4)
>>> [(r.method, r.target, r.frames) for r in requests]
[('GET', '/a', [4]), ('GET', '/b', [4])]
>>> response = b"HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n3\\r\\nabc\\r\\n0\\r\\n\\r\\n"
>>> [(r.status, r.body) for r in connection.server(response, 6)]
[(200, b'abc')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from toolkit.io.shared_pairs import shared_pair

__all__ = ["Http1Connection", "HttpMessage", "HttpParser", "looks_like_http_request", "parse_datagram"]

MAX_HEAD = 64 * 1024
MAX_BODY = 16 * 1024 * 1024
#: Largest body length (Content-Length, chunk size) taken as real: a larger one is a damaged record.
MAX_DECLARED_LENGTH = 1 << 40
_HEX_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")
_METHODS = (
    b"GET",
    b"POST",
    b"PUT",
    b"DELETE",
    b"HEAD",
    b"OPTIONS",
    b"PATCH",
    b"CONNECT",
    b"TRACE",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"REPORT",
    b"M-SEARCH",
    b"NOTIFY",
    b"SUBSCRIBE",
    b"UNSUBSCRIBE",
    b"PURGE",
    b"SEARCH",
)
_RESPONSE_START = re.compile(rb"HTTP/\d\.\d \d\d\d")
_ANY_START = re.compile(
    rb"(?:(?:%s) [^\r\n ]+ HTTP/\d\.\d\r?\n|HTTP/\d\.\d \d\d\d)" % b"|".join(re.escape(m) for m in _METHODS)
)


def looks_like_http_request(data: bytes) -> bool:
    """True when ``data`` starts with an HTTP method and a space.

    >>> looks_like_http_request(b"POST /x HTTP/1.1"), looks_like_http_request(b"\\x16\\x03\\x01")
    (True, False)
    """
    head = data[:12]
    space = head.find(b" ")
    return space > 0 and head[:space] in _METHODS


@dataclass
class HttpMessage:
    """One request or response."""

    is_request: bool
    method: str = ""
    target: str = ""
    version: str = ""
    status: int | None = None
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    frames: list[int] = field(default_factory=list)
    """Frames that carried the message, in order, first one first."""
    complete: bool = True
    """False when the stream ended or had a gap before the message did."""
    body_truncated: bool = False
    """The body was longer than :data:`MAX_BODY` and was cut."""

    def header(self, name: str) -> str | None:
        """First value of header ``name`` (case-insensitive)."""
        name = name.lower()
        size = len(name)
        for key, value in self.headers:
            # ``lower`` keeps an ASCII name's length: names of another length are passed over unlowered.
            if (len(key) == size or not key.isascii()) and key.lower() == name:
                return value
        return None

    def _add_frame(self, frame: int) -> None:
        if not self.frames or self.frames[-1] != frame:
            self.frames.append(frame)


def _parse_head(head: bytes, is_request: bool) -> HttpMessage:
    lines = head.decode("latin-1").split("\n")
    start = lines[0].rstrip("\r")
    message = HttpMessage(is_request)
    parts = start.split(" ", 2)
    if is_request:
        if len(parts) != 3:
            raise ValueError(f"bad request line {start[:80]!r}")
        message.method, message.target, message.version = parts
    else:
        if len(parts) < 2 or not (len(parts[1]) == 3 and parts[1].isascii() and parts[1].isdigit()):
            raise ValueError(f"bad status line {start[:80]!r}")
        message.version, message.status = parts[0], int(parts[1])
        message.reason = parts[2] if len(parts) > 2 else ""
    headers = message.headers
    for line in lines[1:]:
        line = line.rstrip("\r")
        if not line:
            continue
        if line[0] in " \t" and headers:  # obsolete line folding
            name, value = headers[-1]
            headers[-1] = (name, value + " " + line.strip())
            continue
        name, sep, value = line.partition(":")
        if sep:
            headers.append(shared_pair(name.strip(), value.strip()))
    return message


def _framing_headers(headers: list[tuple[str, str]]) -> tuple[str | None, str | None]:
    """The first Transfer-Encoding and Content-Length values, in one pass over the headers.

    >>> _framing_headers([("Host", "a"), ("Content-Length", "5"), ("content-length", "6")])
    (None, '5')
    """
    encoding = length = None
    for key, value in headers:
        if len(key) in (14, 17) or not key.isascii():
            lowered = key.lower()
            if encoding is None and lowered == "transfer-encoding":
                encoding = value
            elif length is None and lowered == "content-length":
                length = value
    return encoding, length


class HttpParser:
    """Messages of one direction (sans-IO)."""

    def __init__(self, is_request: bool) -> None:
        self.is_request = is_request
        self._buffer = b""
        self._scanned = 0
        """Bytes at the start of the buffer already searched for the end of a header section."""
        self._state = "head"
        self._remaining = 0
        self._message: HttpMessage | None = None
        self._body: list[bytes] = []
        self._body_size = 0
        self.stopped = False
        """True after a tunnel, an upgrade or unparseable data: the rest is not HTTP/1."""
        self.error: str | None = None
        self.pending_methods: list[str] = []
        """For a response parser: methods of the requests still waiting for a response."""
        self.tunnel: str | None = None

    # -- input ---------------------------------------------------------------------------------
    def feed(self, data: bytes, frame: int) -> list[HttpMessage]:
        """Add stream bytes; returns the messages they completed."""
        if self.stopped:
            return []
        if self._message is not None:
            self._message._add_frame(frame)
        self._buffer += data
        out: list[HttpMessage] = []
        while not self.stopped:
            if self._state in ("head", "resync"):
                if not self._head(frame, out):
                    break
            elif self._state == "length":
                if not self._buffer:
                    break
                if self._take_body():
                    self._finish(out)
            elif self._state == "chunk_size":
                end = self._buffer.find(b"\n")
                if end < 0:
                    if len(self._buffer) > 1024:
                        self._fail("chunk size line too long")
                    break
                line = self._buffer[:end].split(b";")[0].strip()
                self._buffer = self._buffer[end + 1 :]
                size = int(line, 16) if _HEX_SIZE.fullmatch(line) else -1
                if not 0 <= size <= MAX_DECLARED_LENGTH:  # "-5", "0x5", "1_0" or absurd: damage
                    self._fail(f"bad chunk size {line[:20]!r}")
                    break
                if size == 0:
                    self._state = "trailer"
                else:
                    self._state, self._remaining = "chunk_data", size
            elif self._state == "chunk_data":
                if not self._buffer:
                    break
                if self._take_body():
                    self._state = "chunk_end"
            elif self._state == "chunk_end":
                if len(self._buffer) < 2 and not self._buffer.startswith(b"\n"):
                    break
                self._buffer = self._buffer[2:] if self._buffer.startswith(b"\r\n") else self._buffer[1:]
                self._state = "chunk_size"
            elif self._state == "trailer":
                end = self._buffer.find(b"\n")
                if end < 0:
                    break
                line = self._buffer[:end].strip()
                self._buffer = self._buffer[end + 1 :]
                if not line:
                    self._finish(out)
            else:  # read until close
                if self._buffer:
                    self._append_body(self._buffer)
                    self._buffer = b""
                break
        return out

    def gap(self) -> list[HttpMessage]:
        """Bytes were lost: the message in progress ends incomplete; look for the next one."""
        out: list[HttpMessage] = []
        if self._message is not None:
            self._message.complete = False
            self._finish(out)
        self._buffer = b""
        self._scanned = 0
        self._state = "resync"
        return out

    def close(self) -> list[HttpMessage]:
        """The stream ended: a read-until-close body is complete, anything else is not."""
        out: list[HttpMessage] = []
        if self._message is not None:
            self._message.complete = self._state == "close"
            self._finish(out)
        return out

    # -- internals -------------------------------------------------------------------------------
    def _head(self, frame: int, out: list[HttpMessage]) -> bool:
        buffer = self._buffer
        while buffer.startswith(b"\r\n") or buffer.startswith(b"\n"):  # stray line ends between messages
            buffer = self._buffer = buffer[1:] if buffer[0] == 10 else buffer[2:]
            self._scanned = 0
        if self._state == "resync" or (buffer and not buffer[:1].isalpha()):
            self._scanned = 0
            match = _ANY_START.search(buffer)
            if match is None:
                self._buffer = buffer[-32:]
                return False
            buffer = self._buffer = buffer[match.start() :]
            self._state = "head"
        # Search only what came since the last search (a head sent a byte a segment would
        # otherwise be searched whole for every byte).
        start = max(0, self._scanned - 3)
        end = buffer.find(b"\r\n\r\n", start)
        size = 4
        bare = buffer.find(b"\n\n", start)
        if bare >= 0 and (end < 0 or bare < end):
            end, size = bare, 2
        if end < 0:
            self._scanned = len(buffer)
            if len(buffer) > MAX_HEAD:
                self._fail("header section longer than 64 KiB")
            return False
        self._scanned = 0
        try:
            message = _parse_head(buffer[:end], self.is_request)
        except ValueError as exc:
            self._fail(str(exc))
            return False
        self._buffer = buffer[end + size :]
        message.frames.append(frame)
        self._message = message
        self._body, self._body_size = [], 0
        self._frame_body(message, out)
        return not self.stopped

    def _frame_body(self, message: HttpMessage, out: list[HttpMessage]) -> None:
        method = ""
        if not self.is_request:
            status = message.status or 0
            if 100 <= status < 200 and status != 101:
                self._finish(out, informational=True)
                return
            method = self.pending_methods.pop(0) if self.pending_methods else ""
            if status == 101 or (method == "CONNECT" and 200 <= status < 300):
                self.tunnel = "upgrade" if status == 101 else "connect"
                self._finish(out)
                self.stopped = True
                return
            if method == "HEAD" or status in (204, 304):
                self._finish(out)
                return
        encoding, length = _framing_headers(message.headers)
        encoding = (encoding or "").lower()
        if "chunked" in encoding:
            self._state = "chunk_size"
        elif length is not None:
            digits = length.split(",")[0].strip()
            self._remaining = int(digits) if digits.isascii() and digits.isdigit() and len(digits) <= 15 else -1
            if not 0 <= self._remaining <= MAX_DECLARED_LENGTH:
                self._fail(f"bad Content-Length {length!r}")
                return
            if self._remaining == 0:
                self._finish(out)
            else:
                self._state = "length"
        elif self.is_request:
            if message.method == "CONNECT":
                self.tunnel = "connect"
            self._finish(out)
        else:
            self._state = "close"

    def _take_body(self) -> bool:
        """Move up to the remaining body bytes from the buffer; True once none remain."""
        take = self._buffer[: self._remaining]
        self._buffer = self._buffer[len(take) :]
        self._append_body(take)
        self._remaining -= len(take)
        return self._remaining == 0

    def _append_body(self, data: bytes) -> None:
        room = MAX_BODY - self._body_size
        if room <= 0:
            if self._message is not None:
                self._message.body_truncated = True
            return
        if len(data) > room:
            data = data[:room]
            if self._message is not None:
                self._message.body_truncated = True
        self._body.append(data)
        self._body_size += len(data)

    def _finish(self, out: list[HttpMessage], informational: bool = False) -> None:
        message = self._message
        self._message = None
        self._state = "head"
        self._scanned = 0
        if message is None:
            return
        message.body = b"".join(self._body)
        self._body, self._body_size = [], 0
        if not informational:
            out.append(message)

    def _fail(self, reason: str) -> None:
        self.error = reason
        self.stopped = True
        self._buffer = b""


class Http1Connection:
    """Both directions of one HTTP/1.x connection."""

    def __init__(self) -> None:
        self.requests = HttpParser(True)
        self.responses = HttpParser(False)

    @property
    def tunnel(self) -> str | None:
        """``connect`` or ``upgrade`` once the server agreed to leave HTTP/1, else None."""
        return self.responses.tunnel

    def client(self, data: bytes, frame: int) -> list[HttpMessage]:
        """Client-to-server bytes; returns whole requests."""
        if self.responses.tunnel is not None:
            return []
        found = self.requests.feed(data, frame)
        self.responses.pending_methods.extend(m.method for m in found)
        if self.requests.tunnel == "connect":  # bytes after CONNECT belong to the tunnel
            self.requests.stopped = True
        return found

    def server(self, data: bytes, frame: int) -> list[HttpMessage]:
        """Server-to-client bytes; returns whole responses."""
        return self.responses.feed(data, frame)


def parse_datagram(data: bytes, frame: int) -> HttpMessage | None:
    """An HTTP message carried whole in one UDP datagram (SSDP), or None.

    >>> parse_datagram(b"M-SEARCH * HTTP/1.1\\r\\nHOST: 239.255.255.250:1900\\r\\n\\r\\n", 3).method
    'M-SEARCH'
    """
    is_request = looks_like_http_request(data)
    if not is_request and not _RESPONSE_START.match(data):
        return None
    end = data.find(b"\r\n\r\n")
    head = data if end < 0 else data[:end]
    try:
        message = _parse_head(head, is_request)
    except ValueError:
        return None
    message.frames.append(frame)
    if end >= 0:
        message.body = data[end + 4 :]
    return message

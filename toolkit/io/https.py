"""HTTP inside TLS: decrypt one TCP flow with the key log and read the HTTP/1.x or HTTP/2 it carries.

QUIC connections go the same way through :class:`QuicFlow`: :mod:`toolkit.io.quic_decrypt` removes
the packet protection and :mod:`toolkit.io.http3` reads the HTTP/3 in the streams.

The reader of packet captures feeds each TLS flow's reassembled bytes here (sans-IO). Decrypted
application data goes to an HTTP/2 reader when ALPN says ``h2`` or the client preface is seen,
otherwise to the HTTP/1.x reader. The result is request/response pairs as
:class:`~toolkit.io.http1.HttpMessage` objects, whichever HTTP version carried them, plus the
TLS outcome (decrypted or not, and why).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from toolkit.io.budget import Budget
from toolkit.io.http1 import Http1Connection, HttpMessage
from toolkit.io.http2 import PREFACE, Http2Connection, Http2Stream
from toolkit.io.http3 import Http3Connection
from toolkit.io.keylog import KeyLog
from toolkit.io.quic_decrypt import QuicDecryptor
from toolkit.io.tls_decrypt import DOWN, UP, Plaintext, TlsDecryptor, TlsOutcome

__all__ = ["HttpsFlow", "HttpsResult", "QuicFlow", "http2_exchanges"]


@dataclass
class HttpsResult:
    """What one TLS flow gave."""

    tls: TlsOutcome
    exchanges: list[tuple[HttpMessage, HttpMessage | None]] = field(default_factory=list)
    """(request, response or None), in request order."""
    http_version: str | None = None
    problems: list[str] = field(default_factory=list)
    websocket: bool = False
    stream_frames: int = 0
    """QUIC STREAM frames read (QUIC connections only)."""


class HttpsFlow:
    """One TLS connection: bytes in (both directions, capture order), HTTP exchanges out."""

    def __init__(self, keys: KeyLog, header_budget: Budget | None = None) -> None:
        self._header_budget = header_budget
        """Decoded HTTP/2 headers the capture may still hold (see :class:`Http2Connection`)."""
        self._tls = TlsDecryptor(keys)
        self._h1: Http1Connection | None = None
        self._h2: Http2Connection | None = None
        self._early: list[Plaintext] = []  # data before the HTTP version is known
        self._requests: list[HttpMessage] = []
        self._responses: list[HttpMessage] = []

    @property
    def decrypting(self) -> bool:
        """Whether more bytes may still be decrypted (False once the key is known to be missing)."""
        return not self._tls.hopeless

    def feed(self, up: bool, data: bytes, frame: int) -> None:
        """Add reassembled stream bytes (``up``: client to server) that arrived in ``frame``."""
        for plain in self._tls.feed(UP if up else DOWN, data, frame):
            self._plaintext(plain)

    def gap(self, up: bool) -> None:
        """Bytes of one direction were not captured."""
        self._tls.gap(UP if up else DOWN)

    def _plaintext(self, plain: Plaintext) -> None:
        if self._h1 is None and self._h2 is None:
            alpn = self._tls.outcome.alpn
            if alpn == "h2" or (plain.direction == UP and plain.data.startswith(PREFACE[:4])):
                self._h2 = Http2Connection(header_budget=self._header_budget)
            elif plain.direction == UP or alpn:
                self._h1 = Http1Connection()
            else:
                self._early.append(plain)  # server speaks first: wait for the client
                return
            early, self._early = self._early, []
            for held in early:
                self._route(held)
        self._route(plain)

    def _route(self, plain: Plaintext) -> None:
        if self._h2 is not None:
            self._h2.feed(plain.direction, plain.data, plain.frames)
            return
        assert self._h1 is not None
        frame = plain.frames[-1] if plain.frames else 0
        if plain.direction == UP:
            self._requests += self._h1.client(plain.data, frame)
        else:
            self._responses += self._h1.server(plain.data, frame)

    def finish(self) -> HttpsResult:
        """The TLS outcome and every exchange read."""
        result = HttpsResult(self._tls.finish())
        if self._h2 is not None:
            result.http_version = "HTTP/2"
            result.exchanges = http2_exchanges(self._h2)
            result.problems += self._h2.problems
        elif self._h1 is not None:
            result.http_version = "HTTP/1.1"
            for parser, direction in ((self._h1.requests, "client"), (self._h1.responses, "server")):
                if parser.error is not None:
                    result.problems.append(f"HTTP/1 {direction}: {parser.error}; the rest was not read")
            self._requests += self._h1.requests.close()
            self._responses += self._h1.responses.close()
            responses = iter(self._responses)
            result.exchanges = [(request, next(responses, None)) for request in self._requests]
            result.websocket = self._h1.tunnel == "upgrade"
        return result


class QuicFlow:
    """One QUIC connection: datagrams in (both directions, capture order), HTTP/3 exchanges out."""

    def __init__(self, keys: KeyLog) -> None:
        self._http3 = Http3Connection()
        self.decryptor = QuicDecryptor(keys, self._http3.feed)

    @property
    def finished(self) -> bool:
        """Nothing more can be read from this connection's packets."""
        return self.decryptor.finished

    def datagram(self, up: bool, data: bytes, frame: int) -> None:
        """One UDP payload (``up``: client to server)."""
        self.decryptor.datagram(data, up, frame)

    def finish(self) -> HttpsResult:
        """The outcome (as a TLS one: QUIC carries TLS 1.3) and the HTTP/3 exchanges."""
        quic = self.decryptor.finish()
        tls = TlsOutcome(
            client_random=quic.client_random,
            version=0x0304,
            cipher=quic.cipher,
            alpn=quic.alpn,
            records_decrypted=sum(quic.packets_decrypted.values()) if quic.decrypted else 0,
            reason=quic.reason,
        )
        exchanges = self._http3.finish()
        result = HttpsResult(tls, exchanges, "HTTP/3" if exchanges else None, quic.problems + self._http3.problems)
        result.stream_frames = quic.stream_frames
        return result


def http2_exchanges(connection: Http2Connection) -> list[tuple[HttpMessage, HttpMessage | None]]:
    """The (request, response or None) pairs of an HTTP/2 connection's streams, in stream order."""
    return [_messages(stream) for stream in connection.finish() if stream.request_headers]


def _messages(stream: Http2Stream) -> tuple[HttpMessage, HttpMessage | None]:
    """An HTTP/2 stream as the same request/response objects HTTP/1.x gives."""
    frames = list(stream.frames)
    request = HttpMessage(
        is_request=True,
        method=stream.method or "",
        target=stream.url or "",
        version="HTTP/2",
        headers=list(stream.request_headers),
        body=bytes(stream.request_body),
        frames=frames,
        complete=not stream.reset,
        body_truncated=stream.truncated_body,
    )
    if not stream.response_headers:
        return request, None
    response = HttpMessage(
        is_request=False,
        version="HTTP/2",
        status=stream.status,
        headers=list(stream.response_headers),
        body=bytes(stream.response_body),
        frames=frames,
    )
    return request, response

"""HTTP/2 between the lab's client and server, both driven by the ``h2`` library (RFC 9113).

Bytes go through a :class:`~toolkit.lab.tls_pair.TlsPair` (any object with ``client_send`` and
``server_send``), so the frames travel inside real TLS records; HPACK, frame sizes and flow control
are h2's: bodies larger than a frame or than the peer's window go out in pieces, between which the
peer's WINDOW_UPDATE frames come back, as on a real connection.

>>> class Loopback:  # stands in for a TLS connection in this example
...     def client_send(self, data): return data
...     def server_send(self, data): return data
>>> from toolkit.lab.exchange import Request, Response
>>> session = Http2Session(Loopback(), lambda request: Response(200, [("content-type", "text/plain")], b"hi"))
>>> reply = session.exchange(Request("GET", "www.example-news.com", "/", [("accept", "*/*")]))
>>> reply.status, reply.body, reply.wire_headers[:2]
(200, b'hi', [(':method', 'GET'), (':authority', 'www.example-news.com')])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

import h2.config
import h2.connection
import h2.events

from toolkit.lab.exchange import Request, Response

__all__ = ["Http2Reply", "Http2Session", "Transport"]

Handler = Callable[[Request], Response]
_MAX_ROUNDS = 10_000


class Transport(Protocol):
    """What HTTP/2 needs from the connection below: send each way, get what the peer read."""

    def client_send(self, data: bytes) -> bytes: ...

    def server_send(self, data: bytes) -> bytes: ...


class Http2Reply(NamedTuple):
    """A response as the client read it, and the request headers it sent."""

    status: int
    headers: list[tuple[str, str]]
    """Response headers without pseudo-headers."""
    body: bytes
    """Decoded response body."""
    wire_headers: list[tuple[str, str]]
    """Request headers as sent, pseudo-headers first."""
    stream_id: int


@dataclass
class _Message:
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    ended: bool = False


def _connection(client_side: bool) -> h2.connection.H2Connection:
    return h2.connection.H2Connection(h2.config.H2Configuration(client_side=client_side, header_encoding="utf-8"))


class Http2Session:
    """A client and a server HTTP/2 connection joined by ``transport``; the server answers with ``handler``."""

    def __init__(self, transport: Transport, handler: Handler) -> None:
        self.transport = transport
        self.handler = handler
        self.client = _connection(client_side=True)
        self.server = _connection(client_side=False)
        self.client.initiate_connection()
        self.server.initiate_connection()
        self.last_stream_id: int | None = None
        self._requests: dict[int, _Message] = {}
        self._responses: dict[int, _Message] = {}
        # Bodies (or their rest) waiting for flow-control credit, per side and stream.
        self._pending: dict[bool, dict[int, bytes]] = {True: {}, False: {}}

    def exchange(self, request: Request) -> Http2Reply:
        """Send ``request`` on a new stream and wait for its response."""
        return self.exchange_all([request])[0]

    def exchange_all(self, requests: list[Request]) -> list[Http2Reply]:
        """Send ``requests`` at once, one stream each (as a browser fetches a page's resources), and
        wait for every response; the server's DATA frames of different streams are interleaved."""
        sent = []
        for request in requests:
            stream_id = self.client.get_next_available_stream_id()
            self.last_stream_id = stream_id
            wire_headers = [
                (":method", request.method),
                (":authority", request.host),
                (":scheme", request.scheme),
                (":path", request.path),
                *[(name.lower(), value) for name, value in request.headers],
            ]
            if request.body:
                wire_headers.append(("content-length", str(len(request.body))))
                self._pending[True][stream_id] = request.body
            self.client.send_headers(stream_id, wire_headers, end_stream=not request.body)
            sent.append((stream_id, wire_headers))
        self._push(from_client=True)
        self._run(lambda: all(self._responses.get(stream_id, _Message()).ended for stream_id, _ in sent))
        replies = []
        for stream_id, wire_headers in sent:
            response = self._responses.pop(stream_id)
            encoding = next((v for n, v in response.headers if n == "content-encoding"), None)
            status = int(dict(response.headers)[":status"])
            regular = [(n, v) for n, v in response.headers if not n.startswith(":")]
            body = Response.decode_wire_body(bytes(response.body), encoding)
            replies.append(Http2Reply(status, regular, body, wire_headers, stream_id))
        return replies

    def close(self) -> None:
        """The client says goodbye (GOAWAY), as a browser does when it drops an idle connection."""
        self.client.close_connection()
        self._run(lambda: False)

    def _push(self, *, from_client: bool) -> None:
        """Send as much of the waiting bodies as flow control allows, one frame per stream in turn."""
        sender = self.client if from_client else self.server
        pending = self._pending[from_client]
        progressed = True
        while pending and progressed:
            progressed = False
            for stream_id in list(pending):
                rest = pending[stream_id]
                size = min(sender.local_flow_control_window(stream_id), sender.max_outbound_frame_size, len(rest))
                if size <= 0:
                    continue
                sender.send_data(stream_id, rest[:size], end_stream=size == len(rest))
                progressed = True
                if size == len(rest):
                    del pending[stream_id]
                else:
                    pending[stream_id] = rest[size:]

    def _run(self, done: Callable[[], bool]) -> None:
        """Move bytes both ways until ``done()`` or nothing is left to send."""
        for _ in range(_MAX_ROUNDS):
            moved = False
            outgoing = self.client.data_to_send()
            if outgoing:
                moved = True
                self._server_events(self.server.receive_data(self.transport.client_send(outgoing)))
                self._push(from_client=False)
            outgoing = self.server.data_to_send()
            if outgoing:
                moved = True
                self._client_events(self.client.receive_data(self.transport.server_send(outgoing)))
                self._push(from_client=True)
            if done() and not self.client.data_to_send():
                return
            if not moved:
                if done():
                    return
                if any(self._pending.values()):
                    raise RuntimeError("HTTP/2 flow control stalled with data left to send")
                return
        raise RuntimeError("HTTP/2 exchange did not finish")  # pragma: no cover

    def _server_events(self, events: list[h2.events.Event]) -> None:
        for event in events:
            if isinstance(event, h2.events.RequestReceived):
                self._requests[event.stream_id] = _Message([(str(n), str(v)) for n, v in event.headers or []])
            elif isinstance(event, h2.events.DataReceived):
                self._requests[event.stream_id].body.extend(event.data or b"")
                self.server.acknowledge_received_data(event.flow_controlled_length or 0, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded) and event.stream_id is not None:
                self._respond(event.stream_id, self._requests.pop(event.stream_id))
        self._push(from_client=False)

    def _client_events(self, events: list[h2.events.Event]) -> None:
        for event in events:
            if isinstance(event, h2.events.ResponseReceived):
                self._responses[event.stream_id] = _Message([(str(n), str(v)) for n, v in event.headers or []])
            elif isinstance(event, h2.events.DataReceived):
                self._responses[event.stream_id].body.extend(event.data or b"")
                self.client.acknowledge_received_data(event.flow_controlled_length or 0, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded) and event.stream_id is not None:
                self._responses[event.stream_id].ended = True

    def _respond(self, stream_id: int, message: _Message) -> None:
        pseudo = {name: value for name, value in message.headers if name.startswith(":")}
        regular = [(n, v) for n, v in message.headers if not n.startswith(":") and n != "content-length"]
        request = Request(
            pseudo[":method"], pseudo[":authority"], pseudo[":path"], regular, bytes(message.body), pseudo[":scheme"]
        )
        response = self.handler(request)
        wire_body = response.wire_body
        response_headers = [
            (":status", str(response.status)),
            *[(n.lower(), v) for n, v in response.wire_headers],
            ("content-length", str(len(wire_body))),
        ]
        self.server.send_headers(stream_id, response_headers, end_stream=not wire_body)
        if wire_body:
            self._pending[False][stream_id] = wire_body

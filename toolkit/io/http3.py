"""HTTP/3 read passively from a QUIC connection's decrypted streams (RFC 9114), QPACK by ``pylsqpack``.

:class:`Http3Connection` takes each stream's bytes in order as :class:`~toolkit.io.quic_decrypt.QuicDecryptor`
hands them over and gives the request/response pairs as the same
:class:`~toolkit.io.http1.HttpMessage` objects HTTP/1.x and HTTP/2 give, with version ``HTTP/3``.
Header blocks are decoded by ``pylsqpack`` (the QPACK decoder of ``aioquic``), one decoder per
direction fed with that direction's encoder stream, sized by the SETTINGS the receiving side sent:
an observer plays the part of both decoders. The frame and stream-type walk is hand written:
``aioquic``'s HTTP/3 layer is an endpoint that answers, acknowledges and refuses, not a reader.

>>> connection = Http3Connection()
>>> connection.feed(True, 0, bytes.fromhex("011e0000d1d7510b2f696e6465782e68746d6c500b")
...                 + b"example.com", 7)
>>> request, response = connection.finish()[0]
>>> request.method, request.target, request.version, response
('GET', 'https://example.com/index.html', 'HTTP/3', None)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pylsqpack

from toolkit.io.http1 import MAX_BODY, HttpMessage
from toolkit.io.quic import read_varint

__all__ = ["Http3Connection"]

_DATA, _HEADERS, _SETTINGS = 0x00, 0x01, 0x04
_CONTROL, _PUSH, _ENCODER, _DECODER = 0x00, 0x01, 0x02, 0x03
_QPACK_MAX_TABLE_CAPACITY, _QPACK_BLOCKED_STREAMS = 0x01, 0x07
_MAX_FRAME = MAX_BODY + 64 * 1024  # a frame longer than this is not buffered
_MAX_BLOCKED = 100  # header blocks waiting for encoder-stream instructions


@dataclass
class _Exchange:
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    request_body: bytearray = field(default_factory=bytearray)
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: bytearray = field(default_factory=bytearray)
    frames: list[int] = field(default_factory=list)
    truncated: bool = False
    pending_blocks: int = 0


@dataclass
class _StreamReader:
    buffer: bytearray = field(default_factory=bytearray)
    kind: int | None = None
    """Unidirectional stream type; None until read (or for request streams)."""
    broken: bool = False


class Http3Connection:
    """Both directions of one HTTP/3 connection: stream bytes in, exchanges out."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self._streams: dict[tuple[bool, int], _StreamReader] = {}
        self._exchanges: dict[int, _Exchange] = {}
        self._settings: dict[bool, dict[int, int]] = {}
        """SETTINGS each side sent (True: the client)."""
        self._decoders: dict[bool, pylsqpack.Decoder] = {}
        """QPACK decoders of the header blocks each side sent (True: the client's)."""
        self._queued: dict[bool, list[tuple[int | None, bytes, int]]] = {True: [], False: []}
        """Encoder data (stream None) and header blocks held until the decoder can be sized."""
        self._blocked: dict[tuple[bool, int], int] = {}

    def feed(self, from_client: bool, stream_id: int, data: bytes, frame: int) -> None:
        """New in-order bytes of one stream's direction (a :data:`~toolkit.io.quic_decrypt.StreamSink`)."""
        reader = self._streams.get((from_client, stream_id))
        if reader is None:
            reader = self._streams[(from_client, stream_id)] = _StreamReader()
        if reader.broken:
            return
        reader.buffer += data
        try:
            if stream_id & 0x02:
                self._unidirectional(reader, from_client, stream_id, frame)
            else:
                self._exchange(stream_id, frame)  # every packet that carried part of the exchange
                self._frames(reader, from_client, stream_id, frame)
        except ValueError as exc:
            reader.broken = True
            self._problem(f"HTTP/3 stream {stream_id}: {exc}; the rest of the stream was not read")

    def _problem(self, text: str) -> None:
        if len(self.problems) < 32:
            self.problems.append(text)

    def _unidirectional(self, reader: _StreamReader, from_client: bool, stream_id: int, frame: int) -> None:
        if reader.kind is None:
            if not reader.buffer or len(reader.buffer) < 1 << (reader.buffer[0] >> 6):
                return
            reader.kind, start = read_varint(bytes(reader.buffer[:8]), 0)
            del reader.buffer[:start]
        if reader.kind == _ENCODER:
            data, reader.buffer = bytes(reader.buffer), bytearray()
            self._qpack(from_client, None, data, frame)
        elif reader.kind in (_CONTROL, _PUSH):
            self._frames(reader, from_client, stream_id, frame)
        else:
            reader.buffer.clear()  # decoder stream (the peer's acknowledgements) or an unknown type: not needed

    def _frames(self, reader: _StreamReader, from_client: bool, stream_id: int, frame: int) -> None:
        buffer = reader.buffer
        while buffer:
            head = bytes(buffer[:16])
            try:
                kind, pos = read_varint(head, 0)
                length, pos = read_varint(head, pos)
            except ValueError:
                return  # the frame header is not complete yet
            if length > _MAX_FRAME:
                raise ValueError(f"frame of {length} bytes is longer than the {_MAX_FRAME} read")
            if len(buffer) < pos + length:
                return
            payload = bytes(buffer[pos : pos + length])
            del buffer[: pos + length]
            if reader.kind == _CONTROL:
                if kind == _SETTINGS:
                    self._settings_frame(from_client, payload, frame)
            elif reader.kind is None:
                self._request_frame(from_client, stream_id, kind, payload, frame)

    def _settings_frame(self, from_client: bool, payload: bytes, frame: int) -> None:
        settings: dict[int, int] = {}
        pos = 0
        while pos < len(payload):
            identifier, pos = read_varint(payload, pos)
            settings[identifier], pos = read_varint(payload, pos)
        self._settings.setdefault(from_client, settings)
        self._open_decoder(not from_client)

    def _open_decoder(self, sender_is_client: bool, guess: bool = False) -> None:
        """The decoder of ``sender``'s header blocks, sized by what the other side announced."""
        if sender_is_client in self._decoders:
            return
        settings = self._settings.get(not sender_is_client)
        if settings is None and not guess:
            return
        settings = settings or {}
        queued = self._queued[sender_is_client]
        has_encoder_data = any(stream is None for stream, _, _ in queued)
        capacity = settings.get(_QPACK_MAX_TABLE_CAPACITY, 4096 if guess and has_encoder_data else 0)
        blocked = settings.get(_QPACK_BLOCKED_STREAMS, _MAX_BLOCKED)
        self._decoders[sender_is_client] = pylsqpack.Decoder(min(capacity, 1 << 20), min(blocked, _MAX_BLOCKED))
        self._queued[sender_is_client] = []
        for stream, data, frame in queued:
            self._qpack(sender_is_client, stream, data, frame)

    def _qpack(self, from_client: bool, stream: int | None, data: bytes, frame: int) -> None:
        """Encoder-stream data (``stream`` None) or one stream's header block, decoded when possible."""
        decoder = self._decoders.get(from_client)
        if decoder is None:
            self._queued[from_client].append((stream, data, frame))
            return
        try:
            if stream is None:
                for unblocked in decoder.feed_encoder(data):
                    headers = decoder.resume_header(unblocked)[1]
                    self._headers(from_client, unblocked, headers, self._blocked.pop((from_client, unblocked), frame))
                return
            try:
                headers = decoder.feed_header(stream, data)[1]
            except pylsqpack.StreamBlocked:
                self._blocked[(from_client, stream)] = frame
                return
            self._headers(from_client, stream, headers, frame)
        except (pylsqpack.DecompressionFailed, pylsqpack.DecoderStreamError, pylsqpack.EncoderStreamError) as exc:
            where = "encoder stream" if stream is None else f"stream {stream}"
            self._problem(f"HTTP/3 QPACK {where} ({'client' if from_client else 'server'}): {type(exc).__name__}")

    def _exchange(self, stream_id: int, frame: int) -> _Exchange:
        exchange = self._exchanges.get(stream_id)
        if exchange is None:
            exchange = self._exchanges[stream_id] = _Exchange()
        if not exchange.frames or exchange.frames[-1] != frame:
            exchange.frames.append(frame)
        return exchange

    def _request_frame(self, from_client: bool, stream_id: int, kind: int, payload: bytes, frame: int) -> None:
        if kind == _HEADERS:
            self._qpack(from_client, stream_id, payload, frame)
        elif kind == _DATA:
            exchange = self._exchange(stream_id, frame)
            body = exchange.request_body if from_client else exchange.response_body
            room = MAX_BODY - len(body)
            if len(payload) > room:
                exchange.truncated = True
            body += payload[: max(room, 0)]

    def _headers(self, from_client: bool, stream_id: int, raw: list[tuple[bytes, bytes]], frame: int) -> None:
        headers = [(name.decode("utf-8", "replace"), value.decode("utf-8", "replace")) for name, value in raw]
        exchange = self._exchange(stream_id, frame)
        if from_client:
            exchange.request_headers += headers  # a second block is the request's trailers
            return
        status = next((value for name, value in headers if name == ":status"), None)
        if status is not None and status.startswith("1") and not exchange.response_headers:
            return  # an interim (1xx) response
        exchange.response_headers += headers

    def finish(self) -> list[tuple[HttpMessage, HttpMessage | None]]:
        """The (request, response or None) pairs, in stream order."""
        for sender in (True, False):
            self._open_decoder(sender, guess=True)
        if self._blocked:
            self._problem(f"HTTP/3: {len(self._blocked)} header blocks never decoded (encoder stream incomplete)")
        return [
            _messages(self._exchanges[stream])
            for stream in sorted(self._exchanges)
            if self._exchanges[stream].request_headers
        ]


def _pseudo(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in headers if key == name), None)


def _messages(exchange: _Exchange) -> tuple[HttpMessage, HttpMessage | None]:
    headers = exchange.request_headers
    method = _pseudo(headers, ":method") or ""
    scheme, authority, path = _pseudo(headers, ":scheme"), _pseudo(headers, ":authority"), _pseudo(headers, ":path")
    authority = authority or _pseudo(headers, "host") or ""
    target = f"{scheme or 'https'}://{authority}" + ("" if method == "CONNECT" else path or "/")
    request = HttpMessage(
        is_request=True,
        method=method,
        target=target,
        version="HTTP/3",
        headers=list(headers),
        body=bytes(exchange.request_body),
        frames=list(exchange.frames),
        body_truncated=exchange.truncated,
    )
    if not exchange.response_headers:
        return request, None
    status = _pseudo(exchange.response_headers, ":status")
    response = HttpMessage(
        is_request=False,
        version="HTTP/3",
        status=int(status) if status and status.isascii() and status.isdigit() else None,
        headers=list(exchange.response_headers),
        body=bytes(exchange.response_body),
        frames=list(exchange.frames),
    )
    return request, response

"""HTTP/2 (RFC 9113) from the two decrypted byte streams of a connection, as a sans-IO core.

Frames are read by hand (they are simple); header blocks are decoded with the ``hpack`` library
(one dynamic table per direction, resized by the peer's SETTINGS). Handled: the client preface,
CONTINUATION, padding, priority fields, concurrent streams, trailers, RST_STREAM, GOAWAY and
server push (PUSH_PROMISE). Each stream becomes one :class:`Http2Stream` with its request, its
response and the frames that carried them.

>>> import hpack
>>> block = hpack.Encoder().encode([(":method", "GET"), (":scheme", "https"),
...                                 (":authority", "example.org"), (":path", "/a?b=1")])
>>> frame = lambda kind, flags, stream, payload: (
...     len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + payload)
>>> connection = Http2Connection()
>>> connection.feed(0, PREFACE + frame(4, 0, 0, b"") + frame(1, 0x5, 1, block), (3,))
>>> [(s.method, s.url, s.frames) for s in connection.finish()]
[('GET', 'https://example.org/a?b=1', (3,))]
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import hpack

__all__ = ["PREFACE", "Http2Connection", "Http2Stream"]

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_DATA, _HEADERS, _PRIORITY, _RST, _SETTINGS, _PUSH, _PING, _GOAWAY, _WINDOW, _CONTINUATION = range(10)
_END_STREAM, _END_HEADERS, _PADDED, _PRIORITY_FLAG = 0x1, 0x4, 0x8, 0x20
_MAX_FRAME = 1 << 24
_MAX_BODY = 64 * 1024 * 1024


@dataclass
class Http2Stream:
    """One request/response exchange on one stream."""

    stream_id: int
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    request_body: bytearray = field(default_factory=bytearray)
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: bytearray = field(default_factory=bytearray)
    frames: tuple[int, ...] = ()
    pushed: bool = False
    reset: bool = False
    truncated_body: bool = False

    def _pseudo(self, name: str, response: bool = False) -> str | None:
        for key, value in self.response_headers if response else self.request_headers:
            if key == name:
                return value
        return None

    @property
    def method(self) -> str | None:
        return self._pseudo(":method")

    @property
    def url(self) -> str | None:
        scheme, authority, path = self._pseudo(":scheme"), self._pseudo(":authority"), self._pseudo(":path")
        if authority is None:
            authority = next((v for k, v in self.request_headers if k == "host"), None)
        if authority is None:
            return None
        if self.method == "CONNECT":
            return f"{scheme or 'https'}://{authority}"
        return f"{scheme or 'https'}://{authority}{path or '/'}"

    @property
    def status(self) -> int | None:
        value = self._pseudo(":status", response=True)
        return int(value) if value and value.isdigit() else None

    def _add_frames(self, frames: tuple[int, ...]) -> None:
        if frames and not set(frames).issubset(self.frames):
            self.frames = tuple(sorted(set(self.frames).union(frames)))


@dataclass
class _Side:
    buf: bytearray = field(default_factory=bytearray)
    frames: list[int] = field(default_factory=list)
    decoder: hpack.Decoder = field(default_factory=hpack.Decoder)
    preface_left: int = 0
    block: bytearray = field(default_factory=bytearray)
    block_stream: int | None = None
    block_flags: int = 0
    block_promised: int | None = None
    stopped: str | None = None


class Http2Connection:
    """Both directions of one HTTP/2 connection (direction 0: client, 1: server)."""

    def __init__(self, *, expect_preface: bool = True) -> None:
        self._sides = (_Side(preface_left=len(PREFACE) if expect_preface else 0), _Side())
        for side in self._sides:
            side.decoder.max_header_list_size = 1 << 20
        self._streams: dict[int, Http2Stream] = {}
        self.problems: list[str] = []
        self.goaway = False

    def feed(self, direction: int, data: bytes, frames: tuple[int, ...]) -> None:
        """Add decrypted bytes of ``direction`` that came in ``frames``."""
        side = self._sides[direction]
        if side.stopped:
            return
        if side.preface_left:
            expected = PREFACE[len(PREFACE) - side.preface_left :]
            take = data[: len(expected)]
            if not expected.startswith(take):
                self._stop(direction, "client did not start with the HTTP/2 preface")
                return
            side.preface_left -= len(take)
            data = data[len(take) :]
        side.buf += data
        side.frames.extend(f for f in frames if not side.frames or side.frames[-1] != f)
        while len(side.buf) >= 9 and not side.stopped:
            length = int.from_bytes(side.buf[0:3], "big")
            if length > _MAX_FRAME:
                self._stop(direction, f"frame of {length} bytes is not HTTP/2")
                return
            if len(side.buf) < 9 + length:
                break
            kind, flags, stream_id = side.buf[3], side.buf[4], struct.unpack_from("!I", side.buf, 5)[0] & 0x7FFFFFFF
            payload = bytes(side.buf[9 : 9 + length])
            del side.buf[: 9 + length]
            carried = tuple(side.frames)
            if not side.buf:
                side.frames.clear()
            else:
                side.frames[:] = side.frames[-1:]
            self._frame(direction, kind, flags, stream_id, payload, carried)

    def gap(self, direction: int) -> None:
        """Bytes of ``direction`` were lost: HPACK state is gone, so later headers cannot be read."""
        self._stop(direction, "a gap in the stream")

    def finish(self) -> list[Http2Stream]:
        """Every stream seen, in stream-id order."""
        return [self._streams[k] for k in sorted(self._streams)]

    # -- frames --------------------------------------------------------------------------------

    def _stream(self, stream_id: int) -> Http2Stream:
        stream = self._streams.get(stream_id)
        if stream is None:
            stream = self._streams[stream_id] = Http2Stream(stream_id)
        return stream

    def _frame(
        self, direction: int, kind: int, flags: int, stream_id: int, payload: bytes, frames: tuple[int, ...]
    ) -> None:
        side = self._sides[direction]
        if side.block_stream is not None and kind != _CONTINUATION:
            self._stop(direction, "header block interrupted by another frame")
            return
        if kind == _DATA and stream_id:
            stream = self._stream(stream_id)
            body = stream.request_body if direction == 0 else stream.response_body
            data = _unpad(payload, flags)
            if len(body) + len(data) > _MAX_BODY:
                stream.truncated_body = True
            else:
                body += data
            stream._add_frames(frames)
        elif kind in (_HEADERS, _PUSH) and stream_id:
            block = _unpad(payload, flags)
            promised = None
            if kind == _PUSH:
                promised, block = struct.unpack_from("!I", block)[0] & 0x7FFFFFFF, block[4:]
            elif flags & _PRIORITY_FLAG:
                block = block[5:]
            side.block[:] = block
            side.block_stream, side.block_flags, side.block_promised = stream_id, flags, promised
            self._stream(stream_id)._add_frames(frames)
            if flags & _END_HEADERS:
                self._end_block(direction)
        elif kind == _CONTINUATION:
            if side.block_stream != stream_id:
                self._stop(direction, "CONTINUATION without a header block")
                return
            side.block += payload
            self._stream(stream_id)._add_frames(frames)
            if flags & _END_HEADERS:
                self._end_block(direction)
        elif kind == _SETTINGS and not flags & 1:  # not an ACK
            for pos in range(0, len(payload) - 5, 6):
                key, value = struct.unpack_from("!HI", payload, pos)
                if key == 1:  # HEADER_TABLE_SIZE: limits the *peer's* encoder
                    self._sides[1 - direction].decoder.max_allowed_table_size = value
        elif kind == _RST and stream_id:
            self._stream(stream_id).reset = True
        elif kind == _GOAWAY:
            self.goaway = True

    def _end_block(self, direction: int) -> None:
        side = self._sides[direction]
        stream_id, promised = side.block_stream, side.block_promised
        block = bytes(side.block)
        side.block.clear()
        side.block_stream = side.block_promised = None
        assert stream_id is not None
        try:
            headers = [(_text(k), _text(v)) for k, v in side.decoder.decode(block, raw=True)]
        except (hpack.HPACKError, ValueError, IndexError) as exc:
            self._stop(direction, f"HPACK header block does not decode ({exc})")
            return
        if promised is not None:  # server push: the promised request, answered on that stream
            pushed = self._stream(promised)
            pushed.request_headers, pushed.pushed = headers, True
            pushed._add_frames(self._stream(stream_id).frames[-1:])
            return
        stream = self._stream(stream_id)
        target = stream.request_headers if direction == 0 else stream.response_headers
        if target and direction == 1 and any(k == ":status" and v.startswith("1") for k, v in target):
            target.clear()  # a 1xx informational response is followed by the real one
        if not target:
            target.extend(headers)
        else:
            target.extend(h for h in headers if not h[0].startswith(":"))  # trailers

    def _stop(self, direction: int, reason: str) -> None:
        side = self._sides[direction]
        if side.stopped is None:
            side.stopped = reason
            self.problems.append(f"{'client' if direction == 0 else 'server'}: {reason}")


def _unpad(payload: bytes, flags: int) -> bytes:
    if not flags & _PADDED or not payload:
        return payload
    pad = payload[0]
    return payload[1 : max(1, len(payload) - pad)]


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value

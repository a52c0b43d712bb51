"""HTTP/2 (RFC 9113) from the two decrypted byte streams of a connection, as a sans-IO core.

Frames are read by hand (they are simple); so are header blocks (:class:`HeaderDecoder`, RFC 7541,
one dynamic table per direction, resized by the peer's SETTINGS), with the ``hpack`` library's
static table, Huffman decoder and exceptions. Handled: the client preface,
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

import functools
import struct
from collections import deque
from dataclasses import dataclass, field

import hpack
from hpack.huffman_table import decode_huffman
from hpack.table import HeaderTable

from toolkit.io.budget import Budget
from toolkit.io.shared_pairs import shared_pair

__all__ = [
    "HEADER_BYTES_PER_BLOCK_BYTE",
    "MAX_DECODED_HEADERS",
    "PREFACE",
    "HeaderDecoder",
    "Http2Connection",
    "Http2Stream",
]

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_DATA, _HEADERS, _PRIORITY, _RST, _SETTINGS, _PUSH, _PING, _GOAWAY, _WINDOW, _CONTINUATION = range(10)
_END_STREAM, _END_HEADERS, _PADDED, _PRIORITY_FLAG = 0x1, 0x4, 0x8, 0x20
_MAX_FRAME = 1 << 24
# A frame header (RFC 9113 §4.1): 24-bit length and 8-bit type read as one word, flags, stream id.
_FRAME_HEADER = struct.Struct("!IBI")
_MAX_BODY = 64 * 1024 * 1024
#: Decoded header lists one capture may hold before growing with its input (HPACK makes much of
#: little: a stream can name 240 table entries of 4 KB in 240 bytes) ...
MAX_DECODED_HEADERS = 8 * 1024 * 1024
#: ... plus this many decoded bytes for each byte of header block read.
HEADER_BYTES_PER_BLOCK_BYTE = 8


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
        return int(value) if value and len(value) == 3 and value.isascii() and value.isdigit() else None

    def _add_frames(self, frames: tuple[int, ...]) -> None:
        if not frames:
            return
        current = self.frames
        if current:  # fast paths for the usual case: frames arrive in capture order
            low = min(frames)
            if low > current[-1]:
                self.frames = current + tuple(sorted(set(frames)))
                return
            if low == current[-1] and len(frames) == 1:
                return
        if not set(frames).issubset(current):
            self.frames = tuple(sorted(set(current).union(frames)))


@dataclass
class _Side:
    buf: bytearray = field(default_factory=bytearray)
    frames: list[int] = field(default_factory=list)
    decoder: HeaderDecoder = field(default_factory=lambda: HeaderDecoder())
    preface_left: int = 0
    block: bytearray = field(default_factory=bytearray)
    block_stream: int | None = None
    block_flags: int = 0
    block_promised: int | None = None
    stopped: str | None = None


class Http2Connection:
    """Both directions of one HTTP/2 connection (direction 0: client, 1: server)."""

    def __init__(self, *, expect_preface: bool = True, header_budget: Budget | None = None) -> None:
        self._sides = (_Side(preface_left=len(PREFACE) if expect_preface else 0), _Side())
        for side in self._sides:
            side.decoder.max_header_list_size = 1 << 20
        self._streams: dict[int, Http2Stream] = {}
        self.problems: list[str] = []
        self.goaway = False
        self.header_budget = header_budget if header_budget is not None else Budget(MAX_DECODED_HEADERS)
        """Decoded header bytes still allowed (shared by the connections of one capture); it grows
        by :data:`HEADER_BYTES_PER_BLOCK_BYTE` per block byte. Header lists beyond it are dropped."""
        self.dropped_header_blocks = 0

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
        side.frames.extend(f for f in frames if not side.frames or side.frames[-1] != f)
        if side.buf:
            side.buf += data
            if len(side.buf) < 9 or len(side.buf) < 9 + int.from_bytes(side.buf[0:3], "big"):
                return  # the frame is still incomplete: wait for more bytes, without copying
            data = bytes(side.buf)
            side.buf.clear()
        # Whole frames are read straight from ``data``; a partial frame at the end waits in ``side.buf``.
        pos, size = 0, len(data)
        while size - pos >= 9 and not side.stopped:
            word, flags, stream_id = _FRAME_HEADER.unpack_from(data, pos)
            length, kind = word >> 8, word & 0xFF  # the 24-bit length shares a 32-bit word with the type
            if length > _MAX_FRAME:
                self._stop(direction, f"frame of {length} bytes is not HTTP/2")
                return
            end = pos + 9 + length
            if size < end:
                break
            payload = data[pos + 9 : end]
            pos = end
            carried = tuple(side.frames)
            if pos == size:
                side.frames.clear()
            else:
                side.frames[:] = side.frames[-1:]
            self._frame(direction, kind, flags, stream_id & 0x7FFFFFFF, payload, carried)
        if pos < size and not side.stopped:
            side.buf += data[pos:] if pos else data

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
                if len(block) < 4:
                    self._stop(direction, f"PUSH_PROMISE of {len(block)} bytes has no promised stream id")
                    return
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
            if len(side.block) > side.decoder.max_header_list_size:  # a block never ended by END_HEADERS
                self._stop(direction, f"header block of more than {side.decoder.max_header_list_size} bytes")
                return
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
            headers = side.decoder.decode(block)
        except (hpack.HPACKError, ValueError, IndexError) as exc:
            self._stop(direction, f"HPACK header block does not decode ({exc})")
            return
        budget = self.header_budget
        budget.grant(HEADER_BYTES_PER_BLOCK_BYTE * len(block))
        size = sum(len(name) + len(value) + 32 for name, value in headers)
        if size > budget.left:  # decoded (the table stays right), not kept
            if not self.dropped_header_blocks:
                self.problems.append(
                    f"{'client' if direction == 0 else 'server'}: header lists beyond the capture's budget "
                    f"of decoded headers ({budget.limit} bytes) are dropped, from stream {stream_id} on"
                )
            self.dropped_header_blocks += 1
            return
        budget.spend(size)
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


# -- HPACK (RFC 7541) ---------------------------------------------------------------------------------

_ENTRY_OVERHEAD = 32  # RFC 7541 §4.1: an entry's size is its name and value lengths plus 32
_MAX_INTEGER_BYTES = 5  # continuation bytes of one integer, as the hpack library allows
_HUFFMAN_CACHE_LIMIT = 256  # Huffman strings up to this length are memoised (repeated values are common)


def _entry(name: bytes, value: bytes) -> tuple[str, str, int, int]:
    """A table entry: name and value as text, the name's length in bytes, the entry's size."""
    return _text(name), _text(value), len(name), len(name) + len(value) + _ENTRY_OVERHEAD


_STATIC = tuple(_entry(name, value) for name, value in HeaderTable.STATIC_TABLE)
_huffman_cached = functools.lru_cache(maxsize=4096)(decode_huffman)


def _integer(block: bytes, pos: int, mask: int) -> tuple[int, int]:
    """The prefixed integer at ``pos`` (RFC 7541 §5.1) and the position after it."""
    try:
        value = block[pos] & mask
        pos += 1
        if value == mask:
            shift = count = 0
            while True:
                byte = block[pos]
                pos += 1
                count += 1
                value += (byte & 0x7F) << shift
                if byte < 0x80:
                    break
                if count >= _MAX_INTEGER_BYTES:
                    raise hpack.HPACKDecodingError("Variable integer representation is too long")
                shift += 7
    except IndexError:
        raise hpack.HPACKDecodingError("Unable to decode HPACK integer representation: block ends") from None
    return value, pos


def _string(block: bytes, pos: int) -> tuple[bytes, int]:
    """The string literal at ``pos`` (RFC 7541 §5.2), Huffman-decoded if it is, and the position after it."""
    huffman = block[pos] & 0x80
    length, pos = _integer(block, pos, 0x7F)
    end = pos + length
    if end > len(block):
        raise hpack.HPACKDecodingError("Truncated header block")
    raw = block[pos:end]
    if huffman:
        raw = _huffman_cached(raw) if length <= _HUFFMAN_CACHE_LIMIT else decode_huffman(raw)
    return raw, end


class HeaderDecoder:
    """HPACK decoding of one direction's header blocks, into text (undecodable bytes kept as surrogates).

    Follows RFC 7541 and the limits and errors of the ``hpack`` library's decoder (a header list
    larger than :attr:`max_header_list_size`, table size updates above
    :attr:`max_allowed_table_size`, bad indices, truncated blocks), doing less work per field.

    >>> encoder = hpack.Encoder()
    >>> decoder = HeaderDecoder()
    >>> decoder.decode(encoder.encode([(":method", "GET"), ("user-agent", "demo/1")]))
    [(':method', 'GET'), ('user-agent', 'demo/1')]
    >>> decoder.decode(encoder.encode([("user-agent", "demo/1")]))  # now from the dynamic table
    [('user-agent', 'demo/1')]
    >>> decoder.decode(b"\\xff\\x00")  # index 127: not in the table
    Traceback (most recent call last):
    hpack.exceptions.InvalidTableIndex: Invalid table index 127
    """

    def __init__(self) -> None:
        self.max_header_list_size = 1 << 16
        """Largest decoded header list (sum of entry sizes) accepted in one block."""
        self.max_allowed_table_size = HeaderTable.DEFAULT_SIZE
        """Largest dynamic table the encoder may ask for (the last SETTINGS_HEADER_TABLE_SIZE sent to it)."""
        self._table: deque[tuple[str, str, int, int]] = deque()
        self._table_size = 0
        self._max_table_size = HeaderTable.DEFAULT_SIZE

    def decode(self, block: bytes) -> list[tuple[str, str]]:
        """The header list of one complete header block; raises ``hpack.HPACKError`` if it does not decode."""
        headers: list[tuple[str, str]] = []
        total = 0
        pos, end = 0, len(block)
        while pos < end:
            first = block[pos]
            if first & 0x80:  # indexed field (§6.1)
                index, pos = _integer(block, pos, 0x7F)
                name, value, _, size = self._lookup(index)
            elif first & 0x20 and not first & 0x40:  # dynamic table size update (§6.3)
                if headers:
                    raise hpack.HPACKDecodingError("Table size update not at the start of the block")
                new_size, pos = _integer(block, pos, 0x1F)
                if new_size > self.max_allowed_table_size:
                    raise hpack.InvalidTableSizeError("Encoder exceeded max allowable table size")
                self._resize(new_size)
                continue
            else:  # literal field, with incremental indexing (§6.2.1) or without (§6.2.2, §6.2.3)
                indexing = bool(first & 0x40)
                name_index, pos = _integer(block, pos, 0x3F if indexing else 0x0F)
                if name_index:
                    name, _, name_length, _ = self._lookup(name_index)
                else:
                    raw_name, pos = _string(block, pos)
                    name, name_length = _text(raw_name), len(raw_name)
                raw_value, pos = _string(block, pos)
                value = _text(raw_value)
                size = name_length + len(raw_value) + _ENTRY_OVERHEAD
                if indexing:
                    self._add((name, value, name_length, size))
            headers.append(shared_pair(name, value))
            total += size
            if total > self.max_header_list_size:
                raise hpack.OversizedHeaderListError(
                    f"A header list larger than {self.max_header_list_size} has been received"
                )
        if self._max_table_size > self.max_allowed_table_size:
            raise hpack.InvalidTableSizeError("Encoder did not shrink table size to within the max")
        return headers

    def _lookup(self, index: int) -> tuple[str, str, int, int]:
        if 0 < index <= len(_STATIC):
            return _STATIC[index - 1]
        if len(_STATIC) < index <= len(_STATIC) + len(self._table):
            return self._table[index - len(_STATIC) - 1]
        raise hpack.InvalidTableIndex(f"Invalid table index {index}")

    def _add(self, entry: tuple[str, str, int, int]) -> None:
        size = entry[3]
        if size > self._max_table_size:  # §4.4: an entry larger than the table empties it
            self._table.clear()
            self._table_size = 0
            return
        self._table.appendleft(entry)
        self._table_size += size
        self._evict()

    def _resize(self, new_size: int) -> None:
        self._max_table_size = new_size
        if new_size <= 0:
            self._table.clear()
            self._table_size = 0
        else:
            self._evict()

    def _evict(self) -> None:
        while self._table_size > self._max_table_size:
            self._table_size -= self._table.pop()[3]

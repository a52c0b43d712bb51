"""TCP stream reassembly as a sans-IO core: segments in, contiguous byte ranges and gaps out.

A :class:`StreamReassembler` follows one direction of one connection. Feed it every segment
(sequence number, payload, frame number) in capture order; it returns :class:`Chunk` events for
bytes that are now contiguous and :class:`Gap` events for bytes that never came. It handles
out-of-order segments, retransmissions, overlaps (first copy wins, as most stacks do), a capture
that starts in the middle of a connection, and sequence-number wrap-around. Out-of-order data is
buffered up to ``max_pending`` bytes; beyond that, or at :meth:`StreamReassembler.flush`, the
missing range is declared a gap and later data is still delivered.

>>> stream = StreamReassembler()
>>> stream.syn(1000)
>>> stream.segment(1007, b"world", 3)   # arrives early: held back
[]
>>> stream.segment(1001, b"hello ", 2)
[Chunk(offset=0, data=b'hello ', frame=2), Chunk(offset=6, data=b'world', frame=3)]
>>> stream.segment(1001, b"hello ", 4)  # a retransmission adds nothing
[]
>>> stream.segment(1020, b"!", 5)
[]
>>> stream.flush()
[Gap(offset=11, size=8), Chunk(offset=19, data=b'!', frame=5)]
"""

from __future__ import annotations

from heapq import heappop, heappush
from typing import NamedTuple

__all__ = ["Chunk", "Gap", "StreamReassembler"]

_MASK = 0xFFFFFFFF
_HALF = 0x80000000


class Chunk(NamedTuple):
    """Contiguous stream bytes starting at ``offset`` (0 is the first byte after the SYN)."""

    offset: int
    data: bytes
    frame: int


class Gap(NamedTuple):
    """``size`` bytes at ``offset`` that were never captured."""

    offset: int
    size: int


Event = Chunk | Gap


class StreamReassembler:
    """One direction of a TCP connection."""

    __slots__ = (
        "_base",
        "_next",
        "_offsets",
        "_pending",
        "_pending_bytes",
        "before_start_bytes",
        "gap_bytes",
        "max_pending",
        "retransmitted_bytes",
    )

    def __init__(self, max_pending: int = 1024 * 1024) -> None:
        self.max_pending = max_pending
        self._base: int | None = None
        self._next = 0
        self._pending: dict[int, tuple[bytes, int]] = {}
        self._offsets: list[int] = []
        """The keys of ``_pending`` as a heap: the next segment in O(log n), not a scan of all."""
        self._pending_bytes = 0
        self.retransmitted_bytes = 0
        self.gap_bytes = 0
        self.before_start_bytes = 0
        """Bytes of segments before the stream's start (offset 0): never delivered. With the SYN
        seen there are none; without it, they were sent before the segment taken as the start."""

    @property
    def holding(self) -> bool:
        """Whether segments past a hole wait for the bytes before them."""
        return bool(self._pending)

    @property
    def next_offset(self) -> int:
        """Offset of the next byte expected."""
        return self._next

    def syn(self, seq: int) -> None:
        """The SYN's sequence number: data starts at ``seq + 1``."""
        if self._base is None:
            self._base = (seq + 1) & _MASK

    def segment(self, seq: int, data: bytes, frame: int) -> list[Event]:
        """Add one segment's payload; returns the events it made possible, in stream order."""
        if not data:
            return []
        if self._base is None:  # capture started mid-stream
            self._base = seq
        distance = (seq - self._base - self._next) & _MASK
        if distance >= _HALF:
            distance -= 1 << 32
        if distance < 0:
            before = min(len(data), max(0, -(self._next + distance)))  # before offset 0
            self.before_start_bytes += before
            if distance + len(data) <= 0:
                self.retransmitted_bytes += len(data) - before
                return []
            self.retransmitted_bytes -= distance + before
            data = data[-distance:]
            distance = 0
        if distance == 0:
            events: list[Event] = [Chunk(self._next, data, frame)]
            self._next += len(data)
            if self._pending:
                self._drain(events)
            return events
        offset = self._next + distance
        held = self._pending.get(offset)
        if held is None or len(held[0]) < len(data):
            self._pending_bytes += len(data) - (len(held[0]) if held else 0)
            self._pending[offset] = (data, frame)
            if held is None:
                heappush(self._offsets, offset)
        if self._pending_bytes > self.max_pending:
            events = []
            self._skip_to_pending(events)
            self._drain(events)
            return events
        return []

    def flush(self) -> list[Event]:
        """Give up waiting: declare the holes gaps and deliver everything held."""
        events: list[Event] = []
        while self._pending:
            self._skip_to_pending(events)
            self._drain(events)
        return events

    def _skip_to_pending(self, events: list[Event]) -> None:
        first = self._offsets[0]
        if first > self._next:
            events.append(Gap(self._next, first - self._next))
            self.gap_bytes += first - self._next
            self._next = first

    def _drain(self, events: list[Event]) -> None:
        while self._pending:
            first = self._offsets[0]
            if first > self._next:
                return
            heappop(self._offsets)
            data, frame = self._pending.pop(first)
            self._pending_bytes -= len(data)
            end = first + len(data)
            if end <= self._next:
                self.retransmitted_bytes += len(data)
                continue
            data = data[self._next - first :]
            events.append(Chunk(self._next, data, frame))
            self._next = end

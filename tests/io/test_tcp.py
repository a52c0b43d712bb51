"""TCP reassembly: every delivery order gives the same stream, gaps are reported, nothing hangs."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.io.tcp import Chunk, Gap, StreamReassembler

DATA = bytes(range(256)) * 4


def _segments(data: bytes, size: int, isn: int) -> list[tuple[int, bytes, int]]:
    return [((isn + 1 + i) & 0xFFFFFFFF, data[i : i + size], n) for n, i in enumerate(range(0, len(data), size))]


def _stream(events: list[Chunk | Gap]) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, Chunk))


def test_in_order() -> None:
    stream = StreamReassembler()
    stream.syn(99)
    events = [e for seq, data, n in _segments(DATA, 100, 99) for e in stream.segment(seq, data, n)]
    assert _stream(events) == DATA and stream.next_offset == len(DATA)


@given(st.randoms(use_true_random=False), st.integers(1, 300), st.integers(0, 0xFFFFFFFF))
@settings(max_examples=60, deadline=None)
def test_any_order_with_retransmissions_gives_the_stream(rng: random.Random, size: int, isn: int) -> None:
    segments = _segments(DATA, size, isn)
    shuffled = segments + rng.sample(segments, k=min(3, len(segments)))  # some sent twice
    rng.shuffle(shuffled)
    stream = StreamReassembler()
    stream.syn(isn)
    events: list[Chunk | Gap] = []
    for seq, data, n in shuffled:
        events += stream.segment(seq, data, n)
    events += stream.flush()
    assert not [e for e in events if isinstance(e, Gap)]
    assert _stream(events) == DATA  # also across a sequence-number wrap when isn is near 2**32


def test_overlap_keeps_first_copy_and_trims() -> None:
    stream = StreamReassembler()
    stream.syn(0)
    assert _stream(stream.segment(1, b"abcdef", 1)) == b"abcdef"
    assert _stream(stream.segment(4, b"XYZghi", 2)) == b"ghi"  # bytes 4..6 already delivered
    assert stream.retransmitted_bytes == 3


def test_gap_is_reported_and_later_data_delivered() -> None:
    stream = StreamReassembler(max_pending=10)
    stream.syn(0)
    stream.segment(1, b"head", 1)
    assert stream.segment(20, b"0123456789", 3) == []  # held: 10 bytes are allowed
    events = stream.segment(30, b"abc", 4)  # over the limit: give up on the hole
    assert events[0] == Gap(4, 15) and _stream(events) == b"0123456789abc"
    assert stream.gap_bytes == 15


def test_mid_stream_start() -> None:
    stream = StreamReassembler()
    events = stream.segment(123456, b"later bytes", 7)  # no SYN seen: start here
    assert events == [Chunk(0, b"later bytes", 7)]
    assert stream.segment(123456 - 5, b"early", 8) == []  # before the start: counted as old


def test_byte_by_byte() -> None:
    stream = StreamReassembler()
    stream.syn(10)
    out = b"".join(_stream(stream.segment(11 + i, DATA[i : i + 1], i)) for i in range(len(DATA)))
    assert out == DATA

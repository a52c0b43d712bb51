"""Header fields: the batch columns and the per-frame readers agree, and only plain frames are plain."""

from __future__ import annotations

import struct

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.io.headers import (
    ETHERNET_HEADER,
    ETHERTYPE_IPV4,
    FRAGMENTED,
    IPV4_NO_OPTIONS,
    PLAIN_HEADER,
    PlainColumns,
    plain_frame,
    plain_transport,
    tcp_header,
    udp_header,
)
from toolkit.lab.pcap_builder import PcapBuilder


def _frames() -> list[bytes]:
    builder = PcapBuilder()
    builder.dns_exchange("10.0.0.2", "10.0.0.1", "example.org", ["192.0.2.1"])
    builder.tls_connection("10.0.0.2", "192.0.2.1", "example.org", records=2)
    builder.udp("fe80::1", 5353, "ff02::fb", 5353, b"ipv6 is not plain")
    return [frame for _ts, frame in builder.packets]


def _per_frame(frame: bytes) -> tuple[bool, int]:
    """Whether one frame is plain and its payload size, read with the per-frame readers."""
    if len(frame) < PLAIN_HEADER:
        return False, 0
    ethertype, version_ihl, total, fragment, protocol, *_rest = plain_frame(frame, 0)
    plain = (
        ethertype == ETHERTYPE_IPV4
        and version_ihl == IPV4_NO_OPTIONS
        and not fragment & FRAGMENTED
        and ETHERNET_HEADER + total <= len(frame)
        and ((protocol == 6 and total >= 40) or (protocol == 17 and total >= 28))
    )
    if not plain:
        return False, 0
    _src, _dst, segment = plain_transport(frame, 0, total)
    if protocol == 6:
        offset = tcp_header(segment)[3]
        return True, max(len(segment) - (offset >> 4) * 4, 0)
    return True, len(segment) - 8


def _columns(frames: list[bytes]) -> PlainColumns:
    starts = np.cumsum([0] + [len(f) for f in frames[:-1]])
    return PlainColumns.of(b"".join(frames), starts, [len(f) for f in frames])


def test_lab_frames_read_alike_both_ways() -> None:
    frames = _frames()
    columns = _columns(frames)
    assert columns.plain.tolist() == [_per_frame(f)[0] for f in frames] == [True] * (len(frames) - 1) + [False]
    assert columns.payload[columns.plain].tolist() == [_per_frame(f)[1] for f in frames[:-1]]
    ports = [udp_header(plain_transport(f, 0, len(f) - 14)[2])[:2] for f in frames[:2]]
    assert list(zip(columns.sport[:2].tolist(), columns.dport[:2].tolist(), strict=True)) == ports
    assert columns.tcp.sum() == len(frames) - 3 and columns.udp.sum() == 2


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.binary(min_size=0, max_size=80)), min_size=1, max_size=20))
def test_damaged_frames_read_alike_both_ways(edits: list[tuple[int, bytes]]) -> None:
    frames = []
    base = _frames()
    for index, (at, noise) in enumerate(edits):
        frame = bytearray(base[index % len(base)])
        frame[at : at + len(noise) // 8] = noise[: len(noise) // 8]  # overwrite (or cut short) some header bytes
        frames.append(bytes(frame[: len(frame) - (noise[0] if noise else 0)]))
    frames = [f for f in frames if f] or [bytes(60)]
    columns = _columns(frames)
    expected = [_per_frame(f) for f in frames]
    assert columns.plain.tolist() == [plain for plain, _ in expected]
    assert columns.payload[columns.plain].tolist() == [size for plain, size in expected if plain]


def test_plain_frame_fields() -> None:
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 1, 0x4000, 64, 6, 0, bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    tcp = struct.pack("!HHIIBBHHH", 40000, 443, 7, 0, 5 << 4, 0x12, 65535, 0, 0)
    frame = bytes(12) + b"\x08\x00" + ip + tcp
    assert plain_frame(frame, 0)[2:] == (
        40,
        0x4000,
        6,
        bytes([10, 0, 0, 1]),
        bytes([10, 0, 0, 2]),
        40000,
        443,
        0x50,
        0x12,
    )
    assert tcp_header(tcp) == (40000, 443, 7, 0x50, 0x12)

"""IPv4/IPv6 headers, extension headers and fragment reassembly."""

from __future__ import annotations

import struct

import pytest

from toolkit.io.ip import FragmentReassembler, IpError, parse_ip

SRC6 = bytes.fromhex("20010db8000000000000000000000001")
DST6 = bytes.fromhex("20010db8000000000000000000000002")


def _ipv4(payload: bytes, *, ident: int = 5, offset: int = 0, more: bool = False, total: int | None = None) -> bytes:
    flags = (0x2000 if more else 0) | (offset // 8)
    length = 20 + len(payload) if total is None else total
    return (
        struct.pack("!BBHHHBBH4s4s", 0x45, 0, length, ident, flags, 64, 17, 0, b"\x0a\x00\x00\x01", b"\x0a\x00\x00\x02")
        + payload
    )


def test_ipv4_fragments_in_any_order() -> None:
    payload = bytes(range(200)) * 3
    pieces = [_ipv4(payload[i : i + 200], offset=i, more=i + 200 < len(payload)) for i in range(0, 600, 200)]
    fragments = FragmentReassembler()
    assert parse_ip(4, pieces[2], 0, fragments, 3) is None
    assert parse_ip(4, pieces[0], 0, fragments, 1) is None
    whole = parse_ip(4, pieces[1], 0, fragments, 2)
    assert whole is not None and whole.payload == payload and sorted(whole.frames or ()) == [1, 2, 3]
    assert len(fragments) == 0


def test_ipv6_extension_headers_and_fragment() -> None:
    udp = struct.pack("!HHHH", 5353, 5353, 12, 0) + b"abcd"
    hop_by_hop = bytes([44, 0]) + bytes(6)  # next header: fragment
    first = bytes([17, 0]) + struct.pack("!HI", 0 | 1, 77) + udp[:8]
    second = bytes([17, 0]) + struct.pack("!HI", 8, 77) + udp[8:]
    fragments = FragmentReassembler()
    packets = []
    for fragment in (first, second):
        body = hop_by_hop + fragment
        packets.append(struct.pack("!IHBB", 0x60000000, len(body), 0, 64) + SRC6 + DST6 + body)
    assert parse_ip(6, packets[0], 0, fragments, 1) is None
    whole = parse_ip(6, packets[1], 0, fragments, 2)
    assert whole is not None and whole.protocol == 17 and whole.payload == udp


@pytest.mark.parametrize(
    ("packet", "reason"),
    [
        (_ipv4(b"x")[:12], "cut short"),
        (b"\x44" + _ipv4(b"")[1:], "header length"),
        (_ipv4(b"abc", total=10), "shorter than its header"),
        (b"\x65" + _ipv4(b"")[1:], "version 6"),
    ],
)
def test_impossible_headers(packet: bytes, reason: str) -> None:
    with pytest.raises(IpError, match=reason):
        parse_ip(4, packet, 0, FragmentReassembler(), 1)


def test_snaplen_cut_packet_keeps_what_was_captured() -> None:
    packet = _ipv4(b"0123456789", total=1500)
    parsed = parse_ip(4, packet, 0, FragmentReassembler(), 1)
    assert parsed is not None and parsed.payload == b"0123456789"


def test_reassembler_is_bounded() -> None:
    fragments = FragmentReassembler(max_pending=4)
    for ident in range(10):
        parse_ip(4, _ipv4(b"x" * 8, ident=ident, more=True), 0, fragments, ident)
    assert len(fragments) == 4 and fragments.dropped == 6

"""Link-layer headers of every supported link type."""

from __future__ import annotations

import pytest

from toolkit.io.linktypes import ip_start

V4 = b"\x45" + bytes(19)
V6 = b"\x60" + bytes(39)


@pytest.mark.parametrize(
    ("linktype", "frame", "expected"),
    [
        (1, bytes(12) + b"\x08\x00" + V4, (4, 14)),
        (1, bytes(12) + b"\x88\xa8\x00\x01\x81\x00\x00\x02\x86\xdd" + V6, (6, 22)),  # QinQ
        (1, bytes(12) + b"\x88\x64" + b"\x11\x00\x00\x01\x00\x20\x00\x21" + V4, (4, 22)),  # PPPoE session
        (101, V6, (6, 0)),
        (228, V4, (4, 0)),
        (229, V6, (6, 0)),
        (113, bytes(14) + b"\x08\x00" + V4, (4, 16)),
        (276, b"\x86\xdd" + bytes(18) + V6, (6, 20)),
        (0, b"\x02\x00\x00\x00" + V4, (4, 4)),
        (0, b"\x00\x00\x00\x18" + V6, (6, 4)),  # big-endian writer, AF_INET6 of NetBSD
        (108, b"\x00\x00\x00\x02" + V4, (4, 4)),
        (9, b"\xff\x03\x00\x57" + V6, (6, 4)),
        (50, b"\xff\x03\x00\x21" + V4, (4, 4)),
        (9, b"\x21" + V4, (4, 1)),  # protocol field compressed
    ],
)
def test_ip_start(linktype: int, frame: bytes, expected: tuple[int, int]) -> None:
    assert ip_start(linktype, frame) == expected


@pytest.mark.parametrize(
    ("linktype", "frame"),
    [
        (1, bytes(12) + b"\x08\x06" + bytes(28)),  # ARP
        (1, bytes(10)),
        (113, bytes(8)),
        (0, b"\x07\x00\x00\x00"),
        (9, b"\xff\x03\xc0\x21"),  # LCP
        (127, bytes(40)),  # 802.11 radiotap: not read
    ],
)
def test_not_ip(linktype: int, frame: bytes) -> None:
    assert ip_start(linktype, frame) is None

"""Link-layer headers: where the IP packet starts in a captured frame.

Each link type (https://www.tcpdump.org/linktypes.html) maps to a function returning the IP
version (4 or 6) and the offset of the IP header, or None for frames that carry no IP (ARP,
LLDP, ...). Supported: Ethernet with 802.1Q/802.1ad VLAN tags and PPPoE sessions, raw IP
(101, 228, 229 and the BSD numbers 12/14), Linux cooked capture SLL and SLL2, BSD loopback
NULL and LOOP, and PPP (9, 50, 51).

>>> ip_start(1, bytes(12) + b"\\x81\\x00\\x00\\x05\\x08\\x00" + b"\\x45")
(4, 18)
>>> ip_start(0, b"\\x1e\\x00\\x00\\x00\\x60")   # AF_INET6 as macOS numbers it
(6, 4)
>>> ip_start(1, bytes(12) + b"\\x08\\x06") is None
True
>>> ip_start(147, b"") is None   # a link type nobody here reads
True
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["LINKTYPE_NAMES", "SUPPORTED", "ip_start"]

LINKTYPE_NAMES: dict[int, str] = {
    0: "null",
    1: "ethernet",
    9: "ppp",
    12: "raw",
    14: "raw",
    50: "ppp_hdlc",
    51: "pppoe",
    101: "raw",
    108: "loop",
    113: "linux_sll",
    228: "ipv4",
    229: "ipv6",
    276: "linux_sll2",
}

_ETHERTYPES = {0x0800: 4, 0x86DD: 6}
_VLAN = (0x8100, 0x88A8, 0x9100, 0x9200)
_PPP_PROTOCOLS = {0x0021: 4, 0x0057: 6}
# BSD address families of the NULL/LOOP header: AF_INET is 2 everywhere, AF_INET6 differs by OS.
_FAMILIES = {2: 4, 10: 6, 24: 6, 28: 6, 30: 6}

Result = tuple[int, int] | None


def _by_ethertype(ethertype: int, data: bytes, offset: int) -> Result:
    for _ in range(4):  # at most a few stacked tags
        version = _ETHERTYPES.get(ethertype)
        if version is not None:
            return (version, offset)
        if ethertype in _VLAN:
            if len(data) < offset + 4:
                return None
            ethertype = int.from_bytes(data[offset + 2 : offset + 4], "big")
            offset += 4
        elif ethertype == 0x8864:  # PPPoE session: 6-byte header, then a PPP protocol number
            if len(data) < offset + 8:
                return None
            version = _PPP_PROTOCOLS.get(int.from_bytes(data[offset + 6 : offset + 8], "big"))
            return None if version is None else (version, offset + 8)
        else:
            return None
    return None


def _ethernet(data: bytes) -> Result:
    if len(data) < 14:
        return None
    return _by_ethertype((data[12] << 8) | data[13], data, 14)


def _raw(data: bytes) -> Result:
    if not data:
        return None
    version = data[0] >> 4
    return (version, 0) if version in (4, 6) else None


def _ipv4(data: bytes) -> Result:
    return (4, 0)


def _ipv6(data: bytes) -> Result:
    return (6, 0)


def _sll(data: bytes) -> Result:
    if len(data) < 16:
        return None
    return _by_ethertype((data[14] << 8) | data[15], data, 16)


def _sll2(data: bytes) -> Result:
    if len(data) < 20:
        return None
    return _by_ethertype((data[0] << 8) | data[1], data, 20)


def _null(data: bytes) -> Result:
    if len(data) < 4:
        return None
    family = int.from_bytes(data[:4], "little")
    if family not in _FAMILIES:
        family = int.from_bytes(data[:4], "big")
    version = _FAMILIES.get(family)
    return None if version is None else (version, 4)


def _loop(data: bytes) -> Result:
    if len(data) < 4:
        return None
    version = _FAMILIES.get(int.from_bytes(data[:4], "big"))
    return None if version is None else (version, 4)


def _ppp(data: bytes) -> Result:
    offset = 2 if data[:2] == b"\xff\x03" else 0
    if len(data) < offset + 1:
        return None
    if data[offset] & 1:  # protocol field compressed to one byte
        protocol, offset = data[offset], offset + 1
    else:
        if len(data) < offset + 2:
            return None
        protocol, offset = (data[offset] << 8) | data[offset + 1], offset + 2
    version = _PPP_PROTOCOLS.get(protocol)
    return None if version is None else (version, offset)


def _pppoe(data: bytes) -> Result:
    if len(data) < 8:
        return None
    version = _PPP_PROTOCOLS.get(int.from_bytes(data[6:8], "big"))
    return None if version is None else (version, 8)


SUPPORTED: dict[int, Callable[[bytes], Result]] = {
    0: _null,
    1: _ethernet,
    9: _ppp,
    12: _raw,
    14: _raw,
    50: _ppp,
    51: _pppoe,
    101: _raw,
    108: _loop,
    113: _sll,
    228: _ipv4,
    229: _ipv6,
    276: _sll2,
}


def ip_start(linktype: int, data: bytes) -> Result:
    """(IP version, offset of the IP header) in a frame of ``linktype``, or None."""
    parse = SUPPORTED.get(linktype)
    return None if parse is None else parse(data)

"""IP packets: IPv4 and IPv6 headers checked, IPv6 extension headers walked, fragments reassembled.

:func:`parse_ip` turns the bytes of an IP packet into an :class:`IpPacket` (addresses as raw
bytes, which are cheap dictionary keys; :func:`address_text` makes them readable); the fixed
headers' fields are read with :mod:`toolkit.io.headers`. Fragments are held by a bounded
:class:`FragmentReassembler` until the datagram is whole.

>>> import struct
>>> header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 1, 0, 64, 17, 0, bytes([10, 0, 0, 1]), bytes([8, 8, 8, 8]))
>>> packet = parse_ip(4, header + bytes(8), 0, FragmentReassembler(), 1)
>>> address_text(packet.src), address_text(packet.dst), packet.protocol, len(packet.payload)
('10.0.0.1', '8.8.8.8', 17, 8)
"""

from __future__ import annotations

import socket
from collections import OrderedDict
from typing import NamedTuple

from toolkit.io.headers import FRAGMENTED, ipv4_header, ipv6_header

__all__ = ["FragmentReassembler", "IpError", "IpPacket", "address_text", "parse_ip"]

_EXTENSIONS = {0, 43, 60, 135, 139, 140, 253, 254}  # hop-by-hop, routing, destination options ...
_MAX_DATAGRAM = 65_535 + 40


class IpError(ValueError):
    """An IP header that cannot be right (bad version, length, header size)."""


class IpPacket(NamedTuple):
    """An IP packet (or a reassembled datagram)."""

    version: int
    src: bytes
    dst: bytes
    protocol: int
    """Transport protocol number after the extension headers (6 TCP, 17 UDP ...)."""
    payload: bytes
    frames: tuple[int, ...] | None
    """For a datagram reassembled from fragments, the frames that carried them."""


def address_text(address: bytes) -> str:
    """Printable form of a 4- or 16-byte address.

    >>> address_text(bytes(15) + b"\\x01")
    '::1'
    """
    return socket.inet_ntop(socket.AF_INET if len(address) == 4 else socket.AF_INET6, address)


class FragmentReassembler:
    """Fragments waiting for the rest of their datagram; oldest dropped beyond ``max_pending``."""

    def __init__(self, max_pending: int = 1024) -> None:
        self.max_pending = max_pending
        self._pending: OrderedDict[tuple[bytes, bytes, int, int], _Datagram] = OrderedDict()
        self.dropped = 0
        """Datagrams given up: evicted, oversized or inconsistent."""

    def add(
        self, key: tuple[bytes, bytes, int, int], offset: int, more: bool, data: bytes, frame: int
    ) -> tuple[bytes, tuple[int, ...]] | None:
        """Add one fragment; the whole payload and its frames once complete, else None."""
        datagram = self._pending.get(key)
        if datagram is None:
            if len(self._pending) >= self.max_pending:
                self._pending.popitem(last=False)
                self.dropped += 1
            datagram = self._pending[key] = _Datagram()
        end = offset + len(data)
        if end > _MAX_DATAGRAM:
            del self._pending[key]
            self.dropped += 1
            return None
        datagram.parts[offset] = data
        datagram.frames.append(frame)
        if not more:
            datagram.total = end
        if datagram.total is None:
            return None
        position = 0
        pieces = []
        for start in sorted(datagram.parts):
            piece = datagram.parts[start]
            if start > position:
                return None
            if start + len(piece) > position:
                pieces.append(piece[position - start :])
                position = start + len(piece)
        if position < datagram.total:
            return None
        del self._pending[key]
        return b"".join(pieces)[: datagram.total], tuple(datagram.frames)

    def incomplete(self) -> list[tuple[tuple[bytes, bytes, int, int], bytes, tuple[int, ...]]]:
        """Datagrams still missing fragments that have their first one: (key, first part, frames)."""
        return [
            (key, datagram.parts[0], tuple(datagram.frames))
            for key, datagram in self._pending.items()
            if 0 in datagram.parts
        ]

    def __len__(self) -> int:
        return len(self._pending)


class _Datagram:
    __slots__ = ("frames", "parts", "total")

    def __init__(self) -> None:
        self.parts: dict[int, bytes] = {}
        self.frames: list[int] = []
        self.total: int | None = None


def parse_ip(version: int, data: bytes, offset: int, fragments: FragmentReassembler, frame: int) -> IpPacket | None:
    """The IP packet at ``data[offset:]``; None while it is an incomplete fragment.

    Raises:
        IpError: the header is impossible.
    """
    if version == 4:
        return _ipv4(data, offset, fragments, frame)
    return _ipv6(data, offset, fragments, frame)


def _ipv4(data: bytes, offset: int, fragments: FragmentReassembler, frame: int) -> IpPacket | None:
    if len(data) < offset + 20:
        raise IpError(f"IPv4 header cut short ({len(data) - offset} bytes)")
    first, total, ident, flags, protocol, src, dst = ipv4_header(data, offset)
    if first >> 4 != 4:
        raise IpError(f"IP version {first >> 4} where IPv4 was announced")
    header_len = (first & 0x0F) * 4
    if header_len < 20:
        raise IpError(f"IPv4 header length {header_len} is below 20")
    if total == 0:  # segmentation offload: the length is left to the hardware
        total = len(data) - offset
    if total < header_len:
        raise IpError(f"IPv4 total length {total} is shorter than its header ({header_len})")
    end = min(offset + total, len(data))
    if offset + header_len > end:
        raise IpError("IPv4 header options cut short")
    payload = data[offset + header_len : end]
    if flags & FRAGMENTED:  # more-fragments set or a non-zero offset
        done = fragments.add((src, dst, protocol, ident), (flags & 0x1FFF) * 8, bool(flags & 0x2000), payload, frame)
        if done is None:
            return None
        return IpPacket(4, src, dst, protocol, done[0], done[1])
    return IpPacket(4, src, dst, protocol, payload, None)


def _ipv6(data: bytes, offset: int, fragments: FragmentReassembler, frame: int) -> IpPacket | None:
    if len(data) < offset + 40:
        raise IpError(f"IPv6 header cut short ({len(data) - offset} bytes)")
    first, payload_len, protocol, src, dst = ipv6_header(data, offset)
    if first >> 4 != 6:
        raise IpError(f"IP version {first >> 4} where IPv6 was announced")
    end = len(data) if payload_len == 0 else min(offset + 40 + payload_len, len(data))
    position = offset + 40
    fragment: tuple[int, bool, int] | None = None
    for _ in range(16):
        if protocol in _EXTENSIONS:
            if position + 2 > end:
                raise IpError("IPv6 extension header cut short")
            protocol, position = data[position], position + (data[position + 1] + 1) * 8
        elif protocol == 44:  # fragment header
            if position + 8 > end:
                raise IpError("IPv6 fragment header cut short")
            field = (data[position + 2] << 8) | data[position + 3]
            fragment = (field & 0xFFF8, bool(field & 1), int.from_bytes(data[position + 4 : position + 8], "big"))
            protocol, position = data[position], position + 8
        elif protocol == 51:  # authentication header: length in 4-byte units
            if position + 2 > end:
                raise IpError("IPv6 authentication header cut short")
            protocol, position = data[position], position + (data[position + 1] + 2) * 4
        else:
            break
    if position > end:
        raise IpError("IPv6 extension headers run past the packet")
    payload = data[position:end]
    if fragment is not None and (fragment[0] or fragment[1]):
        done = fragments.add((src, dst, protocol, fragment[2]), fragment[0], fragment[1], payload, frame)
        if done is None:
            return None
        return IpPacket(6, src, dst, protocol, done[0], done[1])
    return IpPacket(6, src, dst, protocol, payload, None)

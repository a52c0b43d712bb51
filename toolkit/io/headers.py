"""Where the fields of Ethernet, IPv4, TCP and UDP headers are: read for one frame or for a batch.

Both ways the pcap reader goes through packets read headers here. The per-packet reader
(:mod:`toolkit.io.pcap`) reads a *plain* frame's fields with one :func:`plain_frame` call on its
fast path, and otherwise an IP header with :func:`ipv4_header` / :func:`ipv6_header` (through
:mod:`toolkit.io.ip`) and a TCP or UDP header with :func:`tcp_header` / :func:`udp_header`; the batch triage
(:mod:`toolkit.io.packet_batch`) reads the same fields of a whole run of frames as numpy columns
(:class:`PlainColumns`). A plain frame is Ethernet II carrying IPv4 without options or fragments
and TCP (at least 20 bytes) or UDP: the layout below is fixed, so the offsets are constants. Any
other frame goes the general way: :mod:`toolkit.io.linktypes` (link layers, VLAN tags ...), then
:mod:`toolkit.io.ip` (IPv4 options, IPv6 extension headers, fragments, on the fields read here).

Layouts: Ethernet II (IEEE 802.3), IPv4 (RFC 791 section 3.1), IPv6 (RFC 8200 section 3), TCP
(RFC 9293 section 3.1), UDP (RFC 768).

>>> import struct
>>> frame = bytes(12) + b"\\x08\\x00" + struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 1, 0, 64, 17, 0,
...     bytes([10, 0, 0, 1]), bytes([8, 8, 8, 8])) + struct.pack("!HHHH", 5353, 53, 8, 0)
>>> fields = plain_frame(frame + bytes(6), 0)
>>> fields[0] == ETHERTYPE_IPV4, fields[4], fields[7:9]
(True, 17, (5353, 53))
>>> columns = PlainColumns.of(frame + bytes(6), [0], [len(frame) + 6])
>>> columns.plain.tolist(), columns.payload.tolist(), columns.sport.tolist()
([True], [0], [5353])
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "ETHERNET_HEADER",
    "ETHERTYPE_IPV4",
    "FRAGMENTED",
    "IPV4_NO_OPTIONS",
    "PLAIN_HEADER",
    "PlainColumns",
    "ipv4_header",
    "ipv6_header",
    "plain_frame",
    "plain_transport",
    "tcp_header",
    "udp_header",
]

ETHERNET_HEADER = 14
#: Bytes of a plain frame read for its fields: Ethernet (14), IPv4 (20), TCP up to its flags (14).
PLAIN_HEADER = 48
ETHERTYPE_IPV4 = 0x0800
IPV4_NO_OPTIONS = 0x45  # version 4, header of 5 words
FRAGMENTED = 0x3FFF  # more-fragments flag and fragment offset
_TCP, _UDP = 6, 17

# Offsets in a plain frame.
_ETHERTYPE = 12
_VERSION_IHL = 14
_TOTAL_LENGTH = 16
_FRAGMENT = 20
_PROTOCOL = 23
_SRC, _DST = 26, 30
_SPORT, _DPORT = 34, 36
_TCP_DATA_OFFSET, _TCP_FLAGS = 46, 47

plain_frame = struct.Struct("!12xHB1xH2xH1xB2x4s4sHH8xBB").unpack_from
"""``plain_frame(buf, start)``: (Ethernet type, IPv4 version and header length, total length,
fragment field, protocol, source, destination, source port, destination port, TCP data offset
byte, TCP flags) of the frame at ``buf[start:]`` (at least :data:`PLAIN_HEADER` bytes); for UDP the
last two are payload bytes. Its IP packet ends at ``start + ETHERNET_HEADER + total length``."""

ipv4_header = struct.Struct("!BxHHHxB2x4s4s").unpack_from
"""``ipv4_header(data, offset)``: (version and header length, total length, identification,
flags and fragment offset, protocol, source, destination) of the IPv4 header at ``data[offset:]``
(at least 20 bytes)."""

ipv6_header = struct.Struct("!B3xHBx16s16s").unpack_from
"""``ipv6_header(data, offset)``: (first byte: version and traffic class, payload length, next
header, source, destination) of the IPv6 header at ``data[offset:]`` (at least 40 bytes)."""

tcp_header = struct.Struct("!HHI4xBB").unpack_from
"""``tcp_header(segment)``: (source port, destination port, sequence number, data offset byte,
flags) of a TCP segment of at least 20 bytes; the header is ``(offset byte >> 4) * 4`` bytes long."""

udp_header = struct.Struct("!HHH").unpack_from
"""``udp_header(datagram)``: (source port, destination port, length) of a UDP datagram of at least 8 bytes."""


def plain_transport(buf: bytes, start: int, total: int) -> tuple[bytes, bytes, bytes]:
    """(source address, destination address, TCP segment or UDP datagram) of the plain frame at
    ``buf[start:]`` whose IPv4 total length is ``total``.

    >>> plain_transport(bytes(26) + bytes([10, 0, 0, 1, 10, 0, 0, 2]) + b"segment", 0, 27)
    (b'\\n\\x00\\x00\\x01', b'\\n\\x00\\x00\\x02', b'segment')
    """
    return (
        buf[start + _SRC : start + _SRC + 4],
        buf[start + _DST : start + _DST + 4],
        buf[start + _SPORT : start + ETHERNET_HEADER + total],
    )


@dataclass
class PlainColumns:
    """The header fields of a run of frames, one numpy array each (int64 unless said), frame ``i``
    being ``buf[starts[i] : starts[i] + lengths[i]]``. Fields of frames that are not plain are junk."""

    plain: np.ndarray
    """bool: the frame is plain (see the module's docstring) and holds its whole IP packet."""
    total: np.ndarray
    """IPv4 total length."""
    protocol: np.ndarray
    """uint8: IP protocol number."""
    flags: np.ndarray
    """uint8: TCP flags."""
    payload: np.ndarray
    """Bytes of TCP or UDP payload (0 for a TCP header longer than the packet)."""
    src: np.ndarray
    dst: np.ndarray
    sport: np.ndarray
    dport: np.ndarray

    @property
    def tcp(self) -> np.ndarray:
        """bool: plain TCP."""
        return self.plain & (self.protocol == _TCP)

    @property
    def udp(self) -> np.ndarray:
        """bool: plain UDP."""
        return self.plain & (self.protocol == _UDP)

    @classmethod
    def of(cls, buf: bytes, starts: np.ndarray | Sequence[int], lengths: np.ndarray | Sequence[int]) -> PlainColumns:
        """Read the headers of all frames with one gather into an ``(n, 48)`` byte matrix."""
        data = np.frombuffer(buf, dtype=np.uint8)
        cells = np.asarray(starts, dtype=np.int64)[:, None] + np.arange(PLAIN_HEADER, dtype=np.int64)
        np.minimum(cells, len(data) - 1, out=cells)  # short frames read junk past their end: masked below
        head = data[cells]
        incl = np.asarray(lengths, dtype=np.int64)

        def be16(at: int) -> np.ndarray:
            return (head[:, at].astype(np.int64) << 8) | head[:, at + 1]

        def be32(at: int) -> np.ndarray:
            return (be16(at) << 16) | be16(at + 2)

        total = be16(_TOTAL_LENGTH)
        protocol = head[:, _PROTOCOL]
        tcp = protocol == _TCP
        plain = (
            (incl >= PLAIN_HEADER)
            & (be16(_ETHERTYPE) == ETHERTYPE_IPV4)
            & (head[:, _VERSION_IHL] == IPV4_NO_OPTIONS)
            & ((be16(_FRAGMENT) & FRAGMENTED) == 0)
            & (ETHERNET_HEADER + total <= incl)
            & ((tcp & (total >= 40)) | ((protocol == _UDP) & (total >= 28)))
        )
        tcp_payload = total - 20 - ((head[:, _TCP_DATA_OFFSET].astype(np.int64) >> 4) << 2)
        payload = np.where(tcp, np.maximum(tcp_payload, 0), total - 28)
        return cls(
            plain=plain,
            total=total,
            protocol=protocol,
            flags=head[:, _TCP_FLAGS],
            payload=payload,
            src=be32(_SRC),
            dst=be32(_DST),
            sport=be16(_SPORT),
            dport=be16(_DPORT),
        )

"""Turn exchanged byte streams into Ethernet/IPv4/TCP/UDP frames, as a phone-side capture sees them.

The lab's endpoints talk through memory; this module writes down the packets a real network would
have carried, over IPv4 or IPv6: a TCP three-way handshake with an MSS option, data cut into
MSS-sized segments with correct sequence and acknowledgement numbers, a pure ACK for every flight,
a FIN teardown, UDP datagrams, and valid IPv4, TCP and UDP checksums (RFC 791, 8200, 793, 768,
1071). Time comes from a :class:`Clock` that the caller advances, so frames are deterministic.

>>> clock = Clock(1_588_237_200_000_000)
>>> frames: list[Frame] = []
>>> flow = TcpFlow(clock, frames, Endpoint("192.0.2.15", 40000), Endpoint("198.51.100.10", 443), 1, 2)
>>> flow.open(); flow.send(True, b"x" * 3000); flow.close()
>>> len(frames), [tcp_flags(f.data) for f in frames[:3]]
(10, ['S', 'SA', 'A'])
>>> internet_checksum(ipv4_header_of(frames[0].data))
0
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

__all__ = [
    "CLIENT_MAC",
    "GATEWAY_MAC",
    "Clock",
    "Endpoint",
    "Frame",
    "TcpFlow",
    "internet_checksum",
    "ipv4_header_of",
    "tcp_flags",
    "tcp_frame",
    "udp_frame",
]

CLIENT_MAC = bytes.fromhex("020000000015")  # locally administered, made up
GATEWAY_MAC = bytes.fromhex("020000000001")
_ETHERTYPE_IPV4 = 0x0800
_ETHERTYPE_IPV6 = 0x86DD
_PROTO_TCP, _PROTO_UDP = 6, 17
_MSS = {4: 1460, 6: 1440}  # a 1500-byte MTU less the IP (20 or 40) and TCP (20) headers
_WINDOW = 65535
_FLAG_BITS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10}
# Time between the frames of one flight, and the one-way delay before the peer's answer. A flight
# must stay shorter than the delay: MSS * _ONE_WAY_US / _GAP_US = 328 kB, far above any lab body.
_GAP_US = 40
_ONE_WAY_US = 9_000


@dataclass
class Clock:
    """Virtual capture time in microseconds since the Unix epoch."""

    now_us: int

    def advance(self, microseconds: int) -> int:
        """Move time forward; returns the new time."""
        self.now_us += microseconds
        return self.now_us


@dataclass(frozen=True)
class Frame:
    """One captured Ethernet frame and when it was seen."""

    ts_us: int
    data: bytes


@dataclass(frozen=True)
class Endpoint:
    """An IPv4 address and port."""

    ip: str
    port: int


def internet_checksum(data: bytes) -> int:
    """The 16-bit one's complement of the one's complement sum (RFC 1071).

    >>> hex(internet_checksum(bytes.fromhex("450000730000400040110000c0a80001c0a800c7")))
    '0xb861'
    """
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _ipv4_packet(src: str, dst: str, protocol: int, payload: bytes, ident: int) -> bytes:
    source, destination = ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed
    header = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        20 + len(payload),
        ident & 0xFFFF,
        0x4000,
        64,
        protocol,
        0,
        source,
        destination,
    )
    header = header[:10] + struct.pack("!H", internet_checksum(header)) + header[12:]
    return header + payload


def _ipv6_packet(src: str, dst: str, protocol: int, payload: bytes) -> bytes:
    source, destination = ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), protocol, 64, source, destination) + payload


def _ip_version(address: str) -> int:
    return ipaddress.ip_address(address).version


def _ip_packet(src: str, dst: str, protocol: int, payload: bytes, ident: int) -> bytes:
    if _ip_version(src) == 6:
        return _ipv6_packet(src, dst, protocol, payload)
    return _ipv4_packet(src, dst, protocol, payload, ident)


def _pseudo_header(src: str, dst: str, protocol: int, length: int) -> bytes:
    source, destination = ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed
    if len(source) == 16:  # RFC 8200 section 8.1
        return source + destination + struct.pack("!I3xB", length, protocol)
    return source + destination + struct.pack("!BBH", 0, protocol, length)


def _ethernet(from_client: bool, packet: bytes) -> bytes:
    src, dst = (CLIENT_MAC, GATEWAY_MAC) if from_client else (GATEWAY_MAC, CLIENT_MAC)
    ethertype = _ETHERTYPE_IPV6 if packet[0] >> 4 == 6 else _ETHERTYPE_IPV4
    return dst + src + struct.pack("!H", ethertype) + packet


def udp_frame(src: Endpoint, dst: Endpoint, payload: bytes, *, from_client: bool, ident: int) -> bytes:
    """An Ethernet frame carrying one UDP datagram with its checksum (over IPv4 or IPv6)."""
    header = struct.pack("!HHHH", src.port, dst.port, 8 + len(payload), 0)
    checksum = internet_checksum(_pseudo_header(src.ip, dst.ip, _PROTO_UDP, 8 + len(payload)) + header + payload)
    header = header[:6] + struct.pack("!H", checksum or 0xFFFF)
    return _ethernet(from_client, _ip_packet(src.ip, dst.ip, _PROTO_UDP, header + payload, ident))


def tcp_frame(
    src: Endpoint,
    dst: Endpoint,
    seq: int,
    ack: int,
    flags: str | int,
    payload: bytes = b"",
    *,
    from_client: bool,
    ident: int,
    options: bytes = b"",
) -> bytes:
    """An Ethernet frame carrying one TCP segment with its checksum (over IPv4 or IPv6); ``flags``
    as letters (``"PA"``) or as the header's bits."""
    segment = _tcp_segment(src, dst, seq, ack, flags, payload, options)
    return _ethernet(from_client, _ip_packet(src.ip, dst.ip, _PROTO_TCP, segment, ident))


def _tcp_segment(
    src: Endpoint, dst: Endpoint, seq: int, ack: int, flags: str | int, payload: bytes, options: bytes = b""
) -> bytes:
    bits = flags if isinstance(flags, int) else sum(_FLAG_BITS[f] for f in flags)
    offset = (20 + len(options)) // 4
    header = (
        struct.pack(
            "!HHIIBBHHH", src.port, dst.port, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, offset << 4, bits, _WINDOW, 0, 0
        )
        + options
    )
    length = len(header) + len(payload)
    checksum = internet_checksum(_pseudo_header(src.ip, dst.ip, _PROTO_TCP, length) + header + payload)
    return header[:16] + struct.pack("!H", checksum) + header[18:] + payload


def ipv4_header_of(frame: bytes) -> bytes:
    """The IPv4 header inside an Ethernet frame (for checks)."""
    return frame[14 : 14 + (frame[14] & 0x0F) * 4]


def tcp_flags(frame: bytes) -> str:
    """The TCP flags of an Ethernet/IP/TCP frame as letters, e.g. ``"PA"``.

    >>> tcp_flags(_ethernet(True, _ip_packet("2001:db8::1", "2001:db8::2", 6,
    ...     _tcp_segment(Endpoint("2001:db8::1", 1), Endpoint("2001:db8::2", 2), 0, 0, "FA", b""), 0)))
    'FA'
    """
    ip_header = 40 if frame[14] >> 4 == 6 else (frame[14] & 0x0F) * 4
    bits = frame[14 + ip_header + 13]
    return "".join(letter for letter in "SFRPA" if bits & _FLAG_BITS[letter])


class IpIdentifiers:
    """IPv4 identification counters, one per sending host, as a simple host keeps them."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def take(self, ip: str) -> int:
        """The next identification value for packets from ``ip``."""
        value = self._next.get(ip, sum(ipaddress.IPv4Address(ip).packed) * 97 & 0xFFFF)
        self._next[ip] = (value + 1) & 0xFFFF
        return value


class TcpFlow:
    """One TCP connection between the phone (client) and a server, written as frames."""

    def __init__(
        self,
        clock: Clock,
        frames: list[Frame],
        client: Endpoint,
        server: Endpoint,
        client_isn: int,
        server_isn: int,
        ids: IpIdentifiers | None = None,
    ) -> None:
        self.clock = clock
        self.frames = frames
        self.client = client
        self.server = server
        self._next_seq = {True: client_isn, False: server_isn}
        self._ids = ids or IpIdentifiers()
        if _ip_version(client.ip) != _ip_version(server.ip):
            raise ValueError(f"client {client.ip} and server {server.ip} use different IP versions")
        self._ip_version = _ip_version(client.ip)
        self._mss = _MSS[self._ip_version]
        self.frame_numbers: list[int] = []
        """1-based numbers of this flow's frames in the capture (for ground truth and evidence)."""

    def _emit(
        self, from_client: bool, flags: str, payload: bytes = b"", options: bytes = b"", offset_us: int = 0
    ) -> None:
        src, dst = (self.client, self.server) if from_client else (self.server, self.client)
        seq = self._next_seq[from_client]
        ack = self._next_seq[not from_client] if "A" in flags else 0
        ident = self._ids.take(src.ip) if self._ip_version == 4 else 0  # IPv6 has no identification field
        frame = tcp_frame(src, dst, seq, ack, flags, payload, from_client=from_client, ident=ident, options=options)
        self.frames.append(Frame(self.clock.now_us + offset_us, frame))
        self.frame_numbers.append(len(self.frames))
        self._next_seq[from_client] += len(payload) + (1 if "S" in flags or "F" in flags else 0)

    def open(self) -> None:
        """SYN, SYN-ACK, ACK; both SYNs carry an MSS option."""
        mss = struct.pack("!BBH", 2, 4, self._mss)
        self._emit(True, "S", options=mss)
        self.clock.advance(_ONE_WAY_US * 2)
        self._emit(False, "SA", options=mss)
        self.clock.advance(_GAP_US)
        self._emit(True, "A")
        self.clock.advance(_GAP_US)

    def send(self, from_client: bool, data: bytes) -> None:
        """Data from one side in MSS-sized segments (PSH on the last), then the peer's ACK.

        The clock moves by the same amount whatever the number of segments, so that how TLS happens
        to size its records never shifts the times of later requests (the HAR and ground truth stay
        the same from run to run).
        """
        starts = range(0, len(data), self._mss)
        for number, start in enumerate(starts):
            last = number == len(starts) - 1
            self._emit(from_client, "PA" if last else "A", data[start : start + self._mss], offset_us=number * _GAP_US)
        self.clock.advance(_ONE_WAY_US)
        self._emit(not from_client, "A")
        self.clock.advance(_GAP_US)

    def close(self) -> None:
        """FIN from the client, FIN from the server, last ACK from the client."""
        self._emit(True, "FA")
        self.clock.advance(_ONE_WAY_US)
        self._emit(False, "FA")
        self.clock.advance(_ONE_WAY_US)
        self._emit(True, "A")
        self.clock.advance(_GAP_US)

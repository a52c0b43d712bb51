"""Synthetic pcap and pcapng files for tests and benchmarks (no network, no scapy).

A :class:`PcapBuilder` collects packets (Ethernet + IPv4/IPv6 + TCP/UDP, written by the lab's
:mod:`toolkit.lab.framing`) with a steadily advancing clock and writes them as pcap (micro- or
nanosecond, either byte order; :mod:`toolkit.lab.pcap_writer`) or pcapng
(:mod:`toolkit.lab.pcapng_writer`). Helpers build whole conversations: a DNS exchange, a TLS
connection with a ClientHello and a ServerHello, a plaintext HTTP/1.1 exchange.

>>> builder = PcapBuilder()
>>> builder.http_exchange("10.0.0.2", "192.0.2.7", "example.org", "/a?b=1")
>>> data = builder.pcap()
>>> data[:4].hex(), len(builder.packets)
('d4c3b2a1', 7)
"""

from __future__ import annotations

import ipaddress
import struct
import zlib
from dataclasses import dataclass, field

from toolkit.io.pcapdroid import TRAILER_MAGIC
from toolkit.lab.framing import Endpoint, tcp_frame, udp_frame
from toolkit.lab.pcap_writer import pcap_bytes
from toolkit.lab.pcapng_writer import pcapng_parts
from toolkit.lab.tls_hellos import client_hello_for_tests, server_hello_for_tests

__all__ = ["PcapBuilder", "dns_message", "trailer_for_tests"]


def dns_message(
    name: str,
    *,
    ident: int = 1,
    qtype: int = 1,
    response: bool = False,
    answers: list[str] | None = None,
    cname: str | None = None,
) -> bytes:
    """A DNS query, or a response with A/AAAA answers (and an optional CNAME first)."""

    def encode(n: str) -> bytes:
        return b"".join(bytes([len(p)]) + p.encode() for p in n.split(".") if p) + b"\x00"

    answers = answers or []
    records = b""
    owner = b"\xc0\x0c"
    if response and cname:
        target = encode(cname)
        records += owner + struct.pack("!HHIH", 5, 1, 60, len(target)) + target
        owner = encode(cname)
    for value in answers if response else []:
        address = ipaddress.ip_address(value)
        rtype = 1 if address.version == 4 else 28
        records += owner + struct.pack("!HHIH", rtype, 1, 60, len(address.packed)) + address.packed
    count = (len(answers) + (1 if cname else 0)) if response else 0
    flags = 0x8180 if response else 0x0100
    header = struct.pack("!HHHHHH", ident, flags, 1, count, 0, 0)
    return header + encode(name) + struct.pack("!HH", qtype, 1) + records


def trailer_for_tests(uid: int, name: str) -> bytes:
    """A 32-byte trailer as PCAPdroid writes it (:mod:`toolkit.io.pcapdroid`); the CRC covers the
    trailer's own fields here, which readers ignore."""
    head = TRAILER_MAGIC.to_bytes(4, "big") + struct.pack("!i", uid) + name.encode()[:20].ljust(20, b"\0")
    return head + struct.pack("!I", zlib.crc32(head))


@dataclass
class _Tcp:
    seq_client: int
    seq_server: int


@dataclass
class PcapBuilder:
    """Packets in memory, written out as a capture file."""

    start_ns: int = 1_700_000_000_000_000_000
    step_ns: int = 1_000_000
    packets: list[tuple[int, bytes]] = field(default_factory=list)
    _clock: int = 0
    _next_port: int = 40000

    # -- primitives ------------------------------------------------------------------------------
    def ephemeral_port(self) -> int:
        self._next_port = 40000 + (self._next_port - 40000 + 1) % 25000
        return self._next_port

    def add_frame(self, frame: bytes) -> None:
        """Add a complete link-layer frame."""
        self.packets.append((self.start_ns + self._clock, frame))
        self._clock += self.step_ns

    def udp(self, src: str, sport: int, dst: str, dport: int, payload: bytes) -> None:
        """A UDP datagram (:func:`toolkit.lab.framing.udp_frame`)."""
        self.add_frame(udp_frame(Endpoint(src, sport), Endpoint(dst, dport), payload, from_client=True, ident=1))

    def tcp(
        self, src: str, sport: int, dst: str, dport: int, seq: int, ack: int, flags: int, payload: bytes = b""
    ) -> None:
        """A TCP segment with the header's ``flags`` bits (:func:`toolkit.lab.framing.tcp_frame`)."""
        frame = tcp_frame(
            Endpoint(src, sport), Endpoint(dst, dport), seq, ack, flags, payload, from_client=True, ident=1
        )
        self.add_frame(frame)

    # -- conversations ---------------------------------------------------------------------------
    def tcp_open(self, client: str, cport: int, server: str, sport: int) -> _Tcp:
        state = _Tcp(1000, 5000)
        self.tcp(client, cport, server, sport, state.seq_client, 0, 0x02)
        self.tcp(server, sport, client, cport, state.seq_server, state.seq_client + 1, 0x12)
        state.seq_client += 1
        state.seq_server += 1
        self.tcp(client, cport, server, sport, state.seq_client, state.seq_server, 0x10)
        return state

    def tcp_send(
        self,
        state: _Tcp,
        client: str,
        cport: int,
        server: str,
        sport: int,
        data: bytes,
        from_client: bool,
        segment_size: int = 1400,
    ) -> None:
        for i in range(0, len(data), segment_size):
            piece = data[i : i + segment_size]
            if from_client:
                self.tcp(client, cport, server, sport, state.seq_client, state.seq_server, 0x18, piece)
                state.seq_client += len(piece)
            else:
                self.tcp(server, sport, client, cport, state.seq_server, state.seq_client, 0x18, piece)
                state.seq_server += len(piece)

    def tcp_close(self, state: _Tcp, client: str, cport: int, server: str, sport: int) -> None:
        self.tcp(client, cport, server, sport, state.seq_client, state.seq_server, 0x11)
        self.tcp(server, sport, client, cport, state.seq_server, state.seq_client + 1, 0x11)

    def dns_exchange(
        self, client: str, resolver: str, name: str, addresses: list[str], cname: str | None = None, ident: int = 7
    ) -> None:
        """A UDP DNS query and its answer."""
        port = self.ephemeral_port()
        self.udp(client, port, resolver, 53, dns_message(name, ident=ident))
        self.udp(
            resolver, 53, client, port, dns_message(name, ident=ident, response=True, answers=addresses, cname=cname)
        )

    def tls_connection(
        self,
        client: str,
        server: str,
        sni: str | None,
        *,
        alpn: list[str] | None = None,
        records: int = 0,
        record_size: int = 1200,
        port: int = 443,
    ) -> None:
        """Handshake, ClientHello, ServerHello, ``records`` encrypted records each way, FIN."""
        cport = self.ephemeral_port()
        state = self.tcp_open(client, cport, server, port)
        self.tcp_send(state, client, cport, server, port, client_hello_for_tests(sni, alpn=alpn), True)
        self.tcp_send(state, client, cport, server, port, server_hello_for_tests(alpn=alpn[0] if alpn else None), False)
        blob = b"\x17\x03\x03" + struct.pack("!H", record_size) + bytes(record_size)
        for _ in range(records):
            self.tcp_send(state, client, cport, server, port, blob, True)
            self.tcp_send(state, client, cport, server, port, blob, False)
        self.tcp_close(state, client, cport, server, port)

    def http_exchange(
        self,
        client: str,
        server: str,
        host: str,
        target: str = "/",
        *,
        method: str = "GET",
        body: bytes = b"",
        response_body: bytes = b"ok",
        port: int = 80,
    ) -> None:
        """One plaintext HTTP/1.1 request and response on a fresh connection."""
        cport = self.ephemeral_port()
        state = self.tcp_open(client, cport, server, port)
        request = f"{method} {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: test\r\n".encode()
        if body:
            request += f"Content-Length: {len(body)}\r\n".encode()
        request += b"\r\n" + body
        response = (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(response_body)
            + response_body
        )
        self.tcp_send(state, client, cport, server, port, request, True)
        self.tcp_send(state, client, cport, server, port, response, False)
        self.tcp_close(state, client, cport, server, port)

    # -- output ----------------------------------------------------------------------------------
    def pcap(self, *, nanoseconds: bool = False, big_endian: bool = False, linktype: int = 1) -> bytes:
        """The packets as a classic pcap file (:mod:`toolkit.lab.pcap_writer`)."""
        return pcap_bytes(self.packets, nanoseconds=nanoseconds, big_endian=big_endian, linktype=linktype)

    def pcapng(
        self,
        *,
        tool: str = "toolkit.pcap_builder",
        comments: dict[int, str] | None = None,
        extra_blocks: list[bytes] | None = None,
    ) -> bytes:
        """The packets as pcapng (:mod:`toolkit.lab.pcapng_writer`): one section, one Ethernet
        interface named eth0 with nanosecond times, ``extra_blocks``, EPBs (with comments by packet
        number, from 1)."""
        blocks = pcapng_parts(
            self.packets,
            application=tool,
            interface="eth0",
            nanoseconds=True,
            packet_comments=comments,
            extra_blocks=extra_blocks or (),
        )
        return b"".join(blocks)

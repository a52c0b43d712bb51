"""Connections and conversations: the per-flow state of a packet capture and the ``flows`` table.

A :class:`Flow` is one TCP connection or one UDP conversation (same 5-tuple). Which end is the
client is decided once, on the first packet: the sender of a SYN, the receiver of a SYN-ACK, or
else the side that does not use a well-known server port (for a capture that starts in the middle
of a connection), or else the first sender.

The hostname of a flow comes, in order of preference, from the TLS SNI, the SNI of a QUIC
Initial, the HTTP ``Host`` header, or a DNS answer seen earlier in the capture that resolved the
server's address (``hostname_source`` says which).

>>> server_is_source(443, 50000), server_is_source(50000, 53), server_is_source(40000, 40001)
(True, False, False)
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pandas as pd

from toolkit.io.http1 import Http1Connection, HttpMessage
from toolkit.io.http2 import Http2Connection
from toolkit.io.https import HttpsFlow, HttpsResult, QuicFlow
from toolkit.io.ip import address_text
from toolkit.io.quic import QuicInitialReader
from toolkit.io.tcp import StreamReassembler
from toolkit.io.tls import ClientHello, HandshakeReader, ServerHello
from toolkit.schema import TABLES

__all__ = ["PROCESS_UID_BASE", "Flow", "evidence", "flows_table", "server_is_source"]

#: Flows of an Apple capture carry a stand-in UID at or below this for their process (not shown).
PROCESS_UID_BASE = -1_000_000

#: Ports on which the listening side is assumed to sit, when no SYN says so.
SERVER_PORTS = frozenset(
    {
        21,
        22,
        25,
        53,
        80,
        110,
        123,
        143,
        443,
        465,
        587,
        853,
        993,
        995,
        1080,
        1194,
        1900,
        3128,
        3478,
        5060,
        5222,
        5223,
        5228,
        5353,
        5355,
        8000,
        8008,
        8080,
        8443,
        8888,
        19302,
    }
)


def server_is_source(src_port: int, dst_port: int) -> bool:
    """Whether the sender of a packet with these ports is more likely the server."""
    src_known, dst_known = src_port in SERVER_PORTS, dst_port in SERVER_PORTS
    if src_known != dst_known:
        return src_known
    if (src_port < 1024) != (dst_port < 1024):
        return src_port < 1024
    return False


def evidence(capture: str, frames: list[int] | tuple[int, ...]) -> str:
    """``<file>#frames=N,M`` with the frames sorted and without repeats.

    >>> evidence("a.pcap", [7, 3, 7])
    'a.pcap#frames=3,7'
    """
    return f"{capture}#frames={','.join(str(f) for f in sorted(set(frames)))}"


class Flow:
    """State of one flow while the capture is read."""

    __slots__ = (
        "alpn",
        "bytes_down",
        "bytes_up",
        "client",
        "client_hello",
        "client_port",
        "closed",
        "dns_buffers",
        "dns_frame",
        "dns_name",
        "fins",
        "first_frame",
        "h2c",
        "handshake",
        "held_segments",
        "hello_frames",
        "http",
        "http_frames",
        "http_host",
        "http_requests",
        "http_responses",
        "http_ts",
        "https",
        "https_result",
        "id",
        "last_frame",
        "mode",
        "packets_down",
        "packets_up",
        "protocol",
        "quic",
        "quic_flow",
        "quic_origin",
        "server",
        "server_hello",
        "server_hello_frame",
        "server_port",
        "streams",
        "syn_seen",
        "tls_readers",
        "tls_ts",
        "transport",
        "ts_end",
        "ts_start",
        "tunnel_host",
        "uid",
        "undecided_chunks",
    )

    def __init__(
        self,
        flow_id: int,
        transport: str,
        client: bytes,
        client_port: int,
        server: bytes,
        server_port: int,
        ts: int | None,
        frame: int,
    ) -> None:
        self.id = flow_id
        self.transport = transport
        self.client = client
        self.client_port = client_port
        self.server = server
        self.server_port = server_port
        self.ts_start = ts
        self.ts_end = ts
        self.first_frame = frame
        self.last_frame = frame
        self.packets_up = self.packets_down = self.bytes_up = self.bytes_down = 0
        self.syn_seen = False
        self.handshake = False
        self.closed: str | None = None
        self.fins = 0
        """FINs seen: 1 from the client, 2 from the server (3: both ends closed)."""
        self.protocol: str | None = None
        self.mode: str | None = "?" if transport == "tcp" else None
        """TCP payload handling: ``?`` undecided, ``tls``, ``http``, ``dns``, or None (counted only)."""
        self.streams: tuple[StreamReassembler, StreamReassembler] | None = None
        self.held_segments: list[tuple[bool, int, bytes, int, int | None]] | None = None
        """A flow seen without its SYN: its first segments (up, seq, payload, frame, ts), held until
        their order shows where each direction starts (see ``toolkit.io.pcap``)."""
        self.tls_readers: tuple[HandshakeReader, HandshakeReader] | None = None
        self.client_hello: ClientHello | None = None
        self.server_hello: ServerHello | None = None
        self.hello_frames: list[int] = []
        self.server_hello_frame: int | None = None
        self.tls_ts: int | None = None
        self.http: Http1Connection | None = None
        self.h2c: Http2Connection | None = None
        """Cleartext HTTP/2 with prior knowledge (the client starts with the HTTP/2 preface)."""
        self.http_requests: list[HttpMessage] = []
        self.http_responses: list[HttpMessage] = []
        self.http_ts: dict[int, int | None] = {}
        self.http_frames: list[int] = []
        self.http_host: str | None = None
        self.tunnel_host: str | None = None
        self.quic: QuicInitialReader | None = None
        self.quic_flow: QuicFlow | None = None
        """QUIC decryption and HTTP/3 reading, when a key log is given."""
        self.quic_origin: Flow | None = None
        """The flow whose QUIC connection this one continues on another address or port (migration)."""
        self.dns_name: str | None = None
        self.dns_frame: int | None = None
        self.dns_buffers: list[bytes] | None = None
        self.alpn: str | None = None
        self.uid: int | None = None
        self.undecided_chunks = 0
        self.https: HttpsFlow | None = None
        """TLS decryption and HTTP reading, while a key log may open the flow."""
        self.https_result: HttpsResult | None = None

    def count(self, up: bool, payload: int, ts: int | None, frame: int, uid: int | None) -> None:
        """Account one packet carrying ``payload`` bytes (``up``: client to server)."""
        self.ts_end = ts
        self.last_frame = frame
        if uid is not None and self.uid is None:
            self.uid = uid
        if up:
            self.packets_up += 1
            self.bytes_up += payload
        else:
            self.packets_down += 1
            self.bytes_down += payload

    @property
    def quic_done(self) -> bool:
        """A QUIC flow whose remaining packets are only counted (hellos read, nothing to decrypt)."""
        return self.quic is not None and (self.quic_flow is None or self.quic_flow.finished) and self.quic.finished

    @property
    def sni(self) -> str | None:
        """SNI of the flow's TLS or QUIC ClientHello."""
        return self.client_hello.sni if self.client_hello is not None else None

    def hostname(self) -> tuple[str | None, str | None, list[int]]:
        """(hostname, source, evidence frames)."""
        if self.client_hello is not None and self.client_hello.sni:
            source = "quic_sni" if self.quic is not None else "sni"
            return self.client_hello.sni, source, self.hello_frames[:1]
        if self.http_host:
            return self.http_host, "http_host", self.http_frames[:1]
        if self.dns_name:
            return self.dns_name, "dns", [self.dns_frame] if self.dns_frame else []
        return None, None, []


def flows_table(flows: list[Flow], capture: str, apps: dict[int, str]) -> pd.DataFrame:
    """The ``flows`` table."""
    columns: dict[str, list[Any]] = defaultdict(list)  # only the columns filled here
    for flow in flows:
        hostname, source, frames = flow.hostname()
        tls = flow.protocol in ("tls", "quic")
        columns["flow_id"].append(flow.id)
        columns["capture"].append(capture)
        columns["app"].append(apps.get(flow.uid) if flow.uid is not None else None)
        columns["uid"].append(flow.uid if flow.uid is not None and flow.uid > PROCESS_UID_BASE else None)
        columns["transport"].append(flow.transport)
        columns["client"].append(address_text(flow.client))
        columns["client_port"].append(flow.client_port)
        columns["server_ip"].append(address_text(flow.server))
        columns["server_port"].append(flow.server_port)
        columns["ts_start"].append(flow.ts_start)
        columns["ts_end"].append(flow.ts_end)
        columns["packets_up"].append(flow.packets_up)
        columns["packets_down"].append(flow.packets_down)
        columns["bytes_up"].append(flow.bytes_up)
        columns["bytes_down"].append(flow.bytes_down)
        columns["handshake"].append(flow.handshake if flow.transport == "tcp" else None)
        columns["closed"].append(flow.closed)
        columns["hostname"].append(hostname)
        columns["hostname_source"].append(source)
        columns["protocol"].append(flow.protocol or "other")
        columns["tls_version"].append(flow.server_hello.version if flow.server_hello else None)
        columns["alpn"].append(flow.alpn)
        decrypted, reason = _decryption(flow) if tls else (None, None)
        columns["decrypted"].append(decrypted)
        columns["not_decrypted_reason"].append(reason)
        columns["evidence"].append(evidence(capture, [flow.first_frame, *frames]))
    for name in ("ts_start", "ts_end"):
        columns[name] = timestamps(columns[name])
    return TABLES["flows"].validate(TABLES["flows"].frame(columns))


def _decryption(flow: Flow) -> tuple[bool, str | None]:
    """(decrypted, why not) of a TLS or QUIC flow."""
    result = flow.https_result if flow.quic_origin is None else flow.quic_origin.https_result
    if flow.protocol == "quic" and result is None:
        return False, "no key log" if flow.client_hello is not None else "no ClientHello in the capture"
    if result is None:
        return False, "no key log" if flow.client_hello is not None else "missing handshake"
    return result.tls.decrypted, result.tls.reason


def timestamps(values: list[int | None]) -> pd.Series:
    """Nanosecond integers (or None) as a UTC datetime series."""
    limit = 9_223_372_036_854_775_807  # int64 nanoseconds: year 2262
    checked = [v if v is None or v <= limit else None for v in values]
    return pd.Series(pd.to_datetime(pd.array(checked, dtype="Int64"), unit="ns", utc=True))

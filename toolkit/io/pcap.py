"""pcap and pcapng captures into the ``flows``, ``dns``, ``tls`` and ``requests`` tables.

One pass over the packets (:mod:`toolkit.io.pcapfile`), dissecting only what the tables need:
link layer (:mod:`~toolkit.io.linktypes`), IP (:mod:`~toolkit.io.ip`), TCP and UDP headers
(:mod:`~toolkit.io.headers`, which also reads a plain frame's fields at once for the fast path),
then per flow: TCP reassembly (:mod:`~toolkit.io.tcp`) only while a flow still has something to
tell (a TLS handshake, plaintext HTTP, DNS over TCP), DNS over UDP, QUIC Initials
(:mod:`~toolkit.io.quic`) and PCAPdroid's app attribution. Everything else is counted and skipped,
so the cost per packet of bulk encrypted traffic is a few dictionary lookups. Runs of Ethernet
frames go through :mod:`~toolkit.io.packet_batch` first, whose triage says which packets the
reader must see and how many it only counts (:meth:`_Reader.ethernet_batch` applies that).

Why one module: it is one state machine (about 1,200 lines), the ``_Reader``, whose steps
(link, IP, TCP, UDP, TLS, HTTP, DNS, QUIC, the batch) share the flow table and hand each packet on
to one another; the formats themselves live in their own modules (headers, IP, TCP reassembly,
TLS, HTTP/1 and /2, DNS, QUIC), and what is left here is the routing between them and the four
tables built from its state at the end. Splitting the steps over modules would spread that one
state over files and add calls on the per-packet path that the benchmarks time.

>>> import io
>>> from toolkit.problems import ProblemLog
>>> from toolkit.lab.pcap_builder import PcapBuilder
>>> builder = PcapBuilder()
>>> builder.dns_exchange("10.0.0.2", "10.0.0.1", "example.org", ["93.184.216.34"])
>>> builder.tls_connection("10.0.0.2", "93.184.216.34", "example.org")
>>> result = read_pcap("demo.pcap", io.BytesIO(builder.pcap()), ProblemLog("demo.pcap"))
>>> result.flows[["transport", "server_port", "protocol", "hostname", "hostname_source"]].values.tolist()
[['udp', 53, 'dns', <NA>, <NA>], ['tcp', 443, 'tls', 'example.org', 'sni']]
>>> result.dns[["qname", "response", "answers"]].values.tolist()
[['example.org', False, []], ['example.org', True, ['93.184.216.34']]]
"""

from __future__ import annotations

import gc
import os
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any
from urllib.parse import urlsplit

import pandas as pd

from toolkit.freed_memory import release_freed_memory
from toolkit.io.budget import Budget
from toolkit.io.content_encoding import (
    MAX_DECODED_PER_CAPTURE,
    MAX_DECODED_SIZE,
    ContentDecodingError,
    decode_within,
)
from toolkit.io.dns import DnsError, cname_chain, parse_dns
from toolkit.io.flows import PROCESS_UID_BASE, Flow, evidence, flows_table, server_is_source, timestamps
from toolkit.io.headers import (
    ETHERNET_HEADER,
    ETHERTYPE_IPV4,
    FRAGMENTED,
    IPV4_NO_OPTIONS,
    PLAIN_HEADER,
    plain_frame,
    plain_transport,
    tcp_header,
    udp_header,
)
from toolkit.io.http1 import Http1Connection, HttpMessage, looks_like_http_request, parse_datagram
from toolkit.io.http2 import MAX_DECODED_HEADERS, PREFACE, Http2Connection
from toolkit.io.https import HttpsFlow, HttpsResult, QuicFlow, http2_exchanges
from toolkit.io.ip import FragmentReassembler, IpError, address_text, parse_ip
from toolkit.io.keylog import KeyLog
from toolkit.io.linktypes import LINKTYPE_NAMES, SUPPORTED
from toolkit.io.packet_batch import BatchTriage, Epoch, pcap_frames
from toolkit.io.pcapdroid import read_trailer, uid_from_comment
from toolkit.io.pcapfile import PROCESS_COMMENT_PREFIX, CaptureFile, EthernetRun, reader_comment
from toolkit.io.quic import QuicInitialReader, is_quic_long_header
from toolkit.io.tcp import Chunk, Gap, StreamReassembler
from toolkit.io.tls import HandshakeReader, TlsError, looks_like_tls, parse_client_hello, parse_server_hello
from toolkit.problems import ProblemLog
from toolkit.schema import TABLES

__all__ = ["PcapContents", "read_pcap", "tcp_streams"]

_DNS_KINDS = {53: "dns", 5353: "mdns", 5355: "llmnr"}
_MAX_DNS_TCP = 70_000
_UNDECIDED_CHUNKS = 6
_HELD_SEGMENTS = 8  # segments of a flow without SYN held to find where its streams start
_SEQ_MASK = 0xFFFFFFFF
_HALF_SEQ = 0x80000000
_TRAILER_MAGIC = b"\x01\x07\x20\x21"
_TLS_KEY_LOG_SECRETS = 0x544C534B  # pcapng DSB secrets type "TLSK": an NSS key log


@dataclass
class PcapContents:
    """What a pcap or pcapng file holds, as tables plus facts about the file."""

    flows: pd.DataFrame
    dns: pd.DataFrame
    tls: pd.DataFrame
    requests: pd.DataFrame
    format: str
    tool: str | None
    meta: dict[str, Any] = field(default_factory=dict)


class _Reader:
    """The single pass: packets in, rows out."""

    def __init__(self, path: str, problems: ProblemLog, keys: KeyLog | None = None, batched: bool = True) -> None:
        self.keys = keys
        self.batched = batched
        """Ethernet frames of classic pcap and plain pcapng packet blocks: let
        :mod:`toolkit.io.packet_batch` count bulk packets (False: the reader sees every packet)."""
        self.secrets_read = 0  # Decryption Secrets Blocks already merged into keys
        self.quic_cids: dict[bytes, Flow] = {}  # QUIC connection ids -> the flow of their connection
        self.quic_cid_lengths: list[int] = []
        self.quic_cid_counts: dict[int, int] = {}  # flow id -> connection ids registered
        self.capture_file: CaptureFile | None = None
        self.path = path
        self.capture = os.path.basename(path)
        self.problems = problems
        self.table: dict[tuple[bytes, int, bytes, int, int], tuple[Flow, bool]] = {}
        self.flows: list[Flow] = []
        self.fragments = FragmentReassembler()
        self.dns_by_address: dict[bytes, tuple[str, int]] = {}
        self.dns_rows: list[tuple[Any, ...]] = []
        self.tls_flows: list[Flow] = []
        self.http_datagrams: list[tuple[Flow, HttpMessage, int | None]] = []
        self.apps: dict[int, str] = {}
        self.process_uids: dict[str, int] = {}
        self.non_ip = 0
        self.unsupported_links: dict[int, list[int]] = {}
        self.header_budget = Budget(MAX_DECODED_HEADERS)
        """Decoded HTTP/2 header lists, all connections of the capture together."""
        self.bodies: dict[bytes, bytes] = {}
        """Bodies of the closed TLS connections' messages, each distinct one once (see :meth:`closing`)."""

    # -- the packet loop -------------------------------------------------------------------------
    def run(self, capture: CaptureFile) -> None:
        self.capture_file = capture
        fast = self.fast_path
        if capture.is_classic_pcap():
            spans = capture.pcap_spans()
            for buf, offsets, frame in spans:
                linktype = capture.interfaces[0].linktype
                link = SUPPORTED.get(linktype)
                if linktype == 1 and self.batched:
                    big_endian = capture.record_struct.format.startswith(">")
                    frames = pcap_frames(buf, offsets, big_endian, capture.ns_per_fraction)
                    if self.ethernet_batch(buf, *frames, frame, link):
                        continue
                unpack_record = capture.record_struct.unpack_from
                frac_ns = capture.ns_per_fraction
                ethernet = linktype == 1
                for pos in offsets:
                    sec, frac, incl, _orig = unpack_record(buf, pos)
                    ts = sec * 1_000_000_000 + frac * frac_ns
                    data_start = pos + 16
                    stop = data_start + incl
                    if not (ethernet and incl >= 48 and fast(buf, data_start, stop, ts, frame)):
                        self.packet(frame, ts, linktype, link, buf[data_start:stop], None)
                    frame += 1
            return
        parsers: list[tuple[int, Any]] = []
        ethernet_link = SUPPORTED.get(1)
        # batched=False: every packet a record, read one by one (the reference of the batched path)
        for item in capture.record_runs() if self.batched else capture.records():
            if isinstance(item, EthernetRun):
                self.ethernet_run(item, ethernet_link)
                continue
            frame, ts, iface, data, _orig_len, comment, process = item
            try:
                linktype, link = parsers[iface]
            except IndexError:
                while len(parsers) <= iface:
                    linktype = capture.interfaces[len(parsers)].linktype
                    parsers.append((linktype, SUPPORTED.get(linktype)))
                linktype, link = parsers[iface]
            if (
                linktype == 1
                and len(data) >= 48
                and comment is None
                and process is None
                and fast(data, 0, len(data), ts, frame)
            ):
                continue
            self.packet(frame, ts, linktype, link, data, reader_comment(comment, process))

    def ethernet_run(self, run: EthernetRun, link: Any) -> None:
        """A pcapng run of plain Ethernet packets: batched, or one by one when that saves nothing."""
        buf, starts, lengths, stamps, frame, comments = run
        if self.ethernet_batch(buf, starts, lengths, stamps, frame, link, comments):
            return
        fast = self.fast_path
        for index, (start, length, ts) in enumerate(
            zip(starts.tolist(), lengths.tolist(), stamps.tolist(), strict=True)
        ):
            stop = start + length
            comment = comments.get(index)
            if comment is not None or not (length >= 48 and fast(buf, start, stop, ts, frame)):
                self.packet(frame, ts, 1, link, buf[start:stop], comment)
            frame += 1

    def ethernet_batch(
        self,
        buf: bytes,
        starts: Any,
        lengths: Any,
        times: Any,
        first_frame: int,
        link: Any,
        comments: Mapping[int, str] | None = None,
    ) -> bool:
        """Read one run of Ethernet frames (see :class:`~toolkit.io.packet_batch.BatchTriage`), seeing
        only the packets that may tell something and counting the others; False (nothing read) when
        the run is mostly packets to see anyway, which the caller then reads one by one.

        Each packet given out is read the way :meth:`run` would, skipping what the triage already
        read: a plain packet without trailer or comment goes straight to the fast path or the TCP
        or UDP step (a SYN straight to the TCP step, as the fast path never takes one).
        """
        triage = BatchTriage(buf, starts, lengths, times, comments)
        flow_of, epochs, epoch_flows = self.batch_flows(triage)
        if triage.mostly_seen():
            return False
        schedule = triage.schedule([f is not None for f in flow_of], [f is None or not _quiet(f) for f in flow_of])

        def still_live(key: int) -> bool:
            flow = flow_of[key]
            return flow is not None and not _quiet(flow)

        start_l, length_l, ts_l, route_l, total_l = (
            triage.starts,
            triage.lengths,
            triage.ts,
            triage.route,
            triage.totals,
        )
        fast, packet, tcp_step, udp_step, flows = self.fast_path, self.packet, self.tcp, self.udp, self.flows
        made = len(flows)
        for i, _key in schedule.packets(still_live):
            start, ts, frame = start_l[i], ts_l[i], first_frame + i
            stop = start + length_l[i]
            route = route_l[i]
            if route == 0:
                comment = comments.get(i) if comments else None
                if comment is not None:  # as run() does: no fast path for a packet with a comment
                    packet(frame, ts, 1, link, buf[start:stop], comment)
                elif not (stop - start >= PLAIN_HEADER and fast(buf, start, stop, ts, frame)):
                    packet(frame, ts, 1, link, buf[start:stop], None)
            elif route == 1 or not fast(buf, start, stop, ts, frame):
                sender, receiver, segment = plain_transport(buf, start, total_l[i])
                if route == 17:
                    udp_step(sender, receiver, segment, frame, ts, None, None)
                else:
                    tcp_step(sender, receiver, segment, frame, ts, None)
            if len(flows) != made:  # a new flow (perhaps a key's second connection): a new epoch
                for flow in flows[made:]:
                    new_key = self.batch_epoch(triage, flow, i, flow_of, epochs, epoch_flows)
                    if new_key is not None and not _quiet(flow):
                        schedule.wake(new_key, i)
                made = len(flows)
        self.count_unseen(triage, schedule.seen, epochs, epoch_flows, first_frame)
        return True

    def batch_flows(self, triage: BatchTriage) -> tuple[list[Flow | None], list[Epoch], list[Flow]]:
        """The flow the reader knows of each key of a batch (or None), the epochs of those flows and
        the flows of the epochs; the batch's app tags the reader must see are marked in the triage."""
        flow_of: list[Flow | None] = []
        epochs: list[Epoch] = []  # the flows of the batch's keys, in the order they are known
        epoch_flows: list[Flow] = []
        for key, forward in enumerate(triage.keys):
            entry = self.table.get(forward)
            flow_of.append(None if entry is None else entry[0])
            if entry is not None:
                epochs.append((key, -1, entry[1] == triage.first_is_lower[key]))
                epoch_flows.append(entry[0])
        if triage.tags:
            has_uid = [flow is not None and flow.uid is not None for flow in flow_of]
            triage.see_tags(has_uid, set(self.apps), set(self.process_uids))
        return flow_of, epochs, epoch_flows

    @staticmethod
    def batch_epoch(
        triage: BatchTriage,
        flow: Flow,
        at: int,
        flow_of: list[Flow | None],
        epochs: list[Epoch],
        epoch_flows: list[Flow],
    ) -> int | None:
        """A flow made at packet ``at`` of a batch starts an epoch of its key; the key, or None when the
        flow is of no key of the batch."""
        number = 6 if flow.transport == "tcp" else 17
        key = triage.key_of_tuple.get((flow.client, flow.client_port, flow.server, flow.server_port, number))
        if key is not None:
            flow_of[key] = flow
            epochs.append((key, at, (flow.client, flow.client_port) == triage.lower_sides[key]))
            epoch_flows.append(flow)
        return key

    def count_unseen(
        self, triage: BatchTriage, seen: Any, epochs: list[Epoch], epoch_flows: list[Flow], first_frame: int
    ) -> None:
        """Add the packets of a batch the reader did not see to their flows, per direction."""
        for epoch, up, count, volume, index in triage.unseen_counts(seen, epochs):
            flow = epoch_flows[epoch]
            if up:
                flow.packets_up += count
                flow.bytes_up += volume
            else:
                flow.packets_down += count
                flow.bytes_down += volume
            frame = first_frame + index
            if frame > flow.last_frame:
                flow.last_frame = frame
                flow.ts_end = triage.ts[index]

    def fast_path(self, buf: bytes, start: int, stop: int, ts: int | None, frame: int) -> bool:
        """Count a packet of an established flow with nothing left to dissect; False if it is not one.

        Taken only by Ethernet frames with IPv4 without options or fragments, TCP without SYN and
        either no payload or a flow whose payload no longer matters, and UDP of flows that are only
        counted. ``buf[start:stop]`` is the frame.
        """
        (ethertype, version_ihl, total, fragment, protocol, src, dst, sport, dport, offset, flags) = plain_frame(
            buf, start
        )
        end = start + ETHERNET_HEADER + total
        if (
            ethertype != ETHERTYPE_IPV4
            or version_ihl != IPV4_NO_OPTIONS
            or fragment & FRAGMENTED
            or total < 28
            or end > stop
            or (stop - end >= 32 and buf[stop - 32 : stop - 28] == _TRAILER_MAGIC)
        ):
            return False
        entry = self.table.get((src, sport, dst, dport, protocol))
        if entry is None:
            return False
        flow = entry[0]
        if protocol == 6:
            payload = total - 20 - ((offset >> 4) << 2)
            if flags & 0x02 or (payload > 0 and flow.mode is not None):
                return False
            if payload < 0:
                payload = 0
            if flags & 0x05:
                if flags & 0x04:
                    flow.closed = "rst"
                elif flow.closed is None:
                    flow.closed = "fin"
                if flow.https is not None:
                    self.closing(flow, entry[1], flags)
        elif protocol == 17 and (flow.protocol == "other" or flow.quic_done):
            payload = total - 28
        else:
            return False
        flow.ts_end = ts
        flow.last_frame = frame
        if entry[1]:
            flow.packets_up += 1
            flow.bytes_up += payload
        else:
            flow.packets_down += 1
            flow.bytes_down += payload
        return True

    def packet(self, frame: int, ts: int | None, linktype: int, link: Any, data: bytes, comment: str | None) -> None:
        """Dissect one frame: link layer, IP, then TCP or UDP."""
        if link is None:
            self.unsupported_links.setdefault(linktype, []).append(frame)
            return
        start = link(data)
        if start is None:
            self.non_ip += 1
            return
        uid = None
        if comment is not None:
            if comment.startswith(PROCESS_COMMENT_PREFIX):  # Apple: a process name, no UID
                uid = self.process_uid(comment[len(PROCESS_COMMENT_PREFIX) :])
            else:
                uid = uid_from_comment(comment)
        elif linktype == 1 and data[-32:-28] == _TRAILER_MAGIC:
            trailer = read_trailer(data)
            if trailer is not None:
                uid = trailer[0]
                if trailer[1]:
                    self.apps.setdefault(uid, trailer[1])
        try:
            ip = parse_ip(start[0], data, start[1], self.fragments, frame)
        except IpError as exc:
            self.problems.add(f"frame {frame}", "malformed", f"{exc}; packet skipped")
            return
        if ip is None:
            return  # a fragment waiting for the rest of its datagram
        protocol = ip.protocol
        l4 = ip.payload
        if protocol == 6:
            if len(l4) < 20:
                self.problems.add(f"frame {frame}", "malformed", f"TCP header cut short ({len(l4)} bytes)")
                return
            self.tcp(ip.src, ip.dst, l4, frame, ts, uid)
        elif protocol == 17:
            if len(l4) < 8:
                self.problems.add(f"frame {frame}", "malformed", f"UDP header cut short ({len(l4)} bytes)")
                return
            self.udp(ip.src, ip.dst, l4, frame, ts, uid, ip.frames)

    def process_uid(self, name: str) -> int:
        """A stand-in negative UID for an Apple process name, so flows carry it like an Android app."""
        uid = self.process_uids.get(name)
        if uid is None:
            uid = self.process_uids[name] = PROCESS_UID_BASE - len(self.process_uids)
            self.apps[uid] = name
        return uid

    def flow_for(
        self,
        src: bytes,
        sport: int,
        dst: bytes,
        dport: int,
        proto: int,
        ts: int | None,
        frame: int,
        client_is_src: bool | None,
    ) -> tuple[Flow, bool]:
        if client_is_src is None:
            client_is_src = not server_is_source(sport, dport)
        transport = "tcp" if proto == 6 else "udp"
        if client_is_src:
            flow = Flow(len(self.flows), transport, src, sport, dst, dport, ts, frame)
        else:
            flow = Flow(len(self.flows), transport, dst, dport, src, sport, ts, frame)
        self.flows.append(flow)
        self.table[(src, sport, dst, dport, proto)] = (flow, client_is_src)
        self.table[(dst, dport, src, sport, proto)] = (flow, not client_is_src)
        known = self.dns_by_address.get(flow.server)
        if known is not None:
            flow.dns_name, flow.dns_frame = known
        return flow, client_is_src

    # -- TCP -------------------------------------------------------------------------------------
    def tcp(self, src: bytes, dst: bytes, l4: bytes, frame: int, ts: int | None, uid: int | None) -> None:
        sport, dport, seq, data_offset, flags = tcp_header(l4)
        entry = self.table.get((src, sport, dst, dport, 6))
        syn_only = flags & 0x12 == 0x02
        if entry is None or (syn_only and entry[0].closed is not None and entry[1]):
            client = True if syn_only else (False if flags & 0x12 == 0x12 else None)
            entry = self.flow_for(src, sport, dst, dport, 6, ts, frame, client)
        flow, up = entry
        header_len = (data_offset >> 4) * 4
        payload = l4[header_len:] if header_len >= 20 else b""
        flow.count(up, len(payload), ts, frame, uid)
        if flags & 0x04:
            flow.closed = "rst"
        elif flags & 0x01 and flow.closed is None:
            flow.closed = "fin"
        self.tcp_payload(flow, up, seq, flags, payload, frame, ts)
        if flags & 0x05 and flow.https is not None:
            self.closing(flow, up, flags)

    def tcp_payload(
        self, flow: Flow, up: bool, seq: int, flags: int, payload: bytes, frame: int, ts: int | None
    ) -> None:
        """The SYN and the payload (sequence number ``seq``) of a TCP segment (counted already)."""
        if flags & 0x02:
            if not flags & 0x10:
                flow.syn_seen = True
            elif flow.syn_seen:
                flow.handshake = True
            if flow.mode is not None:
                if flow.held_segments is not None:
                    self.release_held(flow)
                streams = flow.streams or self.open_streams(flow)
                streams[0 if up else 1].syn(seq)
        if not payload or flow.mode is None:
            return
        if flow.streams is None:  # no SYN seen: the first segment in the file may not be the first sent
            held = flow.held_segments
            if held is None:
                held = flow.held_segments = []
            held.append((up, seq, payload, frame, ts))
            if len(held) >= _HELD_SEGMENTS or flags & 0x05:
                self.release_held(flow)
            return
        self.segment(flow, up, seq, payload, frame, ts)

    def closing(self, flow: Flow, up: bool, flags: int) -> None:
        """A FIN or RST of a flow being decrypted: once both ends are done and no segment waits for a
        retransmission, its exchanges are read and its TLS and HTTP state dropped (not kept to the
        end of the capture: memory follows the open connections, not the file)."""
        if not flags & 0x04:
            flow.fins |= 1 if up else 2
            if flow.fins != 3:
                return
        https, streams = flow.https, flow.streams
        if https is None or (streams is not None and (streams[0].holding or streams[1].holding)):
            return
        flow.https_result, flow.https = https.finish(), None
        flow.mode = None
        flow.streams = flow.tls_readers = None
        kept = self.bodies
        for request, response in flow.https_result.exchanges:
            for message in (request, response):
                if message is not None and message.body:
                    message.body = kept.setdefault(message.body, message.body)
        starts = {request.frames[0] for request, _ in flow.https_result.exchanges if request.frames}
        flow.http_ts = {frame: ts for frame, ts in flow.http_ts.items() if frame in starts}

    def segment(self, flow: Flow, up: bool, seq: int, payload: bytes, frame: int, ts: int | None) -> None:
        assert flow.streams is not None
        stream = flow.streams[0 if up else 1]
        missed = stream.before_start_bytes
        for event in stream.segment(seq, payload, frame):
            if flow.mode is None:
                break
            self.stream_event(flow, up, event, ts)
        if not missed and stream.before_start_bytes:  # the first such segment of this direction
            self.problems.add(
                f"frame {frame}",
                "missing",
                f"flow {flow.id}: this {'client to server' if up else 'server to client'} segment was sent "
                "before the one the capture starts the stream with (no handshake captured, segments out "
                "of order); bytes before that start are not read",
                "warning",
            )

    def release_held(self, flow: Flow) -> None:
        """Start the streams of a flow seen without its SYN at the lowest sequence number each
        direction showed among its first segments, then give them those segments in capture order."""
        held, flow.held_segments = flow.held_segments, None
        if not held or flow.mode is None:
            return
        streams = flow.streams or self.open_streams(flow)
        for side, stream in ((True, streams[0]), (False, streams[1])):
            seqs = [seq for up, seq, _payload, _frame, _ts in held if up == side]
            if seqs:
                first = seqs[0]  # lowest in sequence space, where numbers wrap around at 2**32
                lowest = min(((seq - first + _HALF_SEQ) & _SEQ_MASK) - _HALF_SEQ for seq in seqs)
                stream.syn((first + lowest - 1) & _SEQ_MASK)
        for up, seq, payload, frame, ts in held:
            if flow.mode is None or flow.streams is None:
                return
            self.segment(flow, up, seq, payload, frame, ts)

    def open_streams(self, flow: Flow) -> tuple[StreamReassembler, StreamReassembler]:
        flow.streams = (StreamReassembler(), StreamReassembler())
        return flow.streams

    def stream_event(self, flow: Flow, up: bool, event: Chunk | Gap, ts: int | None) -> None:
        if isinstance(event, Gap):
            if flow.mode == "http" and flow.http is not None:
                parser = flow.http.requests if up else flow.http.responses
                self.collect_http(flow, parser.gap(), up)
                self.problems.add(
                    f"flow {flow.id}",
                    "missing",
                    f"{event.size} bytes {'client to server' if up else 'server to client'} at stream "
                    f"offset {event.offset} were not captured; HTTP parsing resumed after the gap",
                    "warning",
                )
            elif flow.mode == "h2c" and flow.h2c is not None:
                flow.h2c.gap(0 if up else 1)
            elif flow.mode == "tls":
                if flow.https is not None:
                    flow.https.gap(up)
                else:
                    self.finish_tls_side(flow, up)
            return
        data, frame = event.data, event.frame
        if flow.mode == "?":
            self.decide_tcp(flow, up, data)
        mode = flow.mode
        if mode == "tls":
            self.tls_data(flow, up, data, frame, ts)
        elif mode == "http":
            assert flow.http is not None
            flow.http_ts.setdefault(frame, ts)
            if up:
                self.collect_http(flow, flow.http.client(data, frame), True)
            else:
                self.collect_http(flow, flow.http.server(data, frame), False)
            self.report_http_error(flow, up, frame)
            tunnel = flow.http.tunnel
            if tunnel is not None or (flow.http.requests.stopped and flow.http.responses.stopped):
                if tunnel == "connect":
                    flow.mode = "tls?"
                else:
                    flow.mode = None
                    flow.streams = None
        elif mode == "h2c":
            assert flow.h2c is not None
            flow.http_ts.setdefault(frame, ts)
            flow.h2c.feed(0 if up else 1, data, (frame,))
        elif mode == "tls?":  # inside a CONNECT tunnel: TLS expected from the client
            if up and looks_like_tls(data):
                flow.mode = "tls"
                flow.protocol = "tls"
                self.tls_data(flow, up, data, frame, ts)
            elif up:
                flow.mode = None
                flow.streams = None
        elif mode == "dns":
            self.dns_tcp(flow, up, data, frame, ts)

    def decide_tcp(self, flow: Flow, up: bool, data: bytes) -> None:
        if looks_like_tls(data):
            flow.mode = flow.protocol = "tls"
        elif up and len(data) >= 4 and PREFACE.startswith(data[: len(PREFACE)]):
            flow.mode, flow.protocol = "h2c", "http"  # HTTP/2 with prior knowledge (RFC 9113 §3.3)
            flow.h2c = Http2Connection(header_budget=self.header_budget)
        elif (up and looks_like_http_request(data)) or (not up and data.startswith(b"HTTP/1.")):
            flow.mode = flow.protocol = "http"
            flow.http = Http1Connection()
        elif flow.server_port == 53:
            flow.mode = flow.protocol = "dns"
        else:
            # A capture that starts mid-connection may begin inside a message: give the flow a few
            # chunks to show the start of one before counting it only.
            flow.undecided_chunks += 1
            if flow.undecided_chunks >= _UNDECIDED_CHUNKS:
                flow.mode = None
                flow.streams = None

    # -- TLS -------------------------------------------------------------------------------------
    def keys_now(self) -> KeyLog | None:
        """The key log, with the secrets of any Decryption Secrets Block read so far merged in."""
        capture = self.capture_file
        if capture is not None and len(capture.decryption_secrets) > self.secrets_read:
            for secrets_type, data in capture.decryption_secrets[self.secrets_read :]:
                if secrets_type == _TLS_KEY_LOG_SECRETS:
                    found = KeyLog.parse_text(data.decode("utf-8", "replace"), "pcapng DSB")
                    if self.keys is None:
                        self.keys = KeyLog()
                    self.keys.merge(found)
            self.secrets_read = len(capture.decryption_secrets)
        return self.keys

    def tls_data(self, flow: Flow, up: bool, data: bytes, frame: int, ts: int | None) -> None:
        https = flow.https
        if https is None and flow.tls_readers is None and flow.https_result is None:
            keys = self.keys_now()
            if keys:
                https = flow.https = HttpsFlow(keys, self.header_budget)
        if https is not None:
            flow.http_ts.setdefault(frame, ts)
            https.feed(up, data, frame)
            if flow.client_hello is not None and flow.server_hello is not None:
                if not https.decrypting:
                    self.finish_tls_side(flow, up)
                return  # the handshake is read: only decryption goes on
        if flow.tls_readers is None:
            flow.tls_readers = (HandshakeReader(), HandshakeReader())
        reader = flow.tls_readers[0 if up else 1]
        if up and flow.client_hello is None:
            if flow.tls_ts is None:
                flow.tls_ts = ts
            flow.hello_frames.append(frame)
        messages = reader.feed(data)
        for kind, body in messages:
            try:
                if kind == 1 and up and flow.client_hello is None:
                    flow.client_hello = parse_client_hello(body)
                    self.tls_flows.append(flow)
                elif kind == 2 and not up and flow.server_hello is None:
                    flow.server_hello = parse_server_hello(body)
                    flow.server_hello_frame = frame
                    flow.alpn = flow.server_hello.alpn
            except TlsError as exc:
                self.problems.add(
                    f"frame {frame}",
                    "malformed",
                    f"flow {flow.id}: {'ClientHello' if kind == 1 else 'ServerHello'} unreadable: {exc}",
                    "warning",
                )
        if reader.error is not None and not reader.messages_seen:
            if flow.client_hello is None and up:
                flow.protocol = "other"
            flow.mode = None
            flow.streams = None
            return
        if (up and flow.client_hello is not None) or reader.done:
            self.finish_tls_side(flow, up)

    def finish_tls_side(self, flow: Flow, up: bool) -> None:
        readers = flow.tls_readers
        if readers is None:
            flow.mode = None
            flow.streams = None
            return
        readers[0 if up else 1].done = True
        if (readers[0].done or flow.client_hello is not None) and (readers[1].done or flow.server_hello is not None):
            https = flow.https
            if https is not None:
                if https.decrypting:
                    return  # keep the streams: the key log opens this flow
                flow.https_result, flow.https = https.finish(), None
            flow.mode = None
            flow.streams = None

    # -- HTTP ------------------------------------------------------------------------------------
    def report_http_error(self, flow: Flow, up: bool, frame: int) -> None:
        """A problem row, once, for a direction whose HTTP/1 parsing stopped on damaged data."""
        assert flow.http is not None
        parser = flow.http.requests if up else flow.http.responses
        if parser.error is not None:
            direction = "client to server" if up else "server to client"
            self.problems.add(
                f"frame {frame}",
                "malformed",
                f"flow {flow.id}: HTTP/1 {direction}: {parser.error}; the rest of this direction is not read",
            )
            parser.error = None

    def collect_http(self, flow: Flow, messages: list[HttpMessage], up: bool) -> None:
        for message in messages:
            if up:
                flow.http_requests.append(message)
                if flow.http_host is None:
                    host = _host_of(message)
                    if host:
                        flow.http_host = host
                        flow.http_frames.append(message.frames[0])
                if message.method == "CONNECT":
                    flow.tunnel_host = message.target.rsplit(":", 1)[0].strip("[]").lower()
            else:
                flow.http_responses.append(message)

    # -- UDP -------------------------------------------------------------------------------------
    def udp(
        self,
        src: bytes,
        dst: bytes,
        l4: bytes,
        frame: int,
        ts: int | None,
        uid: int | None,
        fragment_frames: tuple[int, ...] | None,
    ) -> None:
        sport, dport, length = udp_header(l4)
        entry = self.table.get((src, sport, dst, dport, 17))
        if entry is None:
            entry = self.flow_for(src, sport, dst, dport, 17, ts, frame, None)
        flow, up = entry
        payload = l4[8:length] if 8 <= length <= len(l4) else l4[8:]
        flow.count(up, len(payload), ts, frame, uid)
        protocol = flow.protocol
        if protocol == "other" or not payload:
            return
        if protocol is None:
            origin = self.quic_origin(payload)
            if origin is not None:
                protocol = flow.protocol = "quic"
                flow.quic, flow.quic_flow, flow.quic_origin = origin.quic, origin.quic_flow, origin
            elif sport in _DNS_KINDS or dport in _DNS_KINDS:
                protocol = flow.protocol = "dns"
            elif is_quic_long_header(payload) or (
                (sport == 443 or dport == 443)
                and len(payload) >= 21
                and (payload[0] & 0x40 or (payload[0] & 0x01 and payload[9:11] == b"Q0"))
            ):  # an Initial; a capture that starts after them (short headers); Google QUIC
                protocol = flow.protocol = "quic"
                flow.quic = QuicInitialReader()
                keys = self.keys_now()
                if keys:
                    flow.quic_flow = QuicFlow(keys)
            elif sport == 1900 or dport == 1900:
                protocol = flow.protocol = "ssdp"
            else:
                flow.protocol = "other"
                return
        if protocol == "dns":
            kind = _DNS_KINDS.get(dport) or _DNS_KINDS.get(sport) or "dns"
            self.dns_message(flow, payload, frame, ts, kind, src, dst, uid, fragment_frames)
        elif protocol == "quic":
            self.quic_datagram(flow, up, payload, frame, ts)
        elif protocol == "ssdp":
            message = parse_datagram(payload, frame)
            if message is not None and message.is_request:
                self.http_datagrams.append((flow, message, ts))

    def quic_origin(self, payload: bytes) -> Flow | None:
        """The QUIC flow a new UDP flow continues: its first packet goes to a connection id already seen."""
        if not self.quic_cids or len(payload) < 21 or payload[0] & 0x80:
            return None
        for length in self.quic_cid_lengths:
            origin = self.quic_cids.get(payload[1 : 1 + length])
            if origin is not None:
                return origin
        return None

    def quic_datagram(self, flow: Flow, up: bool, payload: bytes, frame: int, ts: int | None) -> None:
        decrypting = flow.quic_flow
        if decrypting is not None and not decrypting.finished:
            origin = flow.quic_origin or flow
            origin.http_ts.setdefault(frame, ts)
            decrypting.datagram(up, payload, frame)
            cids = decrypting.decryptor.cids
            if len(cids) != self.quic_cid_counts.get(origin.id):
                self.quic_cid_counts[origin.id] = len(cids)
                for cid in cids:
                    if len(cid) >= 4:  # shorter ones would match unrelated flows' first bytes
                        self.quic_cids.setdefault(cid, origin)
                        if len(cid) not in self.quic_cid_lengths:
                            self.quic_cid_lengths = sorted({*self.quic_cid_lengths, len(cid)}, reverse=True)
        if flow.quic_origin is not None:
            return
        reader = flow.quic
        if reader is None or reader.finished:
            return
        had_hello = reader.client_hello is not None
        reader.datagram(payload, up, frame)
        if reader.client_hello is not None and not had_hello:
            flow.client_hello = reader.client_hello
            flow.hello_frames = list(reader.frames)
            flow.tls_ts = ts
            self.tls_flows.append(flow)
        if reader.server_hello is not None and flow.server_hello is None:
            flow.server_hello = reader.server_hello
            flow.server_hello_frame = frame
        if reader.error is not None and reader.client_hello is None and not reader.finished:
            self.problems.add(
                f"frame {frame}", "decode", f"flow {flow.id}: QUIC Initial unreadable: {reader.error}", "warning"
            )
            reader.error = None

    def quic_problems(self, flow: Flow, result: HttpsResult) -> None:
        """Problem rows of a QUIC flow read with keys: why it was not decrypted, what was skipped."""
        if flow.alpn is None:
            flow.alpn = result.tls.alpn
        if not result.tls.decrypted:
            self.problems.add(f"flow {flow.id}", "missing", f"QUIC not decrypted: {result.tls.reason}", "warning")
        for problem in result.problems:
            self.problems.add(f"flow {flow.id}", "malformed", problem, "warning")

    # -- DNS -------------------------------------------------------------------------------------
    def dns_tcp(self, flow: Flow, up: bool, data: bytes, frame: int, ts: int | None) -> None:
        if flow.dns_buffers is None:
            flow.dns_buffers = [b"", b""]
        side = 0 if up else 1
        buffer = flow.dns_buffers[side] + data
        while len(buffer) >= 2:
            size = (buffer[0] << 8) | buffer[1]
            if len(buffer) < 2 + size:
                break
            src, dst = (flow.client, flow.server) if up else (flow.server, flow.client)
            self.dns_message(flow, buffer[2 : 2 + size], frame, ts, "dns", src, dst, flow.uid, None)
            buffer = buffer[2 + size :]
        if len(buffer) > _MAX_DNS_TCP:
            flow.mode = None
            flow.streams = None
            buffer = b""
        flow.dns_buffers[side] = buffer

    def dns_message(
        self,
        flow: Flow,
        payload: bytes,
        frame: int,
        ts: int | None,
        kind: str,
        src: bytes,
        dst: bytes,
        uid: int | None,
        fragment_frames: tuple[int, ...] | None,
    ) -> None:
        try:
            message = parse_dns(payload)
        except DnsError as exc:
            self.problems.add(f"frame {frame}", "malformed", f"{kind.upper()} message unreadable: {exc}; skipped")
            return
        if message.damage:
            self.problems.add(
                f"frame {frame}",
                "malformed",
                f"{kind.upper()} message partly damaged ({message.damage}); the readable part was kept",
                "warning",
            )
        if message.response:
            for _owner, rtype, value in message.answers:
                if rtype in ("A", "AAAA") and message.questions:
                    try:
                        address = bytes(_pack_address(value))
                    except OSError:
                        continue
                    self.dns_by_address[address] = (message.questions[0][0], frame)
        client, server = (dst, src) if message.response else (src, dst)
        frames = fragment_frames or (frame,)
        answers = [value for _owner, _rtype, value in message.answers]
        questions: list[tuple[str | None, str | None]] = list(message.questions) or [(None, None)]
        for qname, qtype in questions:
            self.dns_rows.append(
                (
                    ts,
                    uid if uid is not None else flow.uid,
                    flow.id,
                    client,
                    server,
                    kind,
                    message.response,
                    qname,
                    qtype,
                    message.rcode,
                    answers,
                    cname_chain(qname, message.answers) if qname else [],
                    evidence(self.capture, frames),
                )
            )

    # -- end of capture --------------------------------------------------------------------------
    def finish(self) -> None:
        for flow in self.flows:
            if flow.held_segments is not None:
                self.release_held(flow)
            if flow.streams is not None and flow.mode is not None:
                for up, stream in ((True, flow.streams[0]), (False, flow.streams[1])):
                    for event in stream.flush():
                        if flow.mode is None:
                            break
                        self.stream_event(flow, up, event, flow.ts_end)
            if flow.http is not None:
                self.collect_http(flow, flow.http.requests.close(), True)
                self.collect_http(flow, flow.http.responses.close(), False)
            if flow.h2c is not None:
                for problem in flow.h2c.problems:
                    self.problems.add(f"flow {flow.id}", "malformed", f"cleartext HTTP/2 {problem}", "warning")
            if flow.https is not None:
                flow.https_result, flow.https = flow.https.finish(), None
            if flow.quic_origin is not None:
                flow.client_hello = flow.quic_origin.client_hello  # for its host name
                continue
            if flow.quic_flow is not None:
                flow.https_result, flow.quic_flow = flow.quic_flow.finish(), None
                self.quic_problems(flow, flow.https_result)
                continue
            result = flow.https_result
            if result is not None and flow.alpn is None:
                flow.alpn = result.tls.alpn  # TLS 1.3 sends it encrypted: known once decrypted
            if result is not None:
                for problem in result.problems:
                    self.problems.add(f"flow {flow.id}", "malformed", f"decrypted {problem}", "warning")
        if len(self.fragments):
            heads = self.fragments.incomplete()
            for (src, dst, protocol, _ident), part, fragment_frames in heads:
                # As Wireshark does, read what the first fragment holds (a DNS question often).
                self.problems.add(
                    f"frame {fragment_frames[0]}",
                    "truncated",
                    f"IP datagram never completed (frames {', '.join(map(str, fragment_frames))}); its first "
                    "fragment was read alone",
                    "warning",
                )
                if protocol == 17 and len(part) >= 8:
                    self.udp(src, dst, part, fragment_frames[0], None, None, fragment_frames)
            if len(self.fragments) > len(heads):
                self.problems.add(
                    None,
                    "truncated",
                    f"{len(self.fragments) - len(heads)} fragmented IP datagrams lack their first fragment; skipped",
                )
        for linktype, frames in self.unsupported_links.items():
            shown = ", ".join(str(f) for f in frames[:5]) + (" ..." if len(frames) > 5 else "")
            self.problems.add(
                f"frame {frames[0]}",
                "unsupported",
                f"link type {linktype} is not read: {len(frames)} frames skipped (frames {shown})",
            )


def _quiet(flow: Flow) -> bool:
    """Whether the reader would only count this flow's payload packets (its fast path)."""
    if flow.transport == "tcp":
        return flow.mode is None
    return flow.protocol == "other" or flow.quic_done


def _pack_address(text: str) -> bytes:
    import socket

    return socket.inet_pton(socket.AF_INET6 if ":" in text else socket.AF_INET, text)


def _host_of(message: HttpMessage) -> str | None:
    if message.method == "CONNECT":
        return message.target.rsplit(":", 1)[0].strip("[]").lower() or None
    if message.target.startswith(("http://", "https://")):
        host = urlsplit(message.target).hostname
        if host:
            return host.lower()
    host = message.header("host")
    if not host:
        return None
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _decoded(
    message: HttpMessage | None, problems: ProblemLog, where: str, capture: Budget, request: Budget
) -> bytes | None:
    if message is None or not message.body:
        return None
    coding = message.header("content-encoding")
    if not coding:
        return message.body
    try:
        return decode_within(message.body, coding, capture, request)
    except ContentDecodingError as exc:
        problems.add(where, "decode", f"body kept encoded: {exc}", "warning")
        return message.body


def _cookies(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    found = []
    for name, value in headers:
        if name.lower() == "cookie":
            for part in value.split(";"):
                key, _, val = part.strip().partition("=")
                if key:
                    found.append((key, val))
    return found


def _shared(text: str, same: dict[str, str]) -> str:
    """``text``, or the equal text seen before (the same object: kept once in memory)."""
    return same.setdefault(text, text)


def _once(body: bytes | None, kept: dict[bytes, bytes]) -> bytes | None:
    """``body``, or the equal body seen before (the same object: kept once in memory)."""
    return kept.setdefault(body, body) if body else body


def _requests_table(reader: _Reader) -> pd.DataFrame:
    rows: dict[str, list[Any]] = defaultdict(list)  # only the columns filled here
    items: list[tuple[Flow, HttpMessage, HttpMessage | None, int | None, str]] = []
    for flow in reader.flows:
        for index, request in enumerate(flow.http_requests):
            response = flow.http_responses[index] if index < len(flow.http_responses) else None
            items.append((flow, request, response, flow.http_ts.get(request.frames[0]), "http"))
        if flow.https_result is not None:
            for request, response in flow.https_result.exchanges:
                items.append((flow, request, response, flow.http_ts.get(request.frames[0]), "https"))
        if flow.h2c is not None:
            for request, response in http2_exchanges(flow.h2c):
                items.append((flow, request, response, flow.http_ts.get(request.frames[0]), "http"))
    for flow, message, ts in reader.http_datagrams:
        items.append((flow, message, None, ts, "httpu"))
    items.sort(key=lambda item: item[1].frames[0])
    items.reverse()  # popped from the end: in frame order, and in reading order within a frame
    for flow in reader.flows:  # the messages are in ``items`` only: each is dropped once its row is made
        flow.http_requests, flow.http_responses = [], []
        if flow.https_result is not None:
            flow.https_result.exchanges = []
    decoding = Budget(MAX_DECODED_PER_CAPTURE)  # all bodies of the capture together
    kept: dict[bytes, bytes] = {}  # each distinct body once: a capture fetches the same script again and again
    same: dict[str, str] = {}  # each distinct address, host, method ... once
    while items:
        flow, request, response, ts, scheme = items.pop()
        where = f"frame {request.frames[0]}"
        request_decoding = Budget(MAX_DECODED_SIZE)  # the request's two bodies together
        host = _host_of(request) or address_text(flow.server)
        target = request.target
        if request.method == "CONNECT":
            url, path, query = target, "", ""
        elif target.startswith(("http://", "https://")):
            url = target
            parts = urlsplit(target)
            path, query = parts.path or "/", parts.query
        else:
            header_host = (request.header("host") or host).strip()
            url = f"{scheme}://{header_host}{target if target != '*' else ''}"
            path, _, query = target.partition("?")
        frames = list(request.frames) + (response.frames[:1] if response is not None else [])
        content_type = request.header("content-type")
        rows["ts"].append(ts)
        rows["capture"].append(reader.capture)
        rows["app"].append(reader.apps.get(flow.uid) if flow.uid is not None else None)
        rows["flow_id"].append(flow.id)
        rows["client"].append(_shared(address_text(flow.client), same))
        rows["server_ip"].append(_shared(address_text(flow.server), same))
        rows["server_port"].append(flow.server_port)
        rows["scheme"].append(scheme)
        rows["host"].append(_shared(host, same))
        rows["sni"].append(flow.sni)
        rows["method"].append(_shared(request.method.upper(), same))
        rows["url"].append(url)
        rows["path"].append(path)
        rows["query"].append(query)
        rows["http_version"].append(request.version.upper() if request.version.upper().startswith("HTTP/") else None)
        rows["request_headers"].append(request.headers)
        rows["cookies"].append(_cookies(request.headers))
        rows["body"].append(_once(_decoded(request, reader.problems, where, decoding, request_decoding), kept))
        rows["content_type"].append(content_type)
        rows["status"].append(response.status if response is not None else None)
        rows["response_headers"].append(response.headers if response is not None else [])
        rows["response_body"].append(
            _once(_decoded(response, reader.problems, where, decoding, request_decoding), kept)
        )
        rows["response_content_type"].append(response.header("content-type") if response is not None else None)
        upgrade = (request.header("upgrade") or "").lower()
        rows["websocket"].append(upgrade == "websocket" and response is not None and response.status == 101)
        rows["page"].append(None)
        rows["decrypted"].append(scheme == "https")
        rows["evidence"].append(evidence(reader.capture, frames))
    rows["ts"] = timestamps(rows["ts"])
    return TABLES["requests"].validate(TABLES["requests"].frame(rows))


def _dns_table(reader: _Reader) -> pd.DataFrame:
    names = [
        "ts",
        "app",
        "flow_id",
        "client",
        "server",
        "kind",
        "response",
        "qname",
        "qtype",
        "rcode",
        "answers",
        "cnames",
        "evidence",
    ]
    columns: dict[str, list[Any]] = {name: [] for name in names}
    for row in reader.dns_rows:
        for name, value in zip(names, row, strict=True):
            columns[name].append(value)
    columns["app"] = [reader.apps.get(uid) if uid is not None else None for uid in columns["app"]]
    columns["client"] = [address_text(a) for a in columns["client"]]
    columns["server"] = [address_text(a) for a in columns["server"]]
    columns["capture"] = [reader.capture] * len(reader.dns_rows)
    columns["ts"] = timestamps(columns["ts"])
    return TABLES["dns"].validate(TABLES["dns"].frame(columns))


def _tls_table(reader: _Reader) -> pd.DataFrame:
    columns: dict[str, list[Any]] = defaultdict(list)  # only the columns filled here
    for flow in reader.tls_flows:
        hello = flow.client_hello
        assert hello is not None
        server = flow.server_hello
        frames = list(flow.hello_frames) + ([flow.server_hello_frame] if flow.server_hello_frame else [])
        columns["ts"].append(flow.tls_ts)
        columns["capture"].append(reader.capture)
        columns["app"].append(reader.apps.get(flow.uid) if flow.uid is not None else None)
        columns["flow_id"].append(flow.id)
        columns["sni"].append(hello.sni)
        columns["versions_offered"].append(hello.versions)
        columns["version"].append(server.version if server else None)
        columns["cipher"].append(server.cipher if server else None)
        columns["alpn_offered"].append(hello.alpn)
        columns["alpn"].append(flow.alpn)
        columns["ech"].append(hello.ech)
        columns["evidence"].append(evidence(reader.capture, frames))
    columns["ts"] = timestamps(columns["ts"])
    return TABLES["tls"].validate(TABLES["tls"].frame(columns))


def read_pcap(
    path: str | os.PathLike[str],
    stream: IO[bytes],
    problems: ProblemLog,
    keys: KeyLog | None = None,
    *,
    batched: bool = True,
) -> PcapContents:
    """Read a pcap or pcapng stream (already decompressed) into tables.

    TLS flows are decrypted with ``keys`` and with the pcapng file's own Decryption Secrets Blocks.
    ``batched=False`` makes the per-packet reader see every packet of a pcap or pcapng file instead
    of leaving bulk packets to :mod:`toolkit.io.packet_batch` (same tables, slower: for tests).

    Raises:
        CaptureError: the file header is not pcap/pcapng (damage later on becomes ``problems``
            rows, or raises when ``problems`` is strict).
    """
    with _collector_paused():
        contents = _read_pcap(os.fspath(path), stream, problems, keys, batched)
    release_freed_memory()
    return contents


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector: a capture makes millions of short-lived objects and
    no reference cycles, so the collector would only spend time walking them (a third of the time
    of building the tables)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _read_pcap(path: str, stream: IO[bytes], problems: ProblemLog, keys: KeyLog | None, batched: bool) -> PcapContents:
    capture = CaptureFile(path, stream, problems)
    reader = _Reader(path, problems, keys, batched)
    reader.run(capture)
    reader.finish()
    release_freed_memory()  # what reading freed, before the tables are built on top of it
    for uid, (package, _app) in capture.uid_map.items():
        reader.apps[uid] = package
    meta: dict[str, Any] = {
        "interfaces": [{**i.as_dict(), "linktype_name": LINKTYPE_NAMES.get(i.linktype)} for i in capture.interfaces],
        "hardware": capture.hardware,
        "os": capture.os,
        "frames_not_ip": reader.non_ip,
        "decryption_secrets_blocks": len(capture.decryption_secrets),
        "uid_map": {uid: list(names) for uid, names in capture.uid_map.items()},
    }
    stream_frames = {
        flow.id: flow.https_result.stream_frames
        for flow in reader.flows
        if flow.protocol == "quic" and flow.https_result is not None
    }
    if stream_frames:
        meta["quic_stream_frames"] = stream_frames  # STREAM frames read per QUIC flow (to compare with tshark)
    return PcapContents(
        flows=flows_table(reader.flows, reader.capture, reader.apps),
        dns=_dns_table(reader),
        tls=_tls_table(reader),
        requests=_requests_table(reader),
        format=capture.format,
        tool=capture.tool,
        meta=meta,
    )


def tcp_streams(
    path: str | os.PathLike[str], stream: IO[bytes], problems: ProblemLog, max_bytes: int = 64 * 1024 * 1024
) -> Iterator[tuple[Flow, bool, list[Chunk | Gap]]]:
    """Every TCP connection's two reassembled directions: (flow, client_to_server, events).

    For readers that need whole streams (TLS decryption, HTTP/2): chunks carry their frame
    numbers; at most ``max_bytes`` per direction are kept, the rest becomes a :class:`Gap`.
    Streams are yielded at the end of the capture, in flow order.
    """
    path = os.fspath(path)
    capture = CaptureFile(path, stream, problems)
    reader = _Reader(path, problems)
    kept: dict[tuple[int, bool], list[Chunk | Gap]] = {}
    sizes: dict[tuple[int, bool], int] = {}

    def keep(flow: Flow, up: bool, event: Chunk | Gap, ts: int | None) -> None:
        key = (flow.id, up)
        events = kept.setdefault(key, [])
        size = sizes.get(key, 0)
        if isinstance(event, Chunk) and size + len(event.data) > max_bytes:
            event = Gap(event.offset, len(event.data))
        elif isinstance(event, Chunk):
            sizes[key] = size + len(event.data)
        events.append(event)

    reader.stream_event = keep  # type: ignore[method-assign]
    with _collector_paused():
        reader.run(capture)
    for flow in reader.flows:
        if flow.held_segments is not None:
            reader.release_held(flow)
        if flow.streams is not None:
            for up, assembler in ((True, flow.streams[0]), (False, flow.streams[1])):
                for event in assembler.flush():
                    keep(flow, up, event, None)
    for flow in reader.flows:
        if flow.transport == "tcp":
            for up in (True, False):
                yield flow, up, kept.pop((flow.id, up), [])

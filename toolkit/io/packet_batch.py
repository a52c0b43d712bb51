"""A batch of Ethernet frames at a time: numpy counts the packets no dissector needs.

Most packets of a capture carry bulk data of flows whose facts are already known: a TLS stream
after both hellos, a STUN conversation, the acknowledgements of every connection. The per-packet
reader (:class:`toolkit.io.pcap._Reader`) only needs to *count* those. This module reads the
headers of a whole run of frames at once (classic pcap records or plain pcapng packet blocks; one
gather into an ``(n, 48)`` byte matrix), sorts the packets into

- **always seen**: not plain IPv4 TCP/UDP over Ethernet (IPv6, VLAN, options, fragments, TCP
  shorter than its header ...), TCP with SYN, FIN or RST, and a packet tagged with an app (a
  PCAPdroid trailer or ``u-<uid>`` comment) that may still give its flow a UID or the reader an
  app name (:func:`_see_tags`);
- **empty TCP segments** of a flow that exists: the reader would only count them;
- **payload packets** (TCP data, UDP datagrams): the reader must see them while their flow is
  still *live* (its TLS hellos, HTTP messages, DNS or QUIC Initials are being read), and only
  counts them once the flow is *quiet*,

and hands the reader, in frame order, the packets it must see: the always-seen ones, the first
packet of each flow not yet known, and each flow's payload packets until that flow goes quiet
(a heap merges the flows' queues). Whatever the reader did not see is then counted per flow and
direction with ``numpy.bincount``. The tables are the same as when the reader sees every packet
(``tests/io/test_packet_batch.py`` checks that on the corpus and the lab captures); only the work
is less.

>>> import io
>>> from toolkit.problems import ProblemLog
>>> from toolkit.io.pcap import read_pcap
>>> from toolkit.lab.pcap_builder import PcapBuilder
>>> builder = PcapBuilder()
>>> builder.tls_connection("10.0.0.2", "192.0.2.9", "example.org", records=40)
>>> flows = read_pcap("x.pcap", io.BytesIO(builder.pcap()), ProblemLog("x.pcap")).flows
>>> flows[["packets_up", "packets_down", "closed"]].values.tolist()
[[44, 43, 'fin']]
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from toolkit.io.pcapdroid import uid_from_comment
from toolkit.io.pcapfile import PROCESS_COMMENT_PREFIX

if TYPE_CHECKING:
    from toolkit.io.flows import Flow
    from toolkit.io.pcap import _Reader

__all__ = ["pcap_frames", "read_ethernet_batch"]

_HEADER = 48  # Ethernet (14) + IPv4 (20) + TCP up to its flags (14)
_MOSTLY = 0.8  # share of always-seen packets above which a batch is read packet by packet
_TRAILER_MAGIC = np.frombuffer(b"\x01\x07\x20\x21", dtype=np.uint8)


def _quiet(flow: Flow) -> bool:
    """Whether the reader would only count this flow's payload packets (its fast path)."""
    if flow.transport == "tcp":
        return flow.mode is None
    return flow.protocol == "other" or flow.quic_done


def pcap_frames(
    buf: bytes, offsets: list[int], big_endian: bool, ns_per_fraction: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the frames of classic pcap records start in ``buf``, their captured lengths and times (ns).

    ``offsets`` are where the records' 16-byte headers start (:meth:`~toolkit.io.pcapfile.CaptureFile.pcap_spans`).

    >>> import struct
    >>> record = struct.pack("<IIII", 2, 5, 3, 3) + b"abc"
    >>> [a.tolist() for a in pcap_frames(record * 2, [0, 19], False, 1000)]
    [[16, 35], [3, 3], [2000005000, 2000005000]]
    """
    data = np.frombuffer(buf, dtype=np.uint8)
    off = np.asarray(offsets, dtype=np.int64)
    head = data[off[:, None] + np.arange(16, dtype=np.int64)]
    fields = head.view(">u4" if big_endian else "<u4").astype(np.int64)
    return off + 16, fields[:, 2], fields[:, 0] * 1_000_000_000 + fields[:, 1] * ns_per_fraction


def read_ethernet_batch(
    reader: _Reader,
    buf: bytes,
    starts: np.ndarray | list[int],
    lengths: np.ndarray | list[int],
    times: np.ndarray | list[int],
    first_frame: int,
    link: Any,
    comments: Mapping[int, str] | None = None,
) -> bool:
    """Feed one run of Ethernet frames to ``reader``; False (nothing fed) when the run is mostly
    packets the reader must see anyway, which it then reads one by one.

    Frame ``first_frame + i`` is ``buf[starts[i] : starts[i] + lengths[i]]``, captured at
    ``times[i]`` (ns): classic pcap records (:func:`pcap_frames`) or pcapng packet blocks
    (:class:`toolkit.io.pcapfile.EthernetRun`, with the packets' ``comments`` by position), whole
    and checked; ``link`` is the Ethernet parser of :mod:`toolkit.io.linktypes`.
    """
    n = len(starts)
    data = np.frombuffer(buf, dtype=np.uint8)
    off = np.asarray(starts, dtype=np.int64)
    cells = off[:, None] + np.arange(_HEADER, dtype=np.int64)
    np.minimum(cells, len(data) - 1, out=cells)  # short frames read junk past their end: masked below
    head = data[cells]
    incl = np.asarray(lengths, dtype=np.int64)
    ts = np.asarray(times, dtype=np.int64)

    def be16(at: int) -> np.ndarray:
        return (head[:, at].astype(np.int64) << 8) | head[:, at + 1]

    def be32(at: int) -> np.ndarray:
        return (be16(at) << 16) | be16(at + 2)

    total = be16(16)
    proto = head[:, 23]
    tcp = proto == 6
    plain = (
        (incl >= 48)
        & (be16(12) == 0x0800)
        & (head[:, 14] == 0x45)
        & ((be16(20) & 0x3FFF) == 0)
        & (14 + total <= incl)
        & ((tcp & (total >= 40)) | ((proto == 17) & (total >= 28)))
    )
    # PCAPdroid's trailer (the frame's last 32 bytes, after the IP packet) names the app: see
    # toolkit.io.pcapdroid. The per-packet reader looks for its magic in any frame, so do we.
    ends_magic = np.zeros(n, dtype=bool)
    long_enough = np.flatnonzero(plain)
    if len(long_enough):
        at = off[long_enough] + incl[long_enough] - 32
        ends_magic[long_enough] = (data[at[:, None] + np.arange(4)] == _TRAILER_MAGIC).all(axis=1)
    # A packet comment (pcapng) is read instead of a trailer: PCAPdroid's ``u-<uid>`` names a UID,
    # an Apple process name (the reader's marker) a process; any other comment changes nothing.
    commented = np.zeros(n, dtype=bool)
    tags = _Tags()
    if comments:
        commented[np.fromiter(comments, dtype=np.int64, count=len(comments))] = True
        ends_magic &= ~commented
        kind_of: dict[str, int] = {}  # 0: no effect, 1: names a UID, 2: a process (few distinct texts)
        for i, text in comments.items():
            kind = kind_of.get(text)
            if kind is None:
                kind = kind_of[text] = (
                    2 if text.startswith(PROCESS_COMMENT_PREFIX) else int(uid_from_comment(text) is not None)
                )
            if kind == 1:
                tags.uid_comment_at.append(i)
            elif kind == 2:
                tags.process_at.append(i)
                tags.process_name.append(text[len(PROCESS_COMMENT_PREFIX) :])
    tags.trailer_at = np.flatnonzero(ends_magic & (incl - 14 - total >= 32))
    if len(tags.trailer_at):
        at = off[tags.trailer_at] + incl[tags.trailer_at] - 28
        tags.trailer_uid = data[at[:, None] + np.arange(4)].copy().view(">i4")[:, 0].astype(np.int64).tolist()
        tags.trailer_named = (data[at + 4] != 0).tolist()  # the trailer names the app
    flags = head[:, 47]
    tcp_payload = total - 20 - ((head[:, 46].astype(np.int64) >> 4) << 2)
    opens = plain & tcp & ((flags & 0x02) != 0)
    always = ~plain | (plain & tcp & ((flags & 0x07) != 0))
    payload = np.where(tcp, np.maximum(tcp_payload, 0), total - 28)

    # One key per flow, whichever way the packet goes: the lower (address, port) side first.
    src, dst, sport, dport = be32(26), be32(30), be16(34), be16(36)
    lower = (src < dst) | ((src == dst) & (sport <= dport))
    plain_at = np.flatnonzero(plain)
    pair = (np.where(lower, src, dst)[plain_at] << 32) | np.where(lower, dst, src)[plain_at]
    pair_code = pd.factorize(pair)[0].astype(np.int64)
    ports = (np.where(lower, sport, dport)[plain_at] << 24) | (np.where(lower, dport, sport)[plain_at] << 8)
    inverse = pd.factorize((pair_code << 40) | ports | proto[plain_at])[0].astype(np.int64)
    key_count = int(inverse.max()) + 1 if len(inverse) else 0
    # Codes come in order of first appearance: a key's first packet is where the running maximum grows.
    grows = np.ones(len(inverse), dtype=bool)
    grows[1:] = inverse[1:] > np.maximum.accumulate(inverse)[:-1]
    first_at = np.flatnonzero(grows)
    key_of = np.full(n, -1, dtype=np.int64)
    key_of[plain_at] = inverse
    first_of_key = plain_at[first_at].tolist()
    lower_l = lower.tolist()
    start_l = off.tolist()

    # What the reader knows of each key now.
    table = reader.table
    flow_of: list[Flow | None] = [None] * key_count
    key_of_tuple: dict[tuple[bytes, int, bytes, int, int], int] = {}
    lower_side: list[tuple[bytes, int]] = []
    epochs: list[tuple[int, int, Flow, bool]] = []  # (key, index where it starts, flow, client is lower side)
    for key, at in enumerate(first_of_key):
        start = start_l[at]
        a, b = buf[start + 26 : start + 30], buf[start + 30 : start + 34]
        pa, pb = (buf[start + 34] << 8) | buf[start + 35], (buf[start + 36] << 8) | buf[start + 37]
        p = buf[start + 23]
        forward, backward = (a, pa, b, pb, p), (b, pb, a, pa, p)
        key_of_tuple[forward] = key_of_tuple[backward] = key
        lower_side.append((a, pa) if lower_l[at] else (b, pb))
        entry = table.get(forward)
        if entry is not None:
            flow, client_sends = entry
            flow_of[key] = flow
            epochs.append((key, -1, flow, client_sends == lower_l[at]))
    if tags:
        _see_tags(always, plain, opens, key_of, flow_of, tags, set(reader.apps), set(reader.process_uids))
    if np.count_nonzero(always) > _MOSTLY * n:  # little to save: the caller reads it packet by packet
        return False
    empty = plain & ~always & tcp & (tcp_payload <= 0)
    payload_kind = plain & ~always & ~empty
    # The first packet of a flow not seen before makes the flow: the reader must see it.
    forced = [at for key, at in enumerate(first_of_key) if flow_of[key] is None and empty[at]]

    # Each key's payload packets in order, as one list with a cursor per key.
    payload_at = np.flatnonzero(payload_kind)
    by_key = payload_at[np.argsort(key_of[payload_at], kind="stable")]
    bounds = np.searchsorted(key_of[by_key], np.arange(key_count + 1)).tolist()
    queue = by_key.tolist()
    cursor, end = bounds[:-1], bounds[1:]
    heap: list[tuple[int, int]] = []
    queued = [False] * key_count
    for key in range(key_count):
        current = flow_of[key]
        if (current is None or not _quiet(current)) and cursor[key] < end[key]:
            heap.append((queue[cursor[key]], key))
            cursor[key] += 1
            queued[key] = True
    heapq.heapify(heap)

    must = np.flatnonzero(always)
    if forced:
        must = np.union1d(must, np.asarray(forced, dtype=np.int64))
    must_l = must.tolist()
    key_l = key_of.tolist()
    incl_l = incl.tolist()
    ts_l = ts.tolist()
    # Plain packets without a trailer go straight to the TCP or UDP step (their IP header is
    # already read); a SYN skips the fast path, which never takes one.
    direct = np.where(plain, proto, 0)
    direct[opens] = 1
    direct[ends_magic | commented] = 0
    direct_l = direct.tolist()
    total_l = total.tolist()
    tcp_step, udp_step = reader.tcp, reader.udp
    seen = np.zeros(n, dtype=bool)
    fast, packet, flows = reader.fast_path, reader.packet, reader.flows
    known = len(flows)
    next_must, musts = 0, len(must_l)
    pop, push = heapq.heappop, heapq.heappush
    while True:
        if heap and (next_must >= musts or heap[0][0] < must_l[next_must]):
            i, key = pop(heap)
            from_queue = True
        elif next_must < musts:
            i = must_l[next_must]
            next_must += 1
            key = key_l[i]
            from_queue = False
        else:
            break
        seen[i] = True
        start = start_l[i]
        stop = start + incl_l[i]
        frame = first_frame + i
        how = direct_l[i]
        if how == 0:
            comment = comments.get(i) if comments else None
            if comment is not None:  # as the reader does: no fast path for a packet with a comment
                packet(frame, ts_l[i], 1, link, buf[start:stop], comment)
            elif not (incl_l[i] >= 48 and fast(buf, start, stop, ts_l[i], frame)):
                packet(frame, ts_l[i], 1, link, buf[start:stop], None)
        elif how == 1 or not fast(buf, start, stop, ts_l[i], frame):
            sender, receiver = buf[start + 26 : start + 30], buf[start + 30 : start + 34]
            segment = buf[start + 34 : start + 14 + total_l[i]]
            if how == 17:
                udp_step(sender, receiver, segment, frame, ts_l[i], None, None)
            else:
                tcp_step(sender, receiver, segment, frame, ts_l[i], None)
        if len(flows) != known:  # a new flow (perhaps a key's second connection): a new epoch
            for flow in flows[known:]:
                number = 6 if flow.transport == "tcp" else 17
                new_key = key_of_tuple.get((flow.client, flow.client_port, flow.server, flow.server_port, number))
                if new_key is None:
                    continue
                flow_of[new_key] = flow
                epochs.append((new_key, i, flow, (flow.client, flow.client_port) == lower_side[new_key]))
                if not queued[new_key] and not _quiet(flow):
                    c = cursor[new_key]
                    while c < end[new_key] and queue[c] <= i:
                        c += 1
                    if c < end[new_key]:
                        push(heap, (queue[c], new_key))
                        queued[new_key] = True
                        c += 1
                    cursor[new_key] = c
            known = len(flows)
        if from_queue:
            current = flow_of[key]
            if current is not None and not _quiet(current) and cursor[key] < end[key]:
                push(heap, (queue[cursor[key]], key))
                cursor[key] += 1
            else:
                queued[key] = False
    _count_unseen(reader, plain & ~always & ~seen, key_of, lower, payload, ts, first_frame, epochs, n)
    return True


@dataclass
class _Tags:
    """The packets of a batch that name an app, by position: PCAPdroid trailers (with the UID and
    whether the trailer names the app), ``u-<uid>`` comments, and Apple process names."""

    trailer_at: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    trailer_uid: list[int] = field(default_factory=list)
    trailer_named: list[bool] = field(default_factory=list)
    uid_comment_at: list[int] = field(default_factory=list)
    process_at: list[int] = field(default_factory=list)
    process_name: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(len(self.trailer_at) or self.uid_comment_at or self.process_at)


def _see_tags(
    always: np.ndarray,
    plain: np.ndarray,
    opens: np.ndarray,
    key_of: np.ndarray,
    flow_of: list[Flow | None],
    tags: _Tags,
    known_apps: set[int],
    known_processes: set[str],
) -> None:
    """Mark in ``always`` the app-tagged packets that may change what the reader knows.

    A tagged packet sets its flow's UID if the flow has none (a process name stands for a UID of
    its own); a trailer that names its app adds it if the UID is not among ``known_apps``, and a
    process name not among ``known_processes`` is numbered when first seen. So, in frame order per
    flow key: once a packet the reader sees has given the current flow a UID, later tagged packets
    change nothing (a trailer or process: if its app or name is known by then), until a SYN may
    start another flow on the key. The first of each such stretch is seen. Tags on packets that are
    not plain are seen anyway.
    """
    has_uid = [f is not None and f.uid is not None for f in flow_of]
    syns = np.flatnonzero(opens)
    groups = [syns, tags.trailer_at, np.asarray(tags.uid_comment_at, dtype=np.int64)]
    groups.append(np.asarray(tags.process_at, dtype=np.int64))
    events = np.concatenate(groups)
    # kind 0: a SYN, 1: a trailer, 2: a UID comment, 3: a process name; ``which``: place in its group
    kinds = np.repeat(np.arange(4, dtype=np.int64), [len(g) for g in groups])
    which = np.concatenate([np.arange(len(g), dtype=np.int64) for g in groups])
    keep = plain[events]
    order = np.lexsort((kinds[keep], events[keep]))  # a SYN first when it is tagged too: it may start the flow it tags
    key_l, always_l = key_of.tolist(), always
    events_l, kinds_l, which_l = events[keep][order].tolist(), kinds[keep][order].tolist(), which[keep][order].tolist()
    for i, kind, tag in zip(events_l, kinds_l, which_l, strict=True):
        key = key_l[i]
        if kind == 0:  # a SYN: the key may get a new flow, without a UID yet
            has_uid[key] = False
            continue
        if kind == 1:
            uid = tags.trailer_uid[tag]
            if has_uid[key] and uid in known_apps and not always_l[i]:
                continue  # counted: changes nothing
            always_l[i] = True
            if tags.trailer_named[tag]:
                known_apps.add(uid)
        elif kind == 3:
            name = tags.process_name[tag]
            if has_uid[key] and name in known_processes and not always_l[i]:
                continue
            always_l[i] = True
            known_processes.add(name)
        elif not has_uid[key]:
            always_l[i] = True
        has_uid[key] = True


def _count_unseen(
    reader: _Reader,
    unseen: np.ndarray,
    key_of: np.ndarray,
    lower: np.ndarray,
    payload: np.ndarray,
    ts: np.ndarray,
    first_frame: int,
    epochs: list[tuple[int, int, Flow, bool]],
    n: int,
) -> None:
    """Add the packets the reader did not see to their flows, per direction."""
    at = np.flatnonzero(unseen)
    if not len(at) or not epochs:
        if len(at):
            raise AssertionError("packets of flows the reader never made")  # ruled out by the forced packets
        return
    epochs.sort(key=lambda e: (e[0], e[1]))
    starts = np.asarray([e[0] * (n + 1) + e[1] + 1 for e in epochs], dtype=np.int64)
    which = np.searchsorted(starts, key_of[at] * (n + 1) + at + 1, side="right") - 1
    epoch_keys = np.asarray([e[0] for e in epochs], dtype=np.int64)
    if (which < 0).any() or (epoch_keys[which] != key_of[at]).any():
        raise AssertionError("packets of flows the reader never made")  # ruled out by the forced packets
    client_lower = np.asarray([e[3] for e in epochs], dtype=bool)
    up = lower[at] == client_lower[which]
    group = which * 2 + up
    size = 2 * len(epochs)
    packets = np.bincount(group, minlength=size)
    sent = np.bincount(group, weights=payload[at], minlength=size)
    last = np.full(size, -1, dtype=np.int64)
    np.maximum.at(last, group, at)
    for g in np.flatnonzero(packets).tolist():
        flow = epochs[g >> 1][2]
        count, volume, index = int(packets[g]), int(sent[g]), int(last[g])
        if g & 1:
            flow.packets_up += count
            flow.bytes_up += volume
        else:
            flow.packets_down += count
            flow.bytes_down += volume
        frame = first_frame + index
        if frame > flow.last_frame:
            flow.last_frame = frame
            flow.ts_end = int(ts[index])

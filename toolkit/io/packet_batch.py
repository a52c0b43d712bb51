"""A batch of Ethernet frames at a time: numpy sorts out the packets no dissector needs.

Most packets of a capture carry bulk data of flows whose facts are already known: a TLS stream
after both hellos, a STUN conversation, the acknowledgements of every connection. The per-packet
reader (:class:`toolkit.io.pcap._Reader`) only needs to *count* those. A :class:`BatchTriage`
reads the headers of a whole run of frames at once (classic pcap records or plain pcapng packet
blocks; :class:`toolkit.io.headers.PlainColumns`) and sorts the packets into

- **always seen**: not plain IPv4 TCP/UDP over Ethernet (IPv6, VLAN, options, fragments, TCP
  shorter than its header ...), TCP with SYN, FIN or RST, and a packet tagged with an app (a
  PCAPdroid trailer or ``u-<uid>`` comment) that may still give its flow a UID or the reader an
  app name (:meth:`BatchTriage.see_tags`);
- **empty TCP segments** of a flow that exists: the reader would only count them;
- **payload packets** (TCP data, UDP datagrams): the reader must see them while their flow is
  still *live* (its TLS hellos, HTTP messages, DNS or QUIC Initials are being read), and only
  counts them once the flow is *quiet*.

The triage knows packets by their index in the batch and flows by a *key* (the unordered pair of
endpoints and the protocol); it owns no reader state. The reader tells it what it knows of each
key, walks the :class:`Schedule` (in frame order: the always-seen packets, the first packet of
each key it does not know, and each key's payload packets while the reader says the key is live;
a heap merges the keys' queues), and finally adds :meth:`BatchTriage.unseen_counts` (packets and
payload bytes per flow and direction, summed with ``numpy.bincount``) to its flows. The tables are
the same as when the reader sees every packet (``tests/io/test_packet_batch.py`` checks that on
the corpus and the lab captures); only the work is less.

>>> import io
>>> from toolkit.problems import ProblemLog
>>> from toolkit.io.pcap import read_pcap
>>> from toolkit.lab.pcap_builder import PcapBuilder
>>> builder = PcapBuilder()
>>> builder.tls_connection("10.0.0.2", "192.0.2.9", "example.org", records=40)
>>> flows = read_pcap("x.pcap", io.BytesIO(builder.pcap()), ProblemLog("x.pcap")).flows
>>> flows[["packets_up", "packets_down", "closed"]].values.tolist()
[[44, 43, 'fin']]
>>> triage = BatchTriage(builder.pcap(), *pcap_frames(builder.pcap(), [24], False, 1000)[:2], [0])
>>> triage.n, triage.keys, triage.route
(1, [(b'\\n\\x00\\x00\\x02', 40001, b'\\xc0\\x00\\x02\\t', 443, 6)], [1])
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from toolkit.io.headers import ETHERNET_HEADER, PlainColumns, plain_frame
from toolkit.io.pcapdroid import uid_from_comment
from toolkit.io.pcapfile import PROCESS_COMMENT_PREFIX

__all__ = ["BatchTriage", "Schedule", "pcap_frames"]

_MOSTLY = 0.8  # share of always-seen packets above which a batch is read packet by packet
_TRAILER_MAGIC = np.frombuffer(b"\x01\x07\x20\x21", dtype=np.uint8)

#: A flow's stretch of packets in a batch: (key, index of the packet that made the flow, or -1
#: for a flow the reader knew before, whether the flow's client is the key's lower side).
Epoch = tuple[int, int, bool]


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


class BatchTriage:
    """The packets of one run of Ethernet frames, sorted by what the reader must do with them.

    Frame ``i`` is ``buf[starts[i] : starts[i] + lengths[i]]``, captured at ``times[i]`` (ns):
    classic pcap records (:func:`pcap_frames`) or pcapng packet blocks
    (:class:`toolkit.io.pcapfile.EthernetRun`, with the packets' ``comments`` by position), whole
    and checked.
    """

    def __init__(
        self,
        buf: bytes,
        starts: np.ndarray | Sequence[int],
        lengths: np.ndarray | Sequence[int],
        times: np.ndarray | Sequence[int],
        comments: Mapping[int, str] | None = None,
    ) -> None:
        self.n = len(starts)
        off = np.asarray(starts, dtype=np.int64)
        incl = np.asarray(lengths, dtype=np.int64)
        columns = PlainColumns.of(buf, off, incl)
        self.columns = columns
        plain, tcp = columns.plain, columns.protocol == 6
        ends_magic, commented, self.tags = _read_tags(buf, off, incl, columns, comments)
        self.opens = plain & tcp & ((columns.flags & 0x02) != 0)
        self.always = ~plain | (plain & tcp & ((columns.flags & 0x07) != 0))
        self._flow_keys(buf, off)
        # Plain packets without a trailer or comment go straight to the TCP or UDP step (their IP
        # header is already read); a SYN skips the fast path, which never takes one. 0: the whole way.
        route = np.where(plain, columns.protocol, 0)
        route[self.opens] = 1
        route[ends_magic | commented] = 0
        self.route: list[int] = route.tolist()
        """Per packet: 0 (the reader's whole way), 1 (the TCP step, no fast path), 6 or 17 (the fast
        path, else the TCP or UDP step)."""
        self.starts: list[int] = off.tolist()
        self.lengths: list[int] = incl.tolist()
        self.ts: list[int] = np.asarray(times, dtype=np.int64).tolist()
        self.totals: list[int] = columns.total.tolist()
        """IPv4 total length per packet (junk for packets that are not plain)."""

    def _flow_keys(self, buf: bytes, off: np.ndarray) -> None:
        """One key per flow, whichever way the packet goes: the lower (address, port) side first."""
        c = self.columns
        src, dst, sport, dport = c.src, c.dst, c.sport, c.dport
        lower = (src < dst) | ((src == dst) & (sport <= dport))
        plain_at = np.flatnonzero(c.plain)
        pair = (np.where(lower, src, dst)[plain_at] << 32) | np.where(lower, dst, src)[plain_at]
        pair_code = pd.factorize(pair)[0].astype(np.int64)
        ports = (np.where(lower, sport, dport)[plain_at] << 24) | (np.where(lower, dport, sport)[plain_at] << 8)
        inverse = pd.factorize((pair_code << 40) | ports | c.protocol[plain_at])[0].astype(np.int64)
        # Codes come in order of first appearance: a key's first packet is where the running maximum grows.
        grows = np.ones(len(inverse), dtype=bool)
        grows[1:] = inverse[1:] > np.maximum.accumulate(inverse)[:-1]
        self.key_of = np.full(self.n, -1, dtype=np.int64)
        self.key_of[plain_at] = inverse
        self.lower = lower
        self.first_of_key: list[int] = plain_at[np.flatnonzero(grows)].tolist()
        self.keys: list[tuple[bytes, int, bytes, int, int]] = []
        """Per key, its first packet's (source, source port, destination, destination port, protocol)."""
        self.first_is_lower: list[bool] = []
        """Per key, whether its first packet comes from the lower side."""
        self.lower_sides: list[tuple[bytes, int]] = []
        self.key_of_tuple: dict[tuple[bytes, int, bytes, int, int], int] = {}
        """Both directions' tuples of each key -> the key."""
        lower_l, start_l = lower.tolist(), off.tolist()
        for key, at in enumerate(self.first_of_key):
            _ethertype, _ihl, _total, _fragment, p, a, b, pa, pb, _offset, _flags = plain_frame(buf, start_l[at])
            forward = (a, pa, b, pb, p)
            self.key_of_tuple[forward] = self.key_of_tuple[(b, pb, a, pa, p)] = key
            self.keys.append(forward)
            self.first_is_lower.append(lower_l[at])
            self.lower_sides.append((a, pa) if lower_l[at] else (b, pb))

    def see_tags(self, has_uid: list[bool], known_apps: set[int], known_processes: set[str]) -> None:
        """Mark as always seen the app-tagged packets that may change what the reader knows.

        ``has_uid``: per key, whether the reader's flow of the key has a UID. A tagged packet sets
        its flow's UID if the flow has none (a process name stands for a UID of its own); a trailer
        that names its app adds it if the UID is not among ``known_apps``, and a process name not
        among ``known_processes`` is numbered when first seen. So, in frame order per key: once a
        packet the reader sees has given the current flow a UID, later tagged packets change
        nothing (a trailer or process: if its app or name is known by then), until a SYN may start
        another flow on the key. The first of each such stretch is seen. Tags on packets that are
        not plain are seen anyway.
        """
        if self.tags:
            _see_tags(
                self.always,
                self.columns.plain,
                self.opens,
                self.key_of,
                self.tags,
                has_uid,
                known_apps,
                known_processes,
            )

    def mostly_seen(self) -> bool:
        """Whether so many packets must be seen anyway that the batch is better read packet by packet."""
        return bool(np.count_nonzero(self.always) > _MOSTLY * self.n)

    def schedule(self, known: list[bool], live: list[bool]) -> Schedule:
        """The packets the reader must see, given per key whether it knows a flow of the key and
        whether that flow is live (or unknown): see :class:`Schedule`."""
        c = self.columns
        payload_kind = c.plain & ~self.always
        empty = payload_kind & (c.protocol == 6) & (c.payload == 0)
        payload_kind &= ~empty
        # The first packet of a flow not seen before makes the flow: the reader must see it.
        forced = [at for key, at in enumerate(self.first_of_key) if not known[key] and empty[at]]
        must = np.flatnonzero(self.always)
        if forced:
            must = np.union1d(must, np.asarray(forced, dtype=np.int64))
        # Each key's payload packets in order, as one list with a cursor per key.
        payload_at = np.flatnonzero(payload_kind)
        by_key = payload_at[np.argsort(self.key_of[payload_at], kind="stable")]
        bounds = np.searchsorted(self.key_of[by_key], np.arange(len(self.keys) + 1)).tolist()
        return Schedule(must.tolist(), self.key_of.tolist(), by_key.tolist(), bounds, live, self.n)

    def unseen_counts(self, seen: np.ndarray, epochs: list[Epoch]) -> list[tuple[int, bool, int, int, int]]:
        """The plain packets the reader did not see (``seen``), summed per epoch and direction:
        (index in ``epochs``, client to server, packets, payload bytes, index of the last one)."""
        c = self.columns
        at = np.flatnonzero(c.plain & ~self.always & ~seen)
        if not len(at) or not epochs:
            if len(at):
                raise AssertionError("packets of flows the reader never made")  # ruled out by the forced packets
            return []
        n, key_of = self.n, self.key_of
        order = sorted(range(len(epochs)), key=lambda e: (epochs[e][0], epochs[e][1]))
        starts = np.asarray([epochs[e][0] * (n + 1) + epochs[e][1] + 1 for e in order], dtype=np.int64)
        which = np.searchsorted(starts, key_of[at] * (n + 1) + at + 1, side="right") - 1
        epoch_keys = np.asarray([epochs[e][0] for e in order], dtype=np.int64)
        if (which < 0).any() or (epoch_keys[which] != key_of[at]).any():
            raise AssertionError("packets of flows the reader never made")  # ruled out by the forced packets
        client_lower = np.asarray([epochs[e][2] for e in order], dtype=bool)
        group = which * 2 + (self.lower[at] == client_lower[which])
        size = 2 * len(epochs)
        packets = np.bincount(group, minlength=size)
        sent = np.bincount(group, weights=c.payload[at], minlength=size)
        last = np.full(size, -1, dtype=np.int64)
        np.maximum.at(last, group, at)
        return [
            (order[g >> 1], bool(g & 1), int(packets[g]), int(sent[g]), int(last[g]))
            for g in np.flatnonzero(packets).tolist()
        ]


class Schedule:
    """The packets of a batch the reader must see, in frame order: iterate it for (index, key).

    Always-seen packets come in order; each key's payload packets come one at a time from the key's
    queue while the key is live: at first as ``live`` says, and after each of its packets as
    ``still_live(key)`` says (asked when the reader has fed it). :meth:`wake` queues a key again
    when the reader makes a new, live flow of it. :attr:`seen` marks every packet given out.
    """

    def __init__(
        self, must: list[int], key_of: list[int], queue: list[int], bounds: list[int], live: list[bool], n: int
    ) -> None:
        self.must, self.key_of, self.queue = must, key_of, queue
        self.cursor, self.end = bounds[:-1], bounds[1:]
        self.queued = [False] * len(live)
        self.heap: list[tuple[int, int]] = []
        for key, is_live in enumerate(live):
            if is_live and self.cursor[key] < self.end[key]:
                self.heap.append((queue[self.cursor[key]], key))
                self.cursor[key] += 1
                self.queued[key] = True
        heapq.heapify(self.heap)
        self.seen = np.zeros(n, dtype=bool)

    def packets(self, still_live: Callable[[int], bool]) -> Iterator[tuple[int, int]]:
        """(index, key) of each packet to see (key -1: not plain); feed it before taking the next."""
        heap, must, key_of, seen = self.heap, self.must, self.key_of, self.seen
        cursor, end, queue, queued = self.cursor, self.end, self.queue, self.queued
        next_must, musts = 0, len(must)
        pop, push = heapq.heappop, heapq.heappush
        while True:
            if heap and (next_must >= musts or heap[0][0] < must[next_must]):
                i, key = pop(heap)
                seen[i] = True
                yield i, key
                if still_live(key) and cursor[key] < end[key]:
                    push(heap, (queue[cursor[key]], key))
                    cursor[key] += 1
                else:
                    queued[key] = False
            elif next_must < musts:
                i = must[next_must]
                next_must += 1
                seen[i] = True
                yield i, key_of[i]
            else:
                return

    def wake(self, key: int, after: int) -> None:
        """The reader made a live flow of ``key`` at packet ``after``: queue its later payload packets."""
        if self.queued[key]:
            return
        c, end, queue = self.cursor[key], self.end[key], self.queue
        while c < end and queue[c] <= after:
            c += 1
        if c < end:
            heapq.heappush(self.heap, (queue[c], key))
            self.queued[key] = True
            c += 1
        self.cursor[key] = c


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


def _read_tags(
    buf: bytes, off: np.ndarray, incl: np.ndarray, columns: PlainColumns, comments: Mapping[int, str] | None
) -> tuple[np.ndarray, np.ndarray, _Tags]:
    """Which packets end with PCAPdroid's trailer magic, which have a comment, and the app tags."""
    n, plain, total = len(off), columns.plain, columns.total
    data = np.frombuffer(buf, dtype=np.uint8)
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
    tags.trailer_at = np.flatnonzero(ends_magic & (incl - ETHERNET_HEADER - total >= 32))
    if len(tags.trailer_at):
        at = off[tags.trailer_at] + incl[tags.trailer_at] - 28
        tags.trailer_uid = data[at[:, None] + np.arange(4)].copy().view(">i4")[:, 0].astype(np.int64).tolist()
        tags.trailer_named = (data[at + 4] != 0).tolist()  # the trailer names the app
    return ends_magic, commented, tags


def _see_tags(
    always: np.ndarray,
    plain: np.ndarray,
    opens: np.ndarray,
    key_of: np.ndarray,
    tags: _Tags,
    has_uid: list[bool],
    known_apps: set[int],
    known_processes: set[str],
) -> None:
    """:meth:`BatchTriage.see_tags`, on the triage's arrays (``always`` is changed in place)."""
    has_uid = list(has_uid)
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

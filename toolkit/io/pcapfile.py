"""The pcap and pcapng file formats: records out, nothing dissected.

One fast, struct-based pass over the blocks of a file, reading the stream the caller gives (a plain
file or a gzip stream) in large chunks, so memory stays bounded by one chunk plus one record.

* pcap: micro- and nanosecond variants, both byte orders (magic ``a1b2c3d4``/``a1b23c4d``);
* pcapng: several sections and interfaces, Enhanced, Simple and obsolete Packet Blocks, comments,
  ``if_tsresol``, Decryption Secrets Blocks (kept for later decryption), PCAPdroid's custom
  block (PEN 62652) with its UID map, and Apple's process information blocks;
* for the batched reader (:mod:`toolkit.io.packet_batch`): classic pcap records a buffer at a time
  (:meth:`CaptureFile.pcap_spans`) and pcapng runs of plain Ethernet packet blocks
  (:meth:`CaptureFile.record_runs`).

Damage stops the reading where it is: the packets before it are returned and the damage becomes one
row of ``problems`` (or, with ``strict``, a :class:`~toolkit.errors.CaptureError`). A header that is
not pcap at all raises at once.

Why one module: both formats (about 700 lines) share one :class:`CaptureFile`, its
buffered reading and its handling of damage; pcapng's walk is a few short methods (the next block,
the packet blocks, the runs of plain packets, options, interfaces, sections, processes, custom
blocks) over one cursor, each a part of the same format.

>>> import io, struct
>>> header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101)
>>> record = struct.pack("<IIII", 1, 500000, 3, 3) + b"abc"
>>> from toolkit.problems import ProblemLog
>>> capture = CaptureFile("x.pcap", io.BytesIO(header + record + record[:9]), ProblemLog("x.pcap"))
>>> [(p.frame, p.ts_ns, p.data) for p in capture.packets()]
[(1, 1500000000, b'abc')]
>>> capture.problems.frame()[["record", "kind"]].values.tolist()
[['frame 2', 'truncated']]
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, NamedTuple, cast

import numpy as np

from toolkit.errors import TruncatedCaptureError, UnsupportedFormatError
from toolkit.io.sniff import looks_like
from toolkit.problems import ProblemLog

__all__ = [
    "MAX_PACKET_SIZE",
    "MIN_RUN",
    "PCAPDROID_PEN",
    "PROCESS_COMMENT_PREFIX",
    "CaptureFile",
    "EthernetRun",
    "Interface",
    "Packet",
    "reader_comment",
]

#: Largest packet accepted, as in Wireshark (262144 bytes); a larger record is damage.
MAX_PACKET_SIZE = 262_144
#: Largest pcapng block that is not a packet (secrets, name tables) read into memory.
MAX_BLOCK_SIZE = 16 * 1024 * 1024
#: Latest time a pandas timestamp can hold (2262-04-11); a later packet time is treated as unknown.
MAX_TIMESTAMP_NS = 9_223_372_036_854_775_807
#: Fewest plain packets :meth:`CaptureFile.record_runs` gives as one run (fewer are read one by one).
MIN_RUN = 32
_MAX_BACKOFF = 64  # most blocks read one by one, after too short a run, before looking for one again
#: IANA Private Enterprise Number of PCAPdroid, used in its pcapng custom blocks.
PCAPDROID_PEN = 62652
_CHUNK = 1 << 22

_PCAP_MAGICS: dict[bytes, tuple[str, int]] = {
    # magic as read from the file -> (struct byte order, nanoseconds per fraction unit)
    b"\xd4\xc3\xb2\xa1": ("<", 1000),
    b"\xa1\xb2\xc3\xd4": (">", 1000),
    b"\x4d\x3c\xb2\xa1": ("<", 1),
    b"\xa1\xb2\x3c\x4d": (">", 1),
}
_SHB = 0x0A0D0D0A
_BYTE_ORDERS = {b"\x4d\x3c\x2b\x1a": "<", b"\x1a\x2b\x3c\x4d": ">"}  # a section's magic, as read
_IDB, _OPB, _SPB, _NRB, _ISB, _EPB, _DSB = 1, 2, 3, 4, 5, 6, 0x0A
_CUSTOM = (0x00000BAD, 0x40000BAD)
# Apple's pcapng extension (macOS/iOS tcpdump -k): a process information block per process and
# an EPB option naming the block of the packet's process, counted from 0 within the section.
_APPLE_PROCESS = 0x80000001
_APPLE_PROCESS_INDEX = 0x8001
#: Marks an Apple process name passed on where a packet comment goes (:mod:`toolkit.io.pcap`).
PROCESS_COMMENT_PREFIX = "\0process:"
# The start of an Enhanced Packet Block (type, length, interface, time high, captured length), by byte order.
_EPB_HEADERS = {order: struct.Struct(order + "IIII4xI") for order in "<>"}
_OPTION_HEADERS = {order: struct.Struct(order + "HH") for order in "<>"}
_INDEXES = {order: struct.Struct(order + "I") for order in "<>"}


class Packet(NamedTuple):
    """One captured frame."""

    frame: int
    """1-based frame number, as Wireshark counts."""
    ts_ns: int | None
    """Capture time in nanoseconds since the Unix epoch (None for pcapng Simple Packet Blocks)."""
    interface: int
    """Index into :attr:`CaptureFile.interfaces`."""
    data: bytes
    """The captured bytes, starting at the link-layer header."""
    orig_len: int
    """Length of the packet on the wire (larger than ``len(data)`` when cut by the snap length)."""
    comment: str | None
    """pcapng ``opt_comment`` of the packet (PCAPdroid writes ``u-<uid>`` there)."""
    process: str | None = None
    """Name of the process that sent or received it (Apple pcapng: process information block)."""


Record = tuple[int, int | None, int, bytes, int, str | None, str | None]
"""The fields of a :class:`Packet` as a plain tuple."""


class EthernetRun(NamedTuple):
    """Consecutive plain pcapng packets of Ethernet interfaces, read in one go
    (:meth:`CaptureFile.record_runs`): Enhanced Packet Blocks, each with a known time. Frame
    ``first_frame + i`` is ``buf[starts[i] : starts[i] + lengths[i]]``, captured at ``ts_ns[i]``;
    the three are int64 arrays."""

    buf: bytes
    starts: np.ndarray
    lengths: np.ndarray
    ts_ns: np.ndarray
    first_frame: int
    comments: dict[int, str]
    """The packets' comments (``opt_comment``; PCAPdroid writes ``u-<uid>`` on every packet) by their
    position in the run; a packet with an Apple process name has :data:`PROCESS_COMMENT_PREFIX` and
    the name instead, as the reader takes it."""


@dataclass
class Interface:
    """A capture interface (pcap files have exactly one)."""

    linktype: int
    snaplen: int
    name: str | None = None
    description: str | None = None
    ts_resolution_ns: float = 1000.0
    """Nanoseconds per timestamp unit (pcapng ``if_tsresol``)."""
    ts_offset_s: int = 0
    """Seconds added to every timestamp (pcapng ``if_tsoffset``: the interface counts from there)."""

    def as_dict(self) -> dict[str, object]:
        return {
            "linktype": self.linktype,
            "snaplen": self.snaplen,
            "name": self.name,
            "description": self.description,
        }


@dataclass
class _PcapngWalk:
    """Where a walk over the blocks of a pcapng file is."""

    order: str = "<"
    """Byte order of the current section."""
    frame: int = 0
    """Packets read so far."""
    block_index: int = 0
    """Blocks read so far (a run's packets count one each)."""
    section_base: int = 0
    """Index of the current section's first interface in :attr:`CaptureFile.interfaces`."""
    process_base: int = 0
    """Index of the current section's first Apple process information block."""
    ended: bool = False
    """Damage was found: the rest of the file is not read."""


@dataclass
class _RunSearch:
    """When to look for the next run of plain Ethernet packets (:meth:`CaptureFile._next_run`), and
    the time scales of the section's interfaces (:meth:`CaptureFile._run_scales`), made again when
    there are more interfaces than ``scaled``."""

    wait: int = 0
    backoff: int = 1
    scales: list[int] = field(default_factory=list)
    below: list[int] = field(default_factory=list)
    scaled: int = -1


@dataclass
class CaptureFile:
    """Reader of one pcap or pcapng stream; iterate :meth:`packets` once.

    After the iteration, :attr:`interfaces`, :attr:`tool`, :attr:`uid_map` and
    :attr:`decryption_secrets` hold what the file said about itself.
    """

    path: str | os.PathLike[str]
    stream: IO[bytes]
    problems: ProblemLog
    format: str = ""
    interfaces: list[Interface] = field(default_factory=list)
    tool: str | None = None
    hardware: str | None = None
    os: str | None = None
    uid_map: dict[int, tuple[str, str]] = field(default_factory=dict)
    """PCAPdroid UID -> (package name, app name), from its pcapng custom blocks."""
    decryption_secrets: list[tuple[int, bytes]] = field(default_factory=list)
    """pcapng Decryption Secrets Blocks: (secrets type, data)."""
    processes: list[tuple[int, str | None]] = field(default_factory=list)
    """Apple process information blocks: (process id, process name)."""
    record_struct: struct.Struct = field(default_factory=lambda: struct.Struct("<IIII"))
    """Classic pcap record header (seconds, fraction, captured length, original length)."""
    ns_per_fraction: int = 1000
    _buf: bytes = b""
    _pos: int = 0
    _eof: bool = False

    # -- buffered reading ------------------------------------------------------------------
    def _fill(self, need: int) -> bool:
        """Make ``need`` bytes available at ``_pos``; False at the end of the stream."""
        have = len(self._buf) - self._pos
        if have >= need:
            return True
        parts = [self._buf[self._pos :]]
        while have < need and not self._eof:
            chunk = self.stream.read(max(_CHUNK, need - have))
            if not chunk:
                self._eof = True
                break
            parts.append(chunk)
            have += len(chunk)
        self._buf = b"".join(parts)
        self._pos = 0
        return have >= need

    def _remaining(self) -> int:
        return len(self._buf) - self._pos

    # -- public ------------------------------------------------------------------------------
    def packets(self) -> Iterator[Packet]:
        """The packets in file order; damage ends the iteration after a problem row."""
        return (Packet(*record) for record in self.records())

    def is_classic_pcap(self) -> bool:
        """Whether the stream is a classic pcap file (then :meth:`pcap_spans` may be used)."""
        return self._fill(4) and self._buf[self._pos : self._pos + 4] in _PCAP_MAGICS

    def records(self) -> Iterator[Record]:
        """As :meth:`packets`, as plain tuples (the fast path of :mod:`toolkit.io.pcap`)."""
        return cast(Iterator[Record], self._records(runs=False))

    def record_runs(self) -> Iterator[Record | EthernetRun]:
        """As :meth:`records`, except that in a pcapng file each run of at least :data:`MIN_RUN` plain
        Ethernet packets comes as one :class:`EthernetRun` (for :mod:`toolkit.io.packet_batch`).

        A packet of another link type or an undescribed interface, or without a usable time stays a
        :data:`Record`, and so do all packets of a classic pcap file (see :meth:`pcap_spans`);
        comments and Apple process names travel with the run, other options (``epb_flags`` ...) do
        not matter. Every other block ends a run: blocks are read in file order, and damage gives the
        same problems as :meth:`records`.

        >>> import io
        >>> from toolkit.lab.pcap_builder import PcapBuilder
        >>> builder = PcapBuilder()
        >>> builder.dns_exchange("10.0.0.2", "10.0.0.1", "example.org", ["192.0.2.1"])
        >>> for _ in range(MIN_RUN):
        ...     builder.udp("10.0.0.2", 5000, "192.0.2.1", 3478, b"hello")
        >>> raw = builder.pcapng(comments={2: "u-10123"})
        >>> items = CaptureFile("x.pcapng", io.BytesIO(raw), ProblemLog("x.pcapng")).record_runs()
        >>> [(item.first_frame, len(item.starts), item.comments) for item in items]
        [(1, 34, {1: 'u-10123'})]
        """
        return self._records(runs=True)

    def _records(self, runs: bool) -> Iterator[Record | EthernetRun]:
        if not self._fill(4):
            raise UnsupportedFormatError(self.path, None, "the file is empty")
        magic = self._buf[:4]
        if magic in _PCAP_MAGICS:
            self.format = "pcap"
            return self._pcap_packets()
        if magic == b"\x0a\x0d\x0d\x0a":
            self.format = "pcapng"
            return self._pcapng_packets(runs)
        # the file is not a capture: its bytes are described, never quoted (see sniff.looks_like)
        raise UnsupportedFormatError(self.path, None, f"not a pcap or pcapng file ({looks_like(self._buf[:64])})")

    # -- pcap --------------------------------------------------------------------------------
    def pcap_spans(self) -> Iterator[tuple[bytes, list[int], int]]:
        """Classic pcap only: ``(buffer, record offsets, first frame)`` runs of whole, checked records.

        Each offset is where a 16-byte record header starts in ``buffer``; its packet bytes follow
        it (read the header with :attr:`record_struct`, scale the fraction by
        :attr:`ns_per_fraction`). The readers of :mod:`toolkit.io.pcap` take these runs instead
        of one tuple per packet; :meth:`records` is built on them too.
        """
        if not self._fill(24):
            raise TruncatedCaptureError(self.path, "file header", "the pcap file header is cut short")
        if self._buf[:4] not in _PCAP_MAGICS:
            raise UnsupportedFormatError(self.path, None, "not a classic pcap file")
        self.format = "pcap"
        order, frac_ns = _PCAP_MAGICS[self._buf[:4]]
        _major, _minor, _zone, _sigfigs, snaplen, network = struct.unpack_from(order + "HHiIII", self._buf, 4)
        self.interfaces.append(Interface(network & 0x0FFFFFFF, snaplen, ts_resolution_ns=float(frac_ns)))
        self.record_struct = struct.Struct(order + "IIII")
        self.ns_per_fraction = frac_ns
        self._pos = 24
        length_of = struct.Struct(order + "I").unpack_from
        frame = 0
        limit = max(MAX_PACKET_SIZE, snaplen if snaplen < 16 * MAX_PACKET_SIZE else 0)
        while True:
            buf, start = self._buf, self._pos
            size = len(buf)
            scan = start
            first = frame + 1
            incl = 0
            offsets: list[int] = []
            record = offsets.append
            while size - scan >= 16:
                incl = length_of(buf, scan + 8)[0]
                if incl > limit or scan + 16 + incl > size:
                    break
                record(scan)
                scan += 16 + incl
            frame += len(offsets)
            if offsets:
                self._pos = scan
                yield buf, offsets, first
            if size - scan >= 16 and incl > limit:
                self.problems.add(
                    f"frame {frame + 1}",
                    "malformed",
                    f"the record claims a {incl}-byte packet, larger than the {limit}-byte maximum; "
                    f"the rest of the file is not read ({frame} packets read)",
                )
                return
            need = 16 if size - scan < 16 else 16 + incl
            if not self._fill(need):
                left = self._remaining()
                if left >= 16:
                    self.problems.add(
                        f"frame {frame + 1}",
                        "truncated",
                        f"the file ends inside the packet data ({left - 16} of {incl} bytes); {frame} packets read",
                    )
                elif left:
                    self.problems.add(
                        f"frame {frame + 1}",
                        "truncated",
                        f"the file ends inside a record header ({left} of 16 bytes); {frame} packets read",
                    )
                return

    def _pcap_packets(self) -> Iterator[Record]:
        for buf, offsets, frame in self.pcap_spans():
            unpack_from = self.record_struct.unpack_from
            frac_ns = self.ns_per_fraction
            for pos in offsets:
                sec, frac, incl, orig = unpack_from(buf, pos)
                data = buf[pos + 16 : pos + 16 + incl]
                yield (frame, sec * 1_000_000_000 + frac * frac_ns, 0, data, orig, None, None)
                frame += 1

    # -- pcapng ------------------------------------------------------------------------------
    def _pcapng_packets(self, runs: bool) -> Iterator[Record | EthernetRun]:
        walk = _PcapngWalk()
        search = _RunSearch()
        while True:
            if runs:
                run = self._next_run(walk, search)
                if run is not None:
                    yield run
                    continue
            block = self._next_block(walk)
            if block is None:
                return
            record = self._block(walk, *block)
            if record is not None:
                yield record
            elif walk.ended:
                return

    def _next_run(self, walk: _PcapngWalk, search: _RunSearch) -> EthernetRun | None:
        """The run of plain Ethernet packets at ``_pos``, if it is time to look for one and there is one.

        After too few plain blocks for a run, those and the next ``backoff`` blocks are read one by
        one (``wait`` blocks), and ``backoff`` doubles: files where most packets have options
        (PCAPdroid, Apple) look for runs seldom.
        """
        if search.wait > 0 or walk.section_base >= len(self.interfaces):
            search.wait -= 1
            return None
        if search.scaled != len(self.interfaces):
            search.scales, search.below = self._run_scales(walk.section_base)
            search.scaled = len(self.interfaces)
        run = self._ethernet_run(walk.order, search.scales, search.below, walk.frame + 1, walk.process_base)
        if isinstance(run, int):
            search.wait, search.backoff = run + search.backoff - 1, min(2 * search.backoff, _MAX_BACKOFF)
            return None
        search.backoff = 1
        walk.frame += len(run.starts)
        walk.block_index += len(run.starts)
        return run

    def _next_block(self, walk: _PcapngWalk) -> tuple[int, bytes, int, int] | None:
        """The next block, whole and checked: (type, buffer, body start, body end); None at the end of
        the file or at damage (after a problem row). A Section Header Block sets the byte order and
        starts the section's numbering of interfaces and processes."""
        if not self._fill(12):
            if self._remaining():
                self.problems.add(
                    f"block {walk.block_index + 1}",
                    "truncated",
                    f"the file ends inside a block header; {walk.frame} packets read",
                )
            return None
        buf, pos = self._buf, self._pos
        walk.block_index += 1
        if struct.unpack_from(walk.order + "I", buf, pos)[0] == _SHB:
            bom = buf[pos + 8 : pos + 12]
            if bom not in _BYTE_ORDERS:
                self._stop_walk(walk, "malformed", f"section header has a bad byte-order magic {bom.hex()}")
                return None
            walk.order = _BYTE_ORDERS[bom]
            walk.section_base = len(self.interfaces)
            walk.process_base = len(self.processes)
        btype, blen = struct.unpack_from(walk.order + "II", buf, pos)
        if blen < 12 or blen % 4:
            self._stop_walk(walk, "malformed", f"block length {blen} is not a multiple of 4 of at least 12")
            return None
        if blen > MAX_BLOCK_SIZE + MAX_PACKET_SIZE:
            self._stop_walk(walk, "malformed", f"block claims {blen} bytes, more than any real block")
            return None
        if not self._fill(blen):
            message = f"the file ends inside a {blen}-byte block ({self._remaining()} bytes left)"
            self._stop_walk(walk, "truncated", message)
            return None
        buf, pos = self._buf, self._pos
        trailer = struct.unpack_from(walk.order + "I", buf, pos + blen - 4)[0]
        if trailer != blen:
            self._stop_walk(walk, "malformed", f"block length {blen} and trailing length {trailer} differ")
            return None
        self._pos = pos + blen
        return btype, buf, pos + 8, pos + blen - 4

    def _block(self, walk: _PcapngWalk, btype: int, buf: bytes, body_start: int, body_end: int) -> Record | None:
        """The packet of a packet block (None if it is skipped, or damaged: then ``walk.ended``); the
        facts of any other block kept on the capture."""
        order = walk.order
        if btype == _EPB:
            return self._enhanced_packet(walk, buf, body_start, body_end)
        if btype == _SPB:
            if walk.section_base >= len(self.interfaces):
                self._stop_walk(walk, "malformed", "simple packet block without an interface")
                return None
            orig = struct.unpack_from(order + "I", buf, body_start)[0]
            walk.frame += 1
            caplen = min(orig, body_end - body_start - 4, self.interfaces[walk.section_base].snaplen or orig)
            data = buf[body_start + 4 : body_start + 4 + caplen]
            return (walk.frame, None, walk.section_base, data, orig, None, None)
        if btype == _OPB:
            iface, _drops, ts_hi, ts_lo, caplen, orig = struct.unpack_from(order + "HHIIII", buf, body_start)
            data_start = body_start + 20
            if caplen > body_end - data_start or walk.section_base + iface >= len(self.interfaces):
                self._stop_walk(walk, "malformed", "packet block with a bad length or interface")
                return None
            walk.frame += 1
            index = walk.section_base + iface
            data = buf[data_start : data_start + caplen]
            return (walk.frame, self._timestamp(index, (ts_hi << 32) | ts_lo), index, data, orig, None, None)
        if btype == _IDB:
            self._interface(buf, body_start, body_end, order)
        elif btype == _SHB:
            self._section(buf, body_start, body_end, order)
        elif btype == _DSB and body_end - body_start >= 8:
            stype, slen = struct.unpack_from(order + "II", buf, body_start)
            self.decryption_secrets.append((stype, buf[body_start + 8 : body_start + 8 + slen]))
        elif btype == _APPLE_PROCESS and body_end - body_start >= 4:
            self._process(buf, body_start, body_end, order)
        elif btype in _CUSTOM:
            self._custom(buf, body_start, body_end, order)
        # name resolution, interface statistics and unknown blocks are skipped by design
        return None

    def _enhanced_packet(self, walk: _PcapngWalk, buf: bytes, body_start: int, body_end: int) -> Record | None:
        """The packet of an Enhanced Packet Block, with its comment and Apple process name."""
        if body_end - body_start < 20:
            self._stop_walk(walk, "malformed", "enhanced packet block too short")
            return None
        order = walk.order
        iface, ts_hi, ts_lo, caplen, orig = struct.unpack_from(order + "IIIII", buf, body_start)
        data_start = body_start + 20
        if caplen > body_end - data_start:
            self._stop_walk(walk, "malformed", f"captured length {caplen} exceeds the block")
            return None
        walk.frame += 1
        data = buf[data_start : data_start + caplen]
        opt_start = data_start + ((caplen + 3) & ~3)
        comment = process = None
        if opt_start < body_end:
            comment, process = self._packet_options(buf, opt_start, body_end, order, walk.process_base)
        index = walk.section_base + iface
        ts = self._timestamp(index, (ts_hi << 32) | ts_lo)
        if index >= len(self.interfaces):
            self.problems.add(
                f"frame {walk.frame}",
                "malformed",
                f"packet names interface {iface} that was not described; packet skipped",
            )
            return None
        return (walk.frame, ts, index, data, orig, comment, process)

    def _stop_walk(self, walk: _PcapngWalk, kind: str, message: str) -> None:
        """Damage at the current block: a problem row, and the walk ends."""
        self._stop(f"block {walk.block_index} (after frame {walk.frame})", kind, message, walk.frame)
        walk.ended = True

    def _run_scales(self, section_base: int) -> tuple[list[int], list[int]]:
        """Per interface of the section: the nanoseconds per time unit of an Ethernet interface whose
        times :meth:`_timestamp` gives as a plain product, else 0 (its packets are never in a run);
        and the bound below which the high 32 bits of a time keep it at most MAX_TIMESTAMP_NS (a
        later time is left to :meth:`_pcapng_packets`, which makes it None)."""
        scales = [
            int(interface.ts_resolution_ns)
            if interface.linktype == 1 and interface.ts_offset_s == 0 and interface.ts_resolution_ns in (1000.0, 1.0)
            else 0
            for interface in self.interfaces[section_base:]
        ]
        return scales, [(MAX_TIMESTAMP_NS // scale) >> 32 if scale else 0 for scale in scales]

    def _ethernet_run(
        self, order: str, scales: list[int], below: list[int], first_frame: int, process_base: int
    ) -> EthernetRun | int:
        """The plain Ethernet EPBs (their comments and Apple process names go in ``comments``) that
        start at ``_pos`` and lie whole in the buffer, if there are at least :data:`MIN_RUN`; else how many.

        A block that is anything else, or may be damaged, ends the run: :meth:`_pcapng_packets`
        reads it (and stops there if it is damaged). Each block of a run is a multiple of 4 bytes
        long, so the run's fields are read as one array of 32-bit words.
        """
        buf, start = self._buf, self._pos
        size = len(buf)
        unpack_header = _EPB_HEADERS[order].unpack_from
        unpack_option = _OPTION_HEADERS[order].unpack_from
        unpack_index = _INDEXES[order].unpack_from
        known = len(scales)
        blocks: list[int] = []
        block = blocks.append
        comments: dict[int, str] = {}
        pos = start
        while size - pos >= 32:
            btype, blen, iface, ts_hi, caplen = unpack_header(buf, pos)
            plain = 32 + ((caplen + 3) & ~3)  # the block's length without options
            if btype != _EPB or pos + blen > size or iface >= known or ts_hi >= below[iface]:
                break
            if blen != plain:
                if blen < plain or blen % 4:
                    break
                # One option, then the end of the options (or of the block): PCAPdroid's comment, or
                # the process id macOS writes on every packet
                code, text_length = unpack_option(buf, pos + plain - 4)
                after, end = pos + plain + ((text_length + 3) & ~3), pos + blen - 4
                alone = after <= end and (after == end or buf[after : after + 2] == b"\0\0")
                if alone and code == 1:
                    comments[len(blocks)] = buf[pos + plain : pos + plain + text_length].decode("utf-8", "replace")
                elif alone and code == _APPLE_PROCESS_INDEX and text_length == 4:
                    text = reader_comment(None, self._process_name(process_base, unpack_index(buf, pos + plain)[0]))
                    if text is not None:
                        comments[len(blocks)] = text
                else:  # as the per-packet walk reads them
                    comment, process = self._packet_options(buf, pos + plain - 4, end, order, process_base)
                    text = reader_comment(comment, process)
                    if text is not None:
                        comments[len(blocks)] = text
            block(pos)
            pos += blen
        if len(blocks) < MIN_RUN:
            return len(blocks)
        words = np.frombuffer(buf, dtype=order + "u4", count=(pos - start) // 4, offset=start)
        at = (np.asarray(blocks, dtype=np.int64) - start) // 4
        lengths = words[at + 1].astype(np.int64)
        intact = (words[at + lengths // 4 - 1] == lengths) & (lengths <= MAX_BLOCK_SIZE + MAX_PACKET_SIZE)
        if not intact.all():  # damage: the run ends before it
            count = int(np.argmin(intact))
            if count < MIN_RUN:
                return count
            at, pos = at[:count], blocks[count]
            comments = {i: text for i, text in comments.items() if i < count}
        self._pos = pos
        scale = np.asarray(scales, dtype=np.int64)[words[at + 2]]
        times = ((words[at + 3].astype(np.int64) << 32) | words[at + 4]) * scale
        return EthernetRun(buf, start + at * 4 + 28, words[at + 5].astype(np.int64), times, first_frame, comments)

    def _stop(self, where: str, kind: str, message: str, frame: int) -> None:
        self.problems.add(where, kind, f"{message}; the rest of the file is not read ({frame} packets read)")  # type: ignore[arg-type]

    def _timestamp(self, index: int, units: int) -> int | None:
        if index >= len(self.interfaces):
            return None
        interface = self.interfaces[index]
        resolution = interface.ts_resolution_ns
        if resolution == 1000.0:
            ts = units * 1000
        elif resolution == 1.0:
            ts = units
        else:
            ts = int(units * resolution)
        if interface.ts_offset_s:
            ts += interface.ts_offset_s * 1_000_000_000
        return ts if 0 <= ts <= MAX_TIMESTAMP_NS else None

    @staticmethod
    def _options(buf: bytes, start: int, end: int, order: str) -> Iterator[tuple[int, bytes]]:
        fmt = order + "HH"
        while start + 4 <= end:
            code, length = struct.unpack_from(fmt, buf, start)
            if code == 0 or start + 4 + length > end:
                return
            yield code, buf[start + 4 : start + 4 + length]
            start += 4 + ((length + 3) & ~3)

    def _packet_options(
        self, buf: bytes, start: int, end: int, order: str, process_base: int
    ) -> tuple[str | None, str | None]:
        comment = process = None
        for code, value in self._options(buf, start, end, order):
            if code == 1 and comment is None:
                comment = value.decode("utf-8", "replace")
            elif code == _APPLE_PROCESS_INDEX and len(value) == 4 and process is None:
                process = self._process_name(process_base, struct.unpack(order + "I", value)[0])
        return comment, process

    def _process_name(self, process_base: int, index: int) -> str | None:
        """The name of the section's ``index``-th Apple process information block, if there is one."""
        index += process_base
        return self.processes[index][1] if index < len(self.processes) else None

    def _process(self, buf: bytes, start: int, end: int, order: str) -> None:
        pid = struct.unpack_from(order + "I", buf, start)[0]
        name = None
        for code, value in self._options(buf, start + 4, end, order):
            if code == 2:
                name = value.decode("utf-8", "replace").rstrip("\0")
        self.processes.append((pid, name))

    def _section(self, buf: bytes, start: int, end: int, order: str) -> None:
        for code, value in self._options(buf, start + 16, end, order):
            text = value.decode("utf-8", "replace").rstrip("\0")
            if code == 2:
                self.hardware = text
            elif code == 3:
                self.os = text
            elif code == 4:
                self.tool = text

    def _interface(self, buf: bytes, start: int, end: int, order: str) -> None:
        linktype, _reserved, snaplen = struct.unpack_from(order + "HHI", buf, start)
        interface = Interface(linktype, snaplen)
        for code, value in self._options(buf, start + 8, end, order):
            if code == 2:
                interface.name = value.decode("utf-8", "replace").rstrip("\0")
            elif code == 3:
                interface.description = value.decode("utf-8", "replace").rstrip("\0")
            elif code == 14 and len(value) == 8:  # if_tsoffset: a signed 64-bit count of seconds
                interface.ts_offset_s = struct.unpack(order + "q", value)[0]
            elif code == 9 and value:
                exponent = value[0] & 0x7F
                if value[0] & 0x80:
                    interface.ts_resolution_ns = 1e9 / (2**exponent)
                else:
                    interface.ts_resolution_ns = 10.0 ** (9 - exponent)
        self.interfaces.append(interface)

    def _custom(self, buf: bytes, start: int, end: int, order: str) -> None:
        if end - start < 14:
            return
        pen = struct.unpack_from(order + "I", buf, start)[0]
        if pen != PCAPDROID_PEN:
            return
        version, kind = struct.unpack_from(order + "HB", buf, start + 4)
        if version != 1 or kind != 1:
            return
        uid = struct.unpack_from(order + "i", buf, start + 8)[0]
        package_len, app_len = buf[start + 12], buf[start + 13]
        package = buf[start + 14 : start + 14 + package_len].decode("utf-8", "replace")
        app = buf[start + 14 + package_len : start + 14 + package_len + app_len].decode("utf-8", "replace")
        self.uid_map[uid] = (package, app)


def reader_comment(comment: str | None, process: str | None) -> str | None:
    """What the packet reader takes as a packet's comment: an Apple process name (marked with
    :data:`PROCESS_COMMENT_PREFIX`) wins over the ``opt_comment``.

    >>> reader_comment("u-10123", None), reader_comment("u-10123", "Safari")
    ('u-10123', '\\x00process:Safari')
    """
    return comment if process is None else PROCESS_COMMENT_PREFIX + process

"""The batched reader gives the same tables and problems as the reader that sees every packet."""

from __future__ import annotations

import gzip
import io
import random
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.paths import DATA
from toolkit.errors import CaptureError
from toolkit.io import pcap as pcap_module
from toolkit.io import pcapfile as pcapfile_module
from toolkit.io.packet_batch import BatchTriage, pcap_frames
from toolkit.io.pcap import read_pcap
from toolkit.io.pcapfile import MIN_RUN
from toolkit.lab.pcap_builder import PcapBuilder, trailer_for_tests
from toolkit.problems import ProblemLog

_PCAP_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")


def _both(raw: bytes, name: str = "x.pcap") -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    results = []
    for batched in (True, False):
        problems = ProblemLog(name)
        contents = read_pcap(name, io.BytesIO(raw), problems, batched=batched)
        results.append([contents.flows, contents.dns, contents.tls, contents.requests, problems.frame()])
    return results[0], results[1]


def _assert_same(raw: bytes, name: str = "x.pcap") -> list[pd.DataFrame]:
    batched, plain = _both(raw, name)
    for table, expected in zip(batched, plain, strict=True):
        pd.testing.assert_frame_equal(table, expected)
    return batched


def _interleaved(seed: int, conversations: int = 30) -> PcapBuilder:
    """Long and short flows of every kind, shuffled in time as a phone's traffic is."""
    rng = random.Random(seed)
    parts = []
    for index in range(conversations):
        builder = PcapBuilder(start_ns=0, step_ns=rng.randint(10_000, 3_000_000))
        client, server = f"10.0.0.{rng.randint(2, 9)}", f"198.51.100.{rng.randint(1, 40)}"
        kind = rng.random()
        if kind < 0.4:
            builder.dns_exchange(client, "10.0.0.1", f"h{index}.example.com", [server], ident=index)
            builder.tls_connection(client, server, f"h{index}.example.com", records=rng.randint(0, 300))
        elif kind < 0.6:
            builder.http_exchange(
                client, server, f"h{index}.example.org", f"/p?i={index}", response_body=bytes(rng.randint(0, 9000))
            )
        elif kind < 0.8:
            port = builder.ephemeral_port()
            for _ in range(rng.randint(1, 200)):
                builder.udp(client, port, server, 3478, bytes(rng.randint(20, 900)))
                builder.udp(server, 3478, client, port, bytes(rng.randint(20, 900)))
        else:
            builder.dns_exchange(client, "10.0.0.1", f"only{index}.example.net", [server], ident=index)
        offset = rng.randint(0, 5_000_000_000)
        parts.extend((ts + offset, frame) for ts, frame in builder.packets)
    merged = PcapBuilder()
    merged.packets = sorted(parts, key=lambda packet: packet[0])
    return merged


def test_long_flows_counted_in_bulk_equal_every_packet_seen() -> None:
    builder = _interleaved(1)
    flows = _assert_same(builder.pcap())[0]
    assert len(flows) > 20
    assert flows["packets_up"].sum() + flows["packets_down"].sum() == len(builder.packets)


@pytest.mark.parametrize("big_endian", [False, True])
@pytest.mark.parametrize("nanoseconds", [False, True])
def test_byte_order_and_resolution(big_endian: bool, nanoseconds: bool) -> None:
    _assert_same(_interleaved(2, 12).pcap(big_endian=big_endian, nanoseconds=nanoseconds))


def _port_reuse(sizes: tuple[int, ...] = (3000, 4000)) -> PcapBuilder:
    """One client port, one connection after the other: each of ``sizes`` TLS-looking records."""
    builder = PcapBuilder()
    for records in sizes:
        state = builder.tcp_open("10.0.0.2", 40001, "192.0.2.1", 443)
        builder.tcp_send(state, "10.0.0.2", 40001, "192.0.2.1", 443, b"\x17\x03\x03\x00\x05hello" * records, True)
        builder.tcp_close(state, "10.0.0.2", 40001, "192.0.2.1", 443)
    return builder


def test_port_reuse_after_close_starts_a_new_flow_in_the_same_batch() -> None:
    flows = _assert_same(_port_reuse((50, 70)).pcap())[0]
    assert len(flows) == 2


def test_flows_spanning_many_read_buffers() -> None:
    builder = PcapBuilder(step_ns=1000)
    builder.tls_connection("10.0.0.2", "192.0.2.1", "big.example", records=2500, record_size=1400)
    flows = _assert_same(builder.pcap())[0]  # about 7 MB: several of the reader's buffers
    assert flows.loc[0, "packets_up"] > 2500


def _tagged(builder: PcapBuilder, seed: int, share: float) -> PcapBuilder:
    """PCAPdroid's trailer on a ``share`` of the frames, with one of three apps (even within a flow)."""
    rng = random.Random(seed)
    apps = [trailer_for_tests(10100 + k, f"com.example.app{k}") for k in range(3)]
    builder.packets = [
        (ts, frame + rng.choice(apps) if rng.random() < share else frame) for ts, frame in builder.packets
    ]
    return builder


@pytest.mark.parametrize("share", [1.0, 0.9, 0.3])
def test_pcapdroid_trailers(share: float) -> None:
    flows = _assert_same(_tagged(_interleaved(3, 20), 3, share).pcap())[0]
    assert flows["app"].notna().all() if share == 1.0 else flows["app"].notna().any()


def _long_tagged_flows() -> PcapBuilder:
    builder = PcapBuilder(step_ns=1000)
    for index in range(3):
        tag = trailer_for_tests(10200 + index, f"com.example.video{index}")
        start = len(builder.packets)
        builder.tls_connection(f"10.0.0.{index + 2}", "192.0.2.1", "v.example", records=800)
        builder.packets[start:] = [(ts, frame + tag) for ts, frame in builder.packets[start:]]
    return builder


def test_pcapdroid_app_of_a_second_connection_on_the_same_port() -> None:
    """Two connections on one 5-tuple in one batch: the second, whose only tagged packets are bare
    acknowledgements (which the batch would rather count), gets its own app, not the first one's."""
    builder = _port_reuse((40, 40))
    tags = [trailer_for_tests(10301, "com.example.first"), trailer_for_tests(10302, "com.example.second")]
    second = [i for i, (_ts, frame) in enumerate(builder.packets) if frame[47] & 0x02][2]  # its SYN

    def tag(i: int, frame: bytes) -> bytes:
        bare_ack = frame[47] == 0x10 and len(frame) == 54
        return frame + tags[0] if i < second else frame + tags[1] if bare_ack else frame

    builder.packets = [(ts, tag(i, frame)) for i, (ts, frame) in enumerate(builder.packets)]
    other = PcapBuilder()  # the second app is known already, from another flow
    other.udp("10.0.0.9", 5000, "192.0.2.7", 3478, b"hello")
    builder.packets.insert(0, (builder.packets[0][0] - 1, other.packets[0][1] + tags[1]))
    flows = _assert_same(builder.pcap())[0]
    assert flows["app"].tolist() == ["com.example.second", "com.example.first", "com.example.second"]


def test_pcapdroid_app_name_learnt_from_a_packet_inside_another_flow() -> None:
    """A trailer naming another app in the middle of a tagged flow: its name is what a later flow,
    whose trailers carry no name, is shown with."""
    builder = PcapBuilder(step_ns=1000)
    builder.tls_connection("10.0.0.2", "192.0.2.1", "a.example", records=300)
    second = len(builder.packets)
    builder.tls_connection("10.0.0.3", "192.0.2.1", "b.example", records=50)
    first, odd, nameless = (
        trailer_for_tests(uid, name) for uid, name in ((10401, "com.example.a"), (10402, "com.example.b"), (10402, ""))
    )
    builder.packets = [
        (ts, frame + (odd if i == second // 2 else first if i < second else nameless))
        for i, (ts, frame) in enumerate(builder.packets)
    ]
    flows = _assert_same(builder.pcap())[0]
    assert flows["app"].tolist()[-1] == "com.example.b"


def _randomly_tagged(seed: int) -> tuple[list[tuple[int, bytes, int | None]], dict[int, str], random.Random]:
    """Interleaved traffic (sometimes with a reused port) whose packets carry an app's UID in one of
    several patterns: every packet, some flows, random packets, all but the handshakes, bare ACKs only."""
    rng = random.Random(seed)
    builder = _interleaved(seed, rng.randint(3, 20))
    if rng.random() < 0.3:
        reuse = _port_reuse((rng.randint(1, 60), rng.randint(1, 60)))
        builder.packets = sorted(builder.packets + [(ts + rng.randint(0, 10**9), f) for ts, f in reuse.packets])
    uids = [10100 + k for k in range(rng.randint(1, 4))]
    names = {uid: rng.choice(["", f"com.example.app{uid}", f"com.example.app{uid}"]) for uid in uids}
    mode, share = rng.choice(["all", "some flows", "random", "no handshakes", "bare acks"]), rng.random()
    items = []
    for ts, frame in builder.packets:
        ports = sum(struct.unpack_from("!HH", frame, 34))
        flags = frame[47] if frame[23] == 6 else 0
        uid: int | None = {
            "all": uids[ports % len(uids)],
            "some flows": uids[ports % len(uids)] if rng.random() < share else None,
            "random": rng.choice(uids) if rng.random() < share else None,
            "no handshakes": None if flags & 0x02 else uids[ports % len(uids)],
            "bare acks": uids[0] if flags == 0x10 and len(frame) == 54 else None,
        }[mode]
        items.append((ts, frame, uid))
    return items, names, rng


@pytest.mark.parametrize("seed", range(8))
def test_random_pcapdroid_tagging(seed: int) -> None:
    """Trailers (pcap) and ``u-<uid>`` comments (pcapng) in random patterns: the same tables batched
    (a differential run of 750 seeds like these found no difference)."""
    items, names, rng = _randomly_tagged(seed)
    trailers = PcapBuilder()
    trailers.packets = [(ts, f + (trailer_for_tests(u, names[u]) if u is not None else b"")) for ts, f, u in items]
    _assert_same(trailers.pcap())
    out = _Pcapng()
    out.section(big_endian=rng.random() < 0.2)
    interface = out.interface(tsresol=rng.choice([6, 9]))
    for ts, frame, uid in items:
        comment = out.comment(f"u-{uid}") if uid is not None else out.comment("hello") if rng.random() < 0.1 else b""
        out.packet(interface, ts, frame, comment)
    _assert_same(out.bytes(), "x.pcapng")


def test_pcapdroid_trailers_on_long_flows_with_one_app_each() -> None:
    flows = _assert_same(_long_tagged_flows().pcap())[0]
    assert flows["app"].tolist() == ["com.example.video0", "com.example.video1", "com.example.video2"]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**16), cuts=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=40))
@pytest.mark.slow
def test_damaged_captures_give_the_same_result(seed: int, cuts: list[tuple[int, int]]) -> None:
    """Flip bytes anywhere after the file header: flags, ports, lengths, payloads."""
    raw = bytearray(_interleaved(seed, 10).pcap())
    for position, value in cuts:
        raw[24 + position % (len(raw) - 24)] = value
    _assert_same(bytes(raw))


def test_lab_capture() -> None:
    for path in sorted((DATA / "lab").glob("*.pcap")):
        _assert_same(path.read_bytes(), path.name)


def _assert_same_on_corpus(paths: list[Path], wanted: Callable[[bytes], bool]) -> int:
    """Batched and per-packet reading agree on each wanted file (or fail with the same error); how many."""
    compared = 0
    for path in paths:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        if not wanted(raw):
            continue
        try:
            _assert_same(raw, path.name)
        except CaptureError as batched_error:
            with pytest.raises(CaptureError) as plain_error:
                read_pcap(path.name, io.BytesIO(raw), ProblemLog(path.name), batched=False)
            assert str(plain_error.value) == str(batched_error)
        compared += 1
    return compared


@pytest.mark.slow
def test_corpus_classic_pcaps(corpus: Path) -> None:
    assert _assert_same_on_corpus(sorted((corpus / "pcap").iterdir()), lambda raw: raw[:4] in _PCAP_MAGICS) >= 40


# -- pcapng: runs of plain Enhanced Packet Blocks take the batched path ---------------------------


class _Pcapng:
    """A small pcapng writer: sections of either byte order, interfaces with their time resolution,
    packets with options, and the other blocks a capture may hold between packets."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.order = "<"
        self.clocks: list[tuple[int, int]] = []  # per interface of the section: (if_tsresol, if_tsoffset)

    def option(self, code: int, value: bytes) -> bytes:
        return struct.pack(self.order + "HH", code, len(value)) + value + bytes(-len(value) % 4)

    def block(self, kind: int, body: bytes) -> None:
        body += bytes(-len(body) % 4)
        length = struct.pack(self.order + "I", len(body) + 12)
        self.parts.append(struct.pack(self.order + "I", kind) + length + body + length)

    def section(self, big_endian: bool = False) -> None:
        self.order, self.clocks = (">" if big_endian else "<"), []
        self.block(0x0A0D0D0A, struct.pack(self.order + "IHHq", 0x1A2B3C4D, 1, 0, -1))

    def interface(self, linktype: int = 1, tsresol: int = 6, offset: int = 0) -> int:
        options = self.option(9, bytes([tsresol]))
        if offset:
            options += self.option(14, struct.pack(self.order + "q", offset))
        self.block(1, struct.pack(self.order + "HHI", linktype, 0, 262144) + options + self.option(0, b""))
        self.clocks.append((tsresol, offset))
        return len(self.clocks) - 1

    def packet(self, interface: int, ts: int, frame: bytes, options: bytes = b"") -> None:
        tsresol, offset = self.clocks[interface] if interface < len(self.clocks) else (6, 0)
        ts -= offset * 1_000_000_000
        units = ts * 2 ** (tsresol & 0x7F) // 10**9 if tsresol & 0x80 else ts // 10 ** (9 - tsresol)
        header = struct.pack(self.order + "IIIII", interface, units >> 32, units & 0xFFFFFFFF, len(frame), len(frame))
        self.block(6, header + frame + bytes(-len(frame) % 4) + options)

    def comment(self, text: str) -> bytes:
        return self.option(1, text.encode()) + self.option(0, b"")

    def secrets(self, data: bytes) -> None:
        self.block(0x0A, struct.pack(self.order + "II", 0x544C534B, len(data)) + data)

    def process(self, pid: int, name: str | None) -> None:
        """Apple's process information block (a name option, or none)."""
        options = self.option(2, name.encode()) if name is not None else b""
        self.block(0x80000001, struct.pack(self.order + "I", pid) + options + self.option(0, b""))

    def process_id(self, index: int) -> bytes:
        """The packet option naming the section's ``index``-th process block."""
        return self.option(0x8001, struct.pack(self.order + "I", index))

    def bytes(self) -> bytes:
        return b"".join(self.parts)


_LAYOUTS = [
    "plain",
    "nanoseconds",
    "two_interfaces",
    "comments",
    "flags_option",
    "flags_everywhere",
    "options_mixed",
    "pcapdroid",
    "apple",
    "secrets_and_new_interface",
    "two_sections",
    "big_endian",
    "other_blocks",
]


def _as_pcapng(builder: PcapBuilder, layout: str, seed: int = 0) -> bytes:
    """``builder``'s packets as a pcapng file of the given layout (see ``_LAYOUTS``)."""
    rng = random.Random(seed)
    out = _Pcapng()
    out.section(big_endian=layout == "big_endian")
    micro = out.interface()
    nano = out.interface(tsresol=9) if layout in ("nanoseconds", "two_interfaces", "other_blocks") else micro
    if layout == "apple":  # macOS tcpdump -k: process blocks, a process id on each packet
        for pid, name in ((101, "Safari"), (102, "com.apple.WebKit.Networking"), (103, None), (104, "Safari")):
            out.process(pid, name)
    if layout == "other_blocks":
        raw_ip = out.interface(linktype=228)
        binary = out.interface(tsresol=0x94)  # 2^-20 s: read one by one
        offset = out.interface(tsresol=9, offset=-3)  # if_tsoffset: read one by one
    half = len(builder.packets) // 2
    interface = nano
    for index, (ts, frame) in enumerate(builder.packets):
        if layout == "two_interfaces" and rng.random() < 0.05:  # interfaces alternate in spans of ~20 packets
            interface = micro if interface == nano else nano
        elif layout != "two_interfaces":
            interface = nano
        options = b""
        if layout == "comments" and rng.random() < 0.02:
            options = out.comment(f"u-{10100 + rng.randint(0, 2)}")
        elif layout == "flags_option" and rng.random() < 0.01:
            options = out.option(2, struct.pack(out.order + "I", 1)) + out.option(0, b"")
        elif layout == "flags_everywhere":  # dumpcap on macOS and Windows: a direction on every packet
            options = out.option(2, struct.pack(out.order + "I", 1 + index % 2)) + out.option(0, b"")
        elif layout == "pcapdroid":  # PCAPdroid's pcapng: every packet names its app's UID in a comment
            roll = rng.random()
            if roll < 0.01:
                options = out.comment("not a uid")
            elif roll < 0.015:
                options = out.comment("\0process:com.example.odd")  # what the reader takes for a process name
            else:
                sport, dport = struct.unpack_from("!HH", frame, 34)
                options = out.comment(f"u-{10100 + (sport + dport) % 3}")
        elif layout == "apple":
            sport, dport = struct.unpack_from("!HH", frame, 34)
            roll = rng.random()
            if roll < 0.02:
                options = out.process_id(9) + out.option(0, b"")  # no such block: no process
            elif roll < 0.04:
                options = out.process_id(2) + out.comment("u-10100")  # a block without a name: the comment
            elif roll < 0.06:
                options = out.comment("hello")
            elif roll < 0.07:
                late = out.option(1, b"x") + out.process_id(3)  # the process wins over the comment
                options = late + out.option(0, b"")
            else:
                options = out.process_id((sport + dport) % 4) + out.option(0, b"")
        elif layout == "options_mixed":
            # ignored options with a comment, an Apple process id (no process block: none), a comment
            # after the end-of-options marker (never read), an option running past its block
            flags = out.option(2, struct.pack(out.order + "I", 1))
            roll = rng.random()
            if roll < 0.02:
                options = flags + out.comment(f"u-{10100 + rng.randint(0, 2)}")
            elif roll < 0.03:
                options = flags + out.option(0x8001, struct.pack(out.order + "I", 0)) + out.option(0, b"")
            elif roll < 0.04:
                options = flags + out.option(0, b"") + out.comment("u-10100")
            elif roll < 0.05:
                options = flags + struct.pack(out.order + "HH", 1, 400)
            elif roll < 0.06:  # a comment first, then a process id: not in a run
                process = out.option(0x8001, struct.pack(out.order + "I", 0))
                options = out.option(1, b"u-10101") + process + out.option(0, b"")
            elif roll < 0.07:  # a comment, then other options
                options = out.option(1, b"u-10102") + flags + out.option(0, b"")
            elif roll < 0.08:  # a comment that runs past its block
                options = struct.pack(out.order + "HH", 1, 300) + b"u-10100\0"
            else:
                options = flags + out.option(3, b"\x02" + bytes(16)) + out.option(0, b"")
        elif layout == "secrets_and_new_interface" and index % 400 == 399:
            out.secrets(b"CLIENT_RANDOM " + b"00" * 32 + b" " + b"11" * 48 + b"\n")
        if layout == "secrets_and_new_interface" and index == half:
            nano = out.interface(tsresol=9)
            interface = nano
        if layout == "two_sections" and index == half:
            out.section(big_endian=True)
            nano = interface = out.interface(tsresol=9)
        if layout == "other_blocks":
            roll = rng.random()
            if roll < 0.01:
                out.packet(raw_ip, ts, frame[14:])
                continue
            if roll < 0.02:
                out.packet(rng.choice([binary, offset]), ts, frame)
                continue
            if roll < 0.025:
                out.block(3, struct.pack(out.order + "I", len(frame)) + frame)  # simple packet block: no time
                continue
            if roll < 0.03:
                out.packet(7, ts, frame)  # an interface never described: a problem, packet skipped
                continue
            if roll < 0.035:
                out.packet(nano, 0xFFFFFFFF_FFFFFFFF, frame)  # a time after 2262: unknown
                continue
            if roll < 0.04:
                out.block(5, struct.pack(out.order + "IIII", 0, 0, 0, 0))  # interface statistics: skipped
        out.packet(interface, ts, frame, options)
    return out.bytes()


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many frames each call of the batched reader was given."""
    sizes: list[int] = []
    real = pcap_module._Reader.ethernet_batch

    def counting(reader: Any, buf: bytes, starts: Any, *rest: Any) -> bool:
        sizes.append(len(starts))
        return real(reader, buf, starts, *rest)

    monkeypatch.setattr(pcap_module._Reader, "ethernet_batch", counting)
    return sizes


@pytest.mark.parametrize("layout", _LAYOUTS)
def test_pcapng_layouts(layout: str, batches: list[int]) -> None:
    builder = _tagged(_interleaved(4, 25), 4, 0.05)
    raw = _as_pcapng(builder, layout, 4)
    flows, *_, problems = _assert_same(raw, "x.pcapng")
    assert sum(batches) > len(builder.packets) // (3 if layout == "other_blocks" else 2)  # many were in runs
    if layout == "other_blocks":  # the packets on an undescribed interface
        assert problems["message"].str.contains("interface 7 that was not described").any()
    else:
        assert flows["packets_up"].sum() + flows["packets_down"].sum() == len(builder.packets)
        assert problems.empty


def test_pcapng_options_the_reader_ignores_do_not_keep_packets_out_of_runs(batches: list[int]) -> None:
    builder = _interleaved(9, 25)
    _assert_same(_as_pcapng(builder, "flags_everywhere", 9), "x.pcapng")
    assert sum(batches) == len(builder.packets)  # every packet was in a run


def test_pcapdroid_pcapng_is_read_in_runs(batches: list[int]) -> None:
    """Every packet with a ``u-<uid>`` comment: the comments travel with the runs; the flows get
    their UIDs as when every packet is read one by one."""
    builder = _interleaved(10, 25)
    flows = _assert_same(_as_pcapng(builder, "pcapdroid", 10), "x.pcapng")[0]
    assert sum(batches) >= len(builder.packets) - 2  # the first blocks are read before a run is looked for
    assert flows["uid"].notna().all() and flows["uid"].nunique() > 1


def test_apple_process_ids_travel_with_runs(batches: list[int]) -> None:
    builder = _interleaved(11, 25)
    flows = _assert_same(_as_pcapng(builder, "apple", 11), "x.pcapng")[0]
    assert sum(batches) >= len(builder.packets) - 8  # the blocks before the first run are read one by one
    assert {"Safari", "com.apple.WebKit.Networking"} <= set(flows["app"].dropna())


def test_apple_process_first_named_inside_another_flow(batches: list[int]) -> None:
    """A process first named by one packet in the middle of another process's flow, then a later
    flow's process: each flow keeps its own app, as when every packet is read."""
    builder = PcapBuilder(step_ns=1000)
    builder.tls_connection("10.0.0.2", "192.0.2.1", "a.example", records=300)
    second = len(builder.packets)
    builder.tls_connection("10.0.0.3", "192.0.2.1", "b.example", records=300)
    out = _Pcapng()
    out.section()
    out.interface()
    for pid, name in ((1, "Safari"), (2, "Rare"), (3, "Other")):
        out.process(pid, name)
    end = out.option(0, b"")
    for index, (ts, frame) in enumerate(builder.packets):
        process = 1 if index == second // 2 else 0 if index < second else 2
        out.packet(0, ts, frame, out.process_id(process) + end)
    flows = _assert_same(out.bytes(), "x.pcapng")[0]
    assert batches and flows["app"].tolist() == ["Safari", "Other"]


def test_pcapng_comment_in_a_run_names_the_app(batches: list[int]) -> None:
    builder = PcapBuilder(step_ns=1000)
    builder.tls_connection("10.0.0.2", "192.0.2.1", "v.example", records=300)
    out = _Pcapng()
    out.section()
    out.interface()
    for index, (ts, frame) in enumerate(builder.packets):
        out.packet(0, ts, frame, out.comment("u-10123") if index == 150 else b"")
    flows = _assert_same(out.bytes(), "x.pcapng")[0]
    assert batches and flows["uid"].tolist() == [10123]


def test_pcapng_batched_false_sees_every_packet(batches: list[int]) -> None:
    raw = _as_pcapng(_interleaved(5, 10), "plain")
    read_pcap("x.pcapng", io.BytesIO(raw), ProblemLog("x.pcapng"), batched=False)
    assert batches == []
    read_pcap("x.pcapng", io.BytesIO(raw), ProblemLog("x.pcapng"))
    assert batches


def test_pcapng_runs_spanning_many_read_buffers(batches: list[int]) -> None:
    builder = PcapBuilder(step_ns=1000)
    builder.tls_connection("10.0.0.2", "192.0.2.1", "big.example", records=2500, record_size=1400)
    raw = _as_pcapng(builder, "comments")
    flows = _assert_same(raw, "x.pcapng")[0]  # about 7 MB: several of the reader's buffers
    assert len(batches) >= 2 and flows.loc[0, "packets_up"] > 2500


@pytest.mark.parametrize("layout", ["plain", "two_sections", "other_blocks"])
def test_truncated_pcapng_gives_the_same_result(layout: str) -> None:
    raw = _as_pcapng(_interleaved(6, 12), layout, 6)
    for cut in range(len(raw) // 3, len(raw), len(raw) // 13):
        _assert_same(raw[:cut], "x.pcapng")


@pytest.mark.parametrize(("field", "value"), [(4, 13), (4, 4000), (-4, 4000), (20, 4000), (4, 0xFFFFFFF0), (0, 2)])
def test_bad_block_inside_a_run(field: int, value: int) -> None:
    """A block length, trailing length or captured length that disagree, or another block type, in a run."""
    raw = bytearray(_as_pcapng(_interleaved(7, 12), "plain"))
    starts, pos = [], 0
    while pos < len(raw):
        starts.append(pos)
        pos += struct.unpack_from("<I", raw, pos + 4)[0]
    start = starts[len(starts) // 2]
    end = start + struct.unpack_from("<I", raw, start + 4)[0]
    struct.pack_into("<I", raw, start + field if field >= 0 else end + field, value)
    problems = _assert_same(bytes(raw), "x.pcapng")[4]
    if field != 0:
        assert problems["kind"].tolist() == ["malformed"]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**16), cuts=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=40))
@pytest.mark.slow
def test_damaged_pcapng_gives_the_same_result(seed: int, cuts: list[tuple[int, int]]) -> None:
    """Flip bytes anywhere after the section header: block types and lengths, times, interfaces, options."""
    raw = bytearray(_as_pcapng(_tagged(_interleaved(seed, 10), seed, 0.05), _LAYOUTS[seed % len(_LAYOUTS)], seed))
    for position, value in cuts:
        raw[28 + position % (len(raw) - 28)] = value
    _assert_same(bytes(raw), "x.pcapng")


def test_lab_pcapng(batches: list[int]) -> None:
    paths = sorted((DATA / "lab").glob("*.pcapng"))
    for path in paths:
        _assert_same(path.read_bytes(), path.name)
    assert paths and len(batches) >= len(paths)


@pytest.mark.parametrize("min_run", [1, MIN_RUN])
@pytest.mark.slow
def test_corpus_pcapngs(corpus: Path, min_run: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every pcapng of the corpus, also with runs of a single packet (most of them are small)."""
    monkeypatch.setattr(pcapfile_module, "MIN_RUN", min_run)
    assert _assert_same_on_corpus(sorted((corpus / "pcap").glob("*.pcapng*")), lambda raw: True) >= 20


def test_pcapng_secrets_block_between_runs_decrypts_only_later_connections(batches: list[int]) -> None:
    """The lab capture with its Decryption Secrets Block moved after the 58th packet: the
    connections whose TLS starts before it stay encrypted, the later ones are decrypted."""
    raw = (DATA / "lab" / "normal.pcapng").read_bytes()
    blocks, pos = [], 0
    while pos < len(raw):
        length = struct.unpack_from("<I", raw, pos + 4)[0]
        blocks.append(raw[pos : pos + length])
        pos += length
    secrets = [block for block in blocks if block[:4] == struct.pack("<I", 0x0A)]
    rest = [block for block in blocks if block[:4] != struct.pack("<I", 0x0A)]
    assert len(secrets) == 1
    moved = b"".join(rest[:60] + secrets + rest[60:])
    requests = _assert_same(moved, "normal.pcapng")[3]
    everything = read_pcap("normal.pcapng", io.BytesIO(raw), ProblemLog("normal.pcapng")).requests
    assert 0 < requests["decrypted"].sum() < everything["decrypted"].sum()
    assert batches[:2] == [58, 159]  # the runs before and after the secrets


def test_pcapng_runs_found_again_after_packets_read_one_by_one(batches: list[int]) -> None:
    """The first half on an interface with a binary clock (read one by one, seldom looking for a
    run), then plain packets: all but the first few of them are read in runs."""
    builder = _interleaved(8, 20)
    out = _Pcapng()
    out.section()
    plain = out.interface()
    binary = out.interface(tsresol=0x94)
    half = len(builder.packets) // 2
    for index, (ts, frame) in enumerate(builder.packets):
        out.packet(binary if index < half else plain, ts, frame)
    _assert_same(out.bytes(), "x.pcapng")
    assert len(builder.packets) - half - 64 <= sum(batches) <= len(builder.packets) - half


@pytest.mark.parametrize("layout", ["plain", "two_interfaces", "big_endian"])
@pytest.mark.parametrize(
    "built",
    [_port_reuse, _long_tagged_flows, lambda: _tagged(_interleaved(3, 20), 3, 1.0)],
    ids=["reuse", "apps", "all"],
)
def test_pcapng_of_the_built_cases(built: Any, layout: str, batches: list[int]) -> None:
    flows = _assert_same(_as_pcapng(built(), layout, 9), "x.pcapng")[0]
    assert batches and len(flows) >= 2


def test_triage_alone_gives_indices_and_counts_without_a_reader() -> None:
    """The triage needs no reader: told that the reader knows a quiet flow of each key, it gives
    out only the packets with SYN, FIN or RST and sums the others per direction."""
    builder = PcapBuilder()
    builder.tls_connection("10.0.0.2", "192.0.2.9", "example.org", records=40)
    raw = builder.pcap()
    offsets, position = [], 24
    while position < len(raw):
        offsets.append(position)
        position += 16 + struct.unpack_from("<I", raw, position + 8)[0]
    triage = BatchTriage(raw, *pcap_frames(raw, offsets, False, 1000)[:2], [0] * len(offsets))
    assert len(triage.keys) == 1 and not triage.mostly_seen()
    schedule = triage.schedule(known=[True], live=[False])
    given = [index for index, _key in schedule.packets(lambda key: False)]
    flags = [frame[47] for _ts, frame in builder.packets]
    assert given == [i for i, flag in enumerate(flags) if flag & 0x07]  # SYN, SYN-ACK, the two FINs
    client_is_lower = triage.lower_sides[0] == (bytes([10, 0, 0, 2]), triage.keys[0][1])
    counts = triage.unseen_counts(schedule.seen, [(0, -1, client_is_lower)])
    sent = {up: (packets, volume) for _epoch, up, packets, volume, _last in counts}
    unseen = [frame for i, (_ts, frame) in enumerate(builder.packets) if i not in given]
    up = [f for f in unseen if f[26:30] == bytes([10, 0, 0, 2])]
    assert sent[True] == (len(up), sum(struct.unpack_from("!H", f, 16)[0] - 40 for f in up))
    assert sent[True][0] + sent[False][0] == len(builder.packets) - len(given)

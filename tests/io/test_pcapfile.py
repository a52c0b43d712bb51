"""pcap and pcapng files: variants, blocks, damage, and fuzzed corpus files."""

from __future__ import annotations

import gzip
import io
import struct
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import toolkit
from toolkit.errors import CaptureError, MalformedCaptureError, TruncatedCaptureError
from toolkit.io import pcapfile
from toolkit.io.pcap import read_pcap
from toolkit.io.pcapfile import MAX_TIMESTAMP_NS, PCAPDROID_PEN, CaptureFile, EthernetRun
from toolkit.lab.pcap_builder import PcapBuilder
from toolkit.problems import ProblemLog

from ..conftest import CORPUS
from ..paths import DATA


def _builder() -> PcapBuilder:
    builder = PcapBuilder(start_ns=1_700_000_000_123_456_789)
    builder.dns_exchange("10.0.0.2", "10.0.0.1", "example.org", ["192.0.2.1"])
    builder.tls_connection("10.0.0.2", "192.0.2.1", "example.org", records=2)
    return builder


def _read(data: bytes, strict: bool = False) -> tuple[CaptureFile, list, ProblemLog]:
    problems = ProblemLog("t.pcap", strict=strict)
    capture = CaptureFile("t.pcap", io.BytesIO(data), problems)
    return capture, list(capture.packets()), problems


@pytest.mark.parametrize("nanoseconds", [False, True])
@pytest.mark.parametrize("big_endian", [False, True])
def test_pcap_variants(nanoseconds: bool, big_endian: bool) -> None:
    builder = _builder()
    _capture, packets, problems = _read(builder.pcap(nanoseconds=nanoseconds, big_endian=big_endian))
    assert [p.data for p in packets] == [frame for _, frame in builder.packets]
    first = 1_700_000_000_123_456_789 if nanoseconds else 1_700_000_000_123_456_000
    assert packets[0].ts_ns == first and packets[0].frame == 1 and len(problems) == 0


def test_pcapng_blocks_comments_interfaces_and_custom_block() -> None:
    builder = _builder()
    uid_map = struct.pack("<IHBxiBB", PCAPDROID_PEN, 1, 1, 10123, 11, 7) + b"com.example" + b"Example"
    uid_map += bytes(-len(uid_map) % 4)
    custom = struct.pack("<II", 0xBAD, len(uid_map) + 12) + uid_map + struct.pack("<I", len(uid_map) + 12)
    secrets = b"CLIENT_RANDOM 00 11\n"
    dsb_body = struct.pack("<II", 0x544C534B, len(secrets)) + secrets + bytes(-len(secrets) % 4)
    dsb = struct.pack("<II", 0x0A, len(dsb_body) + 12) + dsb_body + struct.pack("<I", len(dsb_body) + 12)
    # a second interface (raw IPv4) and a Simple Packet Block on interface 0
    idb2 = struct.pack("<II", 1, 20) + struct.pack("<HHI", 228, 0, 65535) + struct.pack("<I", 20)
    data = builder.pcapng(comments={1: "u-10123"}, extra_blocks=[custom, dsb, idb2])
    frame = builder.packets[0][1]
    spb_body = struct.pack("<I", len(frame)) + frame + bytes(-len(frame) % 4)
    data += struct.pack("<II", 3, len(spb_body) + 12) + spb_body + struct.pack("<I", len(spb_body) + 12)
    ip_only = frame[14:]
    epb = struct.pack("<IIIII", 1, 0, 5, len(ip_only), len(ip_only)) + ip_only + bytes(-len(ip_only) % 4)
    data += struct.pack("<II", 6, len(epb) + 12) + epb + struct.pack("<I", len(epb) + 12)
    capture, packets, problems = _read(data)
    assert capture.tool == "toolkit.pcap_builder"
    assert [i.linktype for i in capture.interfaces] == [1, 228] and capture.interfaces[0].name == "eth0"
    assert capture.uid_map == {10123: ("com.example", "Example")}
    assert capture.decryption_secrets == [(0x544C534B, secrets)]
    assert packets[0].comment == "u-10123" and packets[0].ts_ns == builder.packets[0][0]
    assert packets[-2].ts_ns is None and packets[-2].data == frame  # simple packet block
    assert packets[-1].interface == 1 and len(packets) == len(builder.packets) + 2 and len(problems) == 0


def test_big_endian_pcapng_section() -> None:
    body = struct.pack(">IHHq", 0x1A2B3C4D, 1, 0, -1)
    shb = struct.pack(">II", 0x0A0D0D0A, len(body) + 12) + body + struct.pack(">I", len(body) + 12)
    idb = struct.pack(">II", 1, 20) + struct.pack(">HHI", 101, 0, 65535) + struct.pack(">I", 20)
    packet = bytes.fromhex("4500001c000100004011000001020304050607080035003500080000")
    epb_body = struct.pack(">IIIII", 0, 0, 1_000_000, len(packet), len(packet)) + packet
    epb = struct.pack(">II", 6, len(epb_body) + 12) + epb_body + struct.pack(">I", len(epb_body) + 12)
    _, packets, _ = _read(shb + idb + epb)
    assert packets[0].data == packet and packets[0].ts_ns == 1_000_000_000


def test_six_megabyte_record_stops_with_a_problem() -> None:
    good = _builder().pcap()
    bad = good + struct.pack("<IIII", 1, 0, 6_553_600, 6_553_600) + b"x" * 100
    _, packets, problems = _read(bad)
    assert len(packets) == len(_builder().packets)
    assert "6553600-byte packet" in problems.frame()["message"].iloc[0]
    with pytest.raises(MalformedCaptureError, match=f"frame {len(packets) + 1}: the record claims"):
        _read(bad, strict=True)


def test_truncated_pcap_keeps_packets_before_the_cut() -> None:
    data = _builder().pcap()
    _, packets, problems = _read(data[:-10])
    assert len(packets) == len(_builder().packets) - 1
    assert problems.frame()["kind"].tolist() == ["truncated"]
    with pytest.raises(TruncatedCaptureError):
        _read(data[:-10], strict=True)


@pytest.mark.parametrize(
    ("offset", "value", "reason"),
    [
        (4, 13, "not a multiple of 4"),
        (4, 0xFFFFFFF0, "more than any real block"),
        (-4, 4000, "differ"),
    ],
)
def test_bad_pcapng_block_lengths(offset: int, value: int, reason: str) -> None:
    builder = _builder()
    data = bytearray(builder.pcapng())
    last_start = len(data) - struct.unpack_from("<I", data, len(data) - 4)[0]
    struct.pack_into("<I", data, (last_start + offset) if offset > 0 else len(data) + offset, value)
    _, packets, problems = _read(bytes(data))
    assert len(packets) == len(builder.packets) - 1
    assert reason in problems.frame()["message"].iloc[0]


def test_empty_and_not_pcap(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="empty"):
        _read(b"")
    header_only = tmp_path / "header.pcap"
    header_only.write_bytes(_builder().pcap()[:24])
    capture = toolkit.load(header_only)
    assert capture.flows.empty and capture.problems.empty


def test_gzip_capture_through_load(tmp_path: Path) -> None:
    path = tmp_path / "session.pcap.gz"
    path.write_bytes(gzip.compress(_builder().pcapng()))
    capture = toolkit.load(path)
    assert capture.provenance.compression == "gzip" and capture.provenance.tool == "toolkit.pcap_builder"
    assert capture.tls["sni"].tolist() == ["example.org"]
    assert capture.tls["evidence"].iloc[0] == "session.pcap.gz#frames=6,7"


def _corpus_seeds() -> list[bytes]:
    if not (CORPUS / "pcap").is_dir():
        return [_builder().pcap(), _builder().pcapng()]
    chosen = [
        "ndpi__quic-v2.pcapng",
        "zeek__http-get.pcap",
        "tcpdump__dnssec.pcap",
        "ja4__tls-alpn-h2.pcap",
        "ndpi__KakaoTalk_chat.pcap",
        "pcapdroid__metadata.pcap",
    ]
    return [(CORPUS / "pcap" / name).read_bytes()[:60_000] for name in chosen]


SEEDS = _corpus_seeds()


def _pcapng_seeds() -> list[bytes]:
    """pcapng files of Ethernet packets (with runs of plain blocks), the first 60 kB of each."""
    seeds = [(DATA / "lab" / "normal.pcapng").read_bytes()[:60_000]]
    if (CORPUS / "pcap").is_dir():
        for name in [
            "ndpi__alexa-app.pcapng",
            "ja4__tls-sni.pcapng",
            "ja4__chrome-cloudflare-quic-with-secrets.pcapng",
        ]:
            seeds.append((CORPUS / "pcap" / name).read_bytes()[:60_000])
    return seeds


PCAPNG_SEEDS = _pcapng_seeds()


@st.composite
def _mutated(draw: st.DrawFn, seeds: list[bytes] = SEEDS) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "byte", "cut", "insert", "length"]))
        if action == "flip":
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif action == "byte":
            data[position] = draw(st.integers(0, 255))
        elif action == "cut":
            del data[position : position + draw(st.integers(1, 64))]
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
        elif position + 4 <= len(data):
            struct.pack_into("<I", data, position, draw(st.sampled_from([0, 3, 0xFFFF, 6_553_600, 0xFFFFFFFF])))
        if not data:
            data = bytearray(b"\xd4\xc3\xb2\xa1")
    return bytes(data)


@given(_mutated(), st.booleans())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@pytest.mark.slow
def test_fuzzed_corpus_files_give_tables_or_capture_error(data: bytes, strict: bool) -> None:
    problems = ProblemLog("fuzz.pcap", strict=strict)
    try:
        contents = read_pcap("fuzz.pcap", io.BytesIO(data), problems)
    except CaptureError:
        return
    assert len(contents.flows) <= len(data)


def test_pcapng_time_beyond_pandas_range_is_unknown() -> None:
    builder = _builder()
    builder.packets = [(0xFFFFFFFF_00000000, frame) for _, frame in builder.packets]  # year 2106 * 1000
    data = bytearray(builder.pcapng())
    result = read_pcap("t.pcapng", io.BytesIO(bytes(data)), ProblemLog("t.pcapng"))
    assert result.flows["ts_start"].isna().all() and len(result.tls) == 1


@pytest.mark.parametrize("offset", [3600, -3])
def test_pcapng_interface_time_offset_is_added(offset: int) -> None:
    """``if_tsoffset`` (option 14): the interface's timestamps count from that many seconds."""
    options = struct.pack("<HHq", 14, 8, offset) + struct.pack("<HH", 9, 1) + b"\x09\0\0\0" + struct.pack("<HH", 0, 0)
    body = struct.pack("<HHI", 101, 0, 65535) + options
    idb = struct.pack("<II", 1, len(body) + 12) + body + struct.pack("<I", len(body) + 12)
    shb_body = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
    shb = struct.pack("<II", 0x0A0D0D0A, len(shb_body) + 12) + shb_body + struct.pack("<I", len(shb_body) + 12)
    packet = bytes.fromhex("4500001c000100004011000001020304050607080035003500080000")
    units = 5_000_000_000  # nanoseconds (if_tsresol 9)
    epb_body = struct.pack("<IIIII", 0, units >> 32, units & 0xFFFFFFFF, len(packet), len(packet)) + packet
    epb = struct.pack("<II", 6, len(epb_body) + 12) + epb_body + struct.pack("<I", len(epb_body) + 12)
    capture, packets, _ = _read(shb + idb + epb)
    assert capture.interfaces[0].ts_offset_s == offset
    assert packets[0].ts_ns == (5 + offset) * 1_000_000_000


def _what_is_read(data: bytes, runs: bool) -> tuple[Any, ...]:
    """The packets (runs taken apart), problems and file facts, or the error, of one reading."""
    problems = ProblemLog("t.pcapng")
    capture = CaptureFile("t.pcapng", io.BytesIO(data), problems)
    packets: list[tuple[Any, ...]] = []
    try:
        for item in capture.record_runs() if runs else capture.records():
            if isinstance(item, EthernetRun):
                for index, (start, length, ts) in enumerate(
                    zip(item.starts.tolist(), item.lengths.tolist(), item.ts_ns.tolist(), strict=True)
                ):
                    packets.append((item.first_frame + index, ts, item.buf[start : start + length], None, None))
            else:
                frame, ts, _interface, packet, _orig_len, comment, process = item
                packets.append((frame, ts, packet, comment, process))
    except CaptureError as error:
        return (str(error),)
    facts = [capture.format, capture.interfaces, capture.decryption_secrets, capture.uid_map, capture.processes]
    return packets, problems.frame().values.tolist(), facts


@given(_mutated(PCAPNG_SEEDS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_record_runs_hold_the_packets_and_problems_of_records(data: bytes) -> None:
    """Damaged pcapng files read as runs (of one packet or more) and record by record agree."""
    with mock.patch.object(pcapfile, "MIN_RUN", 1):
        assert _what_is_read(data, runs=True) == _what_is_read(data, runs=False)


def test_record_runs_of_the_lab_pcapng() -> None:
    raw = (DATA / "lab" / "normal.pcapng").read_bytes()
    items = list(CaptureFile("normal.pcapng", io.BytesIO(raw), ProblemLog("normal.pcapng")).record_runs())
    assert [type(item) for item in items] == [EthernetRun]
    assert _what_is_read(raw, runs=True) == _what_is_read(raw, runs=False)


@pytest.mark.parametrize("tsresol", [6, 9])
def test_record_runs_times_at_the_pandas_limit(tsresol: int) -> None:
    """Times just below, at and past the latest a pandas timestamp holds are read as by records()."""
    scale = 10 ** (9 - tsresol)
    limit = MAX_TIMESTAMP_NS // scale
    options = struct.pack("<HH", 9, 1) + bytes([tsresol, 0, 0, 0]) + struct.pack("<HH", 0, 0)
    data = _builder().pcapng()
    idb_body = struct.pack("<HHI", 1, 0, 262144) + options
    data += struct.pack("<II", 1, len(idb_body) + 12) + idb_body + struct.pack("<I", len(idb_body) + 12)
    frame = _builder().packets[0][1]
    for units in [limit - (1 << 32), (limit >> 32) << 32, limit, limit + 1, 2**64 - 1, 0, 1]:
        body = struct.pack("<IIIII", 1, units >> 32, units & 0xFFFFFFFF, len(frame), len(frame))
        body += frame + bytes(-len(frame) % 4)
        data += struct.pack("<II", 6, len(body) + 12) + body + struct.pack("<I", len(body) + 12)
    with mock.patch.object(pcapfile, "MIN_RUN", 1):
        packets, problems, _facts = _what_is_read(data, runs=True)
        assert (packets, problems, _facts) == _what_is_read(data, runs=False)
    times = [ts for _frame, ts, *_ in packets[-7:]]
    assert times[2] == limit * scale and times[3:5] == [None, None] and times[5:] == [0, scale]

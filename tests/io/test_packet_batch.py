"""The batched reader gives the same tables and problems as the reader that sees every packet."""

from __future__ import annotations

import gzip
import io
import random
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.paths import DATA
from toolkit.errors import CaptureError
from toolkit.io.pcap import read_pcap
from toolkit.io.pcap_builder import PcapBuilder
from toolkit.io.pcapdroid import trailer_for_tests
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
            builder.http_exchange(client, server, f"h{index}.example.org", f"/p?i={index}",
                                  response_body=bytes(rng.randint(0, 9000)))
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


def test_port_reuse_after_close_starts_a_new_flow_in_the_same_batch() -> None:
    builder = PcapBuilder()
    for records in (50, 70):
        state = builder.tcp_open("10.0.0.2", 40001, "192.0.2.1", 443)
        builder.tcp_send(state, "10.0.0.2", 40001, "192.0.2.1", 443, b"\x17\x03\x03\x00\x05hello" * records, True)
        builder.tcp_close(state, "10.0.0.2", 40001, "192.0.2.1", 443)
    flows = _assert_same(builder.pcap())[0]
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


def test_pcapdroid_trailers_on_long_flows_with_one_app_each() -> None:
    builder = PcapBuilder(step_ns=1000)
    for index in range(3):
        tag = trailer_for_tests(10200 + index, f"com.example.video{index}")
        start = len(builder.packets)
        builder.tls_connection(f"10.0.0.{index + 2}", "192.0.2.1", "v.example", records=800)
        builder.packets[start:] = [(ts, frame + tag) for ts, frame in builder.packets[start:]]
    flows = _assert_same(builder.pcap())[0]
    assert flows["app"].tolist() == ["com.example.video0", "com.example.video1", "com.example.video2"]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**16), cuts=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=40))
def test_damaged_captures_give_the_same_result(seed: int, cuts: list[tuple[int, int]]) -> None:
    """Flip bytes anywhere after the file header: flags, ports, lengths, payloads."""
    raw = bytearray(_interleaved(seed, 10).pcap())
    for position, value in cuts:
        raw[24 + position % (len(raw) - 24)] = value
    _assert_same(bytes(raw))


def test_lab_capture() -> None:
    for path in sorted((DATA / "lab").glob("*.pcap")):
        _assert_same(path.read_bytes(), path.name)


def test_corpus_classic_pcaps(corpus: Path) -> None:
    compared = 0
    for path in sorted((corpus / "pcap").iterdir()):
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        if raw[:4] not in _PCAP_MAGICS:
            continue
        try:
            _assert_same(raw, path.name)
        except CaptureError as batched_error:
            with pytest.raises(CaptureError) as plain_error:
                read_pcap(path.name, io.BytesIO(raw), ProblemLog(path.name), batched=False)
            assert str(plain_error.value) == str(batched_error)
        compared += 1
    assert compared >= 40

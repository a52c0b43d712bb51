"""QUIC decryption: RFC 9001 vectors, a connection built here packet by packet, the keyed captures."""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toolkit
from toolkit.io.keylog import KeyLog
from toolkit.io.quic import QUIC_V1, QUIC_V2
from toolkit.io.quic_decrypt import QuicDecryptor, StreamAssembler, next_packet_number, next_secret, packet_keys
from toolkit.lab.quic_builder import SECRET_LABELS, QuicConnectionBuilder, crypto_frame, stream_frame

DATA = Path(__file__).resolve().parent.parent / "data"


def test_chacha20_short_packet_of_rfc9001() -> None:
    """RFC 9001 appendix A.5: the ChaCha20-Poly1305 short-header packet decrypts to a PING."""
    keys = packet_keys(bytes.fromhex("9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b"), 0x1303, 1)
    packet = bytes.fromhex("4cfe4189655e5cd55c41f69080575d7999c25a5bfb")
    mask = keys.mask(packet[5:21])
    first = packet[0] ^ (mask[0] & 0x1F)
    number = int.from_bytes(bytes(a ^ b for a, b in zip(packet[1:4], mask[1:4], strict=True)), "big")
    header = bytes([first]) + number.to_bytes(3, "big")
    assert (first, number) == (0x42, 0xBFF4)  # the low 3 bytes of 654360564 (0x2700BFF4)
    assert next_packet_number(number, 3, 654360563) == 654360564
    assert keys.open(654360564, packet[4:], header) == b"\x01"


# -- a connection built packet by packet ------------------------------------------------------------
def _keylog(builder: QuicConnectionBuilder, *labels: str) -> KeyLog:
    keys = KeyLog()
    for label in labels or SECRET_LABELS:
        keys.secrets[(builder.client_random, label)] = builder.secrets[label]
    return keys


def _run(keys: KeyLog, datagrams: list[tuple[bool, bytes]]) -> tuple[QuicDecryptor, dict[tuple[bool, int], bytes]]:
    received: dict[tuple[bool, int], bytes] = defaultdict(bytes)

    def sink(client: bool, stream: int, data: bytes, frame: int) -> None:
        received[(client, stream)] += data

    connection = QuicDecryptor(keys, sink)
    for frame, (client, data) in enumerate(datagrams, start=1):
        connection.datagram(data, client, frame)
    return connection, received


def _conversation(version: int, suite: int = 0x1301) -> tuple[QuicConnectionBuilder, list[tuple[bool, bytes]]]:
    """A handshake (ClientHello split in two Initials, coalesced server flight, 0-RTT), then 1-RTT data
    out of order, retransmitted and overlapping, with a key update of the client and a late packet
    of the old key phase."""
    ends = QuicConnectionBuilder(bytes(range(32)), seed=version ^ suite, version=version, suite=suite)
    client_hello, server_hello, extensions = ends.hellos()
    request = b"GET /a-fairly-long-path?id=12345 HTTP/3-ish"
    datagrams = [
        (True, ends.long(True, "Initial", crypto_frame(client_hello[20:], 20)) + bytes(40)),  # second half first
        (
            True,
            ends.long(True, "Initial", crypto_frame(client_hello[:20]))
            + ends.long(True, "0-RTT", stream_frame(0, 0, b"early")),
        ),
        (
            False,
            ends.long(False, "Initial", crypto_frame(server_hello))
            + ends.long(False, "Handshake", crypto_frame(extensions))
            + ends.short(False, stream_frame(3, 0, b"\x00settings")),
        ),
        (True, ends.long(True, "Handshake", crypto_frame(b"\x14\x00\x00\x00"))),
        (True, ends.short(True, stream_frame(4, 10, request[10:25]))),  # a hole first
        (True, ends.short(True, stream_frame(4, 0, request[:12]))),  # overlaps what follows the hole
        (True, ends.short(True, stream_frame(4, 0, request[:12]))),  # retransmitted
    ]
    late = ends.short(True, stream_frame(4, 35, request[35:], fin=True))  # sent before the update, arrives after
    ends.update(True)
    datagrams += [
        (True, ends.short(True, stream_frame(4, 20, request[20:35]))),
        (True, late),
        (False, ends.short(False, stream_frame(4, 0, b"HTTP/3 200", fin=True))),
    ]
    return ends, datagrams


@pytest.mark.parametrize(("version", "suite"), [(QUIC_V1, 0x1301), (QUIC_V2, 0x1302), (QUIC_V1, 0x1303)])
def test_connection_decrypts_at_every_level(version: int, suite: int) -> None:
    ends, datagrams = _conversation(version, suite)
    connection, received = _run(_keylog(ends), datagrams)
    outcome = connection.finish()
    assert dict(received) == {
        (True, 0): b"early",
        (False, 3): b"\x00settings",
        (True, 4): b"GET /a-fairly-long-path?id=12345 HTTP/3-ish",
        (False, 4): b"HTTP/3 200",
    }
    assert outcome.packets_decrypted == {"Initial": 3, "0-RTT": 1, "Handshake": 2, "1-RTT": 7}
    assert (outcome.decrypted, outcome.reason, outcome.alpn, outcome.key_updates) == (True, None, "h3", 1)
    assert outcome.stream_frames == 8 and outcome.cipher == suite and outcome.problems == []


def test_missing_secrets_give_reasons() -> None:
    ends, datagrams = _conversation(QUIC_V1)
    outcome = _run(KeyLog(), datagrams)[0].finish()
    assert (outcome.decrypted, outcome.reason) == (False, "no key for this connection")
    without_early = [label for label in SECRET_LABELS if label != "CLIENT_EARLY_TRAFFIC_SECRET"]
    connection, received = _run(_keylog(ends, *without_early), datagrams)
    outcome = connection.finish()
    assert outcome.decrypted and (True, 0) not in received
    assert outcome.reason == "0-RTT without early secret"  # decrypted, but not all of it
    assert any("0-RTT without early secret" in problem for problem in outcome.problems)
    connection, received = _run(_keylog(ends, "CLIENT_EARLY_TRAFFIC_SECRET"), datagrams[:3])
    outcome = connection.finish()
    assert received == {(True, 0): b"early"} and outcome.decrypted
    only_handshake = _run(
        _keylog(ends, "CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET"), datagrams
    )
    assert only_handshake[0].finish().reason == "no application data in the capture"
    unknown = _run(_keylog(ends), [(True, b"\xc0\x0a\x0a\x0a\x0a" + bytes(40))])[0].finish()
    assert unknown.reason == "unknown version 0x0a0a0a0a"
    wrong = KeyLog({(ends.client_random, label): b"\x99" * 32 for label in SECRET_LABELS})
    assert _run(wrong, datagrams)[0].finish().reason == "QUIC packets failed to decrypt (wrong key?)"


def test_stream_assembler_delivers_each_byte_once() -> None:
    text = bytes(range(256)) * 4
    rng = random.Random(7)
    chunks = []
    for _ in range(200):
        start = rng.randrange(len(text))
        chunks.append((start, text[start : start + rng.randrange(1, 64)]))
    chunks.append((0, text[:600]))
    chunks.append((500, text[500:]))
    stream = StreamAssembler()
    out = b"".join(stream.add(offset, data) for offset, data in chunks)
    assert out == text and not stream.missing


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_damaged_datagrams_never_raise(data: st.DataObject) -> None:
    """Bytes of a real conversation cut, flipped and reordered: problems or nothing, never a traceback."""
    ends, datagrams = _conversation(QUIC_V1)
    damaged = []
    for client, datagram in datagrams:
        raw = bytearray(datagram)
        if data.draw(st.booleans()) and raw:
            raw[data.draw(st.integers(0, len(raw) - 1))] ^= data.draw(st.integers(1, 255))
        cut = data.draw(st.integers(0, len(raw)))
        damaged.append((client, bytes(raw[: cut if data.draw(st.booleans()) else len(raw)])))
    damaged = data.draw(st.permutations(damaged))
    connection, _ = _run(_keylog(ends), damaged)
    outcome = connection.finish()
    assert outcome.decrypted or outcome.reason


def test_next_secret_changes_keys() -> None:
    secret = bytes(32)
    assert next_secret(secret, 0x1301, QUIC_V1) != next_secret(secret, 0x1301, QUIC_V2)


# -- captures -------------------------------------------------------------------------------------
def test_illustrated_quic_in_tests_data(tmp_path: Path) -> None:
    """The Illustrated QUIC Connection, kept in tests/data: every packet decrypts, its 2 STREAM frames
    are read (tshark 4.0.17 `-o tls.keylog_file:... -Y quic -T fields -e quic.frame_type`: 2 frames
    of types 8 to 15), ALPN ping/1.0 (no HTTP/3: no request)."""
    capture = toolkit.load(DATA / "illustrated-quic.pcap", keylog=DATA / "illustrated-quic.keys")
    flow = capture.flows.iloc[0]
    assert (flow["protocol"], flow["decrypted"], flow["alpn"]) == ("quic", True, "ping/1.0")
    assert pd.isna(flow["not_decrypted_reason"]) and len(capture.problems) == 0
    alone = tmp_path / "alone.pcap"  # no key log beside it
    alone.write_bytes((DATA / "illustrated-quic.pcap").read_bytes())
    plain = toolkit.load(alone).flows.iloc[0]
    assert (plain["decrypted"], plain["not_decrypted_reason"]) == (False, "no key log")


def test_migrated_connection_followed_by_connection_id(tmp_path: Path) -> None:
    """The last two packets of the Illustrated QUIC capture moved to another client port (as after a
    NAT rebinding): the new UDP flow is matched to the connection by its connection id and decrypted."""
    raw = bytearray((DATA / "illustrated-quic.pcap").read_bytes())
    offset, number = 24, 0
    while offset < len(raw):
        length = int.from_bytes(raw[offset + 8 : offset + 12], "little")
        number += 1
        udp = offset + 16 + 4 + 20  # record header, BSD loopback header, IPv4 header
        if number >= 7:
            for port in (udp, udp + 2):
                if raw[port : port + 2] == (60220).to_bytes(2, "big"):
                    raw[port : port + 2] = (60999).to_bytes(2, "big")
        offset += 16 + length
    moved = tmp_path / "moved.pcap"
    moved.write_bytes(bytes(raw))
    capture = toolkit.load(moved, keylog=DATA / "illustrated-quic.keys")
    flows = capture.flows.set_index("flow_id")
    assert list(flows["client_port"]) == [60220, 60999]
    assert list(flows["protocol"]) == ["quic", "quic"] and flows["decrypted"].all()
    assert list(flows["hostname"]) == ["example.ulfheim.net"] * 2
    assert capture.meta["quic_stream_frames"] == {0: 2}  # the second STREAM frame came over the new path


def test_stream_assembler_is_linear_in_its_chunks() -> None:
    """Many chunks waiting past a hole, then the hole filled byte by byte: no quadratic rescans."""
    stream = StreamAssembler()
    size = 200_000
    for offset in range(size, 2 * size, 2):
        stream.add(offset, b"xy")
    delivered = sum(len(stream.add(offset, b"a")) for offset in range(size))
    assert delivered == 2 * size and stream.held == 0 and not stream.pending


@pytest.mark.parametrize("version", [QUIC_V1, QUIC_V2])
def test_retry_moves_the_initial_keys_to_the_new_connection_id(version: int) -> None:
    """After a Retry, both sides' Initial keys come from the connection id the Retry chose."""
    ends = QuicConnectionBuilder(bytes(range(32)), seed=9, version=version)
    first = ends.long(True, "Initial", crypto_frame(ends.hellos()[0]), pad_to=1200)
    chosen = bytes(range(100, 108))
    retry_type = 0xF0 if version == QUIC_V1 else 0xC0  # v2 numbers Retry 0 (RFC 9369 section 3.2)
    retry = bytes([retry_type]) + version.to_bytes(4, "big") + bytes([8]) + ends.client_cid + bytes([8]) + chosen
    retry += b"token" + bytes(16)  # the integrity tag is not checked: an observer has nothing to check it for
    ends.first_dcid = chosen
    datagrams = [(True, first), (False, retry), *ends.handshake()]
    datagrams += [(True, data) for data in ends.send(True, 0, b"after the retry", fin=True)]
    connection, received = _run(_keylog(ends), datagrams)
    outcome = connection.finish()
    assert received == {(True, 0): b"after the retry"}
    assert outcome.decrypted and outcome.reason is None and outcome.packets_decrypted["Initial"] == 3

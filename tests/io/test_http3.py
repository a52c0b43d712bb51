"""HTTP/3 from decrypted QUIC streams: frames, QPACK with the dynamic table, blocked header blocks."""

from __future__ import annotations

import base64
from pathlib import Path

import pylsqpack
from hypothesis import given, settings
from hypothesis import strategies as st

import toolkit
from toolkit.io.http3 import Http3Connection


def _varint(value: int) -> bytes:
    for size, flag in ((1, 0), (2, 0x40), (4, 0x80), (8, 0xC0)):
        if value < 1 << (8 * size - 2):
            return (value | (flag << (8 * size - 8))).to_bytes(size, "big")
    raise ValueError(value)


def _frame(kind: int, payload: bytes) -> bytes:
    return _varint(kind) + _varint(len(payload)) + payload


def _settings(capacity: int) -> bytes:
    """A control stream's start: stream type 0 and a SETTINGS frame (QPACK capacity, blocked streams)."""
    return b"\x00" + _frame(0x04, _varint(0x01) + _varint(capacity) + _varint(0x07) + _varint(16))


def test_dynamic_table_blocked_streams_and_bodies() -> None:
    """The first request is coded with literals; the client's encoder then inserts the repeated
    headers in its encoder stream, and the second request's header block, which refers to them,
    arrives before those instructions (blocked until they come). The first request's body comes in
    pieces; the server answers 103, then 200 with a body and trailers."""
    client = pylsqpack.Encoder()
    client_setup = client.apply_settings(4096, 16)  # what the server's SETTINGS allows
    server = pylsqpack.Encoder()
    server_setup = server.apply_settings(4096, 16)
    first = [
        (b":method", b"POST"),
        (b":scheme", b"https"),
        (b":authority", b"t.example"),
        (b":path", b"/collect?v=1"),
        (b"x-device-id", b"abc-123-def"),
    ]
    second = [
        (b":method", b"GET"),
        (b":scheme", b"https"),
        (b":authority", b"t.example"),
        (b":path", b"/pixel"),
        (b"x-device-id", b"abc-123-def"),
    ]
    _, block_0 = client.encode(0, first)
    inserts, block_4 = client.encode(4, second)
    assert inserts and block_4[0] != 0  # the block needs entries only the encoder stream brings
    _, interim = server.encode(0, [(b":status", b"103"), (b"link", b"</a.css>")])
    server_inserts, response = server.encode(0, [(b":status", b"200"), (b"content-type", b"text/plain")])
    _, trailers = server.encode(0, [(b"x-checksum", b"42")])
    connection = Http3Connection()
    connection.feed(False, 3, _settings(4096), 1)  # the server's control stream
    connection.feed(True, 0, _frame(0x01, block_0) + _frame(0x00, b"id=abc"), 2)
    connection.feed(True, 0, _frame(0x00, b"-123")[:2], 3)  # a DATA frame split over two packets
    connection.feed(True, 0, _frame(0x00, b"-123")[2:], 4)
    connection.feed(True, 4, _frame(0x01, block_4), 5)  # blocked
    connection.feed(True, 3, _settings(4096), 6)
    connection.feed(True, 2, b"\x02" + client_setup + inserts, 6)  # the encoder stream unblocks stream 4
    connection.feed(False, 7, b"\x02" + server_setup + server_inserts, 7)
    connection.feed(False, 0, _frame(0x01, interim) + _frame(0x01, response) + _frame(0x00, b"ok"), 8)
    connection.feed(False, 0, _frame(0x01, trailers), 9)
    connection.feed(True, 10, b"\x21" + b"grease stream: ignored", 9)
    exchanges = connection.finish()
    assert connection.problems == []
    (post, answer), (get, no_answer) = exchanges
    assert (post.method, post.target, post.version, post.body) == (
        "POST",
        "https://t.example/collect?v=1",
        "HTTP/3",
        b"id=abc-123",
    )
    assert post.header("x-device-id") == "abc-123-def" and post.frames == [2, 3, 4, 8, 9]
    assert answer is not None and (answer.status, answer.body, answer.header("x-checksum")) == (200, b"ok", "42")
    assert (get.method, get.target, get.header("x-device-id"), get.frames, no_answer) == (
        "GET",
        "https://t.example/pixel",
        "abc-123-def",
        [5],
        None,
    )


def test_settings_after_the_headers_and_damage() -> None:
    """Header blocks wait for the peer's SETTINGS (which size the decoder); a frame longer than any
    body is refused with a problem, not buffered; undecodable QPACK is a problem."""
    connection = Http3Connection()
    encoder = pylsqpack.Encoder()
    setup = encoder.apply_settings(256, 4)
    headers = [(b":method", b"GET"), (b":path", b"/x"), (b":authority", b"a.example"), (b"cookie", b"session=s3cr3t")]
    _, literal = encoder.encode(0, headers)
    inserts, block = encoder.encode(4, headers)
    assert inserts and block[0] != 0
    connection.feed(True, 2, b"\x02" + setup + inserts, 1)  # before the server's SETTINGS: held
    connection.feed(True, 0, _frame(0x01, literal), 2)
    connection.feed(True, 4, _frame(0x01, block), 2)
    connection.feed(False, 3, _settings(256), 3)
    connection.feed(True, 12, _varint(0x01) + _varint(1 << 40), 4)
    connection.feed(True, 8, _frame(0x01, b"\xff\xff\xff\xff"), 5)
    exchanges = connection.finish()
    assert [(request.target, request.header("cookie")) for request, _ in exchanges] == [
        ("https://a.example/x", "session=s3cr3t")
    ] * 2
    assert any("stream 12" in problem and "longer" in problem for problem in connection.problems)
    assert any("QPACK stream 8" in problem for problem in connection.problems)


def test_http3_telemetry_reaches_the_leak_search(tmp_path: Path) -> None:
    """A QUIC connection carrying an HTTP/3 POST whose body holds the visited URL base64-encoded in
    JSON: the request lands in `requests` as HTTP/3 and the leak search finds the URL with its chain."""
    from toolkit.lab.framing import Endpoint, Frame, udp_frame
    from toolkit.lab.pcap_writer import write_pcap
    from toolkit.lab.quic_builder import QuicConnectionBuilder
    from toolkit.leaks import find_leaks

    page = "https://news.example/world/2026/story.html"
    builder = QuicConnectionBuilder(bytes(range(32)), seed=3, sni="t.tracker.example")
    encoder = pylsqpack.Encoder()
    _, block = encoder.encode(
        0,
        [
            (b":method", b"POST"),
            (b":scheme", b"https"),
            (b":authority", b"t.tracker.example"),
            (b":path", b"/v1/events"),
            (b"content-type", b"application/json"),
        ],
    )
    body = b'{"event":"page_view","p":"' + base64.b64encode(page.encode()) + b'"}'
    datagrams = builder.handshake() + [
        (True, d) for d in builder.send(True, 0, _frame(0x01, block) + _frame(0x00, body), fin=True)
    ]
    client, server = Endpoint("192.0.2.20", 50000), Endpoint("203.0.113.9", 443)
    frames = []
    for n, (up, data) in enumerate(datagrams):
        source, target = (client, server) if up else (server, client)
        frames.append(Frame(1_700_000_000_000_000 + n * 1000, udp_frame(source, target, data, from_client=up, ident=n)))
    path = tmp_path / "h3.pcap"
    with path.open("wb") as out:
        write_pcap(out, frames)
    (tmp_path / "h3.keys").write_text("\n".join(builder.keylog_lines()) + "\n")
    capture = toolkit.load(path)  # the key log beside the capture is found by its name
    row = capture.requests.iloc[0]
    assert (row["http_version"], row["method"], row["url"], row["decrypted"]) == (
        "HTTP/3",
        "POST",
        "https://t.tracker.example/v1/events",
        True,
    )
    leaks = find_leaks(capture, visited=[page])
    assert len(leaks) == 1
    leak = leaks.iloc[0]
    assert (leak["needle"], leak["host"]) == (page, "t.tracker.example")
    assert "base64" in leak["chain"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.sampled_from([0, 2, 3, 4, 6, 7, 10, 11]), st.binary(max_size=64)), max_size=30)
)
def test_arbitrary_stream_bytes_never_raise(chunks: list[tuple[bool, int, bytes]]) -> None:
    """Whatever the streams carry (control, encoder, request streams): problems, never a traceback."""
    connection = Http3Connection()
    for frame, (client, stream, data) in enumerate(chunks, start=1):
        connection.feed(client, stream, data, frame)
    for request, _ in connection.finish():
        assert request.version == "HTTP/3"

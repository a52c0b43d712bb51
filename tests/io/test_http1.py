"""HTTP/1.x from streams: framing, pipelining, tunnels; fed whole, byte by byte, with junk."""

from __future__ import annotations

import gzip
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.io.http1 import Http1Connection, HttpParser, parse_datagram
from toolkit.io.pcap import read_pcap
from toolkit.lab.pcap_builder import PcapBuilder
from toolkit.problems import ProblemLog

REQUESTS = (
    b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
    b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n"
    b"PUT /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;ext=1\r\nab\r\n1\r\nc\r\n0\r\nX-T: 1\r\n\r\n"
)
RESPONSES = (
    b"HTTP/1.1 100 Continue\r\n\r\n"
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"
    b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n"
)


def _feed(parser_input: bytes, step: int) -> tuple[list, list]:
    connection = Http1Connection()
    requests = [m for i in range(0, len(REQUESTS), step) for m in connection.client(REQUESTS[i : i + step], i)]
    responses = [m for i in range(0, len(parser_input), step) for m in connection.server(parser_input[i : i + step], i)]
    return requests, responses


@pytest.mark.parametrize("step", [1, 3, 17, 10_000])
def test_pipelined_keep_alive_whole_or_in_pieces(step: int) -> None:
    requests, responses = _feed(RESPONSES, step)
    assert [(r.method, r.target, r.body) for r in requests] == [
        ("POST", "/a", b"hello"),
        ("GET", "/b", b""),
        ("PUT", "/c", b"abc"),
    ]
    assert [(r.status, r.body) for r in responses] == [(200, b"ok"), (304, b""), (201, b"xyz")]


def test_head_response_has_no_body_and_close_delimited_body() -> None:
    connection = Http1Connection()
    connection.client(b"HEAD / HTTP/1.1\r\n\r\nGET /x HTTP/1.0\r\n\r\n", 1)
    first = connection.server(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.0 200 OK\r\n\r\nuntil clo", 2)
    assert [(r.status, r.body) for r in first] == [(200, b"")]
    connection.server(b"se", 3)
    (last,) = connection.responses.close()
    assert last.body == b"until close" and last.complete and last.frames == [2, 3]


def test_connect_tunnel_and_upgrade_stop_parsing() -> None:
    connection = Http1Connection()
    (connect,) = connection.client(b"CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n", 1)
    connection.server(b"HTTP/1.1 200 Connection established\r\n\r\n", 2)
    assert connection.tunnel == "connect" and connect.method == "CONNECT"
    assert connection.client(b"\x16\x03\x01\x00\x05hello", 3) == []
    upgrade = Http1Connection()
    upgrade.client(b"GET /chat HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", 1)
    (switch,) = upgrade.server(b"HTTP/1.1 101 Switching Protocols\r\n\r\n\x81\x05hello", 2)
    assert switch.status == 101 and upgrade.tunnel == "upgrade"


def test_gap_ends_the_message_and_parsing_resumes() -> None:
    parser = HttpParser(True)
    parser.feed(b"POST /a HTTP/1.1\r\nContent-Length: 100\r\n\r\npartial", 1)
    (cut,) = parser.gap()
    assert not cut.complete and cut.body == b"partial"
    (after,) = parser.feed(b"tail of body\r\nGET /next HTTP/1.1\r\n\r\n", 5)
    assert after.target == "/next"


def test_ssdp_datagram() -> None:
    message = parse_datagram(b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\n\r\n", 9)
    assert message is not None and message.method == "NOTIFY" and message.header("nt") == "upnp:rootdevice"


def test_requests_table_from_a_capture() -> None:
    builder = PcapBuilder()
    body = gzip.compress(b'{"url": "https://news.example/"}')
    builder.http_exchange(
        "10.0.0.2", "192.0.2.7", "Tracker.Example:8080", "/c?id=42&u=x", method="POST", body=body, port=8080
    )
    frame = builder.packets[3]
    # declare the gzip coding on the request
    builder.packets[3] = (
        frame[0],
        frame[1].replace(b"User-Agent: test\r\n", b"Content-Encoding: gzip\r\nCookie: a=1; b=2\r\n"),
    )
    fixed = bytearray(builder.packets[3][1])
    fixed[16:18] = (len(fixed) - 14).to_bytes(2, "big")
    builder.packets[3] = (frame[0], bytes(fixed))
    problems = ProblemLog("x.pcap")
    row = read_pcap("x.pcap", io.BytesIO(builder.pcap()), problems).requests.iloc[0]
    assert (row["method"], row["host"], row["path"], row["query"], row["server_port"]) == (
        "POST",
        "tracker.example",
        "/c",
        "id=42&u=x",
        8080,
    )
    assert row["url"] == "http://Tracker.Example:8080/c?id=42&u=x"
    assert row["body"] == b'{"url": "https://news.example/"}' and row["cookies"] == [("a", "1"), ("b", "2")]
    assert row["status"] == 200 and row["response_body"] == b"ok" and row["evidence"] == "x.pcap#frames=4,5"
    assert problems.frame().empty


@given(st.binary(max_size=500))
@settings(max_examples=200, deadline=None)
def test_junk_never_raises(data: bytes) -> None:
    connection = Http1Connection()
    connection.client(b"GET / HTTP/1.1\r\n\r\n" + data, 1)
    connection.server(data, 2)
    connection.requests.close()
    connection.responses.close()

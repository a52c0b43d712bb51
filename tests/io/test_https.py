"""HTTP/1.1 and HTTP/2 read back from real TLS connections (OpenSSL in memory) with the key log."""

from __future__ import annotations

import h2.config
import h2.connection

from tests.io.tls_memory import Transcript, converse
from toolkit.io.https import HttpsFlow
from toolkit.io.keylog import KeyLog


def read(transcript: Transcript) -> HttpsFlow:
    flow = HttpsFlow(KeyLog.parse_text(transcript.keylog))
    for frame, (direction, data) in enumerate(transcript.wire, start=1):
        flow.feed(direction == 0, data, frame)
    return flow


def test_http1_keep_alive_requests() -> None:
    exchanges = [
        (b"GET /a HTTP/1.1\r\nHost: www.example-news.com\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
        (
            b"POST /sa HTTP/1.1\r\nHost: sa.api.intl.miui.com\r\nContent-Length: 3\r\n\r\nabc",
            b"HTTP/1.1 204 No Content\r\n\r\n",
        ),
    ]
    transcript = converse(exchanges, version="1.2", alpn=["http/1.1"])
    assert isinstance(transcript, Transcript)
    result = read(transcript).finish()
    assert result.tls.reason is None and result.http_version == "HTTP/1.1"
    assert [(q.method, q.target, q.body, r.status if r else None) for q, r in result.exchanges] == [
        ("GET", "/a", b"", 200),
        ("POST", "/sa", b"abc", 204),
    ]
    assert all(q.frames for q, _ in result.exchanges)


def test_http2_streams() -> None:
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    server = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    client.initiate_connection()
    client.send_headers(
        1,
        [
            (":method", "POST"),
            (":scheme", "https"),
            (":authority", "sa.api.intl.miui.com"),
            (":path", "/sa?project=global_browser_mini"),
        ],
    )
    client.send_data(1, b"crc=1&gzip=1&data_list=x", end_stream=True)
    client_bytes = client.data_to_send()
    server.initiate_connection()
    server.receive_data(client_bytes)
    server.send_headers(1, [(":status", "200")])
    server.send_data(1, b"{}", end_stream=True)
    transcript = converse([(client_bytes, server.data_to_send())], version="1.3", alpn=["h2"])
    assert isinstance(transcript, Transcript)
    result = read(transcript).finish()
    assert result.tls.alpn == "h2" and result.http_version == "HTTP/2"
    [(request, response)] = result.exchanges
    assert request.target == "https://sa.api.intl.miui.com/sa?project=global_browser_mini"
    assert request.body == b"crc=1&gzip=1&data_list=x"
    assert response is not None and response.status == 200 and response.body == b"{}"


def test_without_keys_no_exchanges_and_a_reason() -> None:
    transcript = converse([(b"GET / HTTP/1.1\r\n\r\n", b"HTTP/1.1 200 OK\r\n\r\n")], version="1.3")
    assert isinstance(transcript, Transcript)
    flow = HttpsFlow(KeyLog())
    for frame, (direction, data) in enumerate(transcript.wire, start=1):
        flow.feed(direction == 0, data, frame)
    result = flow.finish()
    assert result.exchanges == [] and result.tls.reason == "no key for this session"

"""HTTP/2 streams from byte streams written by the `h2` library (a real, independent implementation)."""

from __future__ import annotations

import gzip

import h2.config
import h2.connection
import h2.events
import pytest

from toolkit.io.http2 import Http2Connection


def conversation(*, padding: bool = False, push: bool = False) -> list[tuple[int, bytes]]:
    """Bytes each side sends, in order: (0 client / 1 server, data)."""
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    server = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    client.initiate_connection()
    wire: list[tuple[int, bytes]] = []

    def pump() -> list[h2.events.Event]:
        events = []
        for direction, sender, receiver in ((0, client, server), (1, server, client)):
            data = sender.data_to_send()
            if data:
                wire.append((direction, data))
                events += receiver.receive_data(data)
        return events

    server.initiate_connection()
    pump()
    pump()
    big_cookie = "id=" + "c" * 30000  # forces CONTINUATION frames
    requests = [
        [
            (":method", "GET"),
            (":scheme", "https"),
            (":authority", "www.example-news.com"),
            (":path", "/a"),
            ("cookie", big_cookie),
        ],
        [
            (":method", "POST"),
            (":scheme", "https"),
            (":authority", "sa.api.intl.miui.com"),
            (":path", "/sa?project=global_browser_mini"),
            ("content-encoding", "gzip"),
        ],
    ]
    body = gzip.compress(b"data_list=abc", mtime=0)
    pad = 17 if padding else None
    client.send_headers(1, requests[0], end_stream=True)
    client.send_headers(3, requests[1])
    client.send_data(3, body, end_stream=True, pad_length=pad)
    for event in pump():
        if isinstance(event, h2.events.RequestReceived):
            sid = event.stream_id
            if push and sid == 1:
                server.push_stream(
                    1,
                    2,
                    [
                        (":method", "GET"),
                        (":scheme", "https"),
                        (":authority", "www.example-news.com"),
                        (":path", "/style.css"),
                    ],
                )
                server.send_headers(2, [(":status", "200")])
                server.send_data(2, b"body{}", end_stream=True)
            server.send_headers(sid, [(":status", "200"), ("content-type", "text/plain")])
            server.send_data(sid, f"reply {sid}".encode(), end_stream=True, pad_length=pad)
    pump()
    return wire


def read(wire: list[tuple[int, bytes]], split: int | None = None) -> Http2Connection:
    connection = Http2Connection()
    for frame, (direction, data) in enumerate(wire, start=1):
        pieces = [data[i : i + split] for i in range(0, len(data), split)] if split else [data]
        for piece in pieces:
            connection.feed(direction, piece, (frame,))
    return connection


@pytest.mark.parametrize("split", [None, 1, 10, 1000])
@pytest.mark.parametrize("padding", [False, True])
def test_requests_and_responses(split: int | None, padding: bool) -> None:
    connection = read(conversation(padding=padding), split)
    streams = connection.finish()
    assert [(s.stream_id, s.method, s.url, s.status) for s in streams] == [
        (1, "GET", "https://www.example-news.com/a", 200),
        (3, "POST", "https://sa.api.intl.miui.com/sa?project=global_browser_mini", 200),
    ]
    assert dict(streams[0].request_headers)["cookie"] == "id=" + "c" * 30000
    assert gzip.decompress(bytes(streams[1].request_body)) == b"data_list=abc"
    assert [bytes(s.response_body) for s in streams] == [b"reply 1", b"reply 3"]
    assert all(s.frames for s in streams)
    assert connection.problems == []


def test_server_push_is_a_stream_marked_pushed() -> None:
    streams = read(conversation(push=True)).finish()
    pushed = [s for s in streams if s.pushed]
    assert [(s.url, bytes(s.response_body)) for s in pushed] == [("https://www.example-news.com/style.css", b"body{}")]


def test_garbage_is_a_problem_not_an_exception() -> None:
    connection = Http2Connection()
    connection.feed(0, b"GET / HTTP/1.1\r\n\r\n", (1,))
    assert connection.finish() == [] and "preface" in connection.problems[0]
    connection = Http2Connection(expect_preface=False)
    connection.feed(1, b"\x00\x00\x05\x01\x04\x00\x00\x00\x01\xff\xff\xff\xff\xff", (2,))
    assert "HPACK" in connection.problems[0]

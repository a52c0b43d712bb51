"""HTTP/2 through real TLS: the h2 client and server exchange several requests on one connection."""

from __future__ import annotations

from pathlib import Path

from toolkit.lab.certs import CertificateAuthority
from toolkit.lab.exchange import Request, Response
from toolkit.lab.http2 import Http2Session
from toolkit.lab.tls_pair import TlsPair


def test_requests_on_one_connection(tmp_path: Path) -> None:
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        return Response(200, [("content-type", "text/plain")], request.path.encode() * 2000, gzip_body=True)

    pair = TlsPair.open(
        "cdn.example-cdn.com",
        CertificateAuthority.from_seed(3),
        "1.3",
        ["h2", "http/1.1"],
        tmp_path,
        on_wire=lambda c, d: None,
    )
    session = Http2Session(pair, handler)
    results = [
        session.exchange(Request("GET", "cdn.example-cdn.com", f"/{n}", [("referer", "https://x.example/")]))
        for n in range(3)
    ]
    post = session.exchange(Request("POST", "cdn.example-cdn.com", "/up", [], b"x" * 70_000))
    session.close()
    assert [reply.status for reply in results] == [200, 200, 200]
    assert results[2].body == b"/2" * 2000  # decoded from gzip
    assert ("content-encoding", "gzip") in results[0].headers
    assert [r.path for r in seen] == ["/0", "/1", "/2", "/up"]
    assert seen[0].headers == [("referer", "https://x.example/")]
    assert seen[3].body == b"x" * 70_000  # more than the initial flow-control window
    assert post.wire_headers[:4] == [
        (":method", "POST"),
        (":authority", "cdn.example-cdn.com"),
        (":scheme", "https"),
        (":path", "/up"),
    ]
    assert session.last_stream_id == 7


def test_response_larger_than_window_and_frame(tmp_path: Path) -> None:
    big = bytes(range(256)) * 800  # 204,800 bytes: > 65,535 window, > 16,384 frame

    pair = TlsPair.open(
        "cdn.example-cdn.com", CertificateAuthority.from_seed(3), "1.2", ["h2"], tmp_path, on_wire=lambda c, d: None
    )
    session = Http2Session(pair, lambda request: Response(200, [("content-type", "application/octet-stream")], big))
    reply = session.exchange(Request("GET", "cdn.example-cdn.com", "/big"))
    assert (reply.status, reply.body) == (200, big)


class _Recorder:
    """A transport that passes bytes through and keeps what the server sent (plain HTTP/2 frames)."""

    def __init__(self) -> None:
        self.from_server = bytearray()

    def client_send(self, data: bytes) -> bytes:
        return data

    def server_send(self, data: bytes) -> bytes:
        self.from_server += data
        return data


def _data_frame_streams(data: bytes) -> list[int]:
    streams, offset = [], 0
    while offset + 9 <= len(data):
        length = int.from_bytes(data[offset : offset + 3], "big")
        if data[offset + 3] == 0:  # DATA
            streams.append(int.from_bytes(data[offset + 5 : offset + 9], "big") & 0x7FFFFFFF)
        offset += 9 + length
    return streams


def test_concurrent_streams_are_interleaved() -> None:
    bodies = {f"/{n}": bytes([n]) * 40_000 for n in range(3)}
    transport = _Recorder()
    session = Http2Session(transport, lambda request: Response(200, [], bodies[request.path]))
    replies = session.exchange_all([Request("GET", "cdn.example-cdn.com", path) for path in bodies])
    assert [r.body for r in replies] == list(bodies.values())
    assert [r.stream_id for r in replies] == [1, 3, 5]
    streams = _data_frame_streams(bytes(transport.from_server))
    assert streams[:4] == [1, 3, 5, 1]  # one 16 kB frame per stream in turn ...
    # ... until the connection window (65,535 bytes) is spent; the rest follows the client's WINDOW_UPDATE
    last_of_first = len(streams) - 1 - streams[::-1].index(1)
    assert streams.index(5) < last_of_first

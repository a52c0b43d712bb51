"""Hostile inputs for the reader tests: HAR entries, TCP conversations, HTTP/2 frames, TLS captures,
and a run of the whole pipeline in a child process that reports its time and peak memory.

Built here, in the test, so that each case shows what makes it hostile.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.io.tls_memory import Transcript, converse
from toolkit.io.http2 import PREFACE
from toolkit.lab.pcap_builder import PcapBuilder

REPO = Path(__file__).resolve().parents[2]
CLIENT, SERVER = "10.0.0.2", "192.0.2.80"


@contextlib.contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail (TimeoutError) instead of hanging when the block runs longer than ``seconds``."""

    def expire(_signum: int, _frame: Any) -> None:
        raise TimeoutError(f"still running after {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def har_entry(
    url: str = "https://a.example/x",
    status: Any = 200,
    content: dict[str, Any] | None = None,
    request_headers: list[dict[str, str]] | None = None,
    post: dict[str, Any] | None = None,
    response_headers: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "method": "POST" if post else "GET",
        "url": url,
        "httpVersion": "HTTP/1.1",
        "headers": request_headers or [],
        "cookies": [],
    }
    if post is not None:
        request["postData"] = post
    return {
        "startedDateTime": "2024-01-01T00:00:00Z",
        "time": 1,
        "cache": {},
        "timings": {},
        "request": request,
        "response": {"status": status, "headers": response_headers or [], "content": content or {"size": 0}},
    }


def har_text(entries: list[dict[str, Any]]) -> str:
    return json.dumps({"log": {"version": "1.2", "creator": {"name": "hostile", "version": "1"}, "entries": entries}})


def gzip_of_zeros(size: int) -> bytes:
    """``size`` zero bytes, gzip-compressed in pieces (never all in memory): about size / 1000 bytes."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    piece = bytes(1 << 20)
    out = [packer.compress(piece) for _ in range(size >> 20)]
    out.append(packer.compress(bytes(size & ((1 << 20) - 1))))
    out.append(packer.flush())
    return b"".join(out)


def tcp_conversation(
    builder: PcapBuilder, messages: list[tuple[bool, bytes]], port: int = 80, segment_size: int = 1400
) -> None:
    """A whole TCP connection (handshake, the messages in order, FIN) from CLIENT to SERVER:``port``."""
    cport = builder.ephemeral_port()
    state = builder.tcp_open(CLIENT, cport, SERVER, port)
    for from_client, data in messages:
        builder.tcp_send(state, CLIENT, cport, SERVER, port, data, from_client, segment_size)
    builder.tcp_close(state, CLIENT, cport, SERVER, port)


def tls_capture(folder: Path, exchanges: list[tuple[bytes, bytes]], alpn: list[str]) -> Path:
    """A pcap of one real TLS connection carrying ``exchanges``, with its key log beside it."""
    transcript = converse(exchanges, version="1.3", alpn=alpn, host="bomb.example")
    assert isinstance(transcript, Transcript)
    builder = PcapBuilder()
    tcp_conversation(builder, [(direction == 0, data) for direction, data in transcript.wire], port=443)
    path = folder / "tls.pcap"
    path.write_bytes(builder.pcap())
    (folder / "tls.keylog").write_text(transcript.keylog)
    return path


def h2_frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    """One HTTP/2 frame (RFC 9113 §4.1)."""
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + payload


def hpack_integer(value: int, prefix_bits: int, flags: int) -> bytes:
    """An HPACK integer with an N-bit prefix (RFC 7541 §5.1), ``flags`` in the first byte's high bits."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([flags | value])
    out = [flags | limit]
    value -= limit
    while value >= 128:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hpack_string(data: bytes) -> bytes:
    """A string literal without Huffman coding (RFC 7541 §5.2)."""
    return hpack_integer(len(data), 7, 0) + data


def hpack_request(authority: bytes = b"bomb.example") -> bytes:
    """GET https://authority/ from the static table: :method GET, :scheme https, :path /."""
    return b"\x82\x87\x84" + hpack_integer(1, 4, 0) + hpack_string(authority)


def run_measured(script: str, *args: str, timeout: int = 300) -> dict[str, Any]:
    """Run ``script`` (Python, given ``args`` in sys.argv) in a child process; its last stdout line
    is JSON, to which the child's wall time and peak resident memory are added."""
    code = (
        "import json, resource, sys, time\n"
        "start = time.perf_counter()\n"
        f"{script}\n"
        "result['seconds'] = time.perf_counter() - start\n"
        "result['peak_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps(result))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout, cwd=REPO, env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


LOAD_AND_FIND = """
import toolkit
from toolkit.leaks import find_leaks
capture = toolkit.load(sys.argv[1])
leaks = find_leaks(capture, visited=["https://news.example/story?q=secret"], identifiers=["ID=8e5fbce04dc91566"])
result = {
    "problems": capture.problems["message"].tolist() + leaks.attrs["problems"]["message"].tolist(),
    "requests": len(capture.requests),
    "leaks": len(leaks),
    "body_bytes": int(sum(len(b) for b in capture.requests["response_body"].dropna())
                      + sum(len(b) for b in capture.requests["body"].dropna())),
}
"""


__all__ = [
    "CLIENT",
    "LOAD_AND_FIND",
    "PREFACE",
    "SERVER",
    "deadline",
    "gzip_of_zeros",
    "h2_frame",
    "har_entry",
    "har_text",
    "hpack_integer",
    "hpack_request",
    "hpack_string",
    "run_measured",
    "tcp_conversation",
    "tls_capture",
]

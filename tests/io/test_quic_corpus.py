"""QUIC captures of the shared corpus with their keys: what tshark decrypts, we decrypt.

Reference values come from tshark 4.0.17 (Debian 12), run on the corpus files:

    tshark -r pcap/F [-o tls.keylog_file:keys/K] -Y quic -T fields -e quic.connection.number -e quic.frame_type
        (STREAM frames: frame types 0x08 to 0x0f, counted per connection number)
    tshark -r pcap/F [-o tls.keylog_file:keys/K] -Y quic.stream.stream_id -T fields -E occurrence=a
        -e frame.number -e udp.srcport -e quic.stream.stream_id -e http3.frame_type
        (client-initiated bidirectional streams carrying an HTTP/3 HEADERS frame: the requests)

tshark 4.0 has no QPACK decoder (built without nghttp3): it shows the HEADERS frames, not their
fields, so the method and URL below are checked against the SNI and what the test servers serve.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import toolkit

#: capture, key log (None: the pcapng's Decryption Secrets Block), tshark's STREAM frames of its one
#: QUIC connection, the request streams with a client HEADERS frame, (method, URL, status) we read.
KEYED = [
    ("illustrated-quic__capture.pcap", "illustrated-quic__capture.keys", 2, [], []),
    ("hotplace__http3.pcapng", "hotplace__http3.keys", 28, [0], [("GET", "https://www.google.com/", 200)]),
    ("ja4__chrome-cloudflare-quic-with-secrets.pcapng", None, 18, [0], [("GET", "https://cloudflare-quic.com/", 200)]),
    (
        "ndpi__quic-v2.pcapng",
        None,
        17,
        [0, 4, 8],
        [
            ("GET", "https://test/index.html", 200),
            ("GET", "https://test/test.html", 404),
            ("GET", "https://test/1234567", None),
        ],
    ),
]


@pytest.mark.parametrize(("name", "keys", "stream_frames", "request_streams", "requests"), KEYED)
def test_keyed_quic_captures_match_tshark(
    corpus: Path,
    name: str,
    keys: str | None,
    stream_frames: int,
    request_streams: list[int],
    requests: list[tuple[str, str, int | None]],
) -> None:
    capture = toolkit.load(corpus / "pcap" / name, keylog=corpus / "keys" / keys if keys else None)
    quic = capture.flows[capture.flows["protocol"] == "quic"]
    assert len(quic) == 1 and quic["decrypted"].all() and quic["not_decrypted_reason"].isna().all()
    flow_id = int(quic["flow_id"].iloc[0])
    assert capture.meta["quic_stream_frames"] == {flow_id: stream_frames}
    rows = capture.requests[capture.requests["http_version"] == "HTTP/3"]
    assert len(rows) == len(request_streams)
    found = [(m, u, None if pd.isna(s) else int(s)) for m, u, s in rows[["method", "url", "status"]].values]
    assert found == requests
    assert rows["decrypted"].all() and (rows["flow_id"] == flow_id).all()
    assert not capture.problems["message"].str.contains("QUIC").any()


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("zeek__quicv2-http3-443.pcap", "no key for this connection"),
        ("zeek__firefox-102-blog-cloudflare-com.pcap", "no key for this connection"),
        ("tcpdump__quic_handshake_truncated.malformed.pcap", "no ClientHello in the capture"),
        ("zeek__quic-vector-max-size-crash.malformed.pcap", "unknown version 0x10010000"),
    ],
)
def test_quic_without_keys_gives_the_reason(corpus: Path, name: str, reason: str) -> None:
    """With a key log that lacks these connections: the reason in the flows table (coverage) and problems."""
    capture = toolkit.load(corpus / "pcap" / name, keylog=corpus / "keys/illustrated-quic__capture.keys")
    quic = capture.flows[capture.flows["protocol"] == "quic"]
    assert len(quic) and not quic["decrypted"].any()
    assert set(quic["not_decrypted_reason"]) == {reason}
    assert capture.problems["message"].str.contains(f"QUIC not decrypted: {reason}", regex=False).any()


def test_malformed_quic_gives_problem_rows(corpus: Path) -> None:
    for name in (
        "ndpi__quic-fuzz-overflow.malformed.pcapng",
        "zeek__quic-vector-max-size-crash.malformed.pcap",
        "tcpdump__quic_handshake_truncated.malformed.pcap",
    ):
        capture = toolkit.load(corpus / "pcap" / name, keylog=corpus / "keys/hotplace__http3.keys")
        assert len(capture.problems) > 0

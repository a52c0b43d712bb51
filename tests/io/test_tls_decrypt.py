"""Decrypting real TLS connections made in memory by OpenSSL, read back with the key log."""

from __future__ import annotations

import pytest

from tests.io.tls_memory import Transcript, converse
from toolkit.io.keylog import KeyLog
from toolkit.io.tls_crypto import SUITES
from toolkit.io.tls_decrypt import DOWN, UP, TlsDecryptor

EXCHANGES = [
    (
        b"POST /sa?project=global_browser_mini HTTP/1.1\r\nHost: sa.api.intl.miui.com\r\n\r\n" + b"x" * 40000,
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ),
    (b"GET /next HTTP/1.1\r\n\r\n", b"HTTP/1.1 204 No Content\r\n\r\n"),
]

# OpenSSL's cipher names → IANA codes (RFC 8446 B.4, RFC 5289, RFC 7905).
OPENSSL_NAMES = {
    "TLS_AES_128_GCM_SHA256": 0x1301,
    "TLS_AES_256_GCM_SHA384": 0x1302,
    "TLS_CHACHA20_POLY1305_SHA256": 0x1303,
    "ECDHE-ECDSA-AES128-GCM-SHA256": 0xC02B,
    "ECDHE-ECDSA-AES256-GCM-SHA384": 0xC02C,
    "ECDHE-ECDSA-CHACHA20-POLY1305": 0xCCA9,
    "ECDHE-ECDSA-AES128-SHA256": 0xC023,
    "ECDHE-ECDSA-AES256-SHA": 0xC00A,
}


def decrypt(
    wire: list[tuple[int, bytes]], keylog: str, *, split: int | None = None
) -> tuple[bytes, bytes, TlsDecryptor]:
    decryptor = TlsDecryptor(KeyLog.parse_text(keylog))
    streams = {UP: b"", DOWN: b""}
    for frame, (direction, data) in enumerate(wire, start=1):
        pieces = [data[i : i + split] for i in range(0, len(data), split)] if split else [data]
        for piece in pieces:
            for plain in decryptor.feed(direction, piece, frame):
                streams[plain.direction] += plain.data
                assert plain.frames and all(f <= frame for f in plain.frames)
    return streams[UP], streams[DOWN], decryptor


@pytest.mark.parametrize(
    ("version", "ciphers"),
    [
        ("1.3", None),
        ("1.2", "ECDHE-ECDSA-AES128-GCM-SHA256"),
        ("1.2", "ECDHE-ECDSA-AES256-GCM-SHA384"),
        ("1.2", "ECDHE-ECDSA-CHACHA20-POLY1305"),
        ("1.2", "ECDHE-ECDSA-AES128-SHA256"),
        ("1.2", "ECDHE-ECDSA-AES256-SHA"),
    ],
)
@pytest.mark.parametrize("split", [None, 1, 7, 1400])
def test_both_directions_decrypt_whatever_the_segmentation(
    version: str, ciphers: str | None, split: int | None
) -> None:
    transcript = converse(EXCHANGES, version=version, ciphers=ciphers, alpn=["http/1.1"])
    assert isinstance(transcript, Transcript)
    up, down, decryptor = decrypt(transcript.wire, transcript.keylog, split=split)
    assert up == b"".join(request for request, _ in EXCHANGES)
    assert down == b"".join(response for _, response in EXCHANGES)
    outcome = decryptor.finish()
    assert outcome.reason is None and outcome.records_failed == 0
    assert outcome.alpn == "http/1.1"
    assert outcome.cipher == OPENSSL_NAMES[transcript.cipher]
    assert outcome.cipher in SUITES


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_session_resumption(version: str) -> None:
    _first, second = converse(EXCHANGES[1:], version=version, connections=2)
    assert second.resumed
    up, down, decryptor = decrypt(second.wire, second.keylog)
    assert up == EXCHANGES[1][0] and down == EXCHANGES[1][1]
    assert decryptor.finish().reason is None


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_without_the_key_nothing_is_decrypted_and_the_reason_is_given(version: str) -> None:
    transcript = converse(EXCHANGES[:1], version=version)
    up, down, decryptor = decrypt(transcript.wire, "")
    assert (up, down) == (b"", b"")
    assert decryptor.finish().reason == "no key for this session"


def test_wrong_key_is_reported_not_crashing() -> None:
    transcript = converse(EXCHANGES[:1], version="1.3")
    wrong = "\n".join(
        " ".join([parts[0], parts[1], "00" * (len(parts[2]) // 2)])
        for parts in (line.split() for line in transcript.keylog.splitlines() if line.strip())
    )
    up, _, decryptor = decrypt(transcript.wire, wrong)
    assert up == b""
    assert "do not decrypt" in (decryptor.finish().reason or "")


def test_capture_starting_mid_connection() -> None:
    transcript = converse(EXCHANGES, version="1.3")
    late = [(d, data) for d, data in transcript.wire[4:]]
    _, _, decryptor = decrypt(late, transcript.keylog)
    assert decryptor.finish().reason is not None


def test_gap_stops_the_direction() -> None:
    transcript = converse(EXCHANGES, version="1.2", ciphers="ECDHE-ECDSA-AES128-GCM-SHA256")
    decryptor = TlsDecryptor(KeyLog.parse_text(transcript.keylog))
    for frame, (direction, data) in enumerate(transcript.wire[:-3], start=1):
        decryptor.feed(direction, data, frame)
    decryptor.gap(UP)
    assert decryptor.finish().reason == "a gap in the TCP stream"

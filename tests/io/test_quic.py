"""QUIC Initial keys (RFC test vectors) and decryption of real Initials."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

import toolkit
from toolkit.io.quic import QUIC_V1, QUIC_V2, QuicInitialReader, initial_keys

DCID = bytes.fromhex("8394c8f03e515708")  # RFC 9001 appendix A and RFC 9369 appendix A


def test_v1_client_keys_match_rfc9001() -> None:
    key, iv, hp = initial_keys(QUIC_V1, DCID, client=True)
    assert key.hex() == "1f369613dd76d5467730efcbe3b1a22d"
    assert iv.hex() == "fa044b2f42a3fd3b46fb255c"
    assert hp.hex() == "9f50449e04a0e810283a1e9933adedd2"


def test_v1_server_keys_match_rfc9001() -> None:
    key, iv, hp = initial_keys(QUIC_V1, DCID, client=False)
    assert key.hex() == "cf3a5331653c364c88f0f379b6067e37"
    assert iv.hex() == "0ac1493ca1905853b0bba03e"
    assert hp.hex() == "c206b8d9b9f0f37644430b490eeaa314"


def test_v2_client_keys_match_rfc9369() -> None:
    key, iv, hp = initial_keys(QUIC_V2, DCID, client=True)
    assert key.hex() == "8b1a0bc121284290a29e0971b5cd045d"
    assert iv.hex() == "91f73e2351d8fa91660e909f"
    assert hp.hex() == "45b95e15235d6f45a6b19cbcb0294ba9"


def test_illustrated_quic(corpus: Path) -> None:
    capture = toolkit.load(corpus / "pcap/illustrated-quic__capture.pcap")
    row = capture.tls.iloc[0]
    assert row["sni"] == "example.ulfheim.net" and row["cipher"] == "TLS_AES_128_GCM_SHA256"


@given(st.binary(min_size=1, max_size=1400))
@settings(max_examples=200, deadline=None)
def test_garbage_datagrams_never_raise(data: bytes) -> None:
    reader = QuicInitialReader()
    reader.datagram(b"\xc3\x00\x00\x00\x01" + data, True, 1)
    reader.datagram(data, False, 2)

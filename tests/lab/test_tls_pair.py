"""Real TLS in memory: both versions, ALPN, SNI-matched certificates, and OpenSSL's key log."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from toolkit.lab.certs import CertificateAuthority
from toolkit.lab.tls_pair import TlsPair

# NSS key log labels (https://udn.realityripple.com/docs/Mozilla/Projects/NSS/Key_Log_Format)
TLS13_LABELS = {
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "SERVER_TRAFFIC_SECRET_0",
    "EXPORTER_SECRET",
}


@pytest.mark.parametrize(("version", "alpn"), [("1.2", "h2"), ("1.3", "h2"), ("1.2", "http/1.1"), ("1.3", "http/1.1")])
def test_connection_negotiates_and_logs_keys(tmp_path: Path, version: str, alpn: str) -> None:
    wire: list[tuple[bool, bytes]] = []
    pair = TlsPair.open(
        "shop.example-store.com",
        CertificateAuthority.from_seed(1),
        version,
        [alpn],  # type: ignore[arg-type]
        tmp_path,
        on_wire=lambda c, d: wire.append((c, d)),
    )
    assert pair.version == f"TLSv{version}" and pair.alpn == alpn
    assert pair.client_send(b"GET") == b"GET" and pair.server_send(b"200") == b"200"
    pair.close()
    labels = {line.split()[0] for line in pair.keylog}
    assert labels == ({"CLIENT_RANDOM"} if version == "1.2" else TLS13_LABELS)
    client_random = bytes(wire[0][1][11:43]).hex()  # ClientHello: record 5 + handshake 4 + version 2 bytes
    assert all(line.split()[1] == client_random for line in pair.keylog)
    assert wire[0][0] is True and wire[1][0] is False
    assert b"shop.example-store.com" in wire[0][1]  # SNI in the clear


def test_certificate_must_match_the_host(tmp_path: Path) -> None:
    authority = CertificateAuthority.from_seed(1)
    other = CertificateAuthority.from_seed(2)
    with pytest.raises(ssl.SSLCertVerificationError):
        # a server whose certificate comes from another CA is refused by the client
        TlsPair.open("a.example", _Mixed(authority, other), "1.3", ["h2"], tmp_path, on_wire=lambda c, d: None)


class _Mixed(CertificateAuthority):
    """Trusted as ``authority`` by the client, but issues certificates of ``other``."""

    def __init__(self, authority: CertificateAuthority, other: CertificateAuthority) -> None:
        object.__setattr__(self, "seed", authority.seed)
        object.__setattr__(self, "key", authority.key)
        object.__setattr__(self, "certificate", authority.certificate)
        object.__setattr__(self, "_other", other)

    def issue(self, host: str):  # type: ignore[no-untyped-def]
        return self._other.issue(host)  # type: ignore[attr-defined]


def test_keys_are_derived_from_the_seed() -> None:
    one, same, other = (CertificateAuthority.from_seed(s).issue("a.example") for s in (5, 5, 6))
    assert one.key_pem == same.key_pem != other.key_pem

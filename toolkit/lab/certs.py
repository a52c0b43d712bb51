"""A small private certificate authority for the lab's servers, from a seed.

Keys are derived from the seed (``ec.derive_private_key``), names, serials and validity are fixed,
so two runs with the same seed give the same keys and the same certificate contents; only the
ECDSA signatures differ (ECDSA signing is randomised).

>>> authority = CertificateAuthority.from_seed(7)
>>> leaf = authority.issue("www.example-news.com")
>>> leaf.certificate_pem.startswith(b"-----BEGIN CERTIFICATE-----")
True
>>> authority.issue("www.example-news.com").key_pem == leaf.key_pem
True
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["CertificateAuthority", "IssuedCertificate"]

_NOT_BEFORE = datetime(2020, 1, 1, tzinfo=UTC)
_NOT_AFTER = datetime(2030, 1, 1, tzinfo=UTC)
# Order of the P-256 group: a derived private scalar must lie in [1, n - 1].
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


_CA_KEY_USAGE = dict.fromkeys(
    ("content_commitment", "key_encipherment", "data_encipherment", "key_agreement", "encipher_only", "decipher_only"),
    False,
) | {"digital_signature": True, "key_cert_sign": True, "crl_sign": True}


def _derived_key(seed: int, label: str) -> ec.EllipticCurvePrivateKey:
    digest = hashlib.sha256(f"toolkit.lab/{seed}/{label}".encode()).digest()
    scalar = int.from_bytes(digest, "big") % (_P256_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def _serial(seed: int, label: str) -> int:
    return int.from_bytes(hashlib.sha256(f"serial/{seed}/{label}".encode()).digest()[:16], "big") >> 1


@dataclass(frozen=True)
class IssuedCertificate:
    """A server certificate with its key, PEM-encoded, ready for ``SSLContext.load_cert_chain``."""

    host: str
    certificate_pem: bytes
    key_pem: bytes


@dataclass(frozen=True)
class CertificateAuthority:
    """The lab's private CA: signs one certificate per server host."""

    seed: int
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @classmethod
    def from_seed(cls, seed: int) -> CertificateAuthority:
        """A self-signed CA whose key is derived from ``seed``."""
        key = _derived_key(seed, "ca")
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "toolkit.lab"),
                x509.NameAttribute(NameOID.COMMON_NAME, "toolkit.lab private CA (not trusted anywhere)"),
            ]
        )
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(_serial(seed, "ca"))
            .not_valid_before(_NOT_BEFORE)
            .not_valid_after(_NOT_AFTER)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(**_CA_KEY_USAGE),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(seed, key, certificate)

    @property
    def certificate_pem(self) -> bytes:
        """The CA certificate, PEM, for a client's ``cadata``."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def issue(self, host: str) -> IssuedCertificate:
        """A certificate for ``host`` (its only subjectAltName), signed by this CA."""
        key = _derived_key(self.seed, host)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(_serial(self.seed, host))
            .not_valid_before(_NOT_BEFORE)
            .not_valid_after(_NOT_AFTER)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return IssuedCertificate(host, certificate.public_bytes(serialization.Encoding.PEM), key_pem)

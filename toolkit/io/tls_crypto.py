"""TLS record protection: cipher suites, key schedules and record decryption (SSL 3.0, TLS 1.0 to 1.3).

Why one module: the cipher suite table and the key schedules of every TLS version feed one
:class:`RecordKeys`; split by version, each part would need the suite table and the others' PRFs.

Only the reading side is needed: given the secrets from a key log, derive each direction's keys
and open its records. Primitives come from ``cryptography`` (AES, ChaCha20, Camellia, 3DES, SEED,
RC4); written here are the parts no library offers a reader: the TLS 1.0/1.1 PRF (RFC 2246 §5), the
SSL 3.0 key block and MAC (RFC 6101),
the CBC record layouts (TLS 1.0's IV chained from the previous record, RFC 2246 §6.2.3.2; TLS 1.1+'s
explicit IV, RFC 4346 §6.2.3.2) and GCM over Camellia (RFC 6367; NIST SP 800-38D), for which
``cryptography`` has no mode. ARIA suites (RFC 6209) are not read: ``cryptography`` has no ARIA.

TLS 1.3 (RFC 8446 §7): keys come from a traffic secret by HKDF-Expand-Label; the nonce is the
IV XOR the record sequence number; the additional data is the record header.

>>> suite = SUITES[0x1301]
>>> secret = bytes(32)
>>> keys = RecordKeys.tls13(suite, secret)
>>> len(keys.key), len(keys.iv)
(16, 12)
>>> sealed = keys.seal_tls13(b"GET / HTTP/1.1\\r\\n\\r\\n", 23, seq=0)   # what a peer would send
>>> keys.open_tls13(sealed, seq=0)
(23, b'GET / HTTP/1.1\\r\\n\\r\\n')
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4, SEED, Camellia, TripleDES
from cryptography.hazmat.primitives.ciphers import BlockCipherAlgorithm, Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305

__all__ = [
    "SUITES",
    "BlockGcm",
    "CipherSuite",
    "DecryptError",
    "RecordKeys",
    "hkdf_expand_label",
    "prf",
    "tls12_key_block",
]

Mode = Literal["gcm", "chacha", "ccm", "ccm8", "cbc", "rc4", "null"]
Algorithm = Literal["aes", "camellia", "3des", "seed", "null"]

_BLOCK_CIPHERS: dict[str, Callable[[bytes], BlockCipherAlgorithm]] = {
    "aes": algorithms.AES,
    "camellia": Camellia,
    "3des": TripleDES,
    "seed": SEED,
}


class DecryptError(ValueError):
    """A record does not decrypt (wrong key, wrong sequence number, or damage)."""


@dataclass(frozen=True)
class CipherSuite:
    """What a cipher suite means for record protection."""

    code: int
    name: str
    mode: Mode
    key_len: int
    hash_name: Literal["sha256", "sha384", "sha1", "md5"]
    """Hash of the PRF / HKDF (TLS 1.3, AEAD 1.2) or of the record MAC (CBC suites)."""
    prf_hash: Literal["sha256", "sha384"] = "sha256"
    """TLS 1.2 PRF hash (SHA-384 for the *_SHA384 suites, SHA-256 otherwise)."""
    export: bool = False
    """An export suite: 5 secret key bytes, stretched by the PRF (RFC 2246 §6.3)."""
    algorithm: Algorithm = "aes"
    """The block cipher of CBC, GCM and CCM suites."""

    @property
    def mac_len(self) -> int:
        sizes = {"sha1": 20, "md5": 16, "sha256": 32, "sha384": 48}
        return sizes[self.hash_name] if self.mode in ("cbc", "rc4", "null") else 0

    @property
    def block_size(self) -> int:
        """Bytes per cipher block (CBC suites): 8 for 3DES, 16 for the others."""
        return 8 if self.algorithm == "3des" else 16

    @property
    def tag_len(self) -> int:
        return 8 if self.mode == "ccm8" else 16


# TLS 1.0-1.2 suites, by IANA code (RFC 5246, 4492, 5288, 5289, 5487, 5489, 6655, 7251, 7905, 4132,
# 5932, 6367, 4162, 5469): code → name without "TLS_". The key exchange does not matter to record
# protection; what does is read from the name's tail: cipher, key length, mode, MAC/PRF hash.
_TLS12_SUITE_NAMES: dict[int, str] = {
    # NULL encryption: the record is the plaintext and its MAC
    0x0001: "RSA_WITH_NULL_MD5",
    0x0002: "RSA_WITH_NULL_SHA",
    0x003B: "RSA_WITH_NULL_SHA256",
    0x002C: "PSK_WITH_NULL_SHA",
    0x002D: "DHE_PSK_WITH_NULL_SHA",
    0x002E: "RSA_PSK_WITH_NULL_SHA",
    0xC001: "ECDH_ECDSA_WITH_NULL_SHA",
    0xC006: "ECDHE_ECDSA_WITH_NULL_SHA",
    0xC00B: "ECDH_RSA_WITH_NULL_SHA",
    0xC010: "ECDHE_RSA_WITH_NULL_SHA",
    0x00B0: "PSK_WITH_NULL_SHA256",
    0x00B1: "PSK_WITH_NULL_SHA384",
    # RC4 (broken, but old captures use it)
    0x0003: "RSA_EXPORT_WITH_RC4_40_MD5",
    0x0004: "RSA_WITH_RC4_128_MD5",
    0x0005: "RSA_WITH_RC4_128_SHA",
    0x0018: "DH_anon_WITH_RC4_128_MD5",
    0x008A: "PSK_WITH_RC4_128_SHA",
    0x008E: "DHE_PSK_WITH_RC4_128_SHA",
    0x0092: "RSA_PSK_WITH_RC4_128_SHA",
    0xC002: "ECDH_ECDSA_WITH_RC4_128_SHA",
    0xC007: "ECDHE_ECDSA_WITH_RC4_128_SHA",
    0xC00C: "ECDH_RSA_WITH_RC4_128_SHA",
    0xC011: "ECDHE_RSA_WITH_RC4_128_SHA",
    0xC016: "ECDH_anon_WITH_RC4_128_SHA",
    # 3DES-EDE-CBC
    0x000A: "RSA_WITH_3DES_EDE_CBC_SHA",
    0x000D: "DH_DSS_WITH_3DES_EDE_CBC_SHA",
    0x0010: "DH_RSA_WITH_3DES_EDE_CBC_SHA",
    0x0013: "DHE_DSS_WITH_3DES_EDE_CBC_SHA",
    0x0016: "DHE_RSA_WITH_3DES_EDE_CBC_SHA",
    0x001B: "DH_anon_WITH_3DES_EDE_CBC_SHA",
    0x008B: "PSK_WITH_3DES_EDE_CBC_SHA",
    0x008F: "DHE_PSK_WITH_3DES_EDE_CBC_SHA",
    0x0093: "RSA_PSK_WITH_3DES_EDE_CBC_SHA",
    0xC003: "ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA",
    0xC008: "ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA",
    0xC00D: "ECDH_RSA_WITH_3DES_EDE_CBC_SHA",
    0xC012: "ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
    0xC017: "ECDH_anon_WITH_3DES_EDE_CBC_SHA",
    0xC034: "ECDHE_PSK_WITH_3DES_EDE_CBC_SHA",
    # AES-CBC
    0x002F: "RSA_WITH_AES_128_CBC_SHA",
    0x0035: "RSA_WITH_AES_256_CBC_SHA",
    0x0030: "DH_DSS_WITH_AES_128_CBC_SHA",
    0x0036: "DH_DSS_WITH_AES_256_CBC_SHA",
    0x0031: "DH_RSA_WITH_AES_128_CBC_SHA",
    0x0037: "DH_RSA_WITH_AES_256_CBC_SHA",
    0x0032: "DHE_DSS_WITH_AES_128_CBC_SHA",
    0x0038: "DHE_DSS_WITH_AES_256_CBC_SHA",
    0x0033: "DHE_RSA_WITH_AES_128_CBC_SHA",
    0x0039: "DHE_RSA_WITH_AES_256_CBC_SHA",
    0x0034: "DH_anon_WITH_AES_128_CBC_SHA",
    0x003A: "DH_anon_WITH_AES_256_CBC_SHA",
    0x003C: "RSA_WITH_AES_128_CBC_SHA256",
    0x003D: "RSA_WITH_AES_256_CBC_SHA256",
    0x003E: "DH_DSS_WITH_AES_128_CBC_SHA256",
    0x003F: "DH_RSA_WITH_AES_128_CBC_SHA256",
    0x0040: "DHE_DSS_WITH_AES_128_CBC_SHA256",
    0x0067: "DHE_RSA_WITH_AES_128_CBC_SHA256",
    0x0068: "DH_DSS_WITH_AES_256_CBC_SHA256",
    0x0069: "DH_RSA_WITH_AES_256_CBC_SHA256",
    0x006A: "DHE_DSS_WITH_AES_256_CBC_SHA256",
    0x006B: "DHE_RSA_WITH_AES_256_CBC_SHA256",
    0x006C: "DH_anon_WITH_AES_128_CBC_SHA256",
    0x006D: "DH_anon_WITH_AES_256_CBC_SHA256",
    0x008C: "PSK_WITH_AES_128_CBC_SHA",
    0x008D: "PSK_WITH_AES_256_CBC_SHA",
    0x0090: "DHE_PSK_WITH_AES_128_CBC_SHA",
    0x0091: "DHE_PSK_WITH_AES_256_CBC_SHA",
    0x0094: "RSA_PSK_WITH_AES_128_CBC_SHA",
    0x0095: "RSA_PSK_WITH_AES_256_CBC_SHA",
    0x00AE: "PSK_WITH_AES_128_CBC_SHA256",
    0x00AF: "PSK_WITH_AES_256_CBC_SHA384",
    0x00B2: "DHE_PSK_WITH_AES_128_CBC_SHA256",
    0x00B3: "DHE_PSK_WITH_AES_256_CBC_SHA384",
    0x00B6: "RSA_PSK_WITH_AES_128_CBC_SHA256",
    0x00B7: "RSA_PSK_WITH_AES_256_CBC_SHA384",
    0xC004: "ECDH_ECDSA_WITH_AES_128_CBC_SHA",
    0xC005: "ECDH_ECDSA_WITH_AES_256_CBC_SHA",
    0xC009: "ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    0xC00A: "ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    0xC00E: "ECDH_RSA_WITH_AES_128_CBC_SHA",
    0xC00F: "ECDH_RSA_WITH_AES_256_CBC_SHA",
    0xC013: "ECDHE_RSA_WITH_AES_128_CBC_SHA",
    0xC014: "ECDHE_RSA_WITH_AES_256_CBC_SHA",
    0xC018: "ECDH_anon_WITH_AES_128_CBC_SHA",
    0xC019: "ECDH_anon_WITH_AES_256_CBC_SHA",
    0xC023: "ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    0xC024: "ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
    0xC025: "ECDH_ECDSA_WITH_AES_128_CBC_SHA256",
    0xC026: "ECDH_ECDSA_WITH_AES_256_CBC_SHA384",
    0xC027: "ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    0xC028: "ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    0xC029: "ECDH_RSA_WITH_AES_128_CBC_SHA256",
    0xC02A: "ECDH_RSA_WITH_AES_256_CBC_SHA384",
    0xC035: "ECDHE_PSK_WITH_AES_128_CBC_SHA",
    0xC036: "ECDHE_PSK_WITH_AES_256_CBC_SHA",
    0xC037: "ECDHE_PSK_WITH_AES_128_CBC_SHA256",
    0xC038: "ECDHE_PSK_WITH_AES_256_CBC_SHA384",
    # CAMELLIA-CBC
    0x0041: "RSA_WITH_CAMELLIA_128_CBC_SHA",
    0x0084: "RSA_WITH_CAMELLIA_256_CBC_SHA",
    0x0042: "DH_DSS_WITH_CAMELLIA_128_CBC_SHA",
    0x0085: "DH_DSS_WITH_CAMELLIA_256_CBC_SHA",
    0x0043: "DH_RSA_WITH_CAMELLIA_128_CBC_SHA",
    0x0086: "DH_RSA_WITH_CAMELLIA_256_CBC_SHA",
    0x0044: "DHE_DSS_WITH_CAMELLIA_128_CBC_SHA",
    0x0087: "DHE_DSS_WITH_CAMELLIA_256_CBC_SHA",
    0x0045: "DHE_RSA_WITH_CAMELLIA_128_CBC_SHA",
    0x0088: "DHE_RSA_WITH_CAMELLIA_256_CBC_SHA",
    0x0046: "DH_anon_WITH_CAMELLIA_128_CBC_SHA",
    0x0089: "DH_anon_WITH_CAMELLIA_256_CBC_SHA",
    0x00BA: "RSA_WITH_CAMELLIA_128_CBC_SHA256",
    0x00C0: "RSA_WITH_CAMELLIA_256_CBC_SHA256",
    0x00BD: "DHE_DSS_WITH_CAMELLIA_128_CBC_SHA256",
    0x00C3: "DHE_DSS_WITH_CAMELLIA_256_CBC_SHA256",
    0x00BE: "DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256",
    0x00C4: "DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256",
    0xC072: "ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256",
    0xC073: "ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384",
    0xC074: "ECDH_ECDSA_WITH_CAMELLIA_128_CBC_SHA256",
    0xC075: "ECDH_ECDSA_WITH_CAMELLIA_256_CBC_SHA384",
    0xC076: "ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256",
    0xC077: "ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384",
    0xC078: "ECDH_RSA_WITH_CAMELLIA_128_CBC_SHA256",
    0xC079: "ECDH_RSA_WITH_CAMELLIA_256_CBC_SHA384",
    0xC094: "PSK_WITH_CAMELLIA_128_CBC_SHA256",
    0xC095: "PSK_WITH_CAMELLIA_256_CBC_SHA384",
    0xC096: "DHE_PSK_WITH_CAMELLIA_128_CBC_SHA256",
    0xC097: "DHE_PSK_WITH_CAMELLIA_256_CBC_SHA384",
    0xC098: "RSA_PSK_WITH_CAMELLIA_128_CBC_SHA256",
    0xC099: "RSA_PSK_WITH_CAMELLIA_256_CBC_SHA384",
    0xC09A: "ECDHE_PSK_WITH_CAMELLIA_128_CBC_SHA256",
    0xC09B: "ECDHE_PSK_WITH_CAMELLIA_256_CBC_SHA384",
    # SEED-CBC
    0x0096: "RSA_WITH_SEED_CBC_SHA",
    0x0097: "DH_DSS_WITH_SEED_CBC_SHA",
    0x0098: "DH_RSA_WITH_SEED_CBC_SHA",
    0x0099: "DHE_DSS_WITH_SEED_CBC_SHA",
    0x009A: "DHE_RSA_WITH_SEED_CBC_SHA",
    0x009B: "DH_anon_WITH_SEED_CBC_SHA",
    # AES-GCM
    0x009C: "RSA_WITH_AES_128_GCM_SHA256",
    0x009D: "RSA_WITH_AES_256_GCM_SHA384",
    0x009E: "DHE_RSA_WITH_AES_128_GCM_SHA256",
    0x009F: "DHE_RSA_WITH_AES_256_GCM_SHA384",
    0x00A0: "DH_RSA_WITH_AES_128_GCM_SHA256",
    0x00A1: "DH_RSA_WITH_AES_256_GCM_SHA384",
    0x00A2: "DHE_DSS_WITH_AES_128_GCM_SHA256",
    0x00A3: "DHE_DSS_WITH_AES_256_GCM_SHA384",
    0x00A4: "DH_DSS_WITH_AES_128_GCM_SHA256",
    0x00A5: "DH_DSS_WITH_AES_256_GCM_SHA384",
    0x00A6: "DH_anon_WITH_AES_128_GCM_SHA256",
    0x00A7: "DH_anon_WITH_AES_256_GCM_SHA384",
    0x00A8: "PSK_WITH_AES_128_GCM_SHA256",
    0x00A9: "PSK_WITH_AES_256_GCM_SHA384",
    0x00AA: "DHE_PSK_WITH_AES_128_GCM_SHA256",
    0x00AB: "DHE_PSK_WITH_AES_256_GCM_SHA384",
    0x00AC: "RSA_PSK_WITH_AES_128_GCM_SHA256",
    0x00AD: "RSA_PSK_WITH_AES_256_GCM_SHA384",
    0xC02B: "ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    0xC02C: "ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    0xC02D: "ECDH_ECDSA_WITH_AES_128_GCM_SHA256",
    0xC02E: "ECDH_ECDSA_WITH_AES_256_GCM_SHA384",
    0xC02F: "ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    0xC030: "ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    0xC031: "ECDH_RSA_WITH_AES_128_GCM_SHA256",
    0xC032: "ECDH_RSA_WITH_AES_256_GCM_SHA384",
    # CAMELLIA-GCM (RFC 6367): no library offers it; GCM over Camellia blocks, see _CamelliaGcm
    0xC07A: "RSA_WITH_CAMELLIA_128_GCM_SHA256",
    0xC07B: "RSA_WITH_CAMELLIA_256_GCM_SHA384",
    0xC07C: "DHE_RSA_WITH_CAMELLIA_128_GCM_SHA256",
    0xC07D: "DHE_RSA_WITH_CAMELLIA_256_GCM_SHA384",
    0xC07E: "DH_RSA_WITH_CAMELLIA_128_GCM_SHA256",
    0xC07F: "DH_RSA_WITH_CAMELLIA_256_GCM_SHA384",
    0xC080: "DHE_DSS_WITH_CAMELLIA_128_GCM_SHA256",
    0xC081: "DHE_DSS_WITH_CAMELLIA_256_GCM_SHA384",
    0xC082: "DH_DSS_WITH_CAMELLIA_128_GCM_SHA256",
    0xC083: "DH_DSS_WITH_CAMELLIA_256_GCM_SHA384",
    0xC084: "DH_anon_WITH_CAMELLIA_128_GCM_SHA256",
    0xC085: "DH_anon_WITH_CAMELLIA_256_GCM_SHA384",
    0xC086: "ECDHE_ECDSA_WITH_CAMELLIA_128_GCM_SHA256",
    0xC087: "ECDHE_ECDSA_WITH_CAMELLIA_256_GCM_SHA384",
    0xC088: "ECDH_ECDSA_WITH_CAMELLIA_128_GCM_SHA256",
    0xC089: "ECDH_ECDSA_WITH_CAMELLIA_256_GCM_SHA384",
    0xC08A: "ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256",
    0xC08B: "ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384",
    0xC08C: "ECDH_RSA_WITH_CAMELLIA_128_GCM_SHA256",
    0xC08D: "ECDH_RSA_WITH_CAMELLIA_256_GCM_SHA384",
    0xC08E: "PSK_WITH_CAMELLIA_128_GCM_SHA256",
    0xC08F: "PSK_WITH_CAMELLIA_256_GCM_SHA384",
    0xC090: "DHE_PSK_WITH_CAMELLIA_128_GCM_SHA256",
    0xC091: "DHE_PSK_WITH_CAMELLIA_256_GCM_SHA384",
    0xC092: "RSA_PSK_WITH_CAMELLIA_128_GCM_SHA256",
    0xC093: "RSA_PSK_WITH_CAMELLIA_256_GCM_SHA384",
    # AES-CCM
    0xC09C: "RSA_WITH_AES_128_CCM",
    0xC09D: "RSA_WITH_AES_256_CCM",
    0xC09E: "DHE_RSA_WITH_AES_128_CCM",
    0xC09F: "DHE_RSA_WITH_AES_256_CCM",
    0xC0A0: "RSA_WITH_AES_128_CCM_8",
    0xC0A1: "RSA_WITH_AES_256_CCM_8",
    0xC0A2: "DHE_RSA_WITH_AES_128_CCM_8",
    0xC0A3: "DHE_RSA_WITH_AES_256_CCM_8",
    0xC0A4: "PSK_WITH_AES_128_CCM",
    0xC0A5: "PSK_WITH_AES_256_CCM",
    0xC0A6: "DHE_PSK_WITH_AES_128_CCM",
    0xC0A7: "DHE_PSK_WITH_AES_256_CCM",
    0xC0A8: "PSK_WITH_AES_128_CCM_8",
    0xC0A9: "PSK_WITH_AES_256_CCM_8",
    0xC0AA: "PSK_DHE_WITH_AES_128_CCM_8",
    0xC0AB: "PSK_DHE_WITH_AES_256_CCM_8",
    0xC0AC: "ECDHE_ECDSA_WITH_AES_128_CCM",
    0xC0AD: "ECDHE_ECDSA_WITH_AES_256_CCM",
    0xC0AE: "ECDHE_ECDSA_WITH_AES_128_CCM_8",
    0xC0AF: "ECDHE_ECDSA_WITH_AES_256_CCM_8",
    # CHACHA20-POLY1305
    0xCCA8: "ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    0xCCA9: "ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    0xCCAA: "DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    0xCCAB: "PSK_WITH_CHACHA20_POLY1305_SHA256",
    0xCCAC: "ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256",
    0xCCAD: "DHE_PSK_WITH_CHACHA20_POLY1305_SHA256",
    0xCCAE: "RSA_PSK_WITH_CHACHA20_POLY1305_SHA256",
}


def _suites() -> dict[int, CipherSuite]:
    table = [
        # TLS 1.3 (RFC 8446 appendix B.4)
        (0x1301, "TLS_AES_128_GCM_SHA256", "gcm", 16, "sha256", "sha256"),
        (0x1302, "TLS_AES_256_GCM_SHA384", "gcm", 32, "sha384", "sha384"),
        (0x1303, "TLS_CHACHA20_POLY1305_SHA256", "chacha", 32, "sha256", "sha256"),
        (0x1304, "TLS_AES_128_CCM_SHA256", "ccm", 16, "sha256", "sha256"),
        (0x1305, "TLS_AES_128_CCM_8_SHA256", "ccm8", 16, "sha256", "sha256"),
    ]
    suites = {code: CipherSuite(code, name, mode, key, h, prf) for code, name, mode, key, h, prf in table}  # type: ignore[arg-type]
    for code, name in _TLS12_SUITE_NAMES.items():
        suites[code] = _legacy_suite(code, "TLS_" + name)
    return suites


def _legacy_suite(code: int, name: str) -> CipherSuite:
    """A TLS 1.0-1.2 suite read from its IANA name.

    >>> suite = _legacy_suite(0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA")
    >>> suite.algorithm, suite.mode, suite.key_len, suite.block_size, suite.mac_len
    ('3des', 'cbc', 24, 8, 20)
    >>> _legacy_suite(0xC07B, "TLS_RSA_WITH_CAMELLIA_256_GCM_SHA384").prf_hash
    'sha384'
    """
    cipher = name.split("_WITH_")[1]
    tail = cipher.rsplit("_", 1)[-1]
    hash_name = {"MD5": "md5", "SHA": "sha1", "SHA256": "sha256", "SHA384": "sha384"}.get(tail, "sha256")
    prf = "sha384" if hash_name == "sha384" else "sha256"
    key = 32 if "_256_" in cipher else 24 if "3DES" in cipher else 5 if "_40_" in cipher else 16
    algorithm = next((a for a in ("camellia", "3des", "seed", "null") if a.upper() in cipher), "aes")
    if "RC4" in cipher:
        mode = "rc4"
    elif "NULL" in cipher:
        mode, key = "null", 0
    elif "CHACHA20" in cipher:
        mode, key = "chacha", 32
    elif "_GCM" in cipher:
        mode = "gcm"
    elif cipher.endswith("CCM_8"):
        mode = "ccm8"
    elif cipher.endswith("CCM"):
        mode = "ccm"
    else:
        mode = "cbc"
    if mode not in ("cbc", "rc4", "null"):
        hash_name = prf
    return CipherSuite(code, name, mode, key, hash_name, prf, export=key == 5, algorithm=algorithm)  # type: ignore[arg-type]


#: Cipher suites whose records can be opened, by IANA code.
SUITES: dict[int, CipherSuite] = _suites()

_TLS13_HEADER = struct.Struct("!BHH")  # the additional data: an application_data record header


def hkdf_expand_label(secret: bytes, label: str, context: bytes, length: int, hash_name: str) -> bytes:
    """HKDF-Expand-Label of RFC 8446 §7.1."""
    info = _LABEL_INFO.get((label, length)) if not context else None
    if info is None:
        full = b"tls13 " + label.encode()
        info = struct.pack("!HB", length, len(full)) + full + struct.pack("!B", len(context)) + context
        if not context and len(_LABEL_INFO) < 64:
            _LABEL_INFO[(label, length)] = info
    return _hkdf_expand(secret, info, length, hash_name)


_LABEL_INFO: dict[tuple[str, int], bytes] = {}
"""HkdfLabel bytes of the context-free labels (``key``, ``iv``, ``traffic upd``), made once."""


def _hkdf_expand(secret: bytes, info: bytes, length: int, hash_name: str) -> bytes:
    """HKDF-Expand of RFC 5869 §2.3 with HMAC (one C call per block; TLS keys and IVs need one block).

    >>> from cryptography.hazmat.primitives.hashes import SHA256
    >>> from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
    >>> _hkdf_expand(b"k" * 32, b"info", 80, "sha256") == HKDFExpand(SHA256(), 80, b"info").derive(b"k" * 32)
    True
    """
    block = hmac.digest(secret, info + b"\x01", hash_name)
    if len(block) >= length:  # one block: every TLS key and IV
        return block[:length]
    out, counter = block, 2
    while len(out) < length:
        block = hmac.digest(secret, block + info + bytes([counter]), hash_name)
        out += block
        counter += 1
    return out[:length]


def _p_hash(hash_name: str, secret: bytes, seed: bytes, length: int) -> bytes:
    out, a = b"", seed
    while len(out) < length:
        a = hmac.new(secret, a, hash_name).digest()
        out += hmac.new(secret, a + seed, hash_name).digest()
    return out[:length]


def prf(version: int, hash_name: str, secret: bytes, label_and_seed: bytes, length: int) -> bytes:
    """The TLS PRF: P_<hash> for TLS 1.2 (RFC 5246 §5); for TLS 1.0 and 1.1 P_MD5 over the first half
    of the secret XOR P_SHA1 over the second half (RFC 2246 §5; the halves share a byte when odd).

    >>> len(prf(0x0301, "sha256", bytes(48), b"key expansion" + bytes(64), 104))
    104
    >>> prf(0x0303, "sha256", b"k", b"seed", 8) == _p_hash("sha256", b"k", b"seed", 8)
    True
    """
    if version >= 0x0303:
        return _p_hash(hash_name, secret, label_and_seed, length)
    half = (len(secret) + 1) // 2
    md5 = _p_hash("md5", secret[:half], label_and_seed, length)
    sha1 = _p_hash("sha1", secret[len(secret) - half :], label_and_seed, length)
    return bytes(a ^ b for a, b in zip(md5, sha1, strict=True))


def tls12_key_block(
    suite: CipherSuite, master: bytes, client_random: bytes, server_random: bytes, version: int = 0x0303
) -> bytes:
    """The key block (RFC 5246 §6.3, RFC 2246 §6.3): PRF(master, "key expansion", server + client random);
    for SSL 3.0 (RFC 6101 §6.2.2) MD5(master + SHA1("A" + master + server + client random)) + ("BB" ...) ..."""
    mac, key, iv = suite.mac_len, suite.key_len, _fixed_iv_len(suite)
    length = 2 * (mac + key + iv)
    if version == 0x0300:
        out, letter = b"", 1
        while len(out) < length:
            inner = hashlib.sha1(bytes([64 + letter]) * letter + master + server_random + client_random).digest()
            out += hashlib.md5(master + inner).digest()
            letter += 1
        return out[:length]
    seed = b"key expansion" + server_random + client_random
    return prf(version, suite.prf_hash, master, seed, length)


def _fixed_iv_len(suite: CipherSuite) -> int:
    if suite.mode in ("rc4", "null"):
        return 0
    if suite.mode == "chacha":
        return 12
    if suite.mode == "cbc":
        return suite.block_size  # used by TLS 1.0 (chained IVs); TLS 1.1+ ignore it
    return 4  # GCM / CCM: implicit part of the nonce (RFC 5288 §3)


@dataclass(frozen=True)
class RecordKeys:
    """Keys of one direction of one connection, for one epoch."""

    suite: CipherSuite
    key: bytes
    iv: bytes
    mac_key: bytes = b""
    secret: bytes = b""
    """TLS 1.3 traffic secret (for KeyUpdate)."""
    stream: list[Any] = field(default_factory=list, compare=False)
    """State carried from record to record: RC4's running cipher, or TLS 1.0 CBC's next IV."""

    @classmethod
    def tls13(cls, suite: CipherSuite, secret: bytes) -> RecordKeys:
        key = hkdf_expand_label(secret, "key", b"", suite.key_len, suite.prf_hash)
        iv = hkdf_expand_label(secret, "iv", b"", 12, suite.prf_hash)
        return cls(suite, key, iv, secret=secret)

    def next_generation(self) -> RecordKeys:
        """Keys after a TLS 1.3 KeyUpdate (RFC 8446 §7.2)."""
        hash_len = 48 if self.suite.prf_hash == "sha384" else 32
        secret = hkdf_expand_label(self.secret, "traffic upd", b"", hash_len, self.suite.prf_hash)
        return RecordKeys.tls13(self.suite, secret)

    @classmethod
    def tls12(
        cls, suite: CipherSuite, master: bytes, client_random: bytes, server_random: bytes, version: int = 0x0303
    ) -> tuple[RecordKeys, RecordKeys]:
        """(client write keys, server write keys) from the master secret, for TLS ``version`` 1.0 to 1.2."""
        block = tls12_key_block(suite, master, client_random, server_random, version)
        mac, key, iv = suite.mac_len, suite.key_len, _fixed_iv_len(suite)
        parts, pos = [], 0
        for size in (mac, mac, key, key, iv, iv):
            parts.append(block[pos : pos + size])
            pos += size
        client_mac, server_mac, client_key, server_key, client_iv, server_iv = parts
        if suite.export:  # RFC 2246 §6.3: final keys stretched from the 5 secret bytes
            randoms = client_random + server_random
            client_key = prf(version, suite.prf_hash, client_key, b"client write key" + randoms, 16)
            server_key = prf(version, suite.prf_hash, server_key, b"server write key" + randoms, 16)
        return cls(suite, client_key, client_iv, client_mac), cls(suite, server_key, server_iv, server_mac)

    # -- opening records -------------------------------------------------------------------

    @functools.cached_property
    def _cipher(self) -> AESGCM | ChaCha20Poly1305 | AESCCM | BlockGcm:
        """The AEAD object, made once per key (not once per record)."""
        mode = self.suite.mode
        if mode == "gcm" and self.suite.algorithm != "aes":
            return BlockGcm(_BLOCK_CIPHERS[self.suite.algorithm](self.key))
        if mode == "gcm":
            return AESGCM(self.key)
        if mode == "chacha":
            return ChaCha20Poly1305(self.key)
        return AESCCM(self.key, tag_length=self.suite.tag_len)

    def _aead(self) -> AESGCM | ChaCha20Poly1305 | AESCCM | BlockGcm:
        return self._cipher

    @functools.cached_property
    def _iv_number(self) -> int:
        return int.from_bytes(self.iv, "big")

    def _nonce(self, seq: int) -> bytes:
        """The per-record nonce: the IV XOR the 64-bit sequence number, left-padded (RFC 8446 §5.3)."""
        return (self._iv_number ^ seq).to_bytes(len(self.iv), "big")

    def open_tls13(self, fragment: bytes, seq: int) -> tuple[int, bytes]:
        """Decrypt a TLS 1.3 record's fragment; return (inner content type, content)."""
        try:
            nonce = (self._iv_number ^ seq).to_bytes(len(self.iv), "big")  # as _nonce, without the call
            inner = self._cipher.decrypt(nonce, fragment, _TLS13_HEADER.pack(23, 0x0303, len(fragment)))
        except (InvalidTag, ValueError):
            raise DecryptError("record does not decrypt with this key") from None
        if inner[-1:] not in (b"\x00", b""):  # no padding: the usual case, one copy fewer
            return inner[-1], inner[:-1]
        stripped = inner.rstrip(b"\x00")
        if not stripped:
            raise DecryptError("decrypted record has no content type")
        return stripped[-1], stripped[:-1]

    def seal_tls13(self, content: bytes, content_type: int, seq: int) -> bytes:
        """Encrypt like a TLS 1.3 peer (used by tests and the lab to check the reading side)."""
        inner = content + bytes([content_type])
        header = struct.pack("!BHH", 23, 0x0303, len(inner) + self.suite.tag_len)
        return self._aead().encrypt(self._nonce(seq), inner, header)

    def open_tls12(
        self, content_type: int, version: int, fragment: bytes, seq: int, *, encrypt_then_mac: bool = False
    ) -> bytes:
        """Decrypt a TLS 1.0, 1.1 or 1.2 record's fragment; return the plaintext."""
        suite = self.suite
        if suite.mode == "cbc":
            return self._open_cbc(content_type, version, fragment, seq, encrypt_then_mac)
        if suite.mode in ("null", "rc4"):  # the plaintext and its MAC, maybe under RC4's stream
            if suite.mode == "rc4":
                if not self.stream:
                    self.stream.append(Cipher(ARC4(self.key), mode=None).decryptor())
                fragment = self.stream[0].update(fragment)
            if len(fragment) < suite.mac_len:
                raise DecryptError("record shorter than its MAC")
            plain = fragment[: len(fragment) - suite.mac_len]
            self._check_mac(content_type, version, seq, plain, fragment[len(plain) :])
            return plain
        if suite.mode == "chacha":  # RFC 7905: no explicit nonce
            nonce, body = self._nonce(seq), fragment
        else:  # RFC 5288: 8-byte explicit nonce
            nonce, body = self.iv + fragment[:8], fragment[8:]
        length = len(body) - suite.tag_len
        if length < 0:
            raise DecryptError("record shorter than its tag")
        aad = struct.pack("!QBHH", seq, content_type, version, length)
        try:
            return self._aead().decrypt(nonce, body, aad)
        except (InvalidTag, ValueError):
            raise DecryptError("record does not decrypt with this key") from None

    def _check_mac(self, content_type: int, version: int, seq: int, data: bytes, mac: bytes) -> None:
        """The record MAC of TLS 1.0-1.2 (RFC 5246 §6.2.3.1) or SSL 3.0 (RFC 6101 §5.2.3.1, the
        pre-HMAC construction): a wrong key or damage shows here."""
        if not self.mac_key:
            return
        if version == 0x0300:
            name, pad = self.suite.hash_name, 48 if self.suite.hash_name == "md5" else 40
            header = struct.pack("!QBH", seq, content_type, len(data))
            inner = hashlib.new(name, self.mac_key + b"\x36" * pad + header + data).digest()
            expected = hashlib.new(name, self.mac_key + b"\x5c" * pad + inner).digest()
        else:
            header = struct.pack("!QBHH", seq, content_type, version, len(data))
            expected = hmac.digest(self.mac_key, header + data, self.suite.hash_name)
        if not hmac.compare_digest(expected, mac):
            raise DecryptError("record MAC is wrong: wrong key or damaged record")

    def _open_cbc(self, content_type: int, version: int, fragment: bytes, seq: int, encrypt_then_mac: bool) -> bytes:
        block, mac_len = self.suite.block_size, self.suite.mac_len
        if encrypt_then_mac:  # RFC 7366: the MAC covers the IV and ciphertext, and follows them
            fragment, mac = fragment[: len(fragment) - mac_len], fragment[len(fragment) - mac_len :]
            self._check_mac(content_type, version, seq, fragment, mac)
        chained = version < 0x0302  # SSL 3.0, TLS 1.0: the IV is the previous record's last ciphertext block
        if len(fragment) % block or len(fragment) < (1 if chained else 2) * block:
            raise DecryptError("CBC record length is not a multiple of the block size")
        if chained:
            iv, body = (self.stream[0] if self.stream else self.iv), fragment
            self.stream[:] = [fragment[-block:]]
        else:
            iv, body = fragment[:block], fragment[block:]
        algorithm = _BLOCK_CIPHERS[self.suite.algorithm](self.key)
        decryptor = Cipher(algorithm, modes.CBC(iv)).decryptor()
        plain = decryptor.update(body) + decryptor.finalize()
        pad = plain[-1]
        end = len(plain) - pad - 1 - (0 if encrypt_then_mac else mac_len)
        if version == 0x0300:  # SSL 3.0: padding bytes are arbitrary, shorter than a block
            if end < 0 or pad >= block:
                raise DecryptError("CBC padding is wrong: wrong key or damaged record")
        elif end < 0 or plain[len(plain) - pad - 1 : -1] != bytes([pad]) * pad:
            raise DecryptError("CBC padding is wrong: wrong key or damaged record")
        if not encrypt_then_mac:
            self._check_mac(content_type, version, seq, plain[:end], plain[end : end + mac_len])
        return plain[:end]


class BlockGcm:
    """GCM (NIST SP 800-38D) over any 128-bit block cipher, for the Camellia-GCM suites of RFC 6367.

    ``cryptography`` offers GCM with AES only; here the counter mode is one ECB call over the counter
    blocks and GHASH is computed in Python (slow, but these suites are rare). With AES it gives
    what AESGCM gives:

    >>> key, nonce = bytes(range(16)), bytes(12)
    >>> sealed = AESGCM(key).encrypt(nonce, b"telemetry", b"header")
    >>> BlockGcm(algorithms.AES(key)).decrypt(nonce, sealed, b"header")
    b'telemetry'
    """

    _R = 0xE1 << 120

    def __init__(self, algorithm: BlockCipherAlgorithm) -> None:
        if algorithm.block_size != 128:
            raise ValueError("GCM needs a 128-bit block cipher")
        self._ecb = Cipher(algorithm, modes.ECB()).encryptor()
        # Multiplying by H is linear: H·x is the XOR of H·x^k over the set bits of x. The products
        # for every byte value at every byte position are tabled once per key (16 × 256 XORs), so a
        # block costs 16 look-ups instead of 128 shift-and-add steps.
        powers, v = [], int.from_bytes(self._ecb.update(bytes(16)), "big")
        for _ in range(128):  # H·x^k in GCM's reflected bit order (SP 800-38D, Algorithm 1)
            powers.append(v)
            v = (v >> 1) ^ self._R if v & 1 else v >> 1
        self._tables = []
        for position in range(16):
            table = [0] * 256
            for value in range(1, 256):
                low = value & -value  # the lowest set bit j of the byte is bit 8·position + 7 - j of x
                table[value] = table[value ^ low] ^ powers[8 * position + 8 - low.bit_length()]
            self._tables.append(table)

    def _mul(self, x: int) -> int:
        z = 0
        for table, byte in zip(self._tables, x.to_bytes(16, "big"), strict=True):
            z ^= table[byte]
        return z

    def _ghash(self, aad: bytes, ciphertext: bytes) -> int:
        y = 0
        for data in (aad, ciphertext):
            for pos in range(0, len(data), 16):
                y = self._mul(y ^ int.from_bytes(data[pos : pos + 16].ljust(16, b"\0"), "big"))
        return self._mul(y ^ (len(aad) * 8 << 64 | len(ciphertext) * 8))

    def _keystream(self, nonce: bytes, blocks: int) -> bytes:
        counters = b"".join(nonce + (i & 0xFFFFFFFF).to_bytes(4, "big") for i in range(1, blocks + 2))
        return self._ecb.update(counters)

    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes) -> bytes:
        """Open ``data`` (ciphertext and 16-byte tag) sealed with a 12-byte ``nonce``."""
        if len(nonce) != 12 or len(data) < 16:
            raise InvalidTag
        ciphertext, tag = data[:-16], data[-16:]
        stream = self._keystream(nonce, (len(ciphertext) + 15) // 16)
        expected = int.from_bytes(stream[:16], "big") ^ self._ghash(associated_data, ciphertext)
        if not hmac.compare_digest(expected.to_bytes(16, "big"), tag):
            raise InvalidTag
        return bytes(a ^ b for a, b in zip(ciphertext, stream[16:], strict=False))

    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes) -> bytes:
        """Seal ``data`` (the peer's side, for tests)."""
        stream = self._keystream(nonce, (len(data) + 15) // 16)
        ciphertext = bytes(a ^ b for a, b in zip(data, stream[16:], strict=False))
        tag = int.from_bytes(stream[:16], "big") ^ self._ghash(associated_data, ciphertext)
        return ciphertext + tag.to_bytes(16, "big")

"""TLS record protection: cipher suites, key schedules and record decryption (TLS 1.2 and 1.3).

Only the reading side is needed: given the secrets from a key log, derive each direction's keys
and open its records. Primitives come from ``cryptography``.

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
import hmac
import struct
from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305

__all__ = ["SUITES", "CipherSuite", "DecryptError", "RecordKeys", "hkdf_expand_label", "tls12_key_block"]

Mode = Literal["gcm", "chacha", "ccm", "ccm8", "cbc", "rc4"]


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

    @property
    def mac_len(self) -> int:
        sizes = {"sha1": 20, "md5": 16, "sha256": 32, "sha384": 48}
        return sizes[self.hash_name] if self.mode in ("cbc", "rc4") else 0

    @property
    def tag_len(self) -> int:
        return 8 if self.mode == "ccm8" else 16


def _suites() -> dict[int, CipherSuite]:
    table = [
        # TLS 1.3 (RFC 8446 appendix B.4)
        (0x1301, "TLS_AES_128_GCM_SHA256", "gcm", 16, "sha256", "sha256"),
        (0x1302, "TLS_AES_256_GCM_SHA384", "gcm", 32, "sha384", "sha384"),
        (0x1303, "TLS_CHACHA20_POLY1305_SHA256", "chacha", 32, "sha256", "sha256"),
        (0x1304, "TLS_AES_128_CCM_SHA256", "ccm", 16, "sha256", "sha256"),
        (0x1305, "TLS_AES_128_CCM_8_SHA256", "ccm8", 16, "sha256", "sha256"),
    ]
    # TLS 1.2 AEAD suites (RFC 5288, 5289, 7905, 6655), code → (name, mode, key length, prf hash)
    aead12 = {
        0x009C: ("RSA_WITH_AES_128_GCM_SHA256", "gcm", 16, "sha256"),
        0x009D: ("RSA_WITH_AES_256_GCM_SHA384", "gcm", 32, "sha384"),
        0x009E: ("DHE_RSA_WITH_AES_128_GCM_SHA256", "gcm", 16, "sha256"),
        0x009F: ("DHE_RSA_WITH_AES_256_GCM_SHA384", "gcm", 32, "sha384"),
        0xC02B: ("ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "gcm", 16, "sha256"),
        0xC02C: ("ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "gcm", 32, "sha384"),
        0xC02F: ("ECDHE_RSA_WITH_AES_128_GCM_SHA256", "gcm", 16, "sha256"),
        0xC030: ("ECDHE_RSA_WITH_AES_256_GCM_SHA384", "gcm", 32, "sha384"),
        0xCCA8: ("ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "chacha", 32, "sha256"),
        0xCCA9: ("ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "chacha", 32, "sha256"),
        0xCCAA: ("DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "chacha", 32, "sha256"),
        0xC09C: ("RSA_WITH_AES_128_CCM", "ccm", 16, "sha256"),
        0xC09D: ("RSA_WITH_AES_256_CCM", "ccm", 32, "sha256"),
        0xC0AC: ("ECDHE_ECDSA_WITH_AES_128_CCM", "ccm", 16, "sha256"),
        0xC0AD: ("ECDHE_ECDSA_WITH_AES_256_CCM", "ccm", 32, "sha256"),
    }
    # TLS 1.2 CBC suites (RFC 5246, 4492, 5289): code → (name, key length, MAC hash, prf hash)
    cbc12 = {
        0x002F: ("RSA_WITH_AES_128_CBC_SHA", 16, "sha1", "sha256"),
        0x0035: ("RSA_WITH_AES_256_CBC_SHA", 32, "sha1", "sha256"),
        0x003C: ("RSA_WITH_AES_128_CBC_SHA256", 16, "sha256", "sha256"),
        0x003D: ("RSA_WITH_AES_256_CBC_SHA256", 32, "sha256", "sha256"),
        0x0033: ("DHE_RSA_WITH_AES_128_CBC_SHA", 16, "sha1", "sha256"),
        0x0039: ("DHE_RSA_WITH_AES_256_CBC_SHA", 32, "sha1", "sha256"),
        0x0067: ("DHE_RSA_WITH_AES_128_CBC_SHA256", 16, "sha256", "sha256"),
        0x006B: ("DHE_RSA_WITH_AES_256_CBC_SHA256", 32, "sha256", "sha256"),
        0xC009: ("ECDHE_ECDSA_WITH_AES_128_CBC_SHA", 16, "sha1", "sha256"),
        0xC00A: ("ECDHE_ECDSA_WITH_AES_256_CBC_SHA", 32, "sha1", "sha256"),
        0xC013: ("ECDHE_RSA_WITH_AES_128_CBC_SHA", 16, "sha1", "sha256"),
        0xC014: ("ECDHE_RSA_WITH_AES_256_CBC_SHA", 32, "sha1", "sha256"),
        0xC023: ("ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", 16, "sha256", "sha256"),
        0xC024: ("ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", 32, "sha384", "sha384"),
        0xC027: ("ECDHE_RSA_WITH_AES_128_CBC_SHA256", 16, "sha256", "sha256"),
        0xC028: ("ECDHE_RSA_WITH_AES_256_CBC_SHA384", 32, "sha384", "sha384"),
    }
    # RC4 suites (RFC 5246 appendix C, RFC 4492): broken, but old captures use them.
    rc4 = {
        0x0003: ("RSA_EXPORT_WITH_RC4_40_MD5", 5, "md5"),
        0x0004: ("RSA_WITH_RC4_128_MD5", 16, "md5"),
        0x0005: ("RSA_WITH_RC4_128_SHA", 16, "sha1"),
        0xC002: ("ECDH_ECDSA_WITH_RC4_128_SHA", 16, "sha1"),
        0xC007: ("ECDHE_ECDSA_WITH_RC4_128_SHA", 16, "sha1"),
        0xC00C: ("ECDH_RSA_WITH_RC4_128_SHA", 16, "sha1"),
        0xC011: ("ECDHE_RSA_WITH_RC4_128_SHA", 16, "sha1"),
    }
    suites = {code: CipherSuite(code, name, mode, key, h, prf) for code, name, mode, key, h, prf in table}  # type: ignore[arg-type]
    for code, (name, key, mac) in rc4.items():
        suites[code] = CipherSuite(code, "TLS_" + name, "rc4", key, mac, "sha256", export=key == 5)  # type: ignore[arg-type]
    for code, (name, mode, key, prf) in aead12.items():
        suites[code] = CipherSuite(code, "TLS_" + name, mode, key, prf, prf)  # type: ignore[arg-type]
    for code, (name, key, mac, prf) in cbc12.items():
        suites[code] = CipherSuite(code, "TLS_" + name, "cbc", key, mac, prf)  # type: ignore[arg-type]
    return suites


#: Cipher suites whose records can be opened, by IANA code.
SUITES: dict[int, CipherSuite] = _suites()

_TLS13_HEADER = struct.Struct("!BHH")  # the additional data: an application_data record header


def hkdf_expand_label(secret: bytes, label: str, context: bytes, length: int, hash_name: str) -> bytes:
    """HKDF-Expand-Label of RFC 8446 §7.1."""
    full = b"tls13 " + label.encode()
    info = struct.pack("!HB", length, len(full)) + full + struct.pack("!B", len(context)) + context
    return _hkdf_expand(secret, info, length, hash_name)


def _hkdf_expand(secret: bytes, info: bytes, length: int, hash_name: str) -> bytes:
    """HKDF-Expand of RFC 5869 §2.3 with HMAC (one C call per block; TLS keys and IVs need one block).

    >>> from cryptography.hazmat.primitives.hashes import SHA256
    >>> from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
    >>> _hkdf_expand(b"k" * 32, b"info", 80, "sha256") == HKDFExpand(SHA256(), 80, b"info").derive(b"k" * 32)
    True
    """
    out, block, counter = b"", b"", 1
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


def tls12_key_block(suite: CipherSuite, master: bytes, client_random: bytes, server_random: bytes) -> bytes:
    """The TLS 1.2 key block (RFC 5246 §6.3): PRF(master, "key expansion", server + client random)."""
    mac, key, iv = suite.mac_len, suite.key_len, _fixed_iv_len(suite)
    return _p_hash(suite.prf_hash, master, b"key expansion" + server_random + client_random, 2 * (mac + key + iv))


def _fixed_iv_len(suite: CipherSuite) -> int:
    if suite.mode == "rc4":
        return 0
    if suite.mode == "chacha":
        return 12
    if suite.mode == "cbc":
        return 16
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
    """Running cipher state of a stream cipher (RC4 carries on from record to record)."""

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
        cls, suite: CipherSuite, master: bytes, client_random: bytes, server_random: bytes
    ) -> tuple[RecordKeys, RecordKeys]:
        """(client write keys, server write keys) from the master secret."""
        block = tls12_key_block(suite, master, client_random, server_random)
        mac, key, iv = suite.mac_len, suite.key_len, _fixed_iv_len(suite)
        parts, pos = [], 0
        for size in (mac, mac, key, key, iv, iv):
            parts.append(block[pos : pos + size])
            pos += size
        client_mac, server_mac, client_key, server_key, client_iv, server_iv = parts
        if suite.export:  # RFC 2246 §6.3: final keys stretched from the 5 secret bytes
            randoms = client_random + server_random
            client_key = _p_hash(suite.prf_hash, client_key, b"client write key" + randoms, 16)
            server_key = _p_hash(suite.prf_hash, server_key, b"server write key" + randoms, 16)
        return cls(suite, client_key, client_iv, client_mac), cls(suite, server_key, server_iv, server_mac)

    # -- opening records -------------------------------------------------------------------

    @functools.cached_property
    def _cipher(self) -> AESGCM | ChaCha20Poly1305 | AESCCM:
        """The AEAD object, made once per key (not once per record)."""
        mode = self.suite.mode
        if mode == "gcm":
            return AESGCM(self.key)
        if mode == "chacha":
            return ChaCha20Poly1305(self.key)
        return AESCCM(self.key, tag_length=self.suite.tag_len)

    def _aead(self) -> AESGCM | ChaCha20Poly1305 | AESCCM:
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
            inner = self._cipher.decrypt(self._nonce(seq), fragment, _TLS13_HEADER.pack(23, 0x0303, len(fragment)))
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
        """Decrypt a TLS 1.2 (or 1.1 CBC) record's fragment; return the plaintext."""
        suite = self.suite
        if suite.mode == "cbc":
            return self._open_cbc(fragment, version, encrypt_then_mac)
        if suite.mode == "rc4":
            if not self.stream:
                self.stream.append(Cipher(ARC4(self.key), mode=None).decryptor())
            plain = self.stream[0].update(fragment)
            if len(plain) < suite.mac_len:
                raise DecryptError("RC4 record shorter than its MAC")
            return plain[: len(plain) - suite.mac_len]
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

    def _open_cbc(self, fragment: bytes, version: int, encrypt_then_mac: bool = False) -> bytes:
        if version < 0x0302:
            raise DecryptError("TLS 1.0 CBC (chained IVs) is not supported")
        if encrypt_then_mac:  # RFC 7366: the MAC follows the ciphertext
            fragment = fragment[: len(fragment) - self.suite.mac_len]
        if len(fragment) % 16 or len(fragment) < 32:
            raise DecryptError("CBC record length is not a multiple of the block size")
        iv, body = fragment[:16], fragment[16:]
        decryptor = Cipher(algorithms.AES(self.key), modes.CBC(iv)).decryptor()
        plain = decryptor.update(body) + decryptor.finalize()
        pad = plain[-1]
        end = len(plain) - pad - 1 - (0 if encrypt_then_mac else self.suite.mac_len)
        if end < 0 or plain[len(plain) - pad - 1 : -1] != bytes([pad]) * pad:
            raise DecryptError("CBC padding is wrong: wrong key or damaged record")
        return plain[:end]

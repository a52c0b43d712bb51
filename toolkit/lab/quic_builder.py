"""Synthetic QUIC connections for tests and benchmarks: packets sealed as an endpoint would seal them.

:class:`QuicConnectionBuilder` plays both endpoints of one connection with known TLS secrets: it
writes Initial, 0-RTT, Handshake and 1-RTT packets (RFC 9001 section 5: AEAD, then header
protection), key updates, and the NSS key log lines a browser would write for them, so that
:mod:`toolkit.io.quic_decrypt` and tshark can be run on the same datagrams. The TLS handshake is
reduced to the hellos and an EncryptedExtensions with ALPN (no certificates: nothing verifies them).

>>> builder = QuicConnectionBuilder(bytes(32), seed=1)
>>> [(client, len(datagram)) for client, datagram in builder.handshake()]
[(True, 1200), (False, 1200), (True, 81)]
>>> builder.keylog_lines()[0].split()[0]
'CLIENT_HANDSHAKE_TRAFFIC_SECRET'
"""

from __future__ import annotations

import random
import struct
from collections import defaultdict
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from toolkit.io.quic import QUIC_V1, initial_keys
from toolkit.io.quic_decrypt import packet_keys
from toolkit.lab.tls_hellos import client_hello_for_tests

__all__ = ["SECRET_LABELS", "QuicConnectionBuilder", "crypto_frame", "stream_frame", "varint"]

SECRET_LABELS = (
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "SERVER_TRAFFIC_SECRET_0",
    "CLIENT_EARLY_TRAFFIC_SECRET",
)
_LONG_TYPES = {"Initial": 0, "0-RTT": 1, "Handshake": 2}
_SUITE_SECRET_SIZES = {0x1301: 32, 0x1302: 48, 0x1303: 32}


def varint(value: int) -> bytes:
    """A QUIC variable-length integer (RFC 9000 section 16).

    >>> varint(37).hex(), varint(15293).hex()
    ('25', '7bbd')
    """
    for size, flag in ((1, 0x00), (2, 0x40), (4, 0x80), (8, 0xC0)):
        if value < 1 << (8 * size - 2):
            return (value | flag << (8 * size - 8)).to_bytes(size, "big")
    raise ValueError(f"{value} does not fit a QUIC varint")


def crypto_frame(data: bytes, offset: int = 0) -> bytes:
    """A CRYPTO frame."""
    return b"\x06" + varint(offset) + varint(len(data)) + data


def stream_frame(stream: int, offset: int, data: bytes, fin: bool = False) -> bytes:
    """A STREAM frame with offset and length fields."""
    return bytes([0x0E | fin]) + varint(stream) + varint(offset) + varint(len(data)) + data


class _InitialKeys:
    def __init__(self, version: int, dcid: bytes, client: bool) -> None:
        key, self.iv, hp = initial_keys(version, dcid, client)
        self.aead = AESGCM(key)
        self.mask = Cipher(algorithms.AES(hp), modes.ECB()).encryptor().update


def _handshake_message(kind: int, body: bytes) -> bytes:
    return bytes([kind]) + len(body).to_bytes(3, "big") + body


class QuicConnectionBuilder:
    """Both endpoints of one QUIC connection with the given client random and random secrets."""

    def __init__(
        self,
        client_random: bytes,
        *,
        seed: int = 0,
        version: int = QUIC_V1,
        suite: int = 0x1301,
        sni: str = "example.com",
        alpn: str = "h3",
    ) -> None:
        rng = random.Random(seed)
        self.client_random, self.version, self.suite, self.sni, self.alpn = client_random, version, suite, sni, alpn
        size = _SUITE_SECRET_SIZES[suite]
        self.secrets = {label: rng.randbytes(size) for label in SECRET_LABELS}
        self.first_dcid, self.client_cid, self.server_cid = rng.randbytes(8), rng.randbytes(8), rng.randbytes(8)
        self.numbers: dict[tuple[bool, str], int] = defaultdict(int)
        self.one_rtt = {True: self._keys("CLIENT_TRAFFIC_SECRET_0"), False: self._keys("SERVER_TRAFFIC_SECRET_0")}
        self.offsets: dict[tuple[bool, int], int] = defaultdict(int)

    def _keys(self, label: str) -> Any:
        return packet_keys(self.secrets[label], self.suite, self.version)

    def keylog_lines(self) -> list[str]:
        """The NSS key log lines of this connection."""
        return [f"{label} {self.client_random.hex()} {secret.hex()}" for label, secret in self.secrets.items()]

    def _protect(self, first: int, rest: bytes, number: int, payload: bytes, keys: Any, long: bool) -> bytes:
        payload += bytes(max(0, 20 - len(payload)))  # PADDING frames: room for the header-protection sample
        pn = (number & 0xFFFF).to_bytes(2, "big")
        first |= 0x01  # 2-byte packet numbers
        header = bytes([first]) + rest + (varint(len(pn) + len(payload) + 16) if long else b"") + pn
        nonce = (int.from_bytes(keys.iv, "big") ^ number).to_bytes(12, "big")
        sealed = keys.aead.encrypt(nonce, payload, header)
        mask = keys.mask(sealed[2:18])
        protected_pn = bytes(a ^ b for a, b in zip(pn, mask[1:3], strict=True))
        return bytes([first ^ (mask[0] & (0x0F if long else 0x1F))]) + header[1 : -len(pn)] + protected_pn + sealed

    def _number(self, client: bool, space: str) -> int:
        self.numbers[(client, space)] += 1
        return self.numbers[(client, space)] - 1

    def long(self, client: bool, level: str, frames: bytes, pad_to: int = 0) -> bytes:
        """An Initial, 0-RTT or Handshake packet (``pad_to``: PADDING up to this packet size)."""
        code = _LONG_TYPES[level] if self.version == QUIC_V1 else (_LONG_TYPES[level] + 1) % 4
        dcid, scid = (self.first_dcid, self.client_cid) if client else (self.client_cid, self.server_cid)
        rest = struct.pack("!I", self.version) + bytes([len(dcid)]) + dcid + bytes([len(scid)]) + scid
        keys: Any
        if level == "Initial":
            rest += b"\x00"  # no token
            keys = _InitialKeys(self.version, self.first_dcid, client)
        elif level == "Handshake":
            keys = self._keys("CLIENT_HANDSHAKE_TRAFFIC_SECRET" if client else "SERVER_HANDSHAKE_TRAFFIC_SECRET")
        else:
            keys = self._keys("CLIENT_EARLY_TRAFFIC_SECRET")
        if pad_to:
            frames += bytes(max(0, pad_to - len(rest) - len(frames) - 21))  # first byte, length, number, tag
        space = "1-RTT" if level == "0-RTT" else level
        return self._protect(0xC0 | code << 4, rest, self._number(client, space), frames, keys, long=True)

    def short(self, client: bool, frames: bytes, number: int | None = None) -> bytes:
        """A 1-RTT packet in the sender's current key phase."""
        keys = self.one_rtt[client]
        if number is None:
            number = self._number(client, "1-RTT")
        dcid = self.server_cid if client else self.client_cid
        return self._protect(0x40 | keys.phase << 2, dcid, number, frames, keys, long=False)

    def update(self, client: bool) -> None:
        """The sender moves to the next key phase."""
        self.one_rtt[client] = self.one_rtt[client].following()

    def hellos(self) -> tuple[bytes, bytes, bytes]:
        """ClientHello, ServerHello and EncryptedExtensions (with ALPN) as handshake messages."""
        hello = bytearray(client_hello_for_tests(self.sni, alpn=[self.alpn], versions=(0x0304,), record=False))
        hello[6:38] = self.client_random
        hello[41:43] = self.suite.to_bytes(2, "big")  # the first cipher suite offered
        supported = struct.pack("!HHH", 43, 2, 0x0304)
        server = b"\x03\x03" + bytes(32) + b"\x00" + struct.pack("!HB", self.suite, 0)
        server += struct.pack("!H", len(supported)) + supported
        name = self.alpn.encode()
        alpn = struct.pack("!HHHB", 16, len(name) + 3, len(name) + 1, len(name)) + name
        extensions = _handshake_message(8, struct.pack("!H", len(alpn)) + alpn)
        return bytes(hello), _handshake_message(2, server), extensions

    def handshake(self) -> list[tuple[bool, bytes]]:
        """The handshake's datagrams: (from client, UDP payload)."""
        client_hello, server_hello, extensions = self.hellos()
        finished = _handshake_message(20, bytes(32))
        server_initial = self.long(False, "Initial", crypto_frame(server_hello))
        server_handshake = self.long(
            False, "Handshake", crypto_frame(extensions + finished), 1200 - len(server_initial)
        )
        return [
            (True, self.long(True, "Initial", crypto_frame(client_hello), pad_to=1200)),
            (False, server_initial + server_handshake),
            (True, self.long(True, "Handshake", crypto_frame(finished))),
        ]

    def send(self, client: bool, stream: int, data: bytes, fin: bool = False, size: int = 1200) -> list[bytes]:
        """1-RTT datagrams carrying ``data`` on ``stream`` in order, at most ``size`` bytes of data each."""
        out = []
        for start in range(0, max(len(data), 1), size):
            piece = data[start : start + size]
            last = start + size >= len(data)
            offset = self.offsets[(client, stream)]
            out.append(self.short(client, stream_frame(stream, offset, piece, fin and last)))
            self.offsets[(client, stream)] = offset + len(piece)
        return out

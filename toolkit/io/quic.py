"""QUIC Initial packets: decrypt them with the public initial keys and read the TLS hellos.

QUIC protects its Initial packets with keys derived from the client's first Destination
Connection ID and a salt published in the standard (RFC 9001 section 5.2 for version 1, RFC 9369
section 3.3.1 for version 2, draft-ietf-quic-tls-23 and -29 for the drafts 23 to 32), so any observer can
read the ClientHello inside: its SNI and ALPN. :class:`QuicInitialReader` follows one UDP
conversation: it removes header protection, decrypts, collects CRYPTO frames (a ClientHello is
often split over two Initial packets, even out of order) and parses the hellos with
:mod:`toolkit.io.tls`. What follows the Initials needs the TLS secrets of a key log:
:mod:`toolkit.io.quic_decrypt` reads it when they are given.

>>> reader = QuicInitialReader()
>>> reader.datagram(bytes.fromhex("c0") + bytes(20), True, 1)   # not a QUIC packet it can read
>>> reader.client_hello is None
True
>>> is_quic_long_header(bytes.fromhex("c300000001") + bytes(8))
True
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hmac import HMAC

from toolkit.io.tls import ClientHello, ServerHello, TlsError, parse_client_hello, parse_server_hello
from toolkit.io.tls_crypto import hkdf_expand_label

__all__ = ["QUIC_VERSIONS", "QuicInitialReader", "initial_keys", "is_quic_long_header", "read_varint", "version_label"]

QUIC_V1 = 0x00000001
QUIC_V2 = 0x6B3343CF
_SALT_V1 = bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a")
_SALT_V2 = bytes.fromhex("0dede3def700a6db819381be6e269dcbf9bd2ed9")
_SALT_DRAFT29 = bytes.fromhex("afbfec289993d24c9e9786f19c6111e04390a899")
_SALT_DRAFT23 = bytes.fromhex("c3eef712c72ebb5a11a7d2432bb46365bef9f502")

#: version -> (initial salt, key label prefix, long-header type of Initial packets)
QUIC_VERSIONS: dict[int, tuple[bytes, str, int]] = {
    QUIC_V1: (_SALT_V1, "quic", 0),
    QUIC_V2: (_SALT_V2, "quicv2", 1),
    **{0xFF000000 + draft: (_SALT_DRAFT29, "quic", 0) for draft in range(29, 33)},
    **{0xFF000000 + draft: (_SALT_DRAFT23, "quic", 0) for draft in range(23, 29)},
}
_MAX_INITIALS = 16
_MAX_DATAGRAMS = 64  # the handshake is over long before: stop looking
_MAX_CRYPTO = 64 * 1024


def version_label(version: int) -> str:
    """Readable QUIC version.

    >>> version_label(1), version_label(0x6B3343CF), version_label(0xFF00001D)
    ('QUIC v1', 'QUIC v2', 'QUIC draft-29')
    """
    if version == QUIC_V1:
        return "QUIC v1"
    if version == QUIC_V2:
        return "QUIC v2"
    if version >> 8 == 0xFF0000:
        return f"QUIC draft-{version & 0xFF}"
    return f"QUIC 0x{version:08x}"


def is_quic_long_header(data: bytes) -> bool:
    """True for a datagram starting with a QUIC long header of a known version."""
    return len(data) >= 7 and data[0] & 0xC0 == 0xC0 and int.from_bytes(data[1:5], "big") in QUIC_VERSIONS


def _expand_label(secret: bytes, label: str, length: int) -> bytes:
    return hkdf_expand_label(secret, label, b"", length, "sha256")  # Initial keys: always SHA-256


def initial_keys(version: int, dcid: bytes, client: bool) -> tuple[bytes, bytes, bytes]:
    """(key, iv, header-protection key) of the client's or server's Initial packets."""
    salt, prefix, _ = QUIC_VERSIONS[version]
    extract = HMAC(salt, hashes.SHA256())
    extract.update(dcid)
    initial_secret = extract.finalize()
    secret = _expand_label(initial_secret, "client in" if client else "server in", 32)
    return (
        _expand_label(secret, f"{prefix} key", 16),
        _expand_label(secret, f"{prefix} iv", 12),
        _expand_label(secret, f"{prefix} hp", 16),
    )


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """A QUIC variable-length integer at ``pos``: (value, position after it).

    >>> read_varint(bytes.fromhex("c2197c5eff14e88c"), 0)   # RFC 9000 appendix A.1
    (151288809941952652, 8)
    """
    try:
        first = data[pos]
        prefix = first >> 6
        if prefix == 0:
            return first, pos + 1
        if prefix == 1:
            return (first & 0x3F) << 8 | data[pos + 1], pos + 2
        size = 1 << prefix
        if pos + size > len(data):
            raise IndexError
        return int.from_bytes(data[pos : pos + size], "big") & ((1 << (8 * size - 2)) - 1), pos + size
    except IndexError:
        raise ValueError("varint past the end of the packet") from None


class _Direction:
    __slots__ = ("crypto", "done", "initials", "keys")

    def __init__(self) -> None:
        self.crypto: dict[int, bytes] = {}
        self.keys: tuple[AESGCM, bytes, Cipher[modes.ECB]] | None = None
        self.initials = 0
        self.done = False


class QuicInitialReader:
    """The Initial packets of one QUIC connection (both directions)."""

    def __init__(self) -> None:
        self.version: int | None = None
        self.original_dcid: bytes | None = None
        self.client_hello: ClientHello | None = None
        self.server_hello: ServerHello | None = None
        self.frames: list[int] = []
        """Frames whose Initial packets carried the ClientHello."""
        self.error: str | None = None
        self.datagrams = 0
        self._sides = {True: _Direction(), False: _Direction()}
        self._finished = False

    @property
    def finished(self) -> bool:
        """Both hellos read (or given up on): no need to look at more packets."""
        if not self._finished:
            sides = self._sides
            self._finished = self.datagrams > _MAX_DATAGRAMS or (sides[True].done and sides[False].done)
        return self._finished

    def datagram(self, data: bytes, from_client: bool, frame: int) -> None:
        """Look at one UDP payload (it may hold several coalesced QUIC packets)."""
        self.datagrams += 1
        side = self._sides[from_client]
        if side.done:
            return
        position = 0
        try:
            while position < len(data) and not side.done:
                next_position = self._packet(data, position, from_client, side, frame)
                if next_position is None:
                    break
                position = next_position
        except (ValueError, IndexError, InvalidTag, TlsError) as exc:
            self.error = str(exc)

    def _packet(self, data: bytes, pos: int, from_client: bool, side: _Direction, frame: int) -> int | None:
        first = data[pos]
        if first & 0x80 == 0 or len(data) < pos + 7:
            return None  # short header: 1-RTT, not readable
        version = int.from_bytes(data[pos + 1 : pos + 5], "big")
        known = QUIC_VERSIONS.get(version)
        if known is None:
            return None
        dcid_len = data[pos + 5]
        dcid = data[pos + 6 : pos + 6 + dcid_len]
        cursor = pos + 6 + dcid_len
        scid_len = data[cursor]
        cursor += 1 + scid_len
        packet_type = (first >> 4) & 0x03
        if packet_type != known[2]:
            if packet_type == (known[2] + 3) % 4:  # Retry: no length field, runs to the end
                return None
        else:
            token_len, cursor = read_varint(data, cursor)
            cursor += token_len
        length, cursor = read_varint(data, cursor)
        end = cursor + length
        if end > len(data):
            raise ValueError("QUIC packet longer than its datagram")
        if packet_type != known[2]:
            return end  # Handshake or 0-RTT packet: keys unknown, skip it
        if self.version is None:
            self.version = version
        if from_client and self.original_dcid is None:
            self.original_dcid = dcid
        if self.original_dcid is None:
            return end
        if side.keys is None:
            key, iv, hp = initial_keys(version, self.original_dcid, from_client)
            side.keys = (AESGCM(key), iv, Cipher(algorithms.AES(hp), modes.ECB()))
        side.initials += 1
        if side.initials > _MAX_INITIALS:
            side.done = True
            return None
        aead, iv, hp_cipher = side.keys
        sample = data[cursor + 4 : cursor + 20]
        if len(sample) < 16:
            raise ValueError("QUIC packet too short for its header protection sample")
        encryptor = hp_cipher.encryptor()
        mask = encryptor.update(sample) + encryptor.finalize()
        clear_first = first ^ (mask[0] & 0x0F)
        pn_len = (clear_first & 0x03) + 1
        pn_bytes = bytes(b ^ m for b, m in zip(data[cursor : cursor + pn_len], mask[1 : 1 + pn_len], strict=True))
        header = bytes([clear_first]) + data[pos + 1 : cursor] + pn_bytes
        packet_number = int.from_bytes(pn_bytes, "big")
        nonce = (int.from_bytes(iv, "big") ^ packet_number).to_bytes(12, "big")
        plain = aead.decrypt(nonce, data[cursor + pn_len : end], header)
        if self._frames(plain, side) and from_client:
            self.frames.append(frame)
        self._hello(side, from_client)
        return end

    @staticmethod
    def _frames(plain: bytes, side: _Direction) -> bool:
        """Collect CRYPTO frames; True when the packet had one."""
        pos = 0
        found = False
        while pos < len(plain):
            kind = plain[pos]
            pos += 1
            if kind == 0x00:  # PADDING: skip the whole run at once
                pos = len(plain) - len(plain[pos:].lstrip(b"\x00"))
                continue
            if kind == 0x01:
                continue
            if kind in (0x02, 0x03):
                _, pos = read_varint(plain, pos)
                _, pos = read_varint(plain, pos)
                count, pos = read_varint(plain, pos)
                _, pos = read_varint(plain, pos)
                for _ in range(min(count, 1024) * 2 + (3 if kind == 0x03 else 0)):
                    _, pos = read_varint(plain, pos)
            elif kind == 0x06:
                offset, pos = read_varint(plain, pos)
                length, pos = read_varint(plain, pos)
                if offset + length <= _MAX_CRYPTO:
                    side.crypto[offset] = plain[pos : pos + length]
                pos += length
                found = True
            elif kind in (0x1C, 0x1D):
                _, pos = read_varint(plain, pos)
                if kind == 0x1C:
                    _, pos = read_varint(plain, pos)
                reason, pos = read_varint(plain, pos)
                pos += reason
            else:
                break  # a frame type Initial packets do not carry
        return found

    def _hello(self, side: _Direction, from_client: bool) -> None:
        stream = b""
        for offset in sorted(side.crypto):
            if offset > len(stream):
                break
            stream += side.crypto[offset][len(stream) - offset :]
        if len(stream) < 4:
            return
        size = int.from_bytes(stream[1:4], "big")
        if len(stream) < 4 + size:
            return
        side.done = True
        if from_client and stream[0] == 1:
            self.client_hello = parse_client_hello(stream[4 : 4 + size])
        elif not from_client and stream[0] == 2:
            self.server_hello = parse_server_hello(stream[4 : 4 + size])

"""TLS handshake metadata: what a ClientHello offers and what a ServerHello chooses.

:class:`HandshakeReader` is a sans-IO reader of one direction of a TLS stream: give it stream
bytes as they come (a ClientHello split over several TCP segments or records is fine) and it
returns whole handshake messages until the first encrypted or non-handshake record.
:func:`parse_client_hello` and :func:`parse_server_hello` read the two messages (RFC 8446
section 4.1; extensions from the IANA registry). The same ClientHello parser serves QUIC.

>>> from toolkit.lab.tls_hellos import client_hello_for_tests
>>> hello = client_hello_for_tests("example.org", alpn=["h2", "http/1.1"])
>>> reader = HandshakeReader()
>>> reader.feed(hello[:7]), len(reader.feed(hello[7:]))
([], 1)
>>> message = parse_client_hello(reader.messages_seen[0][1])
>>> message.sni, message.alpn, message.versions
('example.org', ['h2', 'http/1.1'], ['TLS 1.3', 'TLS 1.2'])
"""

from __future__ import annotations

import struct
from typing import NamedTuple

__all__ = [
    "ClientHello",
    "HandshakeReader",
    "ServerHello",
    "TlsError",
    "cipher_name",
    "looks_like_tls",
    "parse_client_hello",
    "parse_server_hello",
    "version_name",
]

_MAX_HANDSHAKE = 256 * 1024
_SERVER_NAME, _ALPN, _SUPPORTED_VERSIONS, _ECH, _ESNI = 0, 16, 43, 0xFE0D, 0xFFCE

_CIPHERS: dict[int, str] = {
    0x0004: "TLS_RSA_WITH_RC4_128_MD5",
    0x0005: "TLS_RSA_WITH_RC4_128_SHA",
    0x000A: "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    0x002F: "TLS_RSA_WITH_AES_128_CBC_SHA",
    0x0033: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
    0x0035: "TLS_RSA_WITH_AES_256_CBC_SHA",
    0x0039: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
    0x003C: "TLS_RSA_WITH_AES_128_CBC_SHA256",
    0x003D: "TLS_RSA_WITH_AES_256_CBC_SHA256",
    0x0067: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
    0x006B: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
    0x009C: "TLS_RSA_WITH_AES_128_GCM_SHA256",
    0x009D: "TLS_RSA_WITH_AES_256_GCM_SHA384",
    0x009E: "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
    0x009F: "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
    0x1301: "TLS_AES_128_GCM_SHA256",
    0x1302: "TLS_AES_256_GCM_SHA384",
    0x1303: "TLS_CHACHA20_POLY1305_SHA256",
    0x1304: "TLS_AES_128_CCM_SHA256",
    0x1305: "TLS_AES_128_CCM_8_SHA256",
    0xC009: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    0xC00A: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    0xC011: "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
    0xC013: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    0xC014: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    0xC023: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    0xC024: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
    0xC027: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    0xC028: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    0xC02B: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    0xC02C: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    0xC02F: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    0xC030: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    0xCCA8: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    0xCCA9: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    0xCCAA: "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
}


class TlsError(ValueError):
    """A handshake message that breaks the TLS rules."""


class ClientHello(NamedTuple):
    """What a client offered."""

    sni: str | None
    versions: list[str]
    """supported_versions when present (GREASE removed), else the legacy version."""
    alpn: list[str]
    ech: bool
    """encrypted_client_hello (or the older ESNI) extension present."""
    ciphers: list[int]


class ServerHello(NamedTuple):
    """What a server chose."""

    version: str
    cipher: str
    alpn: str | None
    hello_retry: bool


def version_name(value: int) -> str:
    """Readable TLS version.

    >>> version_name(0x0303), version_name(0x7F1C)
    ('TLS 1.2', 'TLS 1.3 (draft 28)')
    """
    if value == 0x0300:
        return "SSL 3.0"
    if 0x0301 <= value <= 0x0304:
        return f"TLS 1.{value - 0x0301}"
    if value >> 8 == 0x7F:
        return f"TLS 1.3 (draft {value & 0xFF})"
    if value == 0x0200 or value == 0x0002:
        return "SSL 2.0"
    return f"0x{value:04X}"


def cipher_name(value: int) -> str:
    """IANA name of a cipher suite (hex for ones neither listed here nor decryptable).

    >>> cipher_name(0x1301), cipher_name(0x0084), cipher_name(0xC050)
    ('TLS_AES_128_GCM_SHA256', 'TLS_RSA_WITH_CAMELLIA_256_CBC_SHA', '0xC050')
    """
    if value in _CIPHERS:
        return _CIPHERS[value]
    from toolkit.io.tls_crypto import SUITES  # the decryptable suites' names; imported when first needed

    suite = SUITES.get(value)
    return suite.name if suite else f"0x{value:04X}"


def _is_grease(value: int) -> bool:
    return (value & 0x0F0F) == 0x0A0A and (value >> 8) == (value & 0xFF)


def looks_like_tls(data: bytes) -> bool:
    """True when ``data`` starts like a TLS handshake record.

    >>> looks_like_tls(b"\\x16\\x03\\x01\\x02\\x00\\x01"), looks_like_tls(b"GET / HTTP/1.1")
    (True, False)
    """
    return len(data) >= 3 and data[0] == 0x16 and data[1] == 3 and data[2] <= 4


class HandshakeReader:
    """Handshake messages of one direction of a TLS stream (sans-IO)."""

    __slots__ = ("_handshake", "_records", "done", "error", "messages_seen")

    def __init__(self) -> None:
        self._records = b""
        self._handshake = b""
        self.done = False
        """True once an encrypted or non-handshake record came: nothing more to read."""
        self.error: str | None = None
        self.messages_seen: list[tuple[int, bytes]] = []

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """Add stream bytes; returns the (type, body) handshake messages they completed."""
        if self.done:
            return []
        records = self._records + data
        position = 0
        out: list[tuple[int, bytes]] = []
        while len(records) - position >= 5:
            content_type = records[position]
            length = (records[position + 3] << 8) | records[position + 4]
            if records[position + 1] != 3 or length > 18432 or content_type not in (20, 21, 22, 23, 24):
                self._stop("not a TLS record")
                break
            if content_type != 22:
                self.done = True
                break
            if len(records) - position < 5 + length:
                break
            self._handshake += records[position + 5 : position + 5 + length]
            position += 5 + length
            while len(self._handshake) >= 4:
                size = int.from_bytes(self._handshake[1:4], "big")
                if size > _MAX_HANDSHAKE:
                    self._stop(f"handshake message of {size} bytes")
                    break
                if len(self._handshake) < 4 + size:
                    break
                message = (self._handshake[0], self._handshake[4 : 4 + size])
                self._handshake = self._handshake[4 + size :]
                out.append(message)
            if len(self._handshake) > _MAX_HANDSHAKE:
                self._stop("handshake too long")
            if self.done:
                break
        self._records = b"" if self.done else records[position:]
        if len(self._records) > 5 + 18432:
            self._stop("record buffer overflow")
        self.messages_seen.extend(out)
        return out

    def _stop(self, reason: str) -> None:
        self.done = True
        self.error = reason
        self._records = b""
        self._handshake = b""


class _Cursor:
    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def take(self, n: int) -> bytes:
        pos = self.pos
        if pos + n > self.end:
            raise TlsError(f"field of {n} bytes runs past the message")
        self.pos = pos + n
        return self.data[pos : pos + n]

    def u8(self) -> int:
        pos = self.pos
        if pos + 1 > self.end:
            raise TlsError("field of 1 bytes runs past the message")
        self.pos = pos + 1
        return self.data[pos]

    def u16(self) -> int:
        pos, data = self.pos, self.data
        if pos + 2 > self.end:
            raise TlsError("field of 2 bytes runs past the message")
        self.pos = pos + 2
        return (data[pos] << 8) | data[pos + 1]

    def vector(self, size_bytes: int) -> bytes:
        """A field after its length of ``size_bytes`` (1 or 2) big-endian bytes."""
        return self.take(self.u8() if size_bytes == 1 else self.u16())


def _extensions(cursor: _Cursor) -> list[tuple[int, bytes]]:
    """(type, data) of each extension in the block at the cursor (read by index, no cursor per field)."""
    if cursor.pos >= cursor.end:
        return []
    block = cursor.vector(2)
    found = []
    pos, end = 0, len(block)
    while pos < end:
        if pos + 4 > end:
            raise TlsError("field of 2 bytes runs past the message")
        kind = (block[pos] << 8) | block[pos + 1]
        size = (block[pos + 2] << 8) | block[pos + 3]
        if pos + 4 + size > end:
            raise TlsError(f"field of {size} bytes runs past the message")
        found.append((kind, block[pos + 4 : pos + 4 + size]))
        pos += 4 + size
    return found


def _alpn_list(data: bytes) -> list[str]:
    names = _Cursor(_Cursor(data).vector(2))
    out = []
    while names.pos < names.end:
        out.append(names.vector(1).decode("ascii", "backslashreplace"))
    return out


def parse_client_hello(body: bytes) -> ClientHello:
    """Read a ClientHello handshake body (after the 4-byte handshake header).

    Raises:
        TlsError: the message is cut short or inconsistent.
    """
    cursor = _Cursor(body)
    legacy = cursor.u16()
    cursor.take(32)
    cursor.vector(1)  # session id
    suites = cursor.vector(2)
    ciphers = list(struct.unpack_from(f"!{len(suites) // 2}H", suites))
    cursor.vector(1)  # compression methods
    sni = None
    versions: list[str] = []
    alpn: list[str] = []
    ech = False
    for kind, data in _extensions(cursor):
        if kind == _SERVER_NAME and data:
            names = _Cursor(_Cursor(data).vector(2))
            while names.pos < names.end:
                name_type = names.u8()
                name = names.vector(2)
                if name_type == 0 and sni is None:
                    sni = name.decode("ascii", "backslashreplace").lower().rstrip(".")
        elif kind == _ALPN:
            alpn = _alpn_list(data)
        elif kind == _SUPPORTED_VERSIONS:
            listed = _Cursor(data).vector(1)
            for i in range(0, len(listed) - 1, 2):
                value = int.from_bytes(listed[i : i + 2], "big")
                if not _is_grease(value):
                    versions.append(version_name(value))
        elif kind in (_ECH, _ESNI):
            ech = True
    if not versions:
        versions = [version_name(legacy)]
    return ClientHello(sni, versions, alpn, ech, ciphers)


_HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")


def parse_server_hello(body: bytes) -> ServerHello:
    """Read a ServerHello handshake body.

    Raises:
        TlsError: the message is cut short or inconsistent.
    """
    cursor = _Cursor(body)
    version = cursor.u16()
    random = cursor.take(32)
    cursor.vector(1)
    cipher = cursor.u16()
    cursor.u8()
    alpn = None
    for kind, data in _extensions(cursor):
        if kind == _SUPPORTED_VERSIONS and len(data) == 2:
            version = int.from_bytes(data, "big")
        elif kind == _ALPN:
            chosen = _alpn_list(data)
            alpn = chosen[0] if chosen else None
    return ServerHello(version_name(version), cipher_name(cipher), alpn, random == _HRR_RANDOM)

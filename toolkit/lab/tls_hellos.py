"""TLS hellos for synthetic captures: a ClientHello offering and a ServerHello choosing what a test asks.

The messages are minimal and well formed (RFC 8446 section 4.1.2 and 4.1.3; extension numbers
from the IANA TLS ExtensionType registry): random bytes are zero, no certificates follow. They feed
:class:`toolkit.lab.pcap_builder.PcapBuilder` and :class:`toolkit.lab.quic_builder.QuicConnectionBuilder`.

>>> from toolkit.io.tls import HandshakeReader, parse_client_hello
>>> (kind, body), = HandshakeReader().feed(client_hello_for_tests("example.org", alpn=["h2"]))
>>> kind, parse_client_hello(body).sni
(1, 'example.org')
"""

from __future__ import annotations

import struct

__all__ = ["client_hello_for_tests", "server_hello_for_tests"]

_SERVER_NAME, _ALPN, _SUPPORTED_VERSIONS, _ECH = 0, 16, 43, 0xFE0D


def client_hello_for_tests(
    sni: str | None,
    *,
    alpn: list[str] | None = None,
    versions: tuple[int, ...] = (0x0304, 0x0303),
    ech: bool = False,
    record: bool = True,
) -> bytes:
    """A minimal, well-formed ClientHello (as a TLS record unless ``record`` is False)."""
    extensions = b""
    if sni is not None:
        name = sni.encode()
        entry = b"\x00" + struct.pack("!H", len(name)) + name
        extensions += struct.pack("!HHH", _SERVER_NAME, len(entry) + 2, len(entry)) + entry
    if alpn:
        names = b"".join(bytes([len(p)]) + p.encode() for p in alpn)
        extensions += struct.pack("!HHH", _ALPN, len(names) + 2, len(names)) + names
    listed = b"".join(struct.pack("!H", v) for v in versions)
    extensions += struct.pack("!HHB", _SUPPORTED_VERSIONS, len(listed) + 1, len(listed)) + listed
    if ech:
        extensions += struct.pack("!HH", _ECH, 4) + b"\x00\x00\x01\x00"
    body = (
        b"\x03\x03"
        + bytes(32)
        + b"\x00"
        + b"\x00\x04\x13\x01\xc0\x2f"
        + b"\x01\x00"
        + struct.pack("!H", len(extensions))
        + extensions
    )
    message = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack("!H", len(message)) + message if record else message


def server_hello_for_tests(*, version: int = 0x0304, cipher: int = 0x1301, alpn: str | None = None) -> bytes:
    """A ServerHello TLS record choosing ``version`` (via supported_versions) and ``cipher``."""
    extensions = b""
    if version >= 0x0304:
        extensions += struct.pack("!HHH", 43, 2, version)
    if alpn:
        name = alpn.encode()
        extensions += struct.pack("!HHHB", 16, len(name) + 3, len(name) + 1, len(name)) + name
    body = b"\x03\x03" + bytes(range(32)) + b"\x00" + struct.pack("!HB", cipher, 0)
    body += struct.pack("!H", len(extensions)) + extensions
    message = b"\x02" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x03" + struct.pack("!H", len(message)) + message

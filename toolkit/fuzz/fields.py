"""Where a format keeps its length fields: walkers that find them in an input, for the mutator.

A :class:`Field` is a number inside the input, stored in some encoding (big- or little-endian
bytes, decimal or hexadecimal text, an HPACK integer). A *length* field also says which bytes it
counts (its cover), so the mutator can either break it (an absurd value) or keep it true while it
grows or shrinks what it counts (the reader then goes deeper instead of stopping at the length).
The walkers are lenient: on damaged input they return the fields found up to the damage.

>>> from toolkit.lab.pcap_builder import PcapBuilder
>>> builder = PcapBuilder()
>>> builder.http_exchange("10.0.0.2", "192.0.2.7", "example.org", "/")
>>> found = pcap_fields(builder.pcap())
>>> first = found[0]
>>> (first.offset, first.size, first.encoding, first.end - first.start == read_value(builder.pcap(), first))
(32, 4, 'le', True)
>>> http1_fields(b"POST / HTTP/1.1\\r\\nContent-Length: 3\\r\\n\\r\\nabc")[-1]
Field(offset=33, size=1, encoding='dec', start=38, end=41, prefix=0)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "Field",
    "frame_fields",
    "h2_fields",
    "hpack_fields",
    "http1_fields",
    "pcap_fields",
    "pcapng_fields",
    "read_value",
    "tls_fields",
    "write_value",
]


@dataclass(frozen=True)
class Field:
    """A number at ``offset`` (``size`` bytes or characters); a length when ``start < end``.

    ``encoding`` is ``be``/``le`` (unsigned integer bytes), ``dec``/``hex`` (ASCII digits) or
    ``hpack`` (an HPACK integer whose first byte keeps ``8 - prefix`` flag bits, RFC 7541 5.1).
    """

    offset: int
    size: int
    encoding: str
    start: int = 0
    """First byte counted (a length field's cover); ``start == end`` for a plain value."""
    end: int = 0
    prefix: int = 0

    @property
    def is_length(self) -> bool:
        return self.end > self.start


def read_value(data: bytes, field: Field) -> int:
    """The number stored in ``field`` (0 when the text is not a number)."""
    raw = data[field.offset : field.offset + field.size]
    if field.encoding in ("be", "le"):
        return int.from_bytes(raw, "big" if field.encoding == "be" else "little")
    if field.encoding == "hpack":
        return _hpack_integer(data, field.offset, field.prefix)[0]
    try:
        return int(raw, 16 if field.encoding == "hex" else 10)
    except ValueError:
        return 0


def write_value(data: bytes, field: Field, value: int) -> bytes:
    """``data`` with ``field`` set to ``value`` (bytes wrap around; text may change width)."""
    if field.encoding in ("be", "le"):
        raw = (value % (1 << (8 * field.size))).to_bytes(field.size, "big" if field.encoding == "be" else "little")
    elif field.encoding == "hpack":
        flags = data[field.offset] & ~((1 << field.prefix) - 1) & 0xFF
        raw = _hpack_encode(max(value, 0), field.prefix, flags)
    elif field.encoding == "hex":
        raw = (f"{value:x}" if value >= 0 else f"-{-value:x}").encode()
    else:
        raw = str(value).encode()
    return data[: field.offset] + raw + data[field.offset + field.size :]


def _hpack_integer(data: bytes, offset: int, prefix: int) -> tuple[int, int]:
    """(value, bytes used) of the HPACK integer at ``offset`` (RFC 7541 section 5.1)."""
    limit = (1 << prefix) - 1
    value = data[offset] & limit
    used = 1
    if value < limit:
        return value, used
    shift = 0
    while offset + used < len(data) and used < 8:
        byte = data[offset + used]
        used += 1
        value += (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return value, used


def _hpack_encode(value: int, prefix: int, flags: int) -> bytes:
    limit = (1 << prefix) - 1
    if value < limit:
        return bytes([flags | value])
    out = bytearray([flags | limit])
    value -= limit
    while value >= 0x80:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    out.append(value)
    return bytes(out)


# --- captures -------------------------------------------------------------------------------------

_PCAP_ORDERS = {
    b"\xd4\xc3\xb2\xa1": "le",
    b"\x4d\x3c\xb2\xa1": "le",
    b"\xa1\xb2\xc3\xd4": "be",
    b"\xa1\xb2\x3c\x4d": "be",
}


def pcap_fields(data: bytes) -> list[Field]:
    """Record lengths (caplen, origlen) of a pcap file and the lengths inside its Ethernet frames."""
    order = _PCAP_ORDERS.get(data[:4])
    if order is None or len(data) < 24:
        return []
    ethernet = int.from_bytes(data[20:24], "little" if order == "le" else "big") == 1
    fields: list[Field] = []
    offset = 24
    while offset + 16 <= len(data):
        caplen = int.from_bytes(data[offset + 8 : offset + 12], "little" if order == "le" else "big")
        end = min(offset + 16 + caplen, len(data))
        fields += [Field(offset + 8, 4, order, offset + 16, end), Field(offset + 12, 4, order, offset + 16, end)]
        if ethernet:
            fields += frame_fields(data, offset + 16, end)
        offset = offset + 16 + caplen
    return fields


def frame_fields(data: bytes, start: int, end: int) -> list[Field]:
    """IPv4 total length, IPv6 payload length, UDP length, and TCP sequence, offset and flags."""
    if end - start < 14:
        return []
    ethertype = int.from_bytes(data[start + 12 : start + 14], "big")
    ip = start + 14
    fields: list[Field] = []
    if ethertype == 0x0800 and end - ip >= 20:
        total = int.from_bytes(data[ip + 2 : ip + 4], "big")
        fields.append(Field(ip + 2, 2, "be", ip, min(ip + total, end)))
        protocol, payload = data[ip + 9], ip + (data[ip] & 0x0F) * 4
    elif ethertype == 0x86DD and end - ip >= 40:
        length = int.from_bytes(data[ip + 4 : ip + 6], "big")
        fields.append(Field(ip + 4, 2, "be", ip + 40, min(ip + 40 + length, end)))
        protocol, payload = data[ip + 6], ip + 40
    else:
        return fields
    if protocol == 17 and end - payload >= 8:
        length = int.from_bytes(data[payload + 4 : payload + 6], "big")
        fields.append(Field(payload + 4, 2, "be", payload, min(payload + length, end)))
    elif protocol == 6 and end - payload >= 20:  # sequence number, data offset and flags
        fields += [Field(payload + 4, 4, "be"), Field(payload + 12, 1, "be"), Field(payload + 13, 1, "be")]
    return fields


def _pad4(n: int) -> int:
    return n + (-n % 4)


def pcapng_fields(data: bytes) -> list[Field]:
    """Block lengths (both copies), packet and secrets lengths, and option lengths of a pcapng file."""
    fields: list[Field] = []
    order, offset = "le", 0
    interfaces: list[int] = []
    while offset + 12 <= len(data):
        if data[offset : offset + 4] == b"\x0a\x0d\x0d\x0a" and offset + 12 <= len(data):
            order = "le" if data[offset + 8 : offset + 12] == b"\x4d\x3c\x2b\x1a" else "be"
            interfaces = []
        endian: Literal["little", "big"] = "little" if order == "le" else "big"
        kind = int.from_bytes(data[offset : offset + 4], endian)
        total = int.from_bytes(data[offset + 4 : offset + 8], endian)
        end = min(offset + total, len(data))
        fields.append(Field(offset + 4, 4, order, offset, end))
        if total >= 12 and offset + total <= len(data):
            fields.append(Field(offset + total - 4, 4, order, offset, end))
        body_end = max(end - 4, offset + 8)
        options = None
        if kind == 0x0A0D0D0A:
            options = offset + 24
        elif kind == 1:
            interfaces.append(int.from_bytes(data[offset + 8 : offset + 10], endian))
            options = offset + 16
        elif kind == 6 and offset + 28 <= body_end:
            caplen = int.from_bytes(data[offset + 20 : offset + 24], endian)
            packet_end = min(offset + 28 + caplen, body_end)
            fields += [Field(offset + 20, 4, order, offset + 28, packet_end)]
            fields += [Field(offset + 24, 4, order, offset + 28, packet_end)]
            interface = int.from_bytes(data[offset + 8 : offset + 12], endian)
            if interface < len(interfaces) and interfaces[interface] == 1:
                fields += frame_fields(data, offset + 28, packet_end)
            options = offset + 28 + _pad4(caplen)
        elif kind == 10 and offset + 16 <= body_end:
            length = int.from_bytes(data[offset + 12 : offset + 16], endian)
            fields.append(Field(offset + 12, 4, order, offset + 16, min(offset + 16 + length, body_end)))
            options = offset + 16 + _pad4(length)
        if options is not None:
            fields += _option_fields(data, options, body_end, order)
        if total < 12:
            break
        offset += total
    return fields


def _option_fields(data: bytes, offset: int, end: int, order: str) -> list[Field]:
    fields = []
    endian: Literal["little", "big"] = "little" if order == "le" else "big"
    while offset + 4 <= end:
        code = int.from_bytes(data[offset : offset + 2], endian)
        length = int.from_bytes(data[offset + 2 : offset + 4], endian)
        if code == 0:
            break
        fields.append(Field(offset + 2, 2, order, offset + 4, min(offset + 4 + length, end)))
        offset += 4 + _pad4(length)
    return fields


# --- TLS and HTTP ---------------------------------------------------------------------------------


def tls_fields(data: bytes) -> list[Field]:
    """TLS record types and lengths, and in cleartext handshake records the message, session id, cipher
    suite, extension, server name and ALPN lengths (RFC 8446 sections 4 and 5)."""
    fields: list[Field] = []
    offset = 0
    while offset + 5 <= len(data):
        length = int.from_bytes(data[offset + 3 : offset + 5], "big")
        end = min(offset + 5 + length, len(data))
        fields += [Field(offset, 1, "be"), Field(offset + 3, 2, "be", offset + 5, end)]
        if data[offset] == 22:
            fields += _handshake_fields(data, offset + 5, end)
        offset += 5 + length
    return fields


def _handshake_fields(data: bytes, offset: int, end: int) -> list[Field]:
    fields = []
    while offset + 4 <= end:
        kind, length = data[offset], int.from_bytes(data[offset + 1 : offset + 4], "big")
        body, body_end = offset + 4, min(offset + 4 + length, end)
        fields += [Field(offset, 1, "be"), Field(offset + 1, 3, "be", body, body_end)]
        if kind in (1, 2):
            fields += _hello_fields(data, body, body_end, client=kind == 1)
        offset = body + length
    return fields


def _vector(fields: list[Field], data: bytes, offset: int, size: int, end: int) -> int:
    """Note the length of the vector at ``offset`` (``size``-byte length); returns where it ends."""
    if offset + size > end:
        return end
    length = int.from_bytes(data[offset : offset + size], "big")
    fields.append(Field(offset, size, "be", offset + size, min(offset + size + length, end)))
    return offset + size + length


def _hello_fields(data: bytes, offset: int, end: int, *, client: bool) -> list[Field]:
    fields: list[Field] = []
    offset = _vector(fields, data, offset + 34, 1, end)  # version, random; session id
    if client:
        offset = _vector(fields, data, offset, 2, end)  # cipher suites
        offset = _vector(fields, data, offset, 1, end)  # compression methods
    else:
        offset += 3
    extensions_end = _vector(fields, data, offset, 2, end)
    offset += 2
    while offset + 4 <= min(extensions_end, end):
        kind = int.from_bytes(data[offset : offset + 2], "big")
        after = _vector(fields, data, offset + 2, 2, end)
        inner_end = min(after, end)
        if kind in (0, 16) and offset + 6 <= inner_end:  # server_name, ALPN: a list of names
            list_end = min(_vector(fields, data, offset + 4, 2, inner_end), inner_end)
            item = offset + 6
            while item < list_end:
                item = _vector(fields, data, item + 1 if kind == 0 else item, 2 if kind == 0 else 1, list_end)
        offset = after
    return fields


H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def h2_fields(data: bytes) -> list[Field]:
    """HTTP/2 frame lengths, types, flags, stream ids, pad lengths, settings and window values,
    and the HPACK integers and string lengths of header blocks (RFC 9113 sections 4 and 6, RFC 7541)."""
    fields: list[Field] = []
    offset = len(H2_PREFACE) if data.startswith(H2_PREFACE) else 0
    while offset + 9 <= len(data):
        length, kind, flags = int.from_bytes(data[offset : offset + 3], "big"), data[offset + 3], data[offset + 4]
        body, end = offset + 9, min(offset + 9 + length, len(data))
        fields += [Field(offset, 3, "be", body, end), Field(offset + 3, 1, "be"), Field(offset + 4, 1, "be")]
        fields.append(Field(offset + 5, 4, "be"))  # stream id
        block = body
        if kind in (0, 1, 5) and flags & 0x08 and block < end:
            fields.append(Field(block, 1, "be"))
            block += 1
        if kind == 1 and flags & 0x20:
            block += 5
        if kind == 5:
            fields.append(Field(block, 4, "be"))
            block += 4
        if kind in (1, 5, 9):
            fields += hpack_fields(data, block, end)
        elif kind == 4:
            fields += [Field(at + 2, 4, "be") for at in range(body, end - 5, 6)]
        elif kind in (3, 7, 8) and end - body >= 4:
            fields.append(Field(body + (4 if kind == 7 else 0), 4, "be"))
        offset = body + length
    return fields


def hpack_fields(data: bytes, offset: int, end: int) -> list[Field]:
    """Indices, table size updates and string lengths of an HPACK header block."""
    fields: list[Field] = []
    while offset < end:
        first = data[offset]
        prefix = 7 if first & 0x80 else 6 if first & 0x40 else 5 if first & 0x20 else 4
        index, used = _hpack_integer(data, offset, prefix)
        fields.append(Field(offset, used, "hpack", prefix=prefix))
        offset += used
        if prefix in (7, 5):
            continue
        for _ in range(1 if index else 2):  # a literal: the name (when not indexed), then the value
            if offset >= end:
                return fields
            length, used = _hpack_integer(data, offset, 7)
            fields.append(Field(offset, used, "hpack", offset + used, min(offset + used + length, end), 7))
            offset += used + length
    return fields


_HEADER_END = re.compile(rb"\r?\n\r?\n")
_CONTENT_LENGTH = re.compile(rb"^content-length:[ \t]*(\d+)", re.I | re.M)
_CHUNKED = re.compile(rb"^transfer-encoding:[^\r\n]*chunked", re.I | re.M)
_STATUS = re.compile(rb"^HTTP/\d\.\d (\d+)")
_CHUNK_SIZE = re.compile(rb"([0-9a-fA-F]+)[^\r\n]*\r?\n")


def http1_fields(data: bytes) -> list[Field]:
    """Content-Length values and chunk sizes (with the bytes they count) and status codes of the
    HTTP/1.x messages in one direction of a connection (RFC 9112 sections 6 and 7)."""
    fields: list[Field] = []
    offset = 0
    while offset < len(data):
        head_end = _HEADER_END.search(data, offset)
        if head_end is None:
            break
        head, body = data[offset : head_end.start()], head_end.end()
        status = _STATUS.match(head)
        if status:
            fields.append(Field(offset + status.start(1), len(status.group(1)), "dec"))
        length = _CONTENT_LENGTH.search(head)
        if _CHUNKED.search(head):
            offset = _chunk_fields(data, body, fields)
        elif length:
            size = int(length.group(1))
            fields.append(
                Field(offset + length.start(1), len(length.group(1)), "dec", body, min(body + size, len(data)))
            )
            offset = body + size
        elif status:
            break  # a response without a length runs to the end of the connection
        else:
            offset = body
    return fields


def _chunk_fields(data: bytes, offset: int, fields: list[Field]) -> int:
    while offset < len(data):
        line = _CHUNK_SIZE.match(data, offset)
        if line is None:
            return len(data)
        size = int(line.group(1), 16)
        fields.append(Field(offset, len(line.group(1)), "hex", line.end(), min(line.end() + size, len(data))))
        offset = line.end() + size
        if size == 0:
            trailer = _HEADER_END.search(data, offset - 2)
            return trailer.end() if trailer else len(data)
        offset += 2
    return offset

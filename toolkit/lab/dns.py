"""DNS messages in wire format (RFC 1035): the phone's A/AAAA queries and the resolver's answers.

>>> query = dns_query(0x1234, "sa.api.intl.miui.com", "A")
>>> query[:2].hex(), len(query)
('1234', 38)
>>> answer = dns_answer(query, ["203.0.113.80"], ttl=300)
>>> answer[2:4].hex(), answer[6:8].hex()  # QR, RD, RA set; one answer
('8180', '0001')
"""

from __future__ import annotations

import ipaddress
import struct
from typing import Literal

__all__ = ["QTYPES", "QueryType", "dns_answer", "dns_query", "encode_name"]

QueryType = Literal["A", "AAAA"]
QTYPES: dict[str, int] = {"A": 1, "AAAA": 28}
_CLASS_IN = 1
_POINTER_TO_QUESTION = 0xC00C  # the question's name starts right after the 12-byte header


def encode_name(name: str) -> bytes:
    """A domain name as length-prefixed labels ending in the root label.

    >>> encode_name("a.example")
    b'\\x01a\\x07example\\x00'
    """
    labels = [label.encode("idna") for label in name.rstrip(".").split(".")]
    if any(not 0 < len(label) < 64 for label in labels):
        raise ValueError(f"bad DNS name {name!r}")
    return b"".join(bytes([len(label)]) + label for label in labels) + b"\0"


def dns_query(ident: int, name: str, qtype: QueryType) -> bytes:
    """A recursive query (RD set) for one name and type."""
    header = struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0)
    return header + encode_name(name) + struct.pack("!HH", QTYPES[qtype], _CLASS_IN)


def dns_answer(query: bytes, addresses: list[str], *, ttl: int) -> bytes:
    """The resolver's answer to ``query``: the question echoed, one record per address."""
    ident, _flags, _qd, _an, _ns, _ar = struct.unpack("!HHHHHH", query[:12])
    question = query[12:]
    qtype = struct.unpack("!H", question[-4:-2])[0]
    records = b""
    for address in addresses:
        packed = ipaddress.ip_address(address).packed
        rtype = QTYPES["A"] if len(packed) == 4 else QTYPES["AAAA"]
        if rtype != qtype:
            raise ValueError(f"address {address} does not answer a query of type {qtype}")
        records += struct.pack("!HHHIH", _POINTER_TO_QUESTION, rtype, _CLASS_IN, ttl, len(packed)) + packed
    header = struct.pack("!HHHHHH", ident, 0x8180, 1, len(addresses), 0, 0)
    return header + question + records

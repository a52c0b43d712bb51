"""DNS wire format (RFC 1035), as used by DNS, mDNS (RFC 6762) and LLMNR (RFC 4795).

:func:`parse_dns` reads one message: its questions and the answer records the toolkit uses
(A, AAAA, CNAME, PTR, NS and the target names of SVCB/HTTPS records). Name compression is
followed only backwards and at most 128 times, so a pointer loop is an error, not a hang. A
message whose answers are damaged after good questions is returned with ``damage`` set.

>>> query = bytes.fromhex("1234 0100 0001 0000 0000 0000") + b"\\x07example\\x03com\\x00" + bytes.fromhex("0001 0001")
>>> message = parse_dns(query)
>>> message.questions, message.response
([('example.com', 'A')], False)
>>> answer = bytes.fromhex("c00c 0005 0001 00000e10 0006") + b"\\x03www\\xc0\\x0c"
>>> reply = bytes.fromhex("1234 8180 0001 0001 0000 0000") + query[12:] + answer
>>> message = parse_dns(reply)
>>> message.rcode, message.answers
('NOERROR', [('example.com', 'CNAME', 'www.example.com')])
>>> loop = bytes.fromhex("0000 0100 0001 0000 0000 0000") + bytes.fromhex("c00c")
>>> parse_dns(loop)
Traceback (most recent call last):
...
toolkit.io.dns.DnsError: name at offset 12: compression pointer 12 does not point backwards
"""

from __future__ import annotations

import socket
from typing import NamedTuple

__all__ = ["QTYPES", "RCODES", "DnsError", "DnsMessage", "cname_chain", "parse_dns", "read_name"]

QTYPES: dict[int, str] = {
    1: "A",
    2: "NS",
    5: "CNAME",
    6: "SOA",
    12: "PTR",
    13: "HINFO",
    15: "MX",
    16: "TXT",
    28: "AAAA",
    33: "SRV",
    35: "NAPTR",
    39: "DNAME",
    41: "OPT",
    43: "DS",
    46: "RRSIG",
    47: "NSEC",
    48: "DNSKEY",
    50: "NSEC3",
    64: "SVCB",
    65: "HTTPS",
    99: "SPF",
    252: "AXFR",
    255: "ANY",
    257: "CAA",
}
RCODES: dict[int, str] = {
    0: "NOERROR",
    1: "FORMERR",
    2: "SERVFAIL",
    3: "NXDOMAIN",
    4: "NOTIMP",
    5: "REFUSED",
    6: "YXDOMAIN",
    7: "YXRRSET",
    8: "NXRRSET",
    9: "NOTAUTH",
    10: "NOTZONE",
}
_NAME_TYPES = {2, 5, 12, 39}  # record data is one domain name
_MAX_RECORDS = 512


class DnsError(ValueError):
    """A DNS message that breaks the wire format."""


class DnsMessage(NamedTuple):
    """The parts of a DNS message the toolkit keeps."""

    id: int
    response: bool
    rcode: str | None
    """Response code name for responses, None for queries."""
    questions: list[tuple[str, str]]
    """(name, type) per question."""
    answers: list[tuple[str, str, str]]
    """(owner name, type, value) per answer record of a kept type."""
    damage: str | None
    """Why the answer section could not be read to the end, if it could not."""


def qtype_name(value: int) -> str:
    """Mnemonic of a record type (``TYPE1234`` for unknown ones)."""
    return QTYPES.get(value) or f"TYPE{value}"


def read_name(data: bytes, offset: int) -> tuple[str, int]:
    """The domain name at ``offset`` (lower case, no trailing dot) and the offset after it.

    Raises:
        DnsError: a label runs past the message, a pointer loops, the name is too long.
    """
    labels: list[bytes] = []
    start = offset
    end_offset = -1
    length = 0
    hops = 0
    while True:
        if offset >= len(data):
            raise DnsError(f"name at offset {start}: runs past the end of the message")
        size = data[offset]
        if size == 0:
            offset += 1
            break
        if size & 0xC0 == 0xC0:
            if offset + 1 >= len(data):
                raise DnsError(f"name at offset {start}: compression pointer cut short")
            target = ((size & 0x3F) << 8) | data[offset + 1]
            if target >= offset:
                raise DnsError(f"name at offset {start}: compression pointer {target} does not point backwards")
            hops += 1
            if hops > 128:
                raise DnsError(f"name at offset {start}: too many compression pointers")
            if end_offset < 0:
                end_offset = offset + 2
            offset = target
            continue
        if size & 0xC0:
            raise DnsError(f"name at offset {start}: unknown label type {size >> 6}")
        label = data[offset + 1 : offset + 1 + size]
        if len(label) < size:
            raise DnsError(f"name at offset {start}: label runs past the end of the message")
        length += size + 1
        if length > 255:
            raise DnsError(f"name at offset {start}: longer than 255 bytes")
        labels.append(label)
        offset += 1 + size
    return _name_text(labels), (end_offset if end_offset >= 0 else offset)


def _name_text(labels: list[bytes]) -> str:
    """The labels as lower-case text joined by dots: one decode for an ASCII name (the usual case),
    else label by label (``str.lower`` of a whole name could differ at a Greek final sigma)."""
    raw = b".".join(labels)
    if raw.isascii():
        return raw.decode("ascii").lower()
    return ".".join(label.decode("utf-8", "backslashreplace").lower() for label in labels)


def parse_dns(data: bytes) -> DnsMessage:
    """Read a DNS message. A message equal to one read before but for its ID (the same query
    again, its same answer) is not read twice: the earlier result is copied with this ID.

    Raises:
        DnsError: the header or a question cannot be read.
    """
    if len(data) > _MAX_CACHED_SIZE:
        return _parse_dns(data)
    key = bytes(data[2:])
    known = _PARSED.get(key)
    if known is None:
        known = _parse_dns(data)  # a DnsError is raised each time, not remembered
        if len(_PARSED) >= _MAX_CACHED:
            _PARSED.clear()
        _PARSED[key] = known
    ident = (data[0] << 8) | data[1]
    return known._replace(id=ident, questions=list(known.questions), answers=list(known.answers))


_MAX_CACHED = 4096
_MAX_CACHED_SIZE = 512
_PARSED: dict[bytes, DnsMessage] = {}
"""Messages read, by their bytes after the ID (bounded: emptied when full)."""


def _parse_dns(data: bytes) -> DnsMessage:
    if len(data) < 12:
        raise DnsError(f"message of {len(data)} bytes is shorter than a DNS header")
    ident = (data[0] << 8) | data[1]
    flags = (data[2] << 8) | data[3]
    qdcount = (data[4] << 8) | data[5]
    ancount = (data[6] << 8) | data[7]
    response = bool(flags & 0x8000)
    opcode = (flags >> 11) & 0xF
    if opcode not in (0, 1, 2, 4, 5, 6):
        raise DnsError(f"unknown opcode {opcode}")
    if qdcount > _MAX_RECORDS:
        raise DnsError(f"{qdcount} questions is not a real message")
    rcode = RCODES.get(flags & 0xF, f"RCODE{flags & 0xF}") if response else None
    offset = 12
    questions: list[tuple[str, str]] = []
    answers: list[tuple[str, str, str]] = []
    damage = None
    try:
        for _ in range(qdcount):
            name, offset = read_name(data, offset)
            if offset + 4 > len(data):
                raise DnsError(f"question {name!r} cut short")
            questions.append((name, qtype_name((data[offset] << 8) | data[offset + 1])))
            offset += 4
    except DnsError as exc:
        if not questions:
            raise
        return DnsMessage(ident, response, rcode, questions, answers, f"question {len(questions) + 1}: {exc}")
    try:
        for _ in range(min(ancount, _MAX_RECORDS)):
            owner, offset = read_name(data, offset)
            if offset + 10 > len(data):
                raise DnsError(f"answer for {owner!r} cut short")
            rtype = (data[offset] << 8) | data[offset + 1]
            rdlength = (data[offset + 8] << 8) | data[offset + 9]
            rdata_start = offset + 10
            offset = rdata_start + rdlength
            if offset > len(data):
                raise DnsError(f"answer for {owner!r} claims {rdlength} bytes of data past the end")
            value = _rdata(data, rtype, rdata_start, rdlength, owner)
            if value is not None:
                answers.append((owner, qtype_name(rtype), value))
    except DnsError as exc:
        damage = str(exc)
    return DnsMessage(ident, response, rcode, questions, answers, damage)


def _rdata(data: bytes, rtype: int, start: int, length: int, owner: str) -> str | None:
    if rtype == 1 and length == 4:
        return socket.inet_ntop(socket.AF_INET, data[start : start + 4])
    if rtype == 28 and length == 16:
        return socket.inet_ntop(socket.AF_INET6, data[start : start + 16])
    if rtype in _NAME_TYPES:
        return read_name(data, start)[0]
    if rtype in (64, 65) and length >= 3:  # SVCB/HTTPS: priority, then the target name
        target = read_name(data, start + 2)[0]
        return target or owner  # "." means the owner name itself (RFC 9460 section 2.5)
    return None


def cname_chain(qname: str, answers: list[tuple[str, str, str]]) -> list[str]:
    """The names from ``qname`` along CNAME records, ``[]`` if there is no CNAME.

    >>> cname_chain("a.com", [("a.com", "CNAME", "b.net"), ("b.net", "CNAME", "c.org"), ("c.org", "A", "1.2.3.4")])
    ['a.com', 'b.net', 'c.org']
    """
    targets = {owner: value for owner, rtype, value in answers if rtype == "CNAME"}
    chain = [qname]
    while chain[-1] in targets and len(chain) < 32:
        following = targets[chain[-1]]
        if following in chain:
            break
        chain.append(following)
    return chain if len(chain) > 1 else []

"""Mutations of one input: generic byte edits, length-field edits, and token edits of text formats.

:func:`mutate` applies one to four edits chosen by ``rng`` (a seeded :class:`random.Random`, so a
run is repeatable). Binary formats get their length fields from :mod:`toolkit.fuzz.fields`: a length
is either broken (0, one off, the type's maximum, a negative or huge number in text) or kept true
while the bytes it counts grow or shrink, so the reader goes past it. JSON, TOML and key logs are
edited token by token: a number, a string, a value replaced by an absurd one or by one of another
type, nested deeper, repeated.

>>> import random
>>> data = b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok"
>>> out = {mutate(data, "http1", random.Random(n)) for n in range(20)}
>>> len(out) > 10
True
>>> tokens(b'{"a": [1, "x"]}', "json")[:3]
[('object', 0, 15), ('string', 1, 4), ('array', 6, 14)]
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from toolkit.fuzz.fields import (
    Field,
    h2_fields,
    http1_fields,
    pcap_fields,
    pcapng_fields,
    read_value,
    tls_fields,
    write_value,
)

__all__ = ["FORMATS", "MAX_INPUT", "mutate", "resize", "tokens"]

#: Inputs never grow past this size (a mutation that would is skipped).
MAX_INPUT = 2_000_000

WALKERS: dict[str, Callable[[bytes], list[Field]]] = {
    "pcap": pcap_fields,
    "pcapng": pcapng_fields,
    "tls": tls_fields,
    "h2": h2_fields,
    "http1": http1_fields,
}
TEXT_FORMATS = ("json", "toml", "keylog")
#: Formats :func:`mutate` knows; any other name gets generic byte edits only.
FORMATS = (*WALKERS, *TEXT_FORMATS)

_INTERESTING = (
    0,
    1,
    2,
    3,
    4,
    7,
    8,
    15,
    16,
    31,
    32,
    63,
    64,
    127,
    128,
    255,
    256,
    1023,
    1024,
    4095,
    4096,
    16384,
    0x7FFF,
    0x8000,
    0xFFFF,
    0x10000,
    0xFFFFFF,
    0x7FFFFFFF,
    0x80000000,
    0xFFFFFFFF,
)
_TEXT_LENGTHS = (-1, -5, 10**12, 10**20, 2**31, 2**63, 2**64)


# --- generic byte edits ---------------------------------------------------------------------------


def _flip(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def _interesting_byte(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> bytes:
    at = rng.randrange(len(data))
    size = rng.choice((1, 2, 4))
    value = rng.choice(_INTERESTING) % (1 << (8 * size))
    raw = value.to_bytes(size, rng.choice(("big", "little")))
    return data[:at] + raw + data[at + size :]


def _insert(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> bytes:
    at = rng.randrange(len(data) + 1)
    piece = rng.choice(
        (
            bytes(rng.randrange(256) for _ in range(rng.randint(1, 32))),
            b"\x00",
            b"\xff" * 4,
            b"\r\n",
            b"\r\n\r\n",
            b"\\",
            b'"',
            b"%",
            b"\xed\xa0\x80",
        )
    )
    return data[:at] + piece + data[at:]


def _delete(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> bytes:
    at = rng.randrange(len(data))
    return data[:at] + data[at + rng.randint(1, max(1, min(len(data) - at, rng.choice((1, 4, 64, 4096))))) :]


def _splice(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> bytes:
    donor = rng.choice(donors) if donors else data
    if not donor:
        return data
    start = rng.randrange(len(donor))
    piece = donor[start : start + rng.randint(1, 512)]
    at = rng.randrange(len(data) + 1)
    if rng.random() < 0.5:
        return data[:at] + piece + data[at:]
    return data[:at] + piece + data[at + len(piece) :]


def _repeat(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> bytes:
    at = rng.randrange(len(data))
    piece = data[at : at + rng.randint(1, 256)]
    times = rng.choice((2, 3, 16, 100, 1000, 10000))
    return data[:at] + piece * times + data[at:]


def _truncate(data: bytes, rng: random.Random, donors: Sequence[bytes]) -> bytes:
    return data[: rng.randrange(len(data))]


_GENERIC = (_flip, _interesting_byte, _insert, _delete, _splice, _repeat, _truncate)


# --- length fields --------------------------------------------------------------------------------


def _aligned(size: int, align: int, rng: random.Random) -> int:
    """``size`` rounded down to a multiple of ``align`` most of the time (pcapng pads to 4 bytes)."""
    return size - size % align if rng.random() < 0.8 else size


def _absurd(field: Field, value: int, rng: random.Random) -> int:
    if field.encoding in ("dec", "hex") and rng.random() < 0.4:
        return rng.choice(_TEXT_LENGTHS)
    choices = [0, 1, value - 1, value + 1, value * 2, value + rng.randint(2, 64), rng.choice(_INTERESTING)]
    if field.encoding in ("be", "le"):
        choices.append((1 << (8 * field.size)) - 1)
    if field.size == 1:  # a type or flags byte: any small value
        choices += [rng.randrange(32), value ^ (1 << rng.randrange(8))]
    return rng.choice(choices)


def resize(data: bytes, fields: Sequence[Field], at: int, remove: int, insert: bytes) -> bytes:
    """Replace ``data[at:at + remove]`` by ``insert`` and correct every length field counting it.

    >>> from toolkit.fuzz.fields import tls_fields
    >>> record = b"\\x17\\x03\\x03\\x00\\x02hi"
    >>> resize(record, tls_fields(record), 6, 0, b"ey")
    b'\\x17\\x03\\x03\\x00\\x04heyi'
    """
    delta = len(insert) - remove
    out = data[:at] + insert + data[at + remove :]
    counting = [
        f
        for f in fields
        if f.is_length
        and f.start <= at
        and at + remove <= f.end
        and (f.offset + f.size <= at or f.offset >= at + remove)
    ]
    for field in sorted(counting, key=lambda f: f.offset, reverse=True):
        moved = replace(field, offset=field.offset + (delta if field.offset >= at + remove else 0))
        out = write_value(out, moved, read_value(data, field) + delta)
    return out


def _field_edit(data: bytes, fields: list[Field], rng: random.Random, donors: Sequence[bytes], align: int) -> bytes:
    lengths = [f for f in fields if f.is_length]
    if lengths and rng.random() < 0.5:  # keep the lengths true, change what they count
        field = rng.choice(lengths)
        at = rng.randint(field.start, field.end)
        choice = rng.randrange(4)
        if choice == 0 and field.end > at:
            return resize(data, fields, at, _aligned(rng.randint(1, field.end - at), align, rng), b"")
        if choice == 1:
            content = data[field.start : field.end] or b"\x00"
            piece = content * rng.choice((1, 2, 8))
        elif choice == 2 and donors:
            donor = rng.choice(donors)
            start = rng.randrange(len(donor) or 1)
            piece = donor[start : start + rng.randint(1, 2048)]
        else:
            piece = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        return resize(data, fields, at, 0, piece[: _aligned(len(piece), align, rng)] or piece)
    field = rng.choice(fields)
    return write_value(data, field, _absurd(field, read_value(data, field), rng))


# --- tokens of text formats -----------------------------------------------------------------------

_JSON_NUMBER = re.compile(rb"-?\d+(\.\d+)?([eE][-+]?\d+)?")
_JSON_LITERAL = re.compile(rb"true|false|null")


def _json_tokens(data: bytes) -> list[tuple[str, int, int]]:
    found: list[tuple[str, int, int]] = []
    opened: list[tuple[str, int, int]] = []  # kind, start, index in found
    i, n = 0, len(data)
    while i < n:
        c = data[i : i + 1]
        if c == b'"':
            j = i + 1
            while j < n and data[j : j + 1] != b'"':
                j += 2 if data[j : j + 1] == b"\\" else 1
            found.append(("string", i, min(j + 1, n)))
            i = j + 1
            continue
        if c in (b"[", b"{"):
            opened.append(("array" if c == b"[" else "object", i, len(found)))
            found.append(("", i, i))
        elif c in (b"]", b"}") and opened:
            kind, start, index = opened.pop()
            found[index] = (kind, start, i + 1)
        elif c in b"-0123456789" and c:
            match = _JSON_NUMBER.match(data, i)
            if match:
                found.append(("number", i, match.end()))
                i = match.end()
                continue
        elif c in (b"t", b"f", b"n"):
            match = _JSON_LITERAL.match(data, i)
            if match:
                found.append(("literal", i, match.end()))
                i = match.end()
                continue
        i += 1
    return [token for token in found if token[0]]


_TOML_VALUE = re.compile(rb"^[ \t]*([A-Za-z0-9_.\"'-]+)[ \t]*=[ \t]*(.*?)[ \t]*(#[^\n]*)?$", re.M)
_TOML_INLINE = re.compile(rb"([A-Za-z0-9_]+)[ \t]*=[ \t]*(\"[^\"\n]*\"|\[[^\]\n]*\]|[-\w.]+)")


def _toml_tokens(data: bytes) -> list[tuple[str, int, int]]:
    found = []
    for match in _TOML_VALUE.finditer(data):
        found.append(("key", match.start(1), match.end(1)))
        found.append(("value", match.start(2), match.end(2)))
        for inner in _TOML_INLINE.finditer(data, match.start(2), match.end(2)):
            found.append(("key", inner.start(1), inner.end(1)))
            found.append(("value", inner.start(2), inner.end(2)))
    return found


def _keylog_tokens(data: bytes) -> list[tuple[str, int, int]]:
    found = []
    for line in re.finditer(rb"[^\n]+", data):
        for number, word in enumerate(re.finditer(rb"[^ \t\r\n]+", line.group())):
            kind = "label" if number == 0 else "hex"
            found.append((kind, line.start() + word.start(), line.start() + word.end()))
        found.append(("line", line.start(), line.end()))
    return found


def tokens(data: bytes, fmt: str) -> list[tuple[str, int, int]]:
    """(kind, start, end) of the tokens of a JSON, TOML or key log text that edits target."""
    return {"json": _json_tokens, "toml": _toml_tokens, "keylog": _keylog_tokens}[fmt](data)


def _deep(open_: bytes, inner: bytes, close: bytes, depth: int) -> bytes:
    return open_ * depth + inner + close * depth


_REPLACEMENTS: dict[str, tuple[bytes, ...]] = {
    "number": (
        b"0",
        b"-1",
        b"1e999",
        b"-1e999",
        b"1.5e308",
        b"18446744073709551616",
        b"100000000000000000000",
        b"0.000001",
        b"-0",
        b"2147483648",
        b"4294967296",
        b"1" * 400,
        b"9" * 5000,
        b"3.0",
        b"1E+2",
    ),
    "string": (
        b'""',
        b'"\\u0000"',
        b'"\\ud800"',
        b'"\\udfff\\ud800x"',
        b'"' + b"A" * 70000 + b'"',
        b'"%00%ff"',
        b'"data:text/plain;base64,aGk="',
        b'"gzip"',
        b'"deflate"',
        b'"br"',
        b'"zstd"',
        b'"base64"',
        b'"https://[::1"',
        b'"https://x.example:99999/"',
        b'"http://"',
        b'"\\t\\r\\n"',
        b'"\\"\\\\"',
        b'"\xc3\xa9\xe2\x80\xae"',
        b'"\xff\xfe"',
        b'"chunked"',
        b'"application/json"',
        b'"a=1&b=%zz"',
    ),
    "any": (
        b"null",
        b"true",
        b"[]",
        b"{}",
        b"0",
        b'""',
        b'{"a": 1}',
        b"[null]",
        _deep(b"[", b"", b"]", 60),
        _deep(b'{"a":', b"1", b"}", 60),
    ),
    "key": (
        b"name",
        b"path",
        b"captures",
        b"keylog",
        b"visited",
        b"tables",
        b"mode",
        b"x",
        b"",
        b'"a.b"',
        b"session",
        b"check",
        b"params",
        b"vendors",
    ),
    "value": (
        b"5",
        b"-1",
        b"inf",
        b"nan",
        b"true",
        b"[]",
        b'["x"]',
        b"[5]",
        b"{}",
        b"{ path = 5 }",
        b'""',
        b'"."',
        b'".."',
        b'"missing.pcap"',
        b'"' + b"a" * 5000 + b'"',
        _deep(b"[", b"", b"]", 100),
        _deep(b"[", b"", b"]", 2000),
        b"1979-05-27T07:32:00Z",
        b'"\\u0000"',
        b'"capture.pcap"',
        b'"capture.har"',
        b'"capture.keylog"',
        b'{ path = "capture.har", tables = ["x"] }',
        b"1e3",
        b'["requests", "requests"]',
        b'"incognito"',
        b'"normal"',
        b"0x10",
    ),
    "label": (
        b"CLIENT_RANDOM",
        b"CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        b"SERVER_HANDSHAKE_TRAFFIC_SECRET",
        b"CLIENT_TRAFFIC_SECRET_0",
        b"SERVER_TRAFFIC_SECRET_0",
        b"EXPORTER_SECRET",
        b"RSA",
        b"#",
        b"",
        b"CLIENT_EARLY_TRAFFIC_SECRET",
        b"client_random",
    ),
    "hex": (b"", b"0", b"zz", b"00" * 31, b"00" * 33, b"ab" * 48, b"f" * 10000, b"0x00", b"\xff\xfe"),
    "line": (b"", b"#", b"\x00", b"\xef\xbb\xbf", b"x" * 100000),
}


def _token_edit(data: bytes, found: list[tuple[str, int, int]], rng: random.Random) -> bytes:
    kind, start, end = rng.choice(found)
    choice = rng.randrange(6)
    if choice == 0:  # another token of the same kind
        same = [t for t in found if t[0] == kind]
        _, s, e = rng.choice(same)
        piece = data[s:e]
    elif choice == 1 and kind in ("array", "object", "value"):  # nested deeper
        depth = rng.choice((2, 10, 100, 1000))
        piece = _deep(b"[", data[start:end], b"]", depth)
    elif choice == 2:  # repeated, as list items or lines
        separator = b"\n" if kind == "line" else b", " if kind in ("string", "number", "object", "array") else b" "
        piece = separator.join([data[start:end]] * rng.choice((2, 3, 50, 1000)))
    elif choice == 3 and kind in ("string", "number", "object", "array", "literal"):
        piece = rng.choice(_REPLACEMENTS["any"])
    else:
        piece = rng.choice(_REPLACEMENTS.get(kind, _REPLACEMENTS["any"]))
    return data[:start] + piece + data[end:]


# --- one mutation ---------------------------------------------------------------------------------


def mutate(data: bytes, fmt: str, rng: random.Random, donors: Sequence[bytes] = ()) -> bytes:
    """``data`` after one to four edits of format ``fmt`` (one of :data:`FORMATS`, or any name)."""
    walker = WALKERS.get(fmt)
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 4))):
        if not data:
            data = rng.choice(donors) if donors else b"\x00"
        roll = rng.random()
        if walker is not None and roll < 0.6:
            fields = walker(data)
            edited = (
                _field_edit(data, fields, rng, donors, 4 if fmt == "pcapng" else 1)
                if fields
                else _flip(data, rng, donors)
            )
        elif fmt in TEXT_FORMATS and roll < 0.6:
            found = tokens(data, fmt)
            edited = _token_edit(data, found, rng) if found else _insert(data, rng, donors)
        else:
            edited = rng.choice(_GENERIC)(data, rng, donors)
        if len(edited) <= MAX_INPUT:
            data = edited
    return data

"""Unwrap one request into located texts: every place a value can hide, decoded layer by layer.

Why one module: every decoder hands its output back to one recursive walker with shared limits and
budgets; split by format, each part would call back into that walker.

A :class:`Located` text says where it is (``location``: ``query:q``, ``header:referer``,
``cookie:uid``, ``url_path``, ``body``) and how it was reached from there (``chain``: structural
steps such as ``form:data_list``, ``json:[0].properties.url``, ``pb:1.2``, ``segment:3`` and
decoding steps such as ``urldecode``, ``base64``, ``gzip``). Structured texts (JSON, forms, XML,
URL paths) are yielded whole, and their leaves are produced on demand by ``parts()`` so that a
hit can be located precisely without walking every document that has none.

>>> import base64, gzip, json
>>> packed = gzip.compress(json.dumps([{"url": "https://a.example/x"}]).encode(), mtime=0)  # fixed bytes
>>> body = b"data_list=" + base64.b64encode(packed)
>>> texts = list(unwrap_request(url="https://t.example/sa", headers=[], body=body,
...                             content_type="application/x-www-form-urlencoded"))
>>> [" > ".join(t.chain) for t in texts if t.data.startswith(b"[")]
['form:data_list > base64 > gzip']
>>> [" > ".join(p.chain) for t in texts if t.parts for p in t.parts() if b"a.example" in p.data]
['form:data_list > base64 > gzip > json:[0].url']

A leaf that is a verbatim slice of a structured text yielded before it (a form field, a path
segment, an unescaped JSON string) is marked ``covered``: its hits are the ones its parent already
places at the same location and chain, so the leak search skips it (its decodings are not covered).

Depth (decoding layers) and the bytes decoded per request are bounded; a decompression bomb is
reported through ``on_problem`` and its branch is dropped.

No work twice: a base64 token that decodes into one text holding nothing more (a random id, a run
of a URL's path) is remembered with that text for the same limits across requests, and met again
(the device id of every event) gives that text without being decoded again.
"""

from __future__ import annotations

import binascii
import contextlib
import functools
import html
import json
import re
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

import brotli

from toolkit.compression import DecompressionBomb
from toolkit.leaks import steps
from toolkit.leaks import transforms as tf
from toolkit.leaks.needles import MIN_NEEDLE_LENGTH

__all__ = ["Limits", "Located", "json_path", "unwrap_request", "unwrap_response"]


@dataclass(frozen=True)
class Limits:
    """Bounds on the work done for one request."""

    max_layers: int = 5
    """Decoding layers (urldecode, base64, gzip ...) below a location; structure is free."""
    max_decoded_bytes: int = 64 * 1024 * 1024
    """Bytes produced by decoding, per request; beyond it a branch is dropped with a problem."""
    max_texts: int = 20_000
    """Located texts per request."""
    max_tokens: int = 64
    """Embedded base64/hex tokens tried per text."""
    shortest_text: int = MIN_NEEDLE_LENGTH
    """Texts (and decodings) shorter than this are not kept: for the leak search, the shortest needle
    pattern (or 8, below which no headerless stream is tried), since shorter texts hold no hit and
    decode into nothing longer; a reader of every value (the data types) sets 1."""


@dataclass(slots=True, weakref_slot=True)
class Located:
    """One text (or binary blob) found in a request."""

    location: str
    chain: tuple[str, ...]
    data: bytes
    parts: Callable[[], Iterator[Located]] | None = field(default=None, repr=False)
    """Leaves of a structured text (JSON values, form fields, path segments), on demand."""
    search_parts: bool = False
    """The leaves differ from the raw text (escapes): search them even if the raw text has no hit."""
    where: Callable[[int], tuple[str, ...]] | None = field(default=None, repr=False)
    """For a JSON text: the chain down to the value holding a byte offset of ``data``."""
    resolve: Callable[[str], str] = field(default=str, repr=False)
    """Turns a step of ``chain`` into its final text (JSON paths are worked out only when asked)."""
    covered: bool = False
    """A verbatim slice of a structured text yielded before it, whose leaves (or JSON offsets)
    place every hit of this text at this same location and chain: searching it adds nothing."""

    def chain_text(self) -> str:
        """The chain as text: ``form:data_list > base64 > gzip > json:[0].url``."""
        return " > ".join(self.resolve(step) for step in self.chain)


class _BudgetExceeded(Exception):
    pass


_BINARY = re.compile(rb"[\x00-\x08\x0e-\x1f\x7f]")
_PERCENT = re.compile(rb"%[0-9A-Fa-f]{2}")
_HTML_ENTITY = re.compile(rb"&(?:#[0-9]{2,7}|#[xX][0-9a-fA-F]{2,6}|[a-zA-Z]{2,8});")
_JSON_ESCAPE = re.compile(rb"\\(?:u[0-9a-fA-F]{4}|[/\"\\bfnrt])")
# Padding closes a base64 text: a "=" with more after it (``data=eyJ...``) makes a form field, not base64.
_B64_WHOLE = re.compile(rb"[A-Za-z0-9+/_\- ]{4,}={0,2}|[A-Za-z0-9+/\r\n]{8,}={0,2}")
_B64_TOKEN = re.compile(rb"[A-Za-z0-9+/_-]{16,}(?:\r?\n[A-Za-z0-9+/_-]+)*={0,2}")
_B32_TOKEN = re.compile(rb"(?<![A-Za-z0-9])[A-Z2-7]{16,}=*(?![A-Za-z0-9])")
_HEX_WHOLE = re.compile(rb"(?:[0-9a-fA-F]{2}){4,}")
_HEX_TOKEN = re.compile(rb"(?<![0-9a-zA-Z])(?:[0-9a-fA-F]{2}){8,}(?![0-9a-zA-Z])")
_B32_WHOLE = re.compile(rb"[A-Z2-7]{16,}=*")
#: Hex digits, with or without dashes: an id or a digest (``9774d56d682e549c``, ``3f2a-...``), not
#: base64 (nor lz-string's base64 form), whose 64 symbols an encoded needle's bits spread over: base64 of
#: text holds letters outside a-f (its first symbol of four is one of A-Z or a-e for ASCII). The token
#: search has always skipped such tokens; whole values skip them too (bench/README.md, issue 20).
_HEXISH = re.compile(rb"[0-9a-fA-F-]{4,}")
_B58_WHOLE = re.compile(rb"[1-9A-HJ-NP-Za-km-z]{16,256}")
#: Sizes of raw digests (MD5 ... SHA-512): the binary base58 decodings worth keeping.
_DIGEST_SIZES = frozenset({16, 20, 28, 32, 48, 64})
_LZ_URI = re.compile(rb"[A-Za-z0-9+\-$]{4,}")
_FORM = re.compile(rb"[^=&\s]{1,256}=[^&\s]*(?:&[^=&\s]{1,256}=[^&\s]*)*")
#: The name of a lone ``name=value`` text read as a form without a form content type.
_FIELD_NAME = re.compile(rb"[A-Za-z_$][A-Za-z0-9_.$\-\[\]]{0,63}")
#: A lone field whose value is raw JSON (``data={"a": 1}``, spaces unescaped, as some SDKs post it).
_JSON_FIELD = re.compile(rb"([^=&\s]{1,256})=(\{.*\}|\[.*\])", re.DOTALL)
_LEAF_CANDIDATE = re.compile(
    rb"^[A-Za-z0-9+/_$=-]{8,}$|[A-Za-z0-9+/_$-]{16,}|%[0-9A-Fa-f]{2}|&#|&amp;|\\|^\s*[{\[<]|^--|[\xe0-\xef]"
)
_LZ_VALUES = {c: i for i, c in enumerate(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}
_LZ_VALUES[ord("-")] = 62
_UUID = re.compile(rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_JSON_ENDS = {(b"{", b"}"), (b"[", b"]")}
_LZ_URI_ONLY = re.compile(rb"[-$ ]")
_ANY_ESCAPE = re.compile(rb"%[0-9A-Fa-f]{2}|&|\\")
_GZIP_MAGIC = b"\x1f\x8b\x08"
#: The "=" that complete a base64 text of each length modulo 4 (1: not base64, rejected by the decoder).
_PADDING = (b"", b"===", b"==", b"=")
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def _is_binary(data: bytes) -> bool:
    if _BINARY.search(data, 0, 4096):
        return True
    if data.isascii():
        return False
    try:
        data[:4096].decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < min(len(data), 4096) - 4
    return False


_DIGIT = re.compile(rb"[0-9]")


def _mixed_token(token: bytes) -> bool:
    """Base64 of real data mixes cases and digits; long words and identifiers rarely do."""
    # bytes.lower()/upper() change only ASCII letters: a token differs from its lower case when it
    # holds an upper-case letter, and the other way round.
    return (token.lower() != token) + (token.upper() != token) + (_DIGIT.search(token) is not None) >= 2


_SHORT_TOKEN = re.compile(rb"[A-Za-z0-9+/_$=-]{8,15}")


def _short_token(text: bytes) -> bool:
    """A short whole value worth decoding: base64-like with mixed character classes, or not a token."""
    return not _SHORT_TOKEN.fullmatch(text) or _mixed_token(text.rstrip(b"="))


def json_path(path: str, key: str | int) -> str:
    """The leak engine's JSON path notation: ``events[0].device.model``, ``a["b c"]``.

    >>> json_path(json_path("events", 0), "device"), json_path("a", "b c")
    ('events[0].device', 'a["b c"]')
    """
    if isinstance(key, int):
        return f"{path}[{key}]"
    if re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$\-]*", key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def _json_leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        here, item = stack.pop()
        if isinstance(item, dict):
            for key, child in reversed(list(item.items())):
                stack.append((json_path(here, str(key)), child))
                if len(key) >= 8:
                    yield json_path(here, str(key)) + "{key}", key
        elif isinstance(item, list):
            stack.extend((json_path(here, i), child) for i, child in reversed(list(enumerate(item))))
        else:
            yield here, item


_JSON_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[{}\[\],:]')
_SKIPPER = json.JSONDecoder(strict=False)
# String literals worth decoding, found in the raw document without parsing it (group 1): a run of
# base64/hex characters, or text holding a percent-escape, an HTML entity, a JSON escape or nested
# JSON. Every other literal is matched whole (group 1 missing), so that the scan stays between the
# quotes of a literal: a long number between two literals (``"p": 0.7726218108121796}, {"sku"``) is
# not taken for a literal's text. Loops are unrolled (``[^"\\]*(?:\\.[^"\\]*)*``): twice as fast.
_JSON_CANDIDATE = re.compile(
    rb'"([A-Za-z0-9+/_$=-]{8,}|\s*[{\[<][^"\\]*(?:\\.[^"\\]*)*'
    rb'|[^"\\%&A-Za-z0-9+/_$-]*(?:(?:[A-Za-z0-9+/_$-]{1,15}(?![A-Za-z0-9+/_$-])|%(?![0-9A-Fa-f]{2})|&(?!#|amp;))'
    rb'[^"\\%&A-Za-z0-9+/_$-]*)*(?:%[0-9A-Fa-f]{2}|&#|&amp;|\\.|[A-Za-z0-9+/_$-]{16,})[^"\\]*(?:\\.[^"\\]*)*)"'
    rb'|"[^"\\]*(?:\\.[^"\\]*)*"'
)


class JsonCursor:
    """Walks a JSON document's tokens forward, keeping the path of the current position.

    Hits come in document order, so one cursor per document answers them all in one pass. A
    container that closes before the asked offset is stepped over by the C JSON parser instead of
    token by token (it leaves the path as it was).

    >>> doc = b'{"a": [1, {"b": "x"}, "yy"], "c": {"d e": "z"}}'
    >>> cursor = JsonCursor(doc)
    >>> [cursor.path_at(doc.index(v)) for v in (b'"x"', b'"yy"', b'"z"')]
    ['a[1].b', 'a[2]', 'c["d e"]']
    """

    def __init__(self, document: bytes) -> None:
        self.document = document
        self.position = 0
        self.stack: list[list[Any]] = []
        self.last = b""
        self._text: str | None = None
        self._too_deep = False
        self.shortened_depth = 0
        """Depth of the deepest path given shortened (deeper than twice :data:`_PATH_DEPTH_SHOWN`), or 0."""
        self.reported = False
        """For the owner: whether the shortened paths were reported."""
        self._paths: dict[int, str] = {}  # path_at's answers, by offset
        """A container nested deeper than the C parser goes was met: stepping over containers would
        fail again for each one inside it, so the walk goes token by token (linear) from then on."""

    def _closing(self, start: int, before: int) -> int:
        """Where the container opening at ``start`` ends if it ends by ``before``, else -1.

        Only the text up to ``before`` is parsed: a container that holds ``before`` costs no more
        than the walk to it.
        """
        if self._text is None:
            self._text = self.document.decode("latin-1")  # one character per byte: same offsets
        try:
            return start + _SKIPPER.raw_decode(self._text[start:before])[1]
        except ValueError:
            return -1
        except RecursionError:
            self._too_deep = True
            return -1

    def path_at(self, offset: int) -> str:
        """The JSON path of the value that starts at ``offset``."""
        known = self._paths.get(offset)
        if known is not None:  # asked again (a lazy step resolved for each hit of its text)
            return known
        if offset < self.position:
            self.position, self.stack, self.last = 0, [], b""
        position = self.position
        stack = self.stack
        document = self.document
        search = _JSON_TOKEN.search
        begin = position
        last_closing: dict[int, int] = {}  # the last '}' and ']' between ``begin`` and ``offset``, when asked
        while True:
            match = search(document, position)
            if match is None:
                break
            end = match.end()
            if end > offset:  # the token holding ``offset`` (or one after it)
                break
            first = document[match.start()]
            if first == 0x22:  # '"': a key or a string value
                self.last = match.group()
            elif first == 0x2C:  # ','
                if stack and stack[-1][0] == "array":
                    stack[-1][1] += 1
            elif first == 0x3A:  # ':'
                if stack and stack[-1][0] == "object":
                    stack[-1][1] = self.last
            elif first == 0x7B or first == 0x5B:  # '{' or '['
                start = match.start()
                skip = start and offset - start > 64 and not self._too_deep  # not the document
                if skip:  # a container with no closing bracket before ``offset`` holds it: nothing to parse
                    if first not in last_closing:
                        last_closing[first] = document.rfind(b"}" if first == 0x7B else b"]", begin, offset)
                    skip = last_closing[first] > start
                closing = self._closing(start, offset) if skip else -1
                if 0 < closing <= offset:  # closed before ``offset``: its tokens leave the stack as it is
                    position = closing
                    continue
                stack.append(["object", None] if first == 0x7B else ["array", 0])
            elif stack:  # '}' or ']'
                stack.pop()
            position = end
        self.position = position
        steps = stack
        if len(steps) > 2 * _PATH_DEPTH_SHOWN:  # absurd nesting: the path's ends, the levels between counted
            hidden = len(steps) - 2 * _PATH_DEPTH_SHOWN
            self.shortened_depth = max(self.shortened_depth, len(steps))
            steps = [*steps[:_PATH_DEPTH_SHOWN], ["elided", hidden], *steps[-_PATH_DEPTH_SHOWN:]]
        # joined once: a path built by concatenation costs its depth squared
        path = "".join(
            f"[{key}]" if kind == "array" else f"[…{key} levels…]" if kind == "elided" else _member_step(key)
            for kind, key in steps
        )
        path = path[1:] if path.startswith(".") else path
        self._paths[offset] = path
        return path


def _member_step(token: bytes | None) -> str:
    """The step of a JSON path into the member named by the string token ``token``: ``.name`` or
    ``["a b"]`` (object keys repeat from document to document: short ones are worked out once).

    >>> _member_step(b'"name"'), _member_step(b'"a b"'), _member_step(None)
    ('.name', '["a b"]', '["?"]')
    """
    return _short_member_step(token) if token is None or len(token) <= 256 else json_path("_", _json_key(token))[1:]


@functools.lru_cache(maxsize=4096)
def _short_member_step(token: bytes | None) -> str:
    return json_path("_", _json_key(token))[1:]


_PATH_DEPTH_SHOWN = 64  # levels shown at each end of a JSON path nested deeper than twice this


def _json_key(token: bytes | None) -> str:
    if token is None:
        return "?"
    try:
        return str(json.loads(token))
    except ValueError:
        return token[1:-1].decode("utf-8", "replace")


def _leaf_bytes(value: Any) -> bytes | None:
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return repr(value).encode()
    return None


def _split_form(data: bytes) -> list[tuple[bytes, bytes]]:
    pairs = []
    for item in data.split(b"&"):
        if not item:
            continue
        name, _, value = item.partition(b"=")
        pairs.append((name, value))
    return pairs


def _form_pairs(data: bytes, declared: bool) -> list[tuple[bytes, bytes]] | None:
    """The fields of ``data`` read as a form (``declared``: under a form content type), or ``None``.

    Two fields or more make a form. So does a single field, unless the whole text is base64 (whose
    ``=`` only pads its end): under a form content type, or without one when its name looks like a
    field name. A lone field may hold raw JSON with its spaces unescaped.

    >>> _form_pairs(b"data=eyJhIjoxfQ==", False), _form_pairs(b"eyJhIjoxfQ==", True)
    ([(b'data', b'eyJhIjoxfQ==')], None)
    >>> _form_pairs(b'data={"a": 1}', False), _form_pairs(b"9a=1", False), _form_pairs(b"9a=1", True)
    ([(b'data', b'{"a": 1}')], None, [(b'9a', b'1')])
    """
    if _FORM.fullmatch(data):
        pairs = _split_form(data)
        if len(pairs) >= 2:
            return pairs
        if len(pairs) == 1 and not _B64_WHOLE.fullmatch(data):
            name, value = pairs[0]
            if declared or (_lone_field_name(name) and value[:1] not in (b"", b"=")):
                return pairs
        return None
    lone = _JSON_FIELD.fullmatch(data)
    if lone and (declared or _lone_field_name(lone.group(1))):
        return [(lone.group(1), lone.group(2))]
    return None


def _lone_field_name(name: bytes) -> bool:
    """A field name, not base64 cut before its one ``=`` of padding (``MDAwQDAwMC5vcmc=|end``).

    >>> _lone_field_name(b"data_list"), _lone_field_name(b"aGVsbG8gd29ybGQ"), _lone_field_name(b"9a")
    (True, False, False)
    """
    return _FIELD_NAME.fullmatch(name) is not None and not (len(name) % 4 == 3 and _mixed_token(name))


def _name(raw: bytes) -> str:
    return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8", "replace")


def _protobuf_fields(data: bytes) -> list[tuple[int, bytes]] | None:
    """Length-delimited fields of a protobuf message, or ``None`` if ``data`` is not one.

    >>> _protobuf_fields(b"\\x0a\\x03abc\\x10\\x96\\x01"), _protobuf_fields(b"\\x0a\\x05abc")
    ([(1, b'abc')], None)
    """
    out: list[tuple[int, bytes]] = []
    pos, end = 0, len(data)
    # Most varints are one byte: read inline, the rest by _varint (the hot path of random blobs).
    while pos < end:
        key = data[pos]
        if key < 0x80:
            pos += 1
        else:
            key, pos = _varint(data, pos, end)
            if pos < 0:
                return None
        number, wire = key >> 3, key & 7
        if number == 0:
            return None
        if wire == 0:
            _value, pos = _varint(data, pos, end)
            if pos < 0:
                return None
        elif wire == 2:
            if pos < end and data[pos] < 0x80:
                length = data[pos]
                pos += 1
            else:
                length, pos = _varint(data, pos, end)
                if pos < 0:
                    return None
            if pos + length > end:
                return None
            out.append((number, data[pos : pos + length]))
            pos += length
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            return None
    return out if pos == end else None


def _varint(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """The varint at ``pos`` and the position after it; position -1 if it runs past ``end`` or 64 bits."""
    result = shift = 0
    while pos < end and shift <= 63:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
    return 0, -1


def _multipart_parts(data: bytes, content_type: str | None) -> list[tuple[str, bytes, str | None]] | None:
    """The parts of a multipart body as (name, content, the part's own content type), or ``None``.

    >>> _multipart_parts(b'--b\\r\\nContent-Disposition: form-data; filename="f"; name="blob"\\r\\n'
    ...                  b'Content-Type: application/octet-stream\\r\\n\\r\\n\\x00\\x01\\r\\n--b--\\r\\n', None)
    [('blob', b'\\x00\\x01', 'application/octet-stream')]
    """
    boundary: bytes | None = None
    if content_type:
        declared = re.search(r'boundary="?([^";]+)"?', content_type, re.IGNORECASE)
        boundary = declared.group(1).encode() if declared else None
    if boundary is None:
        first_line = re.match(rb"\s*--([!-~]{1,200})\r?\n", data)
        if not first_line:
            return None
        boundary = first_line.group(1)
    out = []
    for index, chunk in enumerate(data.split(b"--" + boundary)[1:]):
        if chunk.startswith(b"--"):
            break
        head, sep, body = chunk.lstrip(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            head, sep, body = chunk.lstrip(b"\n").partition(b"\n\n")
        name = _PART_NAME.search(head)
        label = name.group(1).decode("utf-8", "replace") if name else str(index)
        declared_type = _PART_TYPE.search(head)
        part_type = declared_type.group(1).decode("latin-1").strip() if declared_type else None
        out.append((label, body[:-2] if body.endswith(b"\r\n") else body.rstrip(b"\n"), part_type))
    return out or None


_PART_NAME = re.compile(rb'(?<![\w-])name="([^"]*)"', re.IGNORECASE)
_PART_TYPE = re.compile(rb"^content-type:[ \t]*([^\r\n]+)", re.IGNORECASE | re.MULTILINE)
_MULTIPART_START = re.compile(rb"\s*--")


_XML_TEXT = re.compile(rb"<([A-Za-z_][\w.:-]*)[^>]*>([^<]+)<")
_XML_ATTR = re.compile(rb"<([A-Za-z_][\w.:-]*)\s[^>]*?\b([\w.:-]+)\s*=\s*\"([^\"]*)\"")


def _xml_unescape(text: bytes) -> bytes:
    if b"&" not in text:
        return text
    return html.unescape(text.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")


def _xml_leaves(data: bytes) -> list[tuple[str, bytes]]:
    out = []
    for match in _XML_TEXT.finditer(data):
        text = match.group(2).strip()
        if text:
            out.append((f"xml:{match.group(1).decode('utf-8', 'replace')}", _xml_unescape(text)))
    for match in _XML_ATTR.finditer(data):
        tag, attr = (g.decode("utf-8", "replace") for g in match.group(1, 2))
        out.append((f"xml:{tag}@{attr}", _xml_unescape(match.group(3))))
    return out


_DECOMPRESSORS: dict[str, Callable[[bytes, int], bytes]] = {
    steps.GZIP.name: tf.gunzip,
    steps.ZLIB.name: tf.unzlib,
    steps.DEFLATE.name: tf.inflate_raw,
    steps.BROTLI.name: tf.unbrotli,
    steps.ZSTD.name: tf.unzstd,
}


_NOISE_TOKENS: dict[Limits, dict[tuple[bytes, int], bytes]] = {}
""":attr:`_Unwrapper.noise` by limits, kept across requests (a search of many requests meets the same ids)."""
_NOISE_KEPT = 32_768
"""Tokens kept in each set at most (it starts again when full): a few megabytes."""


class _Unwrapper:
    def __init__(self, limits: Limits, on_problem: Callable[[str], None], keep_covered: bool = True) -> None:
        self.limits = limits
        self.shortest = max(1, limits.shortest_text)
        self.on_problem = on_problem
        self.keep_covered = keep_covered
        """Whether covered texts are kept (a reader of every value wants them; the leak search skips them)."""
        self.decoded = 0
        self.texts = 0
        self.truncated = False
        self.lazy: list[tuple[JsonCursor, int]] = []
        self.noise = _NOISE_TOKENS.setdefault(limits, {}) if len(_NOISE_TOKENS) < 8 else {}
        """Base64 tokens (with their layer) that decode into one text holding nothing more, and that
        text, for these limits: met again (a device id in every event, a URL's path in every event),
        they are not decoded again."""
        self.out: list[Located] = []
        """The texts found so far, in walk order."""

    def resolve(self, step: str) -> str:
        """Work out a lazy step (``json:@3``) into its JSON path."""
        if not step.startswith("json:@"):
            return step
        cursor, offset = self.lazy[int(step[6:])]
        return "json:" + cursor.path_at(offset)

    # --- accounting ---------------------------------------------------------------------------

    def _spend(self, size: int) -> None:
        self.decoded += size
        if self.decoded > self.limits.max_decoded_bytes:
            raise _BudgetExceeded

    def _remaining(self) -> int:
        return max(self.limits.max_decoded_bytes - self.decoded, 0)

    # --- the walk ----------------------------------------------------------------------------

    def text(
        self,
        data: bytes,
        location: str,
        chain: tuple[str, ...],
        layers: int,
        hint: str | None = None,
        covered: bool = False,
        binary: bool | None = None,
    ) -> None:
        """Add ``data`` and what it holds; ``binary``: :func:`_is_binary` of it, if known."""
        if self.texts >= self.limits.max_texts:
            if not self.truncated:
                self.truncated = True
                self.on_problem(f"more than {self.limits.max_texts} texts in one request; rest skipped")
            return
        self.texts += 1
        if len(data) < self.shortest:  # holds no needle, and decodes into nothing that could (see _child)
            return
        if hint is None or "multipart" not in hint.lower():
            if data.isalnum() and len(data) >= 4:
                # ASCII letters and digits: not binary, no structure, no escape (what _any_text would find)
                self._token(data, location, chain, layers, covered)
                return
            if b"-" in data and _HEXISH.fullmatch(data):
                # hex digits and dashes (a UUID, a dashed id): nothing to decode, as _decodings finds
                if covered is False or self.keep_covered:
                    self.out.append(Located(location, chain, data, resolve=self.resolve, covered=covered))
                return
        self._any_text(data, location, chain, layers, hint, covered, binary)

    def _any_text(
        self,
        data: bytes,
        location: str,
        chain: tuple[str, ...],
        layers: int,
        hint: str | None,
        covered: bool,
        binary: bool | None,
    ) -> None:
        """The rest of :meth:`text` for a counted text that is not a token of letters and digits."""
        maybe_multipart = (hint is not None and "multipart" in hint.lower()) or data[:2] == b"--" or data[:1].isspace()
        if maybe_multipart and self._multipart(data, location, chain, layers, hint):
            return
        if _is_binary(data) if binary is None else binary:
            if covered is False or self.keep_covered:
                self.out.append(Located(location, chain, data, resolve=self.resolve, covered=covered))
            self._binary(data, location, chain, layers)
            return
        stripped = data.strip()
        parsed = self._structure(stripped, hint)
        if parsed is not None:
            kind, leaves = parsed
            escaped = kind in ("json", "xml") and (b"\\" in stripped or b"&" in stripped)
            where = self._json_where(data, stripped, chain) if kind == "json" else None
            self.out.append(
                Located(location, chain, data, self._parts(location, chain, leaves), escaped, where, self.resolve)
            )
            if kind == "json":
                self._json_candidates(stripped, location, chain, layers, not escaped)
                return
            for label, leaf in leaves():
                if label.endswith("{key}") or not leaf or not _LEAF_CANDIDATE.search(leaf):
                    continue
                if len(leaf) < 16 and not _short_token(leaf):
                    continue
                self.text(leaf, location, self._join(chain, label), layers, covered=not escaped)
            return
        if covered is False or self.keep_covered:
            self.out.append(Located(location, chain, data, resolve=self.resolve, covered=covered))
        if layers >= self.limits.max_layers:
            return
        plus = (bool(chain) and chain[-1].startswith("form:")) or (location.startswith("query:") and not chain)
        self._decodings(stripped, location, chain, layers, plus)

    def _multipart(self, data: bytes, location: str, chain: tuple[str, ...], layers: int, hint: str | None) -> bool:
        """Add a multipart body and walk its parts, text or binary (a raw deflate part), each under
        its own content type; ``False`` if ``data`` is not multipart."""
        declared = hint if hint and "multipart" in hint.lower() else None
        if declared is None and not _MULTIPART_START.match(data):
            return False
        parts = _multipart_parts(data, declared)
        if not parts:
            return False
        leaves = [(f"multipart:{name}", content) for name, content, _type in parts]
        self.out.append(
            Located(location, chain, data, self._parts(location, chain, lambda: leaves), resolve=self.resolve)
        )
        for (label, content), (_name, _content, part_type) in zip(leaves, parts, strict=True):
            binary = _is_binary(content)
            if not binary and not (_LEAF_CANDIDATE.search(content) and (len(content) >= 16 or _short_token(content))):
                continue
            self.text(content, location, (*chain, label), layers, hint=part_type, covered=True, binary=binary)
        return True

    def _json_where(self, data: bytes, stripped: bytes, chain: tuple[str, ...]) -> Callable[[int], tuple[str, ...]]:
        lead = len(data) - len(data.lstrip())
        cursor = JsonCursor(stripped)
        on_problem = self.on_problem

        def where(offset: int) -> tuple[str, ...]:
            path = cursor.path_at(max(offset - lead, 0))
            if cursor.shortened_depth and not cursor.reported:
                cursor.reported = True
                on_problem(f"JSON nested {cursor.shortened_depth} levels deep; paths into it are shortened")
            return (*chain, "json:" + path)

        return where

    def _json_candidates(
        self, document: bytes, location: str, chain: tuple[str, ...], layers: int, placed: bool
    ) -> None:
        """String literals worth decoding; ``placed``: the document's offsets place their hits."""
        cursor: JsonCursor | None = None
        for match in _JSON_CANDIDATE.finditer(document):
            content = match.group(1)
            if content is None:  # a literal not worth decoding
                continue
            if len(content) < 16 and not _short_token(content):
                continue
            verbatim = b"\\" not in content
            if not verbatim:
                with contextlib.suppress(ValueError):
                    content = json.loads(b'"' + content + b'"').encode("utf-8", "surrogatepass")
            cursor = cursor or JsonCursor(document)
            self.lazy.append((cursor, match.start()))
            step = f"json:@{len(self.lazy) - 1}"
            if content.isalnum():  # most are: ids, SKUs, base64 without "+" or "/"
                self._alphanumeric(content, location, (*chain, step), layers, placed and verbatim)
            else:
                self.text(content, location, (*chain, step), layers, covered=placed and verbatim)

    def _alphanumeric(self, data: bytes, location: str, chain: tuple[str, ...], layers: int, covered: bool) -> None:
        """:meth:`text` of an ASCII letters-and-digits token below a JSON string, without the tests that
        such a token fails: not binary, no structure, no escape, no UUID, no form "+", base64-like."""
        if self.texts >= self.limits.max_texts or len(data) < 4 or len(data) < self.shortest:
            self.text(data, location, chain, layers, covered=covered)  # the general way (and its report)
            return
        self.texts += 1
        self._token(data, location, chain, layers, covered)

    def _token(self, data: bytes, location: str, chain: tuple[str, ...], layers: int, covered: bool) -> None:
        """The rest of :meth:`text` for a counted token of at least 4 ASCII letters and digits: what
        :meth:`_decodings` does with it (whole hex, whole base64, whole base32 and base58; no token search)."""
        if covered is False or self.keep_covered:
            self.out.append(Located(location, chain, data, resolve=self.resolve, covered=covered))
        if layers >= self.limits.max_layers:
            return
        if _HEXISH.fullmatch(data):  # all hex digits: an id or a digest, not base64 (see _HEXISH)
            if _HEX_WHOLE.fullmatch(data):
                self._child(steps.HEX.name, bytes.fromhex(data.decode()), data, location, chain, layers)
        else:
            self._base64(data, location, chain, layers)
        self._base32_whole(data, location, chain, layers)
        if not chain or not chain[-1].startswith("json:"):
            self._base58_whole(data, location, chain, layers)

    @staticmethod
    def _join(chain: tuple[str, ...], label: str) -> tuple[str, ...]:
        if label.startswith("pb:") and chain and chain[-1].startswith("pb:"):
            return (*chain[:-1], f"{chain[-1]}.{label[3:]}")
        return (*chain, label)

    def _parts(
        self, location: str, chain: tuple[str, ...], leaves: Callable[[], list[tuple[str, bytes]]]
    ) -> Callable[[], Iterator[Located]]:
        def parts() -> Iterator[Located]:
            for label, leaf in leaves():
                yield Located(location, self._join(chain, label), leaf, resolve=self.resolve)

        return parts

    def _structure(self, data: bytes, hint: str | None) -> tuple[str, Callable[[], list[tuple[str, bytes]]]] | None:
        """Recognise JSON, forms, XML; return a kind and a leaf lister (multipart: :meth:`_multipart`)."""
        declared = hint or ""
        hint = declared.lower()
        first = data[:1]
        if (first, data[-1:]) in _JSON_ENDS:

            def json_leaves() -> list[tuple[str, bytes]]:
                try:
                    value = json.loads(data)
                except ValueError:
                    return []
                except RecursionError:  # the raw text is still searched, not the values inside it
                    self.on_problem("JSON nested deeper than the parser goes; its values were not unwrapped")
                    return []
                out = []
                for path, leaf in _json_leaves(value):
                    raw = _leaf_bytes(leaf)
                    if raw is not None:
                        out.append((f"json:{path}", raw))
                return out

            return "json", json_leaves
        if first == b"<" or "xml" in hint:
            leaves = _xml_leaves(data)
            if leaves:
                return "xml", lambda: leaves
        equals = data.find(b"=")
        form = "form-urlencoded" in hint
        # (a "=" followed only by "=": base64's padding, not a field)
        if equals >= 0 and (form or b"&" in data or data[equals + 1 : equals + 3].strip(b"=")):
            if b"&" in data and _HTML_ENTITY.search(data):
                return None
            pairs = _form_pairs(data, form)
            if pairs:
                return "form", lambda: [(f"form:{_name(n)}", v) for n, v in pairs]
        return None

    def _child(
        self,
        step: str,
        decoded: bytes,
        data: bytes,
        location: str,
        chain: tuple[str, ...],
        layers: int,
        binary: bool | None = None,
    ) -> None:
        if len(decoded) < self.shortest or decoded == data:
            return
        self._spend(len(decoded))
        self.text(decoded, location, (*chain, step), layers + 1, binary=binary)

    def _decodings(self, data: bytes, location: str, chain: tuple[str, ...], layers: int, plus: bool) -> None:
        if len(data) == 36 and _UUID.fullmatch(data):  # an identifier, not an encoding of one
            return
        if not data.isascii():
            self._lzstring_utf16(data, location, chain, layers)
        whole_token = False
        escaped = _ANY_ESCAPE.search(data) is not None  # one scan instead of three for most tokens
        if escaped and _PERCENT.search(data):
            decoded = unquote_to_bytes(data.replace(b"+", b" ") if plus else data)
            self._child(steps.URLDECODE.name, decoded, data, location, chain, layers)
        elif plus and b"+" in data and b" " not in data:  # a form's space, or base64's '+': try both
            self._child(steps.URLDECODE.name, data.replace(b"+", b" "), data, location, chain, layers)
        if escaped and _HTML_ENTITY.search(data):
            self._child(steps.HTML.name, tf.TRANSFORMS["html"].decode(data), data, location, chain, layers)  # type: ignore[misc]
        if escaped and _JSON_ESCAPE.search(data):
            self._child(steps.JSON_UNESCAPE.name, tf.json_unescape(data), data, location, chain, layers)
        if _HEX_WHOLE.fullmatch(data):
            whole_token = True
            self._child(steps.HEX.name, bytes.fromhex(data.decode()), data, location, chain, layers)
        if _B64_WHOLE.fullmatch(data):
            whole_token = b" " not in data
            if not _HEXISH.fullmatch(data):
                self._base64(data, location, chain, layers)
        elif _LZ_URI.fullmatch(data):
            whole_token = True
            self._lzstring(data, "lzstring_uri", location, chain, layers)
        self._base32_whole(data, location, chain, layers)
        if not chain or not chain[-1].startswith("json:"):
            self._base58_whole(data, location, chain, layers)
        if whole_token:
            return
        tried = 0
        for match in _HEX_TOKEN.finditer(data):
            if tried >= self.limits.max_tokens:
                break
            tried += 1
            token = match.group()
            self._child(steps.HEX.name, bytes.fromhex(token.decode()), data, location, chain, layers)
        for match in _B32_TOKEN.finditer(data):
            if tried >= self.limits.max_tokens:
                break
            tried += 1
            try:
                decoded = tf.TRANSFORMS["base32"].decode(match.group())  # type: ignore[misc]
            except ValueError:
                continue
            self._child(steps.BASE32.name, decoded, data, location, chain, layers)
        for match in _B64_TOKEN.finditer(data):
            if tried >= self.limits.max_tokens:
                break
            token = match.group()
            if _HEX_WHOLE.fullmatch(token) or not _mixed_token(token):
                continue
            tried += 1
            self._base64(token, location, chain, layers)

    def _base32_whole(self, data: bytes, location: str, chain: tuple[str, ...], layers: int) -> None:
        if _B32_WHOLE.fullmatch(data) and len(data.rstrip(b"=")) % 8 in (0, 2, 4, 5, 7):
            try:
                decoded = tf.TRANSFORMS["base32"].decode(data)  # type: ignore[misc]
            except ValueError:
                decoded = b""
            self._child(steps.BASE32.name, decoded, data, location, chain, layers)

    def _base58_whole(self, data: bytes, location: str, chain: tuple[str, ...], layers: int) -> None:
        """A whole base58 value (Bitcoin alphabet, not hex) that decodes into text or a raw digest.

        Not tried on JSON string values (:meth:`_alphanumeric`): base58 costs a big-number
        conversion, and ids in JSON are the bulk of the tokens there."""
        if not _B58_WHOLE.fullmatch(data) or _HEX_WHOLE.fullmatch(data) or not _mixed_token(data):
            return
        decoded = tf.base58_decode(data)
        binary = _is_binary(decoded)
        if binary and len(decoded) not in _DIGEST_SIZES:
            return
        self._child(steps.BASE58.name, decoded, data, location, chain, layers, binary)

    def _base64(self, data: bytes, location: str, chain: tuple[str, ...], layers: int) -> None:
        self._remembered(self._base64_walk, data, location, chain, layers)

    def _remembered(
        self,
        walk: Callable[[bytes, str, tuple[str, ...], int], None],
        data: bytes,
        location: str,
        chain: tuple[str, ...],
        layers: int,
    ) -> None:
        """``walk`` (a base64 decoding of ``data``), unless ``data`` is known to give one text and
        nothing more (:attr:`noise`): then that text, counted as then."""
        key = (data, layers)
        if key in self.noise and self._noise_again(key, location, chain):
            return
        before = (len(self.out), self.texts, self.decoded)
        walk(data, location, chain, layers)
        self._note_noise(key, chain, before)

    def _noise_again(self, key: tuple[bytes, int], location: str, chain: tuple[str, ...]) -> bool:
        """Give again the base64 text of a token met before that held nothing more (see :attr:`noise`),
        counted as then; ``False`` where the request has no room left for a text (the walk reports it)."""
        if self.texts >= self.limits.max_texts:
            return False
        decoded = self.noise[key]
        self._spend(len(decoded))
        self.texts += 1
        self.out.append(Located(location, (*chain, steps.BASE64.name), decoded, resolve=self.resolve))
        return True

    def _note_noise(self, key: tuple[bytes, int], chain: tuple[str, ...], before: tuple[int, int, int]) -> None:
        """Remember ``key`` if its walk since ``before`` (texts kept, counted, bytes decoded) gave one
        base64 text and nothing more."""
        out, texts, decoded = before
        if self.texts != texts + 1 or len(self.out) != out + 1 or self.truncated:
            return
        last = self.out[-1]
        if (
            last.chain == (*chain, steps.BASE64.name)
            and last.parts is None
            and self.decoded - decoded == len(last.data)
        ):
            if len(self.noise) >= _NOISE_KEPT:
                self.noise.clear()
            self.noise[key] = last.data

    def _base64_walk(self, data: bytes, location: str, chain: tuple[str, ...], layers: int) -> None:
        if data.isalnum():  # most tokens: nothing to strip or translate (what b64decode_loose does first)
            try:
                decoded = binascii.a2b_base64(data + _PADDING[len(data) % 4], strict_mode=True)
            except binascii.Error:
                decoded = b""
        else:
            try:
                decoded = tf.b64decode_loose(data)
            except ValueError:
                decoded = b""
        binary = bool(decoded) and _is_binary(decoded)
        if decoded:
            self._child(steps.BASE64.name, decoded, data, location, chain, layers, binary)
        if (not decoded or binary) and not decoded.startswith((_GZIP_MAGIC, _ZSTD_MAGIC)):
            self._lzstring(data, "lzstring_base64", location, chain, layers)
            # The URI alphabet differs from base64's only in "-" and "$" (and "+" sent as a space):
            # a token without them reads the same in both, and was decoded just above.
            if b"/" not in data and b"=" not in data and _LZ_URI_ONLY.search(data):
                self._lzstring(data, "lzstring_uri", location, chain, layers)

    def _lzstring(self, data: bytes, name: str, location: str, chain: tuple[str, ...], layers: int) -> None:
        if not 12 <= len(data) <= 256 * 1024:
            return
        # The stream opens with a 2-bit code 0 or 1 (a literal character), read from bit 5 then bit
        # 4 of the first character: bit 4 must be clear. Half of all random tokens stop here.
        first = _LZ_VALUES.get(data[0])
        if first is None or first & 0b010000:
            return
        try:
            decoded = tf.TRANSFORMS[name].decode(data)  # type: ignore[misc]
        except ValueError:
            return
        self._child(steps.LZSTRING.name, decoded, data, location, chain, layers)

    def _lzstring_utf16(self, data: bytes, location: str, chain: tuple[str, ...], layers: int) -> None:
        """lz-string's UTF-16 form: characters U+0020 to U+801F, mostly 3 bytes each in UTF-8."""
        if not 12 <= len(data) <= 256 * 1024:
            return
        try:
            text = data.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            return
        # The stream opens with a 2-bit code 0 or 1, read from bits 14 and 13 of the first unit.
        if len(text) < 4 or not 32 <= ord(text[0]) < 32 + 32768 or (ord(text[0]) - 32) & 0x2000:
            return
        try:
            decoded = tf.TRANSFORMS["lzstring_utf16"].decode(data)  # type: ignore[misc]
        except ValueError:
            return
        self._child(steps.LZSTRING.name, decoded, data, location, chain, layers)

    def _lzstring_uint8array(self, data: bytes, location: str, chain: tuple[str, ...], layers: int) -> bool:
        """lz-string's Uint8Array form (big-endian 16-bit units); whether it decoded."""
        if len(data) % 2 or not 8 <= len(data) <= 64 * 1024 or data[0] & 0x40:
            return False
        try:
            decoded = tf.TRANSFORMS["lzstring_uint8array"].decode(data)  # type: ignore[misc]
        except ValueError:
            return False
        self._child(steps.LZSTRING.name, decoded, data, location, chain, layers)
        return True

    def _decompress(self, name: str, data: bytes) -> bytes | None:
        try:
            return _DECOMPRESSORS[name](data, self._remaining())
        except DecompressionBomb:
            self.on_problem(
                f"{name} blob of {len(data)} bytes expands beyond the {self.limits.max_decoded_bytes}"
                " bytes allowed per request (decompression bomb?); branch skipped"
            )
            raise _BudgetExceeded from None
        except ValueError:
            return None

    def _binary(self, data: bytes, location: str, chain: tuple[str, ...], layers: int) -> None:
        if layers >= self.limits.max_layers:
            return
        first = data[0]
        container = None
        if data.startswith(_GZIP_MAGIC):
            container = steps.GZIP.name
        elif data.startswith(_ZSTD_MAGIC):
            container = steps.ZSTD.name
        elif first & 0x0F == 8 and len(data) >= 2 and (first * 256 + data[1]) % 31 == 0:
            container = steps.ZLIB.name
        if container is not None:
            decoded = self._decompress(container, data)
            if decoded is not None:
                self._child(container, decoded, data, location, chain, layers)
                return
        if len(data) < 8:  # too short to hold an encoded needle worth the attempts
            return
        # A field's value is two bytes (tag, length) shorter than the message at least: none is kept
        # (see text) where the message is shorter than the shortest text plus two.
        fields = (
            _protobuf_fields(data)
            if first & 7 in (0, 1, 2, 5) and first >= 8 and len(data) >= self.shortest + 2
            else None
        )
        if fields:
            for number, value in fields:
                self.text(value, location, self._join(chain, f"pb:{number}"), layers)
            return
        # Base64 of this form is the base64 form itself (the same bits), tried on the base64 text.
        if (not chain or chain[-1] != steps.BASE64.name) and self._lzstring_uint8array(data, location, chain, layers):
            return
        for magic, name, smallest in ((_GZIP_MAGIC, steps.GZIP.name, 18), (_ZSTD_MAGIC, steps.ZSTD.name, 9)):
            # (the smallest stream that holds anything: gzip's header and trailer, zstd's frame and block headers)
            start = data.find(magic, 1) if len(data) > smallest else -1
            if start > 0:
                decoded = self._decompress(name, data[start:])
                if decoded is not None:
                    self._child(name, decoded, data, location, chain, layers)
        if _may_be_deflate(data):
            decoded = self._headerless(steps.DEFLATE.name, data)
            if decoded is not None:
                self._child(steps.DEFLATE.name, decoded, data, location, chain, layers)
        decoded = self._headerless(steps.BROTLI.name, data)
        if decoded is not None:
            self._child(steps.BROTLI.name, decoded, data, location, chain, layers)

    def _headerless(self, name: str, data: bytes) -> bytes | None:
        """Raw deflate or brotli that fills ``data`` exactly, or ``None``: what :meth:`_decompress`
        does with :func:`toolkit.compression.inflate_raw` and ``unbrotli``, without turning every
        failure into a formatted error (most attempts fail: these formats have no header)."""
        limit = self.limits.max_decoded_bytes - self.decoded
        if limit < 0:
            limit = 0
        try:
            if name == steps.DEFLATE.name:
                inflater = _inflater(-15)
                decoded = inflater.decompress(data, limit + 1)
                complete = inflater.eof and not inflater.unused_data
            else:
                decompressor = _BrotliDecompressor()
                decoded = decompressor.process(data, output_buffer_limit=limit + 1)
                complete = decompressor.is_finished()
        except (zlib.error, brotli.error):
            return None
        if len(decoded) > limit:
            self._decompress(name, data)  # reports the bomb and gives up the request's branch
        return decoded if complete else None


_inflater = zlib.decompressobj
_BrotliDecompressor = brotli.Decompressor


def _may_be_deflate(data: bytes) -> bool:
    """Whether raw deflate could start with ``data``: the first block type is not the reserved 3, and
    a stored block's length is followed by its complement (RFC 1951, 3.2.3-4); zlib rejects the rest.

    >>> import zlib
    >>> _may_be_deflate(zlib.compress(b"x" * 100, wbits=-15)), _may_be_deflate(b"\x07abcdefgh")
    (True, False)
    """
    block_type = (data[0] >> 1) & 3
    if block_type == 3:
        return False
    if block_type == 0:
        return len(data) >= 5 and (data[1] | data[2] << 8) ^ (data[3] | data[4] << 8) == 0xFFFF
    return True


def _cookie_pairs(value: str) -> list[tuple[str, str]]:
    out = []
    for item in value.split(";"):
        name, sep, val = item.strip().partition("=")
        if sep:
            out.append((name.strip(), val.strip().strip('"')))
    return out


def unwrap_request(
    *,
    url: str | None,
    headers: Sequence[tuple[str, str]] | None,
    body: bytes | None,
    content_type: str | None = None,
    cookies: Sequence[tuple[str, str]] | None = None,
    limits: Limits = Limits(),
    on_problem: Callable[[str], None] | None = None,
    keep_covered: bool = True,
) -> Iterator[Located]:
    """Every located text of one request: URL path and segments, query names and values,
    fragment, headers (cookies one by one), and the body, each decoded recursively.

    ``keep_covered=False`` leaves out the covered texts (a search that skips them need not have them made)."""
    problems: list[str] = []
    walker = _Unwrapper(limits, on_problem or problems.append, keep_covered)
    try:
        _request_texts(walker, url, headers, body, content_type, cookies)
    except _BudgetExceeded:
        if walker.decoded > limits.max_decoded_bytes:
            walker.on_problem(f"decoding produced more than {limits.max_decoded_bytes} bytes; rest of request skipped")
    texts, walker.out = walker.out, []  # the texts refer to the walker, not the other way: no cycle
    return iter(texts)


def unwrap_response(
    headers: Sequence[tuple[str, str]] | None,
    *,
    limits: Limits = Limits(),
    on_problem: Callable[[str], None] | None = None,
) -> Iterator[Located]:
    """The located texts of the response headers that can carry a value back to the device: each
    ``Set-Cookie`` value (``set-cookie:NAME``) and the ``Location`` URL (``response_header:location``,
    its parts read as a request URL's: ``query:u > urldecode``, ``segment:2 > base64``).

    >>> texts = unwrap_response([("Location", "https://r.example/go?u=https%3A%2F%2Fa.example%2Fx"),
    ...                          ("Set-Cookie", "uid=c3f1b0de6a474b3e; Path=/"), ("Server", "x")])
    >>> sorted({(t.location, t.chain_text()) for t in texts if b"a.example/x" in t.data or b"c3f1" in t.data})
    [('response_header:location', 'query:u > urldecode'), ('set-cookie:uid', '')]
    """
    problems: list[str] = []
    walker = _Unwrapper(limits, on_problem or problems.append)
    try:
        for name, value in headers or ():
            lower = str(name).lower()
            if lower == "set-cookie":
                pairs = _cookie_pairs(str(value).split(";", 1)[0])
                if pairs:
                    cookie, cookie_value = pairs[0]
                    walker.text(cookie_value.encode("utf-8", "surrogateescape"), f"set-cookie:{cookie}", (), 0)
            elif lower == "location":
                url = str(value)
                whole = Located("response_header:location", (), url.encode("utf-8", "surrogateescape"))
                walker.out.append(whole)
                start = len(walker.out)
                _request_texts(walker, url, None, None, None, None)
                direct = [text for text in walker.out[start:] if not text.chain]  # verbatim slices of the URL
                for text in walker.out[start:]:
                    _move_to(text, "response_header:location")
                for text in direct:  # the whole URL places their hits: a full URL is found in it alone
                    text.covered = True
                whole.parts = lambda direct=direct: (
                    leaf for text in direct for leaf in (text.parts() if text.parts is not None else (text,))
                )
    except _BudgetExceeded:
        if walker.decoded > limits.max_decoded_bytes:
            walker.on_problem(f"decoding produced more than {limits.max_decoded_bytes} bytes; rest of response skipped")
    texts, walker.out = walker.out, []
    return iter(texts)


def _move_to(text: Located, location: str) -> None:
    """Place ``text`` (and its leaves) at ``location``, its old location becoming its chain's first step."""
    text.chain = (text.location, *text.chain)
    text.location = location
    leaves = text.parts
    if leaves is not None:

        def moved() -> Iterator[Located]:
            for leaf in leaves():
                _move_to(leaf, location)
                yield leaf

        text.parts = moved


def _request_texts(
    walker: _Unwrapper,
    url: str | None,
    headers: Sequence[tuple[str, str]] | None,
    body: bytes | None,
    content_type: str | None,
    cookies: Sequence[tuple[str, str]] | None,
) -> None:
    """Walk the parts of a request; the texts go to ``walker.out``."""
    if url:
        try:
            parts = urlsplit(url)
        except ValueError:
            parts = None
        if parts is not None:
            path = parts.path.encode("utf-8", "surrogateescape")
            if path not in (b"", b"/"):
                leaves = [(f"segment:{i}", s) for i, s in enumerate(path.split(b"/")) if s]
                parts_of = walker._parts("url_path", (), lambda: leaves)
                walker.out.append(Located("url_path", (), path, parts=parts_of, resolve=walker.resolve))
                for label, segment in leaves:
                    walker.text(segment, "url_path", (label,), 0, covered=True)
            for raw_name, raw_value in _split_form(parts.query.encode("utf-8", "surrogateescape")):
                walker.out.append(Located("query_name", (), raw_name, resolve=walker.resolve))
                walker.text(raw_value, f"query:{_name(raw_name)}", (), 0)
            if parts.fragment:
                walker.text(parts.fragment.encode("utf-8", "surrogateescape"), "fragment", (), 0)
    has_cookie_header = False
    for name, value in headers or ():
        lower = str(name).lower()
        if lower.startswith(":"):
            continue
        if lower == "cookie":
            has_cookie_header = True
            for cookie, cookie_value in _cookie_pairs(str(value)):
                walker.text(cookie_value.encode("utf-8", "surrogateescape"), f"cookie:{cookie}", (), 0)
            continue
        location = (
            f"set-cookie:{_cookie_pairs(str(value))[0][0]}"
            if lower == "set-cookie" and _cookie_pairs(str(value))
            else f"header:{lower}"
        )
        data = str(value).encode("utf-8", "surrogateescape")
        if lower == "set-cookie":
            data = data.split(b";", 1)[0].partition(b"=")[2]
        walker.text(data, location, (), 0)
    if not has_cookie_header:
        for cookie, cookie_value in cookies or ():
            walker.text(str(cookie_value).encode("utf-8", "surrogateescape"), f"cookie:{cookie}", (), 0)
    if body:
        walker.text(bytes(body), "body", (), 0, hint=content_type)

"""Unwrap one request into located texts: every place a value can hide, decoded layer by layer.

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
"""

from __future__ import annotations

import contextlib
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
from toolkit.leaks import transforms as tf
from toolkit.leaks.needles import MIN_NEEDLE_LENGTH

__all__ = ["Limits", "Located", "unwrap_request"]


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


#: Decoded bytes shorter than the shortest needle pattern hold no hit and decode into nothing
#: longer (compressed and lz-string streams are longer than this), so they are not kept.
_SHORTEST = MIN_NEEDLE_LENGTH


class _BudgetExceeded(Exception):
    pass



_BINARY = re.compile(rb"[\x00-\x08\x0e-\x1f\x7f]")
_PERCENT = re.compile(rb"%[0-9A-Fa-f]{2}")
_HTML_ENTITY = re.compile(rb"&(?:#[0-9]{2,7}|#[xX][0-9a-fA-F]{2,6}|[a-zA-Z]{2,8});")
_JSON_ESCAPE = re.compile(rb"\\(?:u[0-9a-fA-F]{4}|[/\"\\bfnrt])")
_B64_WHOLE = re.compile(rb"[A-Za-z0-9+/_\- ]{4,}={0,2}|[A-Za-z0-9+/=\r\n]{8,}")
_B64_TOKEN = re.compile(rb"[A-Za-z0-9+/_-]{16,}(?:\r?\n[A-Za-z0-9+/_-]+)*={0,2}")
_B32_TOKEN = re.compile(rb"(?<![A-Za-z0-9])[A-Z2-7]{16,}=*(?![A-Za-z0-9])")
_HEX_WHOLE = re.compile(rb"(?:[0-9a-fA-F]{2}){4,}")
_HEX_TOKEN = re.compile(rb"(?<![0-9a-zA-Z])(?:[0-9a-fA-F]{2}){8,}(?![0-9a-zA-Z])")
_B32_WHOLE = re.compile(rb"[A-Z2-7]{16,}=*")
_B58_WHOLE = re.compile(rb"[1-9A-HJ-NP-Za-km-z]{16,256}")
#: Sizes of raw digests (MD5 ... SHA-512): the binary base58 decodings worth keeping.
_DIGEST_SIZES = frozenset({16, 20, 28, 32, 48, 64})
_LZ_URI = re.compile(rb"[A-Za-z0-9+\-$]{4,}")
_FORM = re.compile(rb"[^=&\s]{1,256}=[^&\s]*(?:&[^=&\s]{1,256}=[^&\s]*)*")
_CANDIDATE = re.compile(rb"[A-Za-z0-9+/_$-]{16,}|%[0-9A-Fa-f]{2}|&#|&amp;|\\|\"[{\[<]")
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


def _json_path(path: str, key: str | int) -> str:
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
                stack.append((_json_path(here, str(key)), child))
                if len(key) >= 8:
                    yield _json_path(here, str(key)) + "{key}", key
        elif isinstance(item, list):
            stack.extend((_json_path(here, i), child) for i, child in reversed(list(enumerate(item))))
        else:
            yield here, item


_JSON_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[{}\[\],:]')
_SKIPPER = json.JSONDecoder(strict=False)
# String literals worth decoding, found in the raw document without parsing it: a run of base64/hex
# characters, or text holding a percent-escape, an HTML entity, a JSON escape or nested JSON.
_JSON_CANDIDATE = re.compile(
    rb'"([A-Za-z0-9+/_$=-]{8,}|\s*[{\[<](?:[^"\\]|\\.)*'
    rb'|(?:[^"\\]|\\.)*?(?:%[0-9A-Fa-f]{2}|&#|&amp;|\\.|[A-Za-z0-9+/_$-]{16,})(?:[^"\\]|\\.)*)"'
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

    def _closing(self, start: int, before: int) -> int:
        """Where the container opening at ``start`` ends if it ends by ``before``, else -1.

        Only the text up to ``before`` is parsed: a container that holds ``before`` costs no more
        than the walk to it.
        """
        if self._text is None:
            self._text = self.document.decode("latin-1")  # one character per byte: same offsets
        try:
            return start + _SKIPPER.raw_decode(self._text[start:before])[1]
        except (ValueError, RecursionError):
            return -1

    def path_at(self, offset: int) -> str:
        """The JSON path of the value that starts at ``offset``."""
        if offset < self.position:
            self.position, self.stack, self.last = 0, [], b""
        position = self.position
        stack = self.stack
        while True:
            match = _JSON_TOKEN.search(self.document, position)
            if match is None or match.end() > offset:  # the token holding ``offset`` (or one after it)
                break
            token = match.group()
            first = token[:1]
            if first == b"{" or first == b"[":
                start = match.start()
                end = self._closing(start, offset) if start and offset - start > 64 else -1  # not the document
                if 0 < end <= offset:  # closed before ``offset``: its tokens leave the stack as it is
                    position = end
                    continue
                stack.append(["object", None] if first == b"{" else ["array", 0])
            elif first == b"}" or first == b"]":
                if stack:
                    stack.pop()
            elif first == b",":
                if stack and stack[-1][0] == "array":
                    stack[-1][1] += 1
            elif first == b":":
                if stack and stack[-1][0] == "object":
                    stack[-1][1] = self.last
            else:
                self.last = token
            position = match.end()
        self.position = position
        path = ""
        for kind, key in stack:
            path = _json_path(path, key if kind == "array" else _json_key(key))
        return path


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


def _name(raw: bytes) -> str:
    return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8", "replace")


def _protobuf_fields(data: bytes) -> list[tuple[int, bytes]] | None:
    """Length-delimited fields of a protobuf message, or ``None`` if ``data`` is not one."""
    out: list[tuple[int, bytes]] = []
    pos, end = 0, len(data)

    def varint() -> int:
        nonlocal pos
        result = shift = 0
        while True:
            if pos >= end or shift > 63:
                raise ValueError
            byte = data[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7

    try:
        while pos < end:
            key = varint()
            number, wire = key >> 3, key & 7
            if number == 0:
                return None
            if wire == 0:
                varint()
            elif wire == 1:
                pos += 8
            elif wire == 5:
                pos += 4
            elif wire == 2:
                length = varint()
                if pos + length > end:
                    return None
                out.append((number, data[pos : pos + length]))
                pos += length
            else:
                return None
    except ValueError:
        return None
    return out if pos == end else None


def _multipart_parts(data: bytes, content_type: str | None) -> list[tuple[str, bytes]] | None:
    boundary: bytes | None = None
    if content_type:
        declared = re.search(r'boundary="?([^";]+)"?', content_type, re.IGNORECASE)
        boundary = declared.group(1).encode() if declared else None
    if boundary is None:
        first_line = re.match(rb"--([!-~]{1,200})\r?\n", data)
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
        name = re.search(rb'name="([^"]*)"', head)
        label = name.group(1).decode("utf-8", "replace") if name else str(index)
        out.append((label, body[:-2] if body.endswith(b"\r\n") else body.rstrip(b"\n")))
    return out or None


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
    "gzip": tf.gunzip, "zlib": tf.unzlib, "deflate": tf.inflate_raw, "brotli": tf.unbrotli, "zstd": tf.unzstd,
}  # fmt: skip


class _Unwrapper:
    def __init__(self, limits: Limits, on_problem: Callable[[str], None]) -> None:
        self.limits = limits
        self.on_problem = on_problem
        self.decoded = 0
        self.texts = 0
        self.truncated = False
        self.lazy: list[tuple[JsonCursor, int]] = []
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
        if not data:
            return
        if _is_binary(data) if binary is None else binary:
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
        self.out.append(Located(location, chain, data, resolve=self.resolve, covered=covered))
        if layers >= self.limits.max_layers:
            return
        plus = (bool(chain) and chain[-1].startswith("form:")) or (location.startswith("query:") and not chain)
        self._decodings(stripped, location, chain, layers, plus)

    @staticmethod
    def _json_where(data: bytes, stripped: bytes, chain: tuple[str, ...]) -> Callable[[int], tuple[str, ...]]:
        lead = len(data) - len(data.lstrip())
        cursor = JsonCursor(stripped)

        def where(offset: int) -> tuple[str, ...]:
            return (*chain, "json:" + cursor.path_at(max(offset - lead, 0)))

        return where

    def _json_candidates(
        self, document: bytes, location: str, chain: tuple[str, ...], layers: int, placed: bool
    ) -> None:
        """String literals worth decoding; ``placed``: the document's offsets place their hits."""
        cursor: JsonCursor | None = None
        for match in _JSON_CANDIDATE.finditer(document):
            content = match.group(1)
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
        if self.texts >= self.limits.max_texts or len(data) < 4:
            self.text(data, location, chain, layers, covered=covered)  # the general way (and its report)
            return
        self.texts += 1
        self.out.append(Located(location, chain, data, resolve=self.resolve, covered=covered))
        if layers >= self.limits.max_layers:
            return
        # As in _decodings: whole hex, whole base64 (always, here), whole base32; no token search.
        if _HEX_WHOLE.fullmatch(data):
            self._child("hex", bytes.fromhex(data.decode()), data, location, chain, layers)
        self._base64(data, location, chain, layers)
        self._base32_whole(data, location, chain, layers)

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
        """Recognise JSON, forms, multipart, XML; return a kind and a leaf lister."""
        declared = hint or ""
        hint = declared.lower()
        first = data[:1]
        if (first, data[-1:]) in _JSON_ENDS:

            def json_leaves() -> list[tuple[str, bytes]]:
                try:
                    value = json.loads(data)
                except (ValueError, RecursionError):
                    return []
                out = []
                for path, leaf in _json_leaves(value):
                    raw = _leaf_bytes(leaf)
                    if raw is not None:
                        out.append((f"json:{path}", raw))
                return out

            return "json", json_leaves
        if "multipart" in hint or data.startswith(b"--"):
            parts = _multipart_parts(data, declared if "multipart" in hint else None)
            if parts:
                return "multipart", lambda: [(f"multipart:{n}", b) for n, b in parts]
        if first == b"<" or "xml" in hint:
            leaves = _xml_leaves(data)
            if leaves:
                return "xml", lambda: leaves
        if ("form-urlencoded" in hint or b"&" in data) and _FORM.fullmatch(data) and not _HTML_ENTITY.search(data):
            pairs = _split_form(data)
            if len(pairs) >= 2 or ("form-urlencoded" in hint and not _B64_WHOLE.fullmatch(data)):
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
        if len(decoded) < _SHORTEST or decoded == data:
            return
        self._spend(len(decoded))
        self.text(decoded, location, (*chain, step), layers + 1, binary=binary)

    def _decodings(
        self, data: bytes, location: str, chain: tuple[str, ...], layers: int, plus: bool
    ) -> None:
        if len(data) == 36 and _UUID.fullmatch(data):  # an identifier, not an encoding of one
            return
        if not data.isascii():
            self._lzstring_utf16(data, location, chain, layers)
        whole_token = False
        escaped = _ANY_ESCAPE.search(data) is not None  # one scan instead of three for most tokens
        if escaped and _PERCENT.search(data):
            decoded = unquote_to_bytes(data.replace(b"+", b" ") if plus else data)
            self._child("urldecode", decoded, data, location, chain, layers)
        elif plus and b"+" in data and b" " not in data:  # a form's space, or base64's '+': try both
            self._child("urldecode", data.replace(b"+", b" "), data, location, chain, layers)
        if escaped and _HTML_ENTITY.search(data):
            self._child("html", tf.TRANSFORMS["html"].decode(data), data, location, chain, layers)  # type: ignore[misc]
        if escaped and _JSON_ESCAPE.search(data):
            self._child("json_unescape", tf.json_unescape(data), data, location, chain, layers)
        if _HEX_WHOLE.fullmatch(data):
            whole_token = True
            self._child("hex", bytes.fromhex(data.decode()), data, location, chain, layers)
        if _B64_WHOLE.fullmatch(data):
            whole_token = b" " not in data
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
            self._child("hex", bytes.fromhex(token.decode()), data, location, chain, layers)
        for match in _B32_TOKEN.finditer(data):
            if tried >= self.limits.max_tokens:
                break
            tried += 1
            try:
                decoded = tf.TRANSFORMS["base32"].decode(match.group())  # type: ignore[misc]
            except ValueError:
                continue
            self._child("base32", decoded, data, location, chain, layers)
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
            self._child("base32", decoded, data, location, chain, layers)

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
        self._child("base58", decoded, data, location, chain, layers, binary)

    def _base64(self, data: bytes, location: str, chain: tuple[str, ...], layers: int) -> None:
        try:
            decoded = tf.b64decode_loose(data)
        except ValueError:
            decoded = b""
        binary = bool(decoded) and _is_binary(decoded)
        if decoded:
            self._child("base64", decoded, data, location, chain, layers, binary)
        if (not decoded or binary) and not decoded.startswith((_GZIP_MAGIC, _ZSTD_MAGIC)):
            self._lzstring(data, "lzstring_base64", location, chain, layers)
            # The URI alphabet differs from base64's only in "-" and "$" (and "+" sent as a space):
            # a token without them reads the same in both, and was decoded just above.
            if b"/" not in data and b"=" not in data and _LZ_URI_ONLY.search(data):
                self._lzstring(data, "lzstring_uri", location, chain, layers)

    def _lzstring(
        self, data: bytes, name: str, location: str, chain: tuple[str, ...], layers: int
    ) -> None:
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
        self._child("lzstring", decoded, data, location, chain, layers)

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
        self._child("lzstring", decoded, data, location, chain, layers)

    def _lzstring_uint8array(self, data: bytes, location: str, chain: tuple[str, ...], layers: int) -> bool:
        """lz-string's Uint8Array form (big-endian 16-bit units); whether it decoded."""
        if len(data) % 2 or not 8 <= len(data) <= 64 * 1024 or data[0] & 0x40:
            return False
        try:
            decoded = tf.TRANSFORMS["lzstring_uint8array"].decode(data)  # type: ignore[misc]
        except ValueError:
            return False
        self._child("lzstring", decoded, data, location, chain, layers)
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
        candidates: list[str] = []
        if data.startswith(_GZIP_MAGIC):
            candidates.append("gzip")
        elif data.startswith(_ZSTD_MAGIC):
            candidates.append("zstd")
        elif len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] * 256 + data[1]) % 31 == 0:
            candidates.append("zlib")
        found = False
        for name in candidates:
            decoded = self._decompress(name, data)
            if decoded is not None:
                found = True
                self._child(name, decoded, data, location, chain, layers)
        if found or len(data) < 8:  # too short to hold an encoded needle worth the attempts
            return
        fields = _protobuf_fields(data) if data[0] & 7 in (0, 1, 2, 5) and data[0] >= 8 else None
        if fields:
            for number, value in fields:
                self.text(value, location, self._join(chain, f"pb:{number}"), layers)
            return
        # Base64 of this form is the base64 form itself (the same bits), tried on the base64 text.
        if (not chain or chain[-1] != "base64") and self._lzstring_uint8array(data, location, chain, layers):
            return
        for magic, name in ((_GZIP_MAGIC, "gzip"), (_ZSTD_MAGIC, "zstd")):
            start = data.find(magic, 1)
            if start > 0:
                decoded = self._decompress(name, data[start:])
                if decoded is not None:
                    self._child(name, decoded, data, location, chain, layers)
        if len(data) >= 8:
            for name in ("deflate", "brotli") if _may_be_deflate(data) else ("brotli",):
                decoded = self._headerless(name, data)
                if decoded is not None:
                    self._child(name, decoded, data, location, chain, layers)

    def _headerless(self, name: str, data: bytes) -> bytes | None:
        """Raw deflate or brotli that fills ``data`` exactly, or ``None``: what :meth:`_decompress`
        does with :func:`toolkit.compression.inflate_raw` and ``unbrotli``, without turning every
        failure into a formatted error (most attempts fail: these formats have no header)."""
        limit = self._remaining()
        try:
            if name == "deflate":
                inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                decoded = inflater.decompress(data, limit + 1)
                complete = inflater.eof and not inflater.unused_data
            else:
                decompressor = brotli.Decompressor()
                decoded = decompressor.process(data, output_buffer_limit=limit + 1)
                complete = decompressor.is_finished()
        except (zlib.error, brotli.error):
            return None
        if len(decoded) > limit:
            self._decompress(name, data)  # reports the bomb and gives up the request's branch
        return decoded if complete else None


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
) -> Iterator[Located]:
    """Every located text of one request: URL path and segments, query names and values,
    fragment, headers (cookies one by one), and the body, each decoded recursively."""
    problems: list[str] = []
    walker = _Unwrapper(limits, on_problem or problems.append)
    try:
        _request_texts(walker, url, headers, body, content_type, cookies)
    except _BudgetExceeded:
        if walker.decoded > limits.max_decoded_bytes:
            walker.on_problem(f"decoding produced more than {limits.max_decoded_bytes} bytes; rest of request skipped")
    texts, walker.out = walker.out, []  # the texts refer to the walker, not the other way: no cycle
    return iter(texts)


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

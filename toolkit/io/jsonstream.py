"""Incremental JSON: walk a large JSON document without holding all of it in memory.

A HAR file is one JSON object whose bulk is a single array (``log.entries``). This module lets a
reader step through the outer structure token by token and decode each array item with the
standard library's C decoder (:meth:`json.JSONDecoder.raw_decode`), so memory is bounded by the
largest single item plus a read buffer, and speed is that of :func:`json.loads`.

>>> import io
>>> doc = JsonStream(io.BytesIO(b'{"log": {"version": "1.2", "entries": [{"a": 1}, {"a": 2}]}}'))
>>> for key in doc.object_keys():
...     for key2 in doc.object_keys():
...         print(key2, list(doc.array_items()) if key2 == "entries" else doc.read_value())
version 1.2
entries [{'a': 1}, {'a': 2}]

Errors are :class:`JsonSyntaxError` with the character offset and whether the input simply
ended (``truncated``) rather than being malformed.
"""

from __future__ import annotations

import codecs
import json
import re
import sys
from collections.abc import Iterator
from typing import IO, Any

__all__ = ["JsonStream", "JsonSyntaxError"]

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
# An escaped UTF-16 surrogate (\ud800-\udfff): JSON text can only make a lone one this way.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# A JSON token cut by the end of the buffer fails within this many characters of the end
# (the longest literals, `false`/`-1e+`, and a cut `\uXXXX` escape are shorter).
_CUT_MARGIN = 16
# What a bracket-matching skip over a broken value looks at: brackets, and strings (which may hold brackets).
_STRUCTURE = re.compile(r'["{}\[\]]')
_STRING_REST = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


class JsonSyntaxError(ValueError):
    """The input is not valid JSON at ``offset`` (characters from the start of the text)."""

    def __init__(self, message: str, offset: int, *, truncated: bool) -> None:
        self.message = message
        self.offset = offset
        self.truncated = truncated
        super().__init__(f"{message} at character {offset}")


class JsonStream:
    """A pull parser over a binary file holding UTF-8 JSON (a leading BOM is skipped).

    Args:
        raw: binary file object, read from its current position.
        chunk_size: bytes read at a time; a value larger than a chunk is read with doubling reads.
        max_value_size: largest single value (in characters) the stream will buffer.
    """

    def __init__(self, raw: IO[bytes], *, chunk_size: int = 1 << 20, max_value_size: int = 1 << 31) -> None:
        self._raw = raw
        self._chunk = chunk_size
        self._max = max_value_size
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
        self._buf = ""
        self._pos = 0
        self._base = 0  # offset of _buf[0] in the whole text
        self._eof = False
        #: set when invalid UTF-8 was met and replaced by U+FFFD
        self.replaced_bytes = False
        #: set when an escaped lone surrogate (``\\ud800``), which no text encoding can hold, became U+FFFD
        self.replaced_surrogates = False
        #: set when an integer too long for Python's int conversion was read as a float
        self.long_integers = False

    # -- buffer -------------------------------------------------------------------------------

    @property
    def offset(self) -> int:
        """Character offset of the read position in the whole text."""
        return self._base + self._pos

    def _fill(self, size: int) -> bool:
        """Append at least ``size`` more bytes of text to the buffer; False at end of input."""
        if self._eof:
            return False
        data = self._raw.read(size)
        final = not data
        try:
            text = self._decoder.decode(data, final)
        except UnicodeDecodeError:
            self.replaced_bytes = True
            text = data.decode("utf-8", "replace")
            self._decoder.reset()
        if self._pos:
            self._base += self._pos
            self._buf = self._buf[self._pos :]
            self._pos = 0
        self._buf += text
        if final:
            self._eof = True
        return True

    def _error(self, message: str, pos: int) -> JsonSyntaxError:
        truncated = self._eof and pos >= len(self._buf)
        return JsonSyntaxError(message, self._base + pos, truncated=truncated)

    def peek(self) -> str:
        """Skip whitespace and return the next character, or ``""`` at the end of input."""
        while True:
            self._pos = _WS.match(self._buf, self._pos).end()  # type: ignore[union-attr]
            if self._pos < len(self._buf):
                return self._buf[self._pos]
            if not self._fill(self._chunk):
                return ""

    def expect(self, chars: str) -> str:
        """Consume the next non-blank character, which must be one of ``chars``."""
        char = self.peek()
        if not char or char not in chars:
            found = repr(char) if char else "end of input"
            raise self._error(f"expected {' or '.join(repr(c) for c in chars)}, found {found}", self._pos)
        self._pos += 1
        return char

    def skip_prefix(self, pattern: re.Pattern[str]) -> str | None:
        """Consume ``pattern`` if the text (after blanks) starts with it; return the match."""
        self.peek()
        while len(self._buf) - self._pos < 4096 and self._fill(self._chunk):
            pass
        match = pattern.match(self._buf, self._pos)
        if not match:
            return None
        self._pos = match.end()
        return match.group(0)

    def rest_is(self, pattern: re.Pattern[str]) -> bool:
        """Whether everything left in the input matches ``pattern`` (used for JSONP tails)."""
        self.peek()
        while len(self._buf) - self._pos < 4096 and self._fill(self._chunk):
            pass
        if not self._eof:
            return False
        return pattern.fullmatch(self._buf, self._pos) is not None

    # -- values -------------------------------------------------------------------------------

    def read_value(self) -> Any:
        """Decode the next complete JSON value with the C decoder."""
        if not self.peek():
            raise self._error("expected a value, found end of input", self._pos)
        size = self._chunk
        while True:
            try:
                value, end = self._decode()
            except json.JSONDecodeError as exc:
                cut = exc.pos >= len(self._buf) - _CUT_MARGIN or exc.msg.startswith("Unterminated")
                if cut and self._grow(size):
                    size *= 2
                    continue
                raise JsonSyntaxError(exc.msg, self._base + exc.pos, truncated=cut and self._eof) from None
            except RecursionError:
                raise self._error("nesting too deep", self._pos) from None
            # A number that ends near the end of the buffer may go on in the next chunk ("0" | ".5").
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if number and end + _CUT_MARGIN > len(self._buf) and self._grow(size):
                size *= 2
                continue
            if _SURROGATE_ESCAPE.search(self._buf, self._pos, end):
                value = self._without_lone_surrogates(value)
            self._pos = end
            return value

    def _decode(self) -> tuple[Any, int]:
        """The value at the read position and where it ends; integers of more digits than Python
        converts become floats (``inf`` when too large) instead of an error."""
        try:
            return _DECODER.raw_decode(self._buf, self._pos)
        except json.JSONDecodeError:
            raise
        except ValueError as exc:  # "Exceeds the limit (4300 digits) for integer string conversion"
            if "digits" not in str(exc):
                raise
        self.long_integers = True
        return _LONG_INTEGER_DECODER.raw_decode(self._buf, self._pos)

    def _without_lone_surrogates(self, value: Any) -> Any:
        """``value`` with every lone surrogate in its strings (keys too) replaced by U+FFFD."""
        value, replaced = _replace_surrogates(value)
        self.replaced_surrogates |= replaced
        return value

    def _grow(self, size: int) -> bool:
        if len(self._buf) - self._pos > self._max:
            raise self._error(f"a single value is larger than {self._max} characters", self._pos)
        return self._fill(size)

    def read_string(self) -> str:
        """Decode the next value, which must be a string (an object key)."""
        if self.peek() != '"':
            raise self._error("expected a string", self._pos)
        value = self.read_value()
        assert isinstance(value, str)
        return value

    # -- containers -------------------------------------------------------------------------

    def object_keys(self) -> Iterator[str]:
        """Yield the keys of the object that starts at the read position; the caller must
        consume each key's value (read, skip or walk it) before asking for the next key."""
        self.expect("{")
        if self.peek() == "}":
            self._pos += 1
            return
        while True:
            key = self.read_string()
            self.expect(":")
            yield key
            if self.expect(",}") == "}":
                return

    def array_items(self, *, resync: bool = False) -> Iterator[Any]:
        """Yield the decoded items of the array that starts at the read position.

        With ``resync``, an object or array item that is not valid JSON is yielded as its
        :class:`JsonSyntaxError` and reading goes on at the next item; its end is found by matching
        brackets outside strings. An error that cannot be skipped that way (the input ends, a
        broken string or bracket) is raised as without ``resync``.

        >>> import io
        >>> doc = JsonStream(io.BytesIO(b'[{"a": 1}, {"a": 2 "b": [3]}, {"a": 3}]'))
        >>> [str(item) if isinstance(item, Exception) else item for item in doc.array_items(resync=True)]
        [{'a': 1}, "Expecting ',' delimiter at character 19", {'a': 3}]
        """
        self.expect("[")
        if self.peek() == "]":
            self._pos += 1
            return
        while True:
            self.peek()
            start = self.offset  # in the whole text: reading the item may move the buffer
            try:
                yield self.read_value()
            except JsonSyntaxError as exc:
                if not resync or exc.truncated or not self._skip_container(start):
                    raise
                yield exc
            if self.expect(",]") == "]":
                return

    def _skip_container(self, start: int) -> bool:
        """Move past the object or array starting at offset ``start`` of the text by matching its
        brackets outside strings, without decoding it; True when a ``,`` or ``]`` follows it.

        The text passed over is dropped from the buffer as the scan goes, so memory stays bounded
        by the longest string in it.
        """
        pos = self._pos = start - self._base
        if self._buf[pos : pos + 1] not in ("{", "["):
            return False
        depth = 0
        size = self._chunk
        while True:
            match = _STRUCTURE.search(self._buf, pos)
            if match is None:
                pos, size = len(self._buf), self._chunk
            elif match.group() == '"':
                string = _STRING_REST.match(self._buf, match.end())
                if string is not None:
                    pos = string.end()
                    continue
                pos, size = match.start(), size * 2  # the string goes on past the buffer: read more
            if match is None or match.group() == '"':
                self._pos = pos  # the text before pos is passed over for good: let _fill drop it
                if not self._grow(size):
                    return False
                pos = self._pos
                continue
            depth += 1 if match.group() in "{[" else -1
            pos = match.end()
            if depth == 0:
                self._pos = pos
                return self.peek() in (",", "]")


_LONG_INTEGER_DECODER = json.JSONDecoder(
    parse_int=lambda digits: int(digits) if len(digits) <= sys.get_int_max_str_digits() else float(digits)
)


def _replace_surrogates(value: Any) -> tuple[Any, bool]:
    """A decoded value with lone surrogates in its strings replaced by U+FFFD (containers are changed
    in place, without recursion), and whether there was one.

    >>> _replace_surrogates({"a\\ud800": ["x\\udfff", 1]})
    ({'a�': ['x�', 1]}, True)
    """
    if isinstance(value, str):
        fixed = _SURROGATE.sub("\ufffd", value)
        return fixed, fixed != value
    replaced = False
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key in [k for k in item if _SURROGATE.search(k)]:
                item[_SURROGATE.sub("\ufffd", key)] = item.pop(key)
                replaced = True
            children: Any = item.items()
        elif isinstance(item, list):
            children = enumerate(item)
        else:
            continue
        for key, child in list(children):
            if isinstance(child, str):
                if _SURROGATE.search(child):
                    item[key] = _SURROGATE.sub("\ufffd", child)
                    replaced = True
            elif isinstance(child, dict | list):
                stack.append(child)
    return value, replaced

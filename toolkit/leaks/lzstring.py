"""lz-string (the JavaScript library by Pieroxy) in its base64, URI-component, UTF-16 and Uint8Array forms.

Written from the format's description: an LZW variant that writes variable-width codes least
significant bit first, packed 6 bits per output character. Analytics scripts use it to shrink
payloads before sending them (``compressToBase64`` / ``compressToEncodedURIComponent``), or
to fit more into storage (``compressToUTF16``: 15 bits a character, offset by 32, and a closing
space; ``compressToUint8Array``: 16 bits a character, as big-endian byte pairs).

>>> packed = compress_to_base64("https://example.org/a?q=1")
>>> decompress_from_base64(packed)
'https://example.org/a?q=1'
>>> decompress_from_uri_component(compress_to_uri_component("hello hello hello"))
'hello hello hello'
>>> decompress_from_base64("!!not lz!!") is None
True
>>> decompress_from_utf16(compress_to_utf16("hello hello hello"))
'hello hello hello'
>>> decompress_from_uint8array(compress_to_uint8array("https://example.org/"))
'https://example.org/'
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Iterator

__all__ = [
    "compress_to_base64",
    "compress_to_uint8array",
    "compress_to_uri_component",
    "compress_to_utf16",
    "decompress_from_base64",
    "decompress_from_uint8array",
    "decompress_from_uri_component",
    "decompress_from_utf16",
]

_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_URI = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-$"

#: Largest decompressed text (characters); longer output means garbage input or a bomb.
MAX_OUTPUT = 4 * 1024 * 1024


class _BitWriter:
    """Packs codes into characters of ``width`` bits; ``symbol`` turns a character's value into text."""

    def __init__(self, width: int, symbol: Callable[[int], str]) -> None:
        self.last = width - 1
        self.symbol = symbol
        self.out: list[str] = []
        self.value = 0
        self.position = 0

    def write(self, value: int, bits: int) -> None:
        for _ in range(bits):
            self.value = (self.value << 1) | (value & 1)
            value >>= 1
            if self.position == self.last:
                self.out.append(self.symbol(self.value))
                self.value = 0
                self.position = 0
            else:
                self.position += 1

    def finish(self) -> str:
        while True:
            self.value <<= 1
            if self.position == self.last:
                self.out.append(self.symbol(self.value))
                return "".join(self.out)
            self.position += 1


def _compress(text: str, alphabet: str) -> str:
    return _compress_with(text, _BitWriter(6, alphabet.__getitem__))


def _compress_with(text: str, writer: _BitWriter) -> str:
    dictionary: dict[str, int] = {}
    pending: set[str] = set()  # single characters not yet written literally
    size, width, grow_in = 3, 2, 2
    word = ""

    def emit(w: str) -> None:
        nonlocal width, grow_in
        if w in pending:
            code = ord(w[0])
            if code < 256:
                writer.write(0, width)
                writer.write(code, 8)
            else:
                writer.write(1, width)
                writer.write(code, 16)
            grow_in -= 1
            if grow_in == 0:
                grow_in, width = 1 << width, width + 1
            pending.discard(w)
        else:
            writer.write(dictionary[w], width)
        grow_in -= 1
        if grow_in == 0:
            grow_in, width = 1 << width, width + 1

    for char in text:
        if char not in dictionary:
            dictionary[char] = size
            size += 1
            pending.add(char)
        joined = word + char
        if joined in dictionary:
            word = joined
            continue
        emit(word)
        dictionary[joined] = size
        size += 1
        word = char
    if word:
        emit(word)
    writer.write(2, width)
    return writer.finish()


#: Each byte with its bits in reverse order: the stream is read from each byte's high bit down, and
#: reversing the bits of every byte turns it into a little-endian number read from its low bit up.
_REVERSED_BITS = bytes(int(f"{b:08b}"[::-1], 2) for b in range(256))


def _as_base64(alphabet: str) -> bytes:
    """A ``bytes.translate`` table: each character of ``alphabet`` to the base64 character of the
    same 6-bit value (the 65th, ``=`` or ``$``, reads as 0), anything else to ``*``."""
    table = bytearray(b"*" * 256)
    for value, char in enumerate(alphabet):
        table[ord(char)] = ord(_BASE64[value & 0b111111])
    return bytes(table)


_BASE64_TABLE = _as_base64(_BASE64)
_URI_TABLE = _as_base64(_URI)
#: Base64 text padded to whole bytes with "A" (0) rather than "=", which would drop the last bits.
_ZERO_PADDING = (b"", b"AAA", b"AA", b"A")

#: A stream is read as one number while it has at most this many bits, and a longer one as numbers
#: of this many bits, one after the other, so that reading a code stays a shift of a small number.
_CHUNK_BYTES = 128
_CHUNK_BITS = 8 * _CHUNK_BYTES
#: A step of the decoder reads at most 24 + 16 bits (a code and a literal; the dictionary cannot
#: outgrow 24-bit codes before the output outgrows MAX_OUTPUT); a long stream loads more below this.
_STEP_BITS = 64
#: The decoder's buffer has a 1 this far above the bits loaded: bits read past them read as 0.
_GUARD_BITS = 64
_NO_MORE: Iterator[int] = iter(())  # the rest of a stream read as one number

#: Where the end code may come in a stream of 6-bit characters: the compressor pads the stream only
#: to the end of its last character (1 to 6 bits). Noise that reads as a stream ending earlier, as
#: one random token in five or six does, is not one (bench/README.md, issue 20).
_SLACK_URI = 6 + 1
#: The same in the base64 form, which is also the base64 text of the Uint8Array form (16-bit
#: characters, 1 to 16 bits of padding, and up to 4 bits that fill base64's last character).
_SLACK_BASE64 = 16 + 4 + 1
#: No rule on where the end code comes (the UTF-16 form without its closing space).
_ANYWHERE = 1 << 62


def _verdicts(size: int, bits: int) -> list[int]:
    """What each value of ``bits`` bits (the next ones of a stream, lowest first) says to a decoder
    whose dictionary has ``size`` entries: 0, a code beyond the dictionary (the stream is not one);
    else ``taken << 16 | size << 1 | ended``: the codes up to a literal (counted in), the end code
    or the last whole code in the window are valid and take ``taken`` bits, leaving the dictionary
    with ``size`` entries; ``ended``, the last of them is the end code. Made from the verdicts on
    the bits after the first code.

    >>> verdicts = _verdicts(4, 12)
    >>> verdicts[0b111], verdicts[0b010_100] >> 16, verdicts[0b001] >> 16, verdicts[0b001] >> 1 & 0x7FFF
    (0, 6, 19, 6)
    """
    known = _VERDICTS.get((size, bits))
    if known is not None:
        return known
    width = size.bit_length()  # the code width grows when the dictionary reaches 1 << width
    if width > bits:
        return [size << 1] * (1 << bits)
    firsts: list[int | None] = [
        width << 16 | size << 1 | 1
        if code == 2
        else (width + (16 if code else 8)) << 16 | (size + 2) << 1  # a literal, and the entry it ends
        if code < 2
        else 0
        if code > size
        else None  # an entry: the verdict is the next bits'
        for code in range(1 << width)
    ]
    verdicts: list[int] = []
    for after in _verdicts(size + 1, bits - width):
        then = after + (width << 16) if after else 0
        verdicts.extend(then if first is None else first for first in firsts)
    _VERDICTS[size, bits] = verdicts
    return verdicts


_VERDICTS: dict[tuple[int, int], list[int]] = {}


class _Openings(dict[int, list[int]]):
    """:func:`_verdicts` on :data:`_OPENING_BITS` bits by dictionary size, made when first needed."""

    def __missing__(self, size: int) -> list[int]:
        table = self[size] = _verdicts(size, _OPENING_BITS)
        return table


#: Random blobs read as a stream mostly fail within their first few codes: checking them a window
#: of 12 bits at a time from a table, before the decoder makes any list, leaves to the decoder 1 in
#: 50 of the 16-character tokens that the leak walk tries, 1 in 500 of 24 characters (issue 20).
_OPENING_BITS = 12
_OPENING_MASK = (1 << _OPENING_BITS) - 1
_OPENING_SIZES = 32  # checked while the dictionary is smaller (tables of at most 5-bit codes)
_OPENINGS = _Openings()


def _decompress_6bit(text: str, table: bytes, slack: int) -> str | None:
    """A stream of 6-bit characters (``table``: see :func:`_as_base64`), whose values base64's
    decoder packs high bit first."""
    standard = text.encode("utf-8", "surrogatepass").translate(table)  # not ASCII: bytes of 128 and up, all "*"
    if not standard or 42 in standard:  # empty, or a character outside the alphabet ("*")
        return None
    data = binascii.a2b_base64(standard + _ZERO_PADDING[len(standard) % 4])
    if len(data) <= _CHUNK_BYTES:  # most: read as one number here, without another call
        return _decompress_stream(
            int.from_bytes(data.translate(_REVERSED_BITS), "little"), _NO_MORE, 6 * len(standard), slack
        )
    return _decompress_bytes(data, 6 * len(standard), slack)


def _decompress_bytes(data: bytes, end: int, slack: int) -> str | None:
    """The first ``end`` bits of ``data``, read from each byte's high bit down."""
    data = data.translate(_REVERSED_BITS)
    if len(data) <= _CHUNK_BYTES:
        return _decompress_stream(int.from_bytes(data, "little"), _NO_MORE, end, slack)
    chunks = (int.from_bytes(data[i : i + _CHUNK_BYTES], "little") for i in range(0, len(data), _CHUNK_BYTES))
    return _decompress_stream(next(chunks), chunks, end, slack)


def _decompress_stream(head: int, rest: Iterator[int], end: int, slack: int) -> str | None:
    """Decompress a stream whose bit ``i`` (in reading order) is bit ``i`` of ``head`` and then of
    ``rest`` (numbers of :data:`_CHUNK_BITS` bits, when ``end`` is more than that), ``end`` bits
    long; bits past the end read as 0. The end code must come within the last ``slack`` bits (the
    padding of the last character): a random blob rarely ends its stream there.

    A stream opens with a literal (code 0 or 1 of 2 bits, then 8 or 16 bits); the codes after it
    are first checked from :data:`_OPENINGS`, before any list is made.
    """
    first = head & 3
    if first == 2:
        return ""
    if first == 3:
        return None
    literal_bits = 16 if first else 8
    position = 2 + literal_bits
    if end <= position:
        return None
    loaded = end if end < _CHUNK_BITS else _CHUNK_BITS  # the bits of ``head``; the others are in ``rest``
    checked, size, openings = loaded - _OPENING_BITS, 4, _OPENINGS
    while position <= checked:  # each window in ``head``
        opening = openings[size][head >> position & _OPENING_MASK]
        if not opening:
            return None
        position += opening >> 16
        if opening & 1:  # the end code: it must come in the padding of the last character
            if end - position >= slack:
                return None
            break
        size = opening >> 1 & 0x7FFF
        if size >= _OPENING_SIZES:
            break
    word = chr(head >> 2 & ((1 << literal_bits) - 1))
    buffer = (head | 1 << (loaded + _GUARD_BITS)) >> (2 + literal_bits)
    return _decompress_codes(word, buffer, rest, end - loaded, slack)


def _decompress_codes(word: str, buffer: int, rest: Iterator[int], unloaded: int, slack: int) -> str | None:
    """:func:`_decompress_stream` after its first literal ``word``. ``buffer`` holds the bits from
    the reading position to the end of those loaded, lowest first, and a guard bit
    :data:`_GUARD_BITS` above them: how far it is tells the bits left without counting them at
    each step. ``unloaded`` bits of the stream are still in ``rest``."""
    dictionary = ["", "", "", word]
    add = dictionary.append
    out = [word]
    keep = out.append
    width, mask, grow_in = 3, 7, 4  # the code width grows when ``grow_in`` more entries are made
    read_out, end_below = _bounds(unloaded, slack)
    total = counted = 0  # the output's length, counted as far as ``out[counted]`` at each load
    while True:
        if buffer < read_out:  # the stream is read out, or what is loaded of it nearly
            if not unloaded:
                return None
            total += sum(map(len, out[counted:]))
            counted = len(out)
            if total > MAX_OUTPUT:
                return None
            loaded = buffer.bit_length() - 1 - _GUARD_BITS
            chunk = min(unloaded, _CHUNK_BITS)
            unloaded -= chunk
            buffer = buffer & ((1 << loaded) - 1) | (next(rest) | 1 << (chunk + _GUARD_BITS)) << loaded
            read_out, end_below = _bounds(unloaded, slack)
            continue
        code = buffer & mask
        buffer >>= width
        if code > 2:
            try:
                entry = dictionary[code]
            except IndexError:
                if code != len(dictionary):
                    return None
                entry = word + word[0]
        elif code == 2:
            if buffer >= end_below:  # more of the stream than the padding of its last character
                return None
            text = "".join(out)
            return _from_utf16_units(text) if len(text) <= MAX_OUTPUT else None
        else:
            if code:
                entry = chr(buffer & 0xFFFF)
                buffer >>= 16
            else:
                entry = chr(buffer & 0xFF)
                buffer >>= 8
            add(entry)
            grow_in -= 1
            if not grow_in:
                grow_in = mask + 1
                width += 1
                mask = mask << 1 | 1
        keep(entry)
        add(word + entry[0])
        word = entry
        grow_in -= 1
        if not grow_in:
            grow_in = mask + 1
            width += 1
            mask = mask << 1 | 1


def _bounds(unloaded: int, slack: int) -> tuple[int, int]:
    """Below which value of the decoder's buffer (guard bit included) the stream is read out, or
    more must be loaded; and below which an end code ends it within its last ``slack`` bits."""
    # The buffer never holds more than a piece and a step: a bound past that takes any end code.
    ends_within = min(slack - unloaded, _CHUNK_BITS + _STEP_BITS + 1)
    end_below = 1 << (_GUARD_BITS + ends_within) if ends_within > 0 else 0
    return 1 << (_GUARD_BITS + (_STEP_BITS if unloaded else 1)), end_below


def _to_utf16_units(text: str) -> str:
    # JavaScript strings are UTF-16 code units: split astral characters into surrogate pairs.
    if text.isascii():
        return text
    data = text.encode("utf-16-le", "surrogatepass")
    return "".join(chr(int.from_bytes(data[i : i + 2], "little")) for i in range(0, len(data), 2))


def _from_utf16_units(units: str) -> str:
    # The decoder's characters are all below U+10000 (16-bit literals), each one UTF-16 code unit.
    if units.isascii():
        return units
    return units.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def compress_to_base64(text: str) -> str:
    """lz-string ``compressToBase64``: padded with ``=`` to a multiple of 4."""
    packed = _compress(_to_utf16_units(text), _BASE64)
    return packed + "=" * (-len(packed) % 4)


def decompress_from_base64(text: str) -> str | None:
    """lz-string ``decompressFromBase64``; ``None`` when ``text`` is not such a stream."""
    return _decompress_6bit(text.rstrip("="), _BASE64_TABLE, _SLACK_BASE64)


def compress_to_uri_component(text: str) -> str:
    """lz-string ``compressToEncodedURIComponent`` (alphabet ``A-Za-z0-9+-$``)."""
    return _compress(_to_utf16_units(text), _URI)


def decompress_from_uri_component(text: str) -> str | None:
    """lz-string ``decompressFromEncodedURIComponent``; ``None`` when not such a stream."""
    return _decompress_6bit(text.replace(" ", "+"), _URI_TABLE, _SLACK_URI)


def compress_to_utf16(text: str) -> str:
    """lz-string ``compressToUTF16``: 15 bits a character, each offset by 32, then a space."""
    return _compress_with(_to_utf16_units(text), _BitWriter(15, lambda value: chr(value + 32))) + " "


def decompress_from_utf16(text: str) -> str | None:
    """lz-string ``decompressFromUTF16``; ``None`` when ``text`` is not such a stream."""
    if not text or min(text) < " " or max(text) > "\u801f":  # each character 15 bits offset by 32
        return None
    units = text.rstrip(" ")
    if not units:
        return None
    # The characters' values in 16 bits each (none carries into the next: all are 32 or more),
    # as "0"/"1" without the top bit of each, which is 0: the 15-bit stream, high bit first.
    values = int.from_bytes(units.encode("utf-16-be"), "big") - int.from_bytes(b"\0 " * len(units), "big")
    bits = bytearray(format(values, f"0{16 * len(units)}b"), "ascii")
    del bits[::16]
    end = len(bits)
    data = (int(bits, 2) << (-end % 8)).to_bytes((end + 7) // 8, "big")
    return _decompress_bytes(data, end, 15 + 32 if text.endswith(" ") else _ANYWHERE)


def compress_to_uint8array(text: str) -> bytes:
    """lz-string ``compressToUint8Array``: 16 bits a character, each as two bytes, high byte first."""
    units = _compress_with(_to_utf16_units(text), _BitWriter(16, chr))
    return b"".join(ord(u).to_bytes(2, "big") for u in units)


def decompress_from_uint8array(data: bytes) -> str | None:
    """lz-string ``decompressFromUint8Array``; ``None`` when ``data`` is not such a stream (odd
    length, or an end code before the padding of the last character)."""
    if not data or len(data) % 2:
        return None
    return _decompress_bytes(data, 8 * len(data), 16 + 16)

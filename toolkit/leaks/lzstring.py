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

from collections.abc import Callable

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
_BASE64_VALUES = {c: i for i, c in enumerate(_BASE64)}
_URI_VALUES = {c: i for i, c in enumerate(_URI)}

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


def _bit_table(values: dict[str, int]) -> dict[int, str]:
    """Each character of an alphabet as its 6 bits, in the order the decoder reads them."""
    return {ord(c): format(v & 0b111111, "06b") for c, v in values.items()}


def _decompress(text: str, bits_of: dict[int, str], slack: int) -> str | None:
    if not text:
        return None
    # The stream as a string of "0"/"1" in reading order (one C call); a code of ``width`` bits is
    # read least significant bit first, so its slice is reversed. Bits past the end read as 0.
    bits = text.translate(bits_of)
    if len(bits) != 6 * len(text):  # a character outside the alphabet
        return None
    return _decompress_bits(bits, slack)


#: Where the end code may come in a stream of 6-bit characters: the compressor pads the stream only
#: to the end of its last character (1 to 6 bits). Noise that reads as a stream ending earlier, as
#: one random token in five or six does, is not one (bench/README.md, issue 20).
_SLACK_URI = 6 + 1
#: The same in the base64 form, which is also the base64 text of the Uint8Array form (16-bit
#: characters, 1 to 16 bits of padding, and up to 4 bits that fill base64's last character).
_SLACK_BASE64 = 16 + 4 + 1


def _decompress_bits(bits: str, slack: int | None = None) -> str | None:
    """Decompress a bit string; with ``slack``, the end code must come within the last ``slack``
    bits (the padding of the last character): a random blob rarely ends its stream there."""
    end = len(bits)
    position = 0

    def read(width: int) -> int:
        nonlocal position
        start = position
        position += width
        return int(bits[start:position][::-1] or "0", 2)

    dictionary: list[str] = ["", "", ""]
    first = read(2)
    if first == 2:
        return ""
    if first == 3:
        return None
    word = chr(read(8 if first == 0 else 16))
    dictionary.append(word)
    out = [word]
    total = 1
    width, grow_in = 3, 4
    while True:
        if position >= end:
            return None
        code = read(width)
        if code == 2:
            if slack is not None and end - position >= slack:
                return None
            return "".join(out)
        if code in (0, 1):
            dictionary.append(chr(read(8 if code == 0 else 16)))
            code = len(dictionary) - 1
            grow_in -= 1
            if grow_in == 0:
                grow_in, width = 1 << width, width + 1
        if code < len(dictionary):
            entry = dictionary[code]
        elif code == len(dictionary):
            entry = word + word[0]
        else:
            return None
        out.append(entry)
        total += len(entry)
        if total > MAX_OUTPUT:
            return None
        dictionary.append(word + entry[0])
        grow_in -= 1
        word = entry
        if grow_in == 0:
            grow_in, width = 1 << width, width + 1


_BASE64_BITS = _bit_table(_BASE64_VALUES)
_URI_BITS = _bit_table(_URI_VALUES)


def _to_utf16_units(text: str) -> str:
    # JavaScript strings are UTF-16 code units: split astral characters into surrogate pairs.
    if text.isascii():
        return text
    data = text.encode("utf-16-le", "surrogatepass")
    return "".join(chr(int.from_bytes(data[i : i + 2], "little")) for i in range(0, len(data), 2))


def _from_utf16_units(units: str | None) -> str | None:
    if units is None or units.isascii():
        return units
    data = b"".join(ord(u).to_bytes(2, "little") if ord(u) < 0x10000 else b"??" for u in units)
    return data.decode("utf-16-le", "surrogatepass")


def compress_to_base64(text: str) -> str:
    """lz-string ``compressToBase64``: padded with ``=`` to a multiple of 4."""
    packed = _compress(_to_utf16_units(text), _BASE64)
    return packed + "=" * (-len(packed) % 4)


def decompress_from_base64(text: str) -> str | None:
    """lz-string ``decompressFromBase64``; ``None`` when ``text`` is not such a stream."""
    return _from_utf16_units(_decompress(text.rstrip("="), _BASE64_BITS, _SLACK_BASE64))


def compress_to_uri_component(text: str) -> str:
    """lz-string ``compressToEncodedURIComponent`` (alphabet ``A-Za-z0-9+-$``)."""
    return _compress(_to_utf16_units(text), _URI)


def decompress_from_uri_component(text: str) -> str | None:
    """lz-string ``decompressFromEncodedURIComponent``; ``None`` when not such a stream."""
    return _from_utf16_units(_decompress(text.replace(" ", "+"), _URI_BITS, _SLACK_URI))


def compress_to_utf16(text: str) -> str:
    """lz-string ``compressToUTF16``: 15 bits a character, each offset by 32, then a space."""
    return _compress_with(_to_utf16_units(text), _BitWriter(15, lambda value: chr(value + 32))) + " "


def decompress_from_utf16(text: str) -> str | None:
    """lz-string ``decompressFromUTF16``; ``None`` when ``text`` is not such a stream."""
    if not text or any(not 32 <= ord(c) < 32 + 32768 for c in text):
        return None
    bits = "".join([format(ord(c) - 32, "015b") for c in text.rstrip(" ")])
    return _from_utf16_units(_decompress_bits(bits, 15 + 32 if text.endswith(" ") else None))


def compress_to_uint8array(text: str) -> bytes:
    """lz-string ``compressToUint8Array``: 16 bits a character, each as two bytes, high byte first."""
    units = _compress_with(_to_utf16_units(text), _BitWriter(16, chr))
    return b"".join(ord(u).to_bytes(2, "big") for u in units)


def decompress_from_uint8array(data: bytes) -> str | None:
    """lz-string ``decompressFromUint8Array``; ``None`` when ``data`` is not such a stream (odd
    length, or an end code before the padding of the last character)."""
    if not data or len(data) % 2:
        return None
    bits = format(int.from_bytes(data, "big"), f"0{8 * len(data)}b")
    return _from_utf16_units(_decompress_bits(bits, 16 + 16))

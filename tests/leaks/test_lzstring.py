"""lz-string decoding reads codes as shifts of one number: it must say exactly what the bit-string
reader it replaced (issue 20) says, on streams and on noise. ``Reference`` below is that reader,
kept here as the oracle."""

from __future__ import annotations

import base64
import json
import random
import tracemalloc
from pathlib import Path

import pytest

from toolkit.leaks import lzstring

_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_URI = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-$"
_BASE64_BITS = {ord(c): format(v & 0b111111, "06b") for v, c in enumerate(_BASE64)}
_URI_BITS = {ord(c): format(v & 0b111111, "06b") for v, c in enumerate(_URI)}


class Reference:
    """The decoder as it was before issue 20: the stream as a string of "0"/"1", a code of
    ``width`` bits read as a reversed slice of it; MAX_OUTPUT is read from the module at each call."""

    @staticmethod
    def bits(bits: str, slack: int | None = None) -> str | None:
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
            if total > lzstring.MAX_OUTPUT:
                return None
            dictionary.append(word + entry[0])
            grow_in -= 1
            word = entry
            if grow_in == 0:
                grow_in, width = 1 << width, width + 1

    @staticmethod
    def units(units: str | None) -> str | None:
        if units is None or units.isascii():
            return units
        data = b"".join(ord(u).to_bytes(2, "little") if ord(u) < 0x10000 else b"??" for u in units)
        return data.decode("utf-16-le", "surrogatepass")

    @classmethod
    def six_bit(cls, text: str, bits_of: dict[int, str], slack: int) -> str | None:
        if not text:
            return None
        bits = text.translate(bits_of)
        if len(bits) != 6 * len(text):
            return None
        return cls.units(cls.bits(bits, slack))

    @classmethod
    def base64(cls, text: str) -> str | None:
        return cls.six_bit(text.rstrip("="), _BASE64_BITS, 16 + 4 + 1)

    @classmethod
    def uri(cls, text: str) -> str | None:
        return cls.six_bit(text.replace(" ", "+"), _URI_BITS, 6 + 1)

    @classmethod
    def utf16(cls, text: str) -> str | None:
        if not text or any(not 32 <= ord(c) < 32 + 32768 for c in text):
            return None
        bits = "".join([format(ord(c) - 32, "015b") for c in text.rstrip(" ")])
        return cls.units(cls.bits(bits, 15 + 32 if text.endswith(" ") else None))

    @classmethod
    def uint8array(cls, data: bytes) -> str | None:
        if not data or len(data) % 2:
            return None
        return cls.units(cls.bits(format(int.from_bytes(data, "big"), f"0{8 * len(data)}b"), 16 + 16))


def _token(rng: random.Random, alphabet: str, low: int = 4, high: int = 64) -> str:
    return "".join(rng.choices(alphabet, k=rng.randint(low, high)))


def _walk_token(rng: random.Random, alphabet: str) -> str:
    """A token as the leak walk tries it: its first 2-bit code is a literal's (bit 4 clear)."""
    token = _token(rng, alphabet)
    return alphabet[rng.randrange(64) & 0b101111] + token[1:]


def _mutants(rng: random.Random, packed: str, alphabet: str) -> list[str]:
    """A packed stream, cut, with a character changed, and with characters added."""
    cut = packed[: rng.randint(1, len(packed))]
    at = rng.randrange(len(packed))
    changed = packed[:at] + rng.choice(alphabet) + packed[at + 1 :]
    return [packed, packed[:-1], packed[:-2], cut, changed, packed + _token(rng, alphabet, 1, 3)]


def _texts(rng: random.Random, count: int) -> list[str]:
    words = ["https://", "a.example", "/path", "?id=", "123", "ü", "€", "😎", "\ud800", " ", "&x=%20"]
    texts = ["a", "aa", "ab" * 40, "x" * 3000]
    # many 16-bit literals: long steps (a wide code and 16 bits) at every place in the stream
    texts += ["".join(rng.sample([chr(0x4E00 + i) for i in range(700)], k)) for k in (150, 400, 700)]
    for _ in range(count):
        texts.append("".join(rng.choices(words, k=rng.randint(1, 400))))
    return texts


def _check(cases: int, seed: int) -> None:
    rng = random.Random(seed)
    forms = [
        (lzstring.decompress_from_base64, Reference.base64, _BASE64, "+/-_ .é\ud800"),
        (lzstring.decompress_from_uri_component, Reference.uri, _URI, " ./=_é\ud800"),
    ]
    for new, old, alphabet, extra in forms:
        for _ in range(cases):
            token = _walk_token(rng, alphabet) if rng.random() < 0.7 else _token(rng, alphabet + extra)
            assert new(token) == old(token), token
    for _ in range(cases // 4):
        units = "".join(chr(32 + rng.randrange(32768)) for _ in range(rng.randint(1, 24)))
        if rng.random() < 0.5:
            units = chr(32 + (rng.randrange(32768) & ~0x2000)) + units[1:] + " "  # a literal first
        if rng.random() < 0.05:
            units += rng.choice(["\x1f", "\u8020", "  "])
        assert lzstring.decompress_from_utf16(units) == Reference.utf16(units), units
        data = rng.randbytes(rng.randint(1, 64))
        data = bytes([data[0] & 0xBF]) + data[1:] if rng.random() < 0.7 else data
        assert lzstring.decompress_from_uint8array(data) == Reference.uint8array(data), data


def test_random_tokens_decode_as_before() -> None:
    _check(12_000, seed=20)


@pytest.mark.slow
def test_many_random_tokens_decode_as_before() -> None:
    _check(120_000, seed=2020)  # 300,000 tokens in the four forms


def test_streams_and_their_mutants_decode_as_before() -> None:
    rng = random.Random(7)
    for text in _texts(rng, 60):
        as_base64 = lzstring.compress_to_base64(text)
        as_uri = lzstring.compress_to_uri_component(text)
        as_utf16 = lzstring.compress_to_utf16(text)
        as_bytes = lzstring.compress_to_uint8array(text)
        as_base64_bytes = base64.b64encode(as_bytes).decode()
        assert lzstring.decompress_from_base64(as_base64) == Reference.base64(as_base64) == text
        assert lzstring.decompress_from_uri_component(as_uri) == Reference.uri(as_uri) == text
        assert lzstring.decompress_from_utf16(as_utf16) == Reference.utf16(as_utf16) == text
        assert lzstring.decompress_from_uint8array(as_bytes) == Reference.uint8array(as_bytes) == text
        assert lzstring.decompress_from_base64(as_base64_bytes) == Reference.base64(as_base64_bytes) == text
        for token in _mutants(rng, as_base64.rstrip("="), _BASE64[:64]):
            assert lzstring.decompress_from_base64(token) == Reference.base64(token), token
        for token in _mutants(rng, as_uri, _URI[:64]):
            assert lzstring.decompress_from_uri_component(token) == Reference.uri(token), token
        for units in _mutants(rng, as_utf16, "".join(chr(c) for c in range(32, 32 + 32768, 97))):
            assert lzstring.decompress_from_utf16(units) == Reference.utf16(units), units
        for data in (as_bytes, as_bytes[:-2], as_bytes + b"\0\x01", as_bytes[:-1]):
            assert lzstring.decompress_from_uint8array(data) == Reference.uint8array(data), data


def test_javascript_vectors_decode_as_before() -> None:
    # produced by lz-string 1.5.0 (npm) under Node: [text, compressToBase64, compressToEncodedURIComponent]
    vectors = json.loads((Path(__file__).parent / "lzstring_js_vectors.json").read_text())
    for text, as_base64, as_uri in vectors:
        assert lzstring.decompress_from_base64(as_base64) == Reference.base64(as_base64) == text
        assert lzstring.decompress_from_uri_component(as_uri) == Reference.uri(as_uri) == text
        for cut in range(1, len(as_uri)):
            assert lzstring.decompress_from_uri_component(as_uri[:cut]) == Reference.uri(as_uri[:cut])


def _growing_stream(codes: int) -> str:
    """A literal "a", then ``codes`` codes each naming the entry being made: every entry one
    character longer than the one before (the output grows as the square of the stream)."""
    writer = lzstring._BitWriter(6, _BASE64.__getitem__)
    writer.write(0, 2)
    writer.write(ord("a"), 8)
    size, width = 4, 3
    for _ in range(codes):
        writer.write(size, width)
        size += 1
        if size == 1 << width:
            width += 1
    writer.write(2, width)
    return writer.finish()


def test_output_is_counted_as_it_grows(monkeypatch: pytest.MonkeyPatch) -> None:
    # A bomb is stopped soon after MAX_OUTPUT (within one load of the stream), not at its end.
    monkeypatch.setattr(lzstring, "MAX_OUTPUT", 60_030)
    stream = _growing_stream(2000)  # 2 million characters if read to the end
    tracemalloc.start()
    try:
        assert lzstring.decompress_from_base64(stream) is None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000


def test_output_beyond_max_output_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    grown = _growing_stream(3000)  # 4.5 million characters, over MAX_OUTPUT (4 Mi)
    assert lzstring.decompress_from_base64(grown) is None
    assert lzstring.decompress_from_base64(_growing_stream(2000)) == "a" * (2001 * 2002 // 2)
    # A long stream (the part read in pieces) at and around a lowered limit: 345 codes give
    # 346 * 347 / 2 = 60,031 characters, one more than allowed.
    monkeypatch.setattr(lzstring, "MAX_OUTPUT", 60_030)
    for codes in range(340, 350):
        stream = _growing_stream(codes)
        assert lzstring.decompress_from_base64(stream) == Reference.base64(stream)
    assert Reference.base64(_growing_stream(344)) == "a" * 59_685
    assert Reference.base64(_growing_stream(345)) is None


def _opening(codes: int, size: int, bits: int) -> int:
    """The verdict of ``lzstring._verdicts`` on one value, worked out code by code."""
    position = 0
    while position + size.bit_length() <= bits:
        width = size.bit_length()
        code = codes >> position & ((1 << width) - 1)
        position += width
        if code == 2:
            return position << 16 | size << 1 | 1
        if code < 2:
            return (position + (16 if code else 8)) << 16 | (size + 2) << 1
        if code > size:
            return 0
        size += 1
    return position << 16 | size << 1


def test_opening_tables_say_what_the_codes_say() -> None:
    for size in range(4, lzstring._OPENING_SIZES):
        table = lzstring._OPENINGS[size]
        assert len(table) == 1 << lzstring._OPENING_BITS
        assert table == [_opening(codes, size, lzstring._OPENING_BITS) for codes in range(len(table))], size

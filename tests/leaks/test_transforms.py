"""Every transform is named, and every reversible one decodes what it encodes."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.compression import DecompressionBomb
from toolkit.leaks import lzstring
from toolkit.leaks.transforms import (
    HASHES,
    RAW_DIGESTS,
    TRANSFORMS,
    apply_chain,
    b64decode_loose,
    gunzip,
    inflate_raw,
)

REVERSIBLE = sorted(name for name, t in TRANSFORMS.items() if t.decode is not None)
TEXT_ONLY = {"html", "html_numeric", "json_escape", "lzstring_base64", "lzstring_uri"}


@pytest.mark.parametrize("name", REVERSIBLE)
@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=300), text=st.text(max_size=200))
def test_reversible_transforms_round_trip(name: str, data: bytes, text: str) -> None:
    if name.startswith("html"):  # HTML maps C0/C1 control references to other characters, as browsers do
        text = "".join(c for c in text if c.isprintable() and not 0x80 <= ord(c) < 0xA0)
    value = text.encode() if name in TEXT_ONLY else data
    decode = TRANSFORMS[name].decode
    assert decode is not None
    encoded = TRANSFORMS[name].encode(value)
    if not value and name.startswith(("lzstring", "base", "hex")):
        return  # the empty value has no encoding to find
    assert decode(encoded) == value


def test_known_values() -> None:
    url = b"https://example.org/a b?q=\xc3\xa9"
    assert TRANSFORMS["quote"].encode(url) == b"https%3A%2F%2Fexample.org%2Fa%20b%3Fq%3D%C3%A9"
    assert TRANSFORMS["quote_plus"].encode(b"a b/c") == b"a+b%2Fc"
    assert TRANSFORMS["quote_lower"].encode(b"/\xe9") == b"%2f%e9"
    assert TRANSFORMS["quote_all"].encode(b"ab") == b"%61%62"
    assert TRANSFORMS["quote_twice"].encode(b"/") == b"%252F"
    assert TRANSFORMS["quote_uri"].encode(url) == b"https://example.org/a%20b?q=%C3%A9"
    assert TRANSFORMS["base64url_nopad"].encode(b"\xfb\xff") == b"-_8"
    assert TRANSFORMS["base64_mime"].encode(b"x" * 60).count(b"\r\n") == 1
    assert TRANSFORMS["base32"].encode(b"hi") == b"NBUQ===="
    assert TRANSFORMS["hex_upper"].encode(b"\xab") == b"AB"
    assert TRANSFORMS["html"].encode(b"a&b<") == b"a&amp;b&lt;"
    assert TRANSFORMS["html_numeric"].encode(b"h/") == b"&#104;&#47;"
    assert TRANSFORMS["json_escape"].encode("a/é".encode()) == b"a\\/\\u00e9"
    assert TRANSFORMS["punycode"].encode("https://bücher.example/x".encode()) == b"https://xn--bcher-kva.example/x"
    assert TRANSFORMS["punycode"].encode(b"https://ascii.example/") == b"https://ascii.example/"
    assert TRANSFORMS["upper"].encode(b"abc") == b"ABC"


#: Digests of "abc" from the hashes' specifications, for those that OpenSSL 3 may not offer:
#: MD2 (RFC 1319, A.5), MD4 (RFC 1320, A.5), RIPEMD-160 (Bosselaers' test vectors).
ABC_DIGESTS = {
    "md2": "da853b0d3f88d99b30283a69e6ded6bb",
    "md4": "a448017aaf21d8525fc10ae87aa6729d",
    "ripemd160": "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc",
}


@pytest.mark.parametrize("name", HASHES)
def test_hashes_are_hex_digests_of_hashlib(name: str) -> None:
    expected = ABC_DIGESTS[name] if name in ABC_DIGESTS else hashlib.new(name, b"abc").hexdigest()
    assert TRANSFORMS[name].encode(b"abc") == expected.encode()
    assert TRANSFORMS[name].kind == "hash" and TRANSFORMS[name].decode is None
    assert TRANSFORMS[RAW_DIGESTS[name]].encode(b"abc") == bytes.fromhex(expected)
    assert TRANSFORMS[RAW_DIGESTS[name]].family == name


def test_checksums_as_trackers_and_leakdetector_write_them() -> None:
    # CRC-32 check value (ISO-HDLC: "123456789" -> 0xCBF43926); Adler-32 of "Wikipedia" (RFC 1950's
    # example in Wikipedia's article) is 0x11E60398.
    assert TRANSFORMS["crc32"].encode(b"123456789") == str(0xCBF43926).encode()
    assert TRANSFORMS["crc32_hex"].encode(b"123456789") == b"cbf43926"
    assert TRANSFORMS["adler32"].encode(b"Wikipedia") == str(0x11E60398).encode()
    # MurmurHash3 x86_32 of "" with seed 1 is 0x514E28B7 and of "hello" with seed 0 is 0x248BFA47
    # (SMHasher verification values as listed by the mmh3 and murmurhash3js test suites).
    assert TRANSFORMS["mmh3_32_unsigned"].encode(b"hello") == str(0x248BFA47).encode()
    assert TRANSFORMS["mmh3_32_hex"].encode(b"hello") == b"248bfa47"
    assert TRANSFORMS["mmh3_32"].encode(b"hello") == str(0x248BFA47).encode()  # positive: signed reads the same
    # x64_128 of "The quick brown fox jumps over the lazy dog", seed 0: h1 = e34bbc7bbc071b6c,
    # h2 = 7a433ca9c49a9347 (FingerprintJS writes h1 then h2, each as 16 hex digits).
    fox = b"The quick brown fox jumps over the lazy dog"
    assert TRANSFORMS["mmh3_128_hex"].encode(fox) == b"e34bbc7bbc071b6c7a433ca9c49a9347"
    assert TRANSFORMS["mmh3_128"].encode(fox) == str(0x7A433CA9C49A9347E34BBC7BBC071B6C).encode()
    assert TRANSFORMS["mmh3_64_1"].encode(fox) == str(0xE34BBC7BBC071B6C - (1 << 64)).encode()  # signed


def test_base58_bitcoin_alphabet() -> None:
    # Vectors of the Bitcoin Core base58 tests (src/test/data/base58_encode_decode.json).
    for raw, text in [
        ("", ""),
        ("61", "2g"),
        ("626262", "a3gV"),
        ("636363", "aPEr"),
        ("00000000000000000000", "1111111111"),
        ("572e4794", "3EFU7m"),
        ("73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"),
    ]:
        assert TRANSFORMS["base58"].encode(bytes.fromhex(raw)) == text.encode()
        assert TRANSFORMS["base58"].decode(text.encode()) == bytes.fromhex(raw)  # type: ignore[misc]
    with pytest.raises(ValueError):
        TRANSFORMS["base58"].decode(b"0OIl")  # type: ignore[misc]


def test_encode_uri_component_leaves_its_marks() -> None:
    # ECMA-262 encodeURIComponent leaves A-Z a-z 0-9 - _ . ! ~ * ' ( ) unescaped.
    value = b"a b!'()*~\xc3\xa9/"
    assert TRANSFORMS["quote_js"].encode(value) == b"a%20b!'()*~%C3%A9%2F"
    assert TRANSFORMS["quote_js_plus"].encode(value) == b"a+b!'()*~%C3%A9%2F"


# The percent-encodings and numeric HTML references as the standard library writes them (the
# registry writes them from tables of each byte's escape, for speed).
_STDLIB_FORMS = {
    "quote": lambda d: quote(d, safe="").encode(),
    "quote_plus": lambda d: quote_plus(d, safe="").encode(),
    "quote_uri": lambda d: quote(d, safe=":/?#[]@!$&'()*+,;=~-._").encode(),
    "quote_lower": lambda d: re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), quote(d, safe="")).encode(),
    "quote_twice": lambda d: quote(quote(d, safe=""), safe="").encode(),
    "quote_js": lambda d: quote(d, safe="!'()*").encode(),
    "quote_js_plus": lambda d: quote(d, safe="!'()*").replace("%20", "+").encode(),
    "html_numeric": lambda d: "".join(f"&#{ord(c)};" for c in d.decode("utf-8", "surrogateescape")).encode(),
}


@pytest.mark.parametrize("name", sorted(_STDLIB_FORMS))
@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=100) | st.text(max_size=60).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_table_encoders_write_as_the_standard_library(name: str, data: bytes) -> None:
    every_byte = bytes(range(256))
    for value in (data, every_byte, every_byte[:128], b"https://a.example/p?q=a b&x=%41#f"):
        assert TRANSFORMS[name].encode(value) == _STDLIB_FORMS[name](value), value


def test_hash_of_encoding_chain() -> None:
    expected = hashlib.sha256(b"aHR0cHM6Ly9hLmV4YW1wbGUv").hexdigest().encode()
    assert apply_chain(["base64", "sha256"], b"https://a.example/") == expected


def test_lzstring_matches_the_javascript_library() -> None:
    # produced by lz-string 1.5.0 (npm) under Node: [text, compressToBase64, compressToEncodedURIComponent]
    vectors = json.loads((Path(__file__).parent / "lzstring_js_vectors.json").read_text())
    for text, as_base64, as_uri in vectors:
        assert lzstring.compress_to_base64(text) == as_base64
        assert lzstring.compress_to_uri_component(text) == as_uri
        assert lzstring.decompress_from_base64(as_base64) == text
        assert lzstring.decompress_from_uri_component(as_uri) == text


def test_base64_decoding_is_lenient_about_variants() -> None:
    assert b64decode_loose(b"aGVsbG8gd29ybGQ") == b"hello world"
    assert b64decode_loose(b"aGVs\r\nbG8=") == b"hello"
    assert b64decode_loose(b"a+b/") == b64decode_loose(b"a b/")  # '+' turned into a space by a form
    with pytest.raises(ValueError):
        b64decode_loose(b"not*base64")


def test_decompression_is_bounded() -> None:
    bomb = TRANSFORMS["gzip"].encode(b"\0" * 5_000_000)
    with pytest.raises(DecompressionBomb):
        gunzip(bomb, limit=1_000_000)
    assert gunzip(bomb) == b"\0" * 5_000_000


def test_raw_deflate_must_fill_the_data() -> None:
    blob = TRANSFORMS["deflate"].encode(b"hello hello")
    assert inflate_raw(blob) == b"hello hello"
    with pytest.raises(ValueError):
        inflate_raw(blob + b"trailing junk")


def test_lzstring_utf16_and_uint8array_forms() -> None:
    # compressToUTF16: 15 bits a character, offset by 32, and a closing space; compressToUint8Array:
    # the 16-bit stream as big-endian byte pairs (lz-string 1.4.4's format).
    for text in ["hello hello hello", "https://example.org/a?q=1&x=%20ü", "😎" * 5, "a"]:
        utf16 = lzstring.compress_to_utf16(text)
        assert utf16.endswith(" ") and all(32 <= ord(c) < 32 + 32768 for c in utf16)
        assert lzstring.decompress_from_utf16(utf16) == text
        packed = lzstring.compress_to_uint8array(text)
        assert len(packed) % 2 == 0 and lzstring.decompress_from_uint8array(packed) == text
        # the same bits as the base64 form: its first 6-bit characters read the first bytes
        assert base64.b64encode(packed)[:8] == lzstring.compress_to_base64(text).encode()[:8]
    # a text whose stream holds lone surrogates still goes through bytes and back
    for text in ("\ud800\udc00 x" * 3, "".join(chr(c) for c in range(0xD7E0, 0xD800))):
        data = TRANSFORMS["lzstring_utf16"].encode(text.encode("utf-8", "surrogatepass"))
        assert TRANSFORMS["lzstring_utf16"].decode(data) == text.encode("utf-8", "surrogatepass")  # type: ignore[misc]
    assert lzstring.decompress_from_uint8array(b"\x00") is None
    assert lzstring.decompress_from_utf16("") is None


def test_lzstring_stream_must_end_in_its_last_characters() -> None:
    # The compressor pads only to the end of the last character (issue 20): a stream followed by more
    # characters of the alphabet, as random tokens read as streams often are, is not one.
    packed = lzstring.compress_to_base64("https://a.example/x?q=1")
    assert lzstring.decompress_from_base64(packed) == "https://a.example/x?q=1"
    assert lzstring.decompress_from_base64(packed.rstrip("=") + "AAAAAAAA") is None
    as_uri = lzstring.compress_to_uri_component("https://a.example/x?q=1")
    assert lzstring.decompress_from_uri_component(as_uri + "AA") is None
    # the base64 text of the Uint8Array form (up to 16 bits of padding) still reads
    packed_bytes = lzstring.compress_to_uint8array("https://a.example/x?q=1")
    assert lzstring.decompress_from_base64(base64.b64encode(packed_bytes).decode()) == "https://a.example/x?q=1"

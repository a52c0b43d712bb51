"""The registry of transforms a sender may apply to a value before it leaves the device.

Why one module: it is one table, the registry, and the few lines of each entry's encoder and
decoder; split by kind, the families that cross kinds (a hash's raw and hex forms, lz-string's
alphabets) would be spread over several files that all build the same dictionary.

Each transform is small and named; reversible ones carry their decoder. Transforms work on bytes
(text is UTF-8) so that compressions and hashes chain with text encodings:

>>> from toolkit.leaks.transforms import TRANSFORMS, apply_chain
>>> apply_chain(["gzip", "base64", "quote"], b"https://example.org/")[:12]
b'H4sIAAAAAAAA'
>>> TRANSFORMS["base64"].decode(b"aGk=")
b'hi'
>>> apply_chain(["lower", "md5"], b"ABC")
b'900150983cd24fb0d6963f7d28e17f72'
>>> TRANSFORMS["sha256"].kind, TRANSFORMS["sha256"].decode is None
('hash', True)

Families group variants that a decoder cannot tell apart (``quote`` and ``quote_plus`` are both
``percent``); on the decoding side a leak's chain names the step that undoes a family
(:data:`toolkit.leaks.steps.DECODING_STEPS`: ``urldecode`` undoes ``percent``).

>>> sorted({t.family for t in TRANSFORMS.values() if t.kind == "compression"})
['brotli', 'deflate', 'gzip', 'lzstring', 'zlib', 'zstd']

A hash is named by its usual text form (lower-case hex: ``sha256``); ``sha256_raw`` is the same
digest as its raw bytes, which a sender then encodes its own way. On the decoding side those
encodings are undone, so ``base64(sha256_raw(email))`` on the wire is reported as the matched form
``sha256_raw(email)`` reached by the chain ``query:h > base64``:

>>> TRANSFORMS["sha256"].encode(b"a") == TRANSFORMS["sha256_raw"].encode(b"a").hex().encode()
True

Checksums (CRC-32, MurmurHash3) are written as trackers and LeakDetector write them: decimal
integers (``crc32``, ``mmh3_32``) or hex (``crc32_hex``, ``mmh3_128_hex``):

>>> [TRANSFORMS[n].encode(b"hello") for n in ("crc32", "crc32_hex", "mmh3_32", "mmh3_32_unsigned")]
[b'907060870', b'3610a686', b'613153351', b'613153351']
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import json
import re
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote_to_bytes, urlsplit, urlunsplit

import brotli
import mmh3
import zstandard
from Crypto.Hash import MD2, MD4, RIPEMD160

from toolkit.compression import gunzip, inflate_raw, unbrotli, unzlib, unzstd
from toolkit.leaks import lzstring

__all__ = [
    "CHECKSUMS",
    "HASHES",
    "RAW_DIGESTS",
    "TRANSFORMS",
    "Transform",
    "TransformKind",
    "apply_chain",
    "b64decode_loose",
]

TransformKind = Literal["encoding", "compression", "hash", "fold"]


@dataclass(frozen=True)
class Transform:
    """One named transform."""

    name: str
    """Registry name, used in ``matched_form`` (``sha256(url)``)."""
    family: str
    """What a decoder can tell: ``percent``, ``base64``, ``gzip``, ``sha256`` ..."""
    kind: TransformKind
    """encoding (reversible text form), compression, hash (one way), fold (case, punycode)."""
    encode: Callable[[bytes], bytes]
    """Apply the transform."""
    decode: Callable[[bytes], bytes] | None = None
    """Undo it (``None`` for hashes and folds); raises ``ValueError`` on input it cannot undo."""


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _bytes(text: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that does not stand for a raw byte
        return text.encode("utf-8", "surrogatepass")


# --- percent-encoding ------------------------------------------------------------------------

_URI_SAFE = ":/?#[]@!$&'()*+,;=~-._"
#: The bytes ``urllib.parse.quote`` never escapes (RFC 3986's unreserved characters).
_UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"


def _percent_encoder(safe: str, space: str | None = None, escape: str = "%{:02X}") -> Callable[[bytes], bytes]:
    """``urllib.parse.quote(data, safe)`` as bytes, by ``str.translate`` with every byte's escape
    (``quote`` looks each byte up through a method call: twice the time). ``space`` stands for " "
    (``quote_plus``: ``+``); ``escape`` writes the others.

    >>> _percent_encoder("/")(b"a b/\\xc3\\xa9"), _percent_encoder("", "+", "%{:02x}")(b"a b/")
    (b'a%20b/%C3%A9', b'a+b%2f')
    """
    kept = _UNRESERVED + safe.encode("ascii")
    table = [chr(byte) if byte in kept else escape.format(byte) for byte in range(256)]
    if space is not None:
        table[ord(" ")] = space

    def encode(data: bytes) -> bytes:
        return data.decode("latin-1").translate(table).encode("ascii") if data.rstrip(kept) else data

    return encode


_quote = _percent_encoder("")
_quote_lower = _percent_encoder("", escape="%{:02x}")


def _quote_all(data: bytes) -> bytes:
    return b"%" + binascii.hexlify(data, b"%").upper() if data else b""


def unquote_bytes(data: bytes) -> bytes:
    """Undo percent-encoding (``+`` is kept: it is a space only in forms).

    >>> unquote_bytes(b"a%2Fb+c%zz")
    b'a/b+c%zz'
    """
    return unquote_to_bytes(data)


def _unquote_plus(data: bytes) -> bytes:
    return unquote_to_bytes(data.replace(b"+", b" "))


# --- base64 family ---------------------------------------------------------------------------

_B64_JUNK = re.compile(rb"[\s]+")
_B64_STANDARD = bytes.maketrans(b" -_", b"++/")  # a space is a "+" that went through form decoding


def b64decode_loose(data: bytes) -> bytes:
    """Decode standard or URL-safe base64, padded or not, with or without line breaks.

    A space stands for ``+`` (a ``+`` that went through form decoding).

    >>> b64decode_loose(b"aGk"), b64decode_loose(b"-_8="), b64decode_loose(b"aG\\r\\nk=")
    (b'hi', b'\\xfb\\xff', b'hi')
    >>> b64decode_loose(b"a")
    Traceback (most recent call last):
    ...
    ValueError: not base64: length 1 leaves a lone character
    """
    data = data.strip()
    if _B64_JUNK.search(data):
        data = _B64_JUNK.sub(b"", data.replace(b" ", b"+"))
    data = data.translate(_B64_STANDARD).rstrip(b"=")
    if len(data) % 4 == 1:
        raise ValueError(f"not base64: length {len(data)} leaves a lone character")
    try:
        return binascii.a2b_base64(data + b"=" * (-len(data) % 4), strict_mode=True)
    except binascii.Error as exc:
        raise ValueError(f"not base64: {exc}") from None


def _b64_mime(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n").rstrip(b"\r\n")


def _b32decode(data: bytes) -> bytes:
    data = data.strip().upper().rstrip(b"=")
    data += b"=" * (-len(data) % 8)
    try:
        return base64.b32decode(data)
    except binascii.Error as exc:
        raise ValueError(f"not base32: {exc}") from None


def _hexdecode(data: bytes) -> bytes:
    try:
        return bytes.fromhex(data.strip().decode("ascii"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"not hex: {exc}") from None


# --- HTML, JSON ------------------------------------------------------------------------------


_HTML_NUMERIC = [f"&#{byte};" for byte in range(128)]


def _html_numeric(data: bytes) -> bytes:
    if data.isascii():  # each byte is a character: its reference from a table
        return data.decode("ascii").translate(_HTML_NUMERIC).encode("ascii")
    text = _text(data)
    return ("&#" + ";&#".join(map(str, map(ord, text))) + ";").encode() if text else b""


def _html_decode(data: bytes) -> bytes:
    return _bytes(html.unescape(_text(data)))


def _json_escape(data: bytes) -> bytes:
    return json.dumps(_text(data).encode("utf-8", "replace").decode("utf-8"))[1:-1].replace("/", "\\/").encode()


_JSON_ESCAPE = re.compile(r"\\(u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|[\"\\/bfnrt])")
_JSON_SIMPLE = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def json_unescape(data: bytes) -> bytes:
    """Undo JSON string escapes (``\\/``, ``\\n``, ``\\uXXXX`` incl. surrogate pairs) in any text.

    >>> json_unescape(rb"https:\\/\\/a.org\\/\\u00e9")
    b'https://a.org/\\xc3\\xa9'
    """

    def one(match: re.Match[str]) -> str:
        body = match.group(1)
        if body[0] != "u":
            return _JSON_SIMPLE[body]
        units = [int(u, 16) for u in body[1:].split("\\u")]
        raw = b"".join(u.to_bytes(2, "little") for u in units)
        return raw.decode("utf-16-le", "surrogatepass").encode("utf-8", "replace").decode("utf-8", "replace")

    return _bytes(_JSON_ESCAPE.sub(one, _text(data)))


# --- folds -----------------------------------------------------------------------------------


def _punycode(data: bytes) -> bytes:
    """IDNA-encode the host of a URL (or a bare host name); other text is returned as is."""
    text = _text(data)
    if text.isascii():
        return data
    try:
        parts = urlsplit(text)
        if parts.hostname:
            host = parts.hostname.encode("idna").decode()
            netloc = parts.netloc.replace(parts.hostname, host)
            if netloc == parts.netloc:  # hostname was lower-cased by urlsplit
                netloc = host if parts.port is None else f"{host}:{parts.port}"
            return _bytes(urlunsplit(parts._replace(netloc=netloc)))
        return text.encode("idna")
    except (UnicodeError, ValueError):
        return data


# --- compressions: toolkit.compression, bounded ------------------------------------------------


def _lz_decode(decompress: Callable[[str], str | None]) -> Callable[[bytes], bytes]:
    def decode(data: bytes) -> bytes:
        try:
            text = decompress(data.strip().decode("ascii"))
        except (UnicodeDecodeError, IndexError):
            text = None
        if not text:
            raise ValueError("not lz-string")
        return _bytes(text)

    return decode


def _lz_decode_text(decompress: Callable[[str], str | None]) -> Callable[[bytes], bytes]:
    def decode(data: bytes) -> bytes:
        text = decompress(data.decode("utf-8", "surrogatepass")) if data else None
        if not text:
            raise ValueError("not lz-string")
        return _bytes(text)

    return decode


def _lz_decode_bytes(decompress: Callable[[bytes], str | None]) -> Callable[[bytes], bytes]:
    def decode(data: bytes) -> bytes:
        text = decompress(data)
        if not text:
            raise ValueError("not lz-string")
        return _bytes(text)

    return decode


# --- hashes ----------------------------------------------------------------------------------

#: Hash functions searched for, by the name used in ``matched_form`` (lower-case hex digests).
HASHES: tuple[str, ...] = (
    "md5",
    "sha1",
    "sha224",
    "sha256",
    "sha384",
    "sha512",
    "sha3_224",
    "sha3_256",
    "sha3_384",
    "sha3_512",
    "blake2b",
    "blake2s",
    "md4",
    "ripemd160",
    "md2",
)


def _digest(name: str) -> Callable[[bytes], bytes]:
    """The raw digest function of a hash (MD2, MD4 and RIPEMD-160 from pycryptodome: OpenSSL 3
    builds of ``hashlib`` lack them or may lack them)."""
    if name == "md2":
        return lambda data: MD2.new(data).digest()
    if name == "md4":
        return lambda data: MD4.new(data).digest()
    if name == "ripemd160":
        return lambda data: RIPEMD160.new(data).digest()
    constructor = getattr(hashlib, name, None)  # hashlib.sha256 directly: hashlib.new looks the name up each call
    if constructor is not None:
        return lambda data: constructor(data).digest()
    return lambda data: hashlib.new(name, data).digest()


def _hex_of(digest: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    return lambda data: digest(data).hex().encode()


#: Raw digest transforms (``sha256_raw``), by the name of their hash.
RAW_DIGESTS: dict[str, str] = {name: f"{name}_raw" for name in HASHES}


# MurmurHash3 (mmh3, the reference C code) in the forms trackers send: signed 32-bit decimal
# (LeakDetector's ``mmh3_32``), unsigned 32-bit decimal (the JavaScript ``murmurhash3_32_gc``
# returns ``h1 >>> 0``; ClientJS seeds it with 256), the two signed 64-bit halves of the x64
# 128-bit hash (LeakDetector's ``mmh3_64_1``/``mmh3_64_2``), that 128-bit hash as an unsigned
# decimal (LeakDetector's ``mmh3_128``), and as 32 hex digits, first half then second half, each
# big-endian (FingerprintJS's ``x64hash128``: seed 0 in v3 and later, seed 31 in fingerprintjs2).
def _mmh3_128_hex(seed: int) -> Callable[[bytes], bytes]:
    def digest(data: bytes) -> bytes:
        first, second = mmh3.hash64(data, seed, signed=False)
        return f"{first:016x}{second:016x}".encode()

    return digest


_CHECKSUM_FUNCTIONS: dict[str, Callable[[bytes], bytes]] = {
    "crc32": lambda d: str(zlib.crc32(d)).encode(),
    "crc32_hex": lambda d: f"{zlib.crc32(d):08x}".encode(),
    "adler32": lambda d: str(zlib.adler32(d)).encode(),
    "mmh3_32": lambda d: str(mmh3.hash(d)).encode(),
    "mmh3_32_unsigned": lambda d: str(mmh3.hash(d, signed=False)).encode(),
    "mmh3_32_unsigned_seed256": lambda d: str(mmh3.hash(d, 256, signed=False)).encode(),
    "mmh3_32_hex": lambda d: f"{mmh3.hash(d, signed=False):08x}".encode(),
    "mmh3_64_1": lambda d: str(mmh3.hash64(d)[0]).encode(),
    "mmh3_64_2": lambda d: str(mmh3.hash64(d)[1]).encode(),
    "mmh3_128": lambda d: str(mmh3.hash128(d)).encode(),
    "mmh3_128_hex": _mmh3_128_hex(0),
    "mmh3_128_hex_seed31": _mmh3_128_hex(31),
}

#: Checksums and non-cryptographic hashes searched for (identifiers only: their short outputs
#: are matched only where no letter or digit touches them, see ``Pattern.bounded``).
CHECKSUMS: tuple[str, ...] = tuple(_CHECKSUM_FUNCTIONS)


# --- salted hashes ---------------------------------------------------------------------------


def salted(salt: str, position: Literal["before", "after"]) -> Transform:
    """The fold that puts a researcher-given ``salt`` before or after a value, to be hashed next.

    >>> import hashlib
    >>> salted("QX4QkKEU", "after").encode(b"a@b.org") == b"a@b.orgQX4QkKEU"
    True
    >>> salted("s", "before").name
    'salt_before'
    """
    raw = _bytes(salt)
    if position == "before":
        return Transform("salt_before", "salt", "fold", lambda d: raw + d)
    return Transform("salt_after", "salt", "fold", lambda d: d + raw)


# --- base58 (Bitcoin alphabet) ---------------------------------------------------------------

_BASE58 = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_DIGITS = bytes(_BASE58.index(b) if b in _BASE58 else 0xFF for b in range(256))


def base58_encode(data: bytes) -> bytes:
    """Base58 with the Bitcoin alphabet: the bytes as one big number, leading zero bytes as ``1``.

    >>> base58_encode(b"hello world"), base58_encode(b"\\0\\0a")
    (b'StV1DL6CwTryKyV', b'112g')
    """
    number = int.from_bytes(data, "big")
    out = bytearray()
    while number:
        number, digit = divmod(number, 58)
        out.append(_BASE58[digit])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return b"1" * zeros + bytes(reversed(out))


def base58_decode(data: bytes) -> bytes:
    """Undo :func:`base58_encode`; raises ``ValueError`` outside the alphabet.

    >>> base58_decode(b"StV1DL6CwTryKyV")
    b'hello world'
    """
    data = data.strip()
    digits = data.translate(_BASE58_DIGITS)
    if b"\xff" in digits:
        raise ValueError(f"not base58: {data[digits.index(0xFF) : digits.index(0xFF) + 1]!r}")
    number = 0
    for digit in digits:
        number = number * 58 + digit
    zeros = len(data) - len(data.lstrip(b"1"))
    return b"\0" * zeros + (number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b"")


# --- JavaScript's encodeURIComponent -----------------------------------------------------------

_JS_COMPONENT_SAFE = "!'()*"  # beyond the letters, digits and "-_.~" that quote() keeps


_quote_js = _percent_encoder(_JS_COMPONENT_SAFE)
_quote_js_plus = _percent_encoder(_JS_COMPONENT_SAFE, "+")


def _registry(transforms: Iterable[Transform]) -> dict[str, Transform]:
    return {t.name: t for t in transforms}


TRANSFORMS: dict[str, Transform] = _registry(
    [
        Transform("quote", "percent", "encoding", _quote, unquote_bytes),
        Transform("quote_plus", "percent", "encoding", _percent_encoder("", "+"), _unquote_plus),
        Transform("quote_uri", "percent", "encoding", _percent_encoder(_URI_SAFE), unquote_bytes),
        Transform("quote_lower", "percent", "encoding", _quote_lower, unquote_bytes),
        Transform("quote_all", "percent", "encoding", _quote_all, unquote_bytes),
        Transform(
            "quote_twice",
            "percent",
            "encoding",
            lambda d: _quote(_quote(d)),
            lambda d: unquote_bytes(unquote_bytes(d)),
        ),
        Transform("base64", "base64", "encoding", base64.b64encode, b64decode_loose),
        Transform("base64_nopad", "base64", "encoding", lambda d: base64.b64encode(d).rstrip(b"="), b64decode_loose),
        Transform("base64url", "base64", "encoding", base64.urlsafe_b64encode, b64decode_loose),
        Transform(
            "base64url_nopad", "base64", "encoding", lambda d: base64.urlsafe_b64encode(d).rstrip(b"="), b64decode_loose
        ),
        Transform("base64_mime", "base64", "encoding", _b64_mime, b64decode_loose),
        Transform("base32", "base32", "encoding", base64.b32encode, _b32decode),
        Transform("hex", "hex", "encoding", lambda d: d.hex().encode(), _hexdecode),
        Transform("hex_upper", "hex", "encoding", lambda d: d.hex().upper().encode(), _hexdecode),
        Transform("html", "html", "encoding", lambda d: _bytes(html.escape(_text(d))), _html_decode),
        Transform("html_numeric", "html", "encoding", _html_numeric, _html_decode),
        Transform("json_escape", "json_escape", "encoding", _json_escape, json_unescape),
        Transform("punycode", "punycode", "fold", _punycode),
        Transform("lower", "lower", "fold", lambda d: _bytes(_text(d).lower())),
        Transform("upper", "upper", "fold", lambda d: _bytes(_text(d).upper())),
        Transform("gzip", "gzip", "compression", lambda d: zlib_gzip(d), gunzip),
        Transform("zlib", "zlib", "compression", zlib.compress, unzlib),
        Transform("deflate", "deflate", "compression", lambda d: _deflate_raw(d), inflate_raw),
        Transform("brotli", "brotli", "compression", brotli.compress, unbrotli),
        Transform("zstd", "zstd", "compression", lambda d: zstandard.ZstdCompressor().compress(d), unzstd),
        Transform(
            "lzstring_base64",
            "lzstring",
            "compression",
            lambda d: lzstring.compress_to_base64(_text(d)).encode(),
            _lz_decode(lzstring.decompress_from_base64),
        ),
        Transform(
            "lzstring_uri",
            "lzstring",
            "compression",
            lambda d: lzstring.compress_to_uri_component(_text(d)).encode(),
            _lz_decode(lzstring.decompress_from_uri_component),
        ),
        Transform("quote_js", "percent", "encoding", _quote_js, unquote_bytes),
        Transform("quote_js_plus", "percent", "encoding", _quote_js_plus, _unquote_plus),
        Transform("base58", "base58", "encoding", base58_encode, base58_decode),
        Transform(
            "lzstring_utf16",
            "lzstring",
            "compression",
            lambda d: lzstring.compress_to_utf16(_text(d)).encode("utf-8", "surrogatepass"),
            _lz_decode_text(lzstring.decompress_from_utf16),
        ),
        Transform(
            "lzstring_uint8array",
            "lzstring",
            "compression",
            lambda d: lzstring.compress_to_uint8array(_text(d)),
            _lz_decode_bytes(lzstring.decompress_from_uint8array),
        ),
        *(Transform(name, name, "hash", _hex_of(_digest(name))) for name in HASHES),
        *(Transform(RAW_DIGESTS[name], name, "hash", _digest(name)) for name in HASHES),
        *(Transform(name, name, "hash", function) for name, function in _CHECKSUM_FUNCTIONS.items()),
        # Named here for matched forms and families; the salt itself comes with salted(salt, position).
        salted("", "before"),
        salted("", "after"),
    ]
)


def zlib_gzip(data: bytes) -> bytes:
    """gzip with a zero timestamp, so that the output is reproducible."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def _deflate_raw(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def apply_chain(chain: Sequence[str], data: bytes) -> bytes:
    """Apply the named transforms in order (the first name is applied first).

    >>> apply_chain(["base64", "quote"], b"\\xff\\xfe")
    b'%2F%2F4%3D'
    """
    for name in chain:
        data = TRANSFORMS[name].encode(data)
    return data

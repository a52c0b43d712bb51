"""Undo HTTP ``Content-Encoding`` (gzip, deflate, br, zstd), with a bound on the output size.

>>> import gzip
>>> decode_content(gzip.compress(b"hello"), "gzip")
b'hello'
>>> decode_content(b"hello", "identity")
b'hello'
>>> decode_content(b"not gzip", "gzip")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
toolkit.io.content_encoding.ContentDecodingError: gzip: not gzip: Error -3 while decompressing data: ...
"""

from __future__ import annotations

from collections.abc import Callable

from toolkit.compression import DecompressionBomb, gunzip, inflate_raw, unbrotli, unzlib, unzstd
from toolkit.io.budget import Budget

__all__ = [
    "DECODED_PER_ENCODED_BYTE",
    "MAX_DECODED_PER_CAPTURE",
    "MAX_DECODED_SIZE",
    "ContentDecodingError",
    "DecodedTooLarge",
    "decode_content",
    "decode_within",
]

#: Largest decoded body kept; a larger one is a decompression bomb for our purposes.
MAX_DECODED_SIZE = 256 * 1024 * 1024
#: Bytes that decoding may make in one capture, all bodies together, before the allowance grows by
#: :data:`DECODED_PER_ENCODED_BYTE` for each encoded byte (one request's two bodies together get at
#: most :data:`MAX_DECODED_SIZE`). Honest bodies expand some tenfold, bombs a thousandfold.
MAX_DECODED_PER_CAPTURE = 256 * 1024 * 1024
DECODED_PER_ENCODED_BYTE = 20


class ContentDecodingError(ValueError):
    """A body does not decode with the coding its headers declare."""


class DecodedTooLarge(ContentDecodingError):
    """A body decodes to more than it may: a decompression bomb, or a budget spent."""


def decode_content(body: bytes, encodings: str, *, max_size: int = MAX_DECODED_SIZE) -> bytes:
    """Decode ``body`` by the comma-separated ``encodings`` of a Content-Encoding header.

    Codings are undone last-applied first. Unknown codings raise :class:`ContentDecodingError`.
    """
    for coding in reversed([c.strip().lower() for c in encodings.split(",") if c.strip()]):
        if coding in ("identity", "none"):
            continue
        decoder = _DECODERS.get(coding)
        if decoder is None:
            raise ContentDecodingError(f"unknown content coding {coding!r}")
        body = decoder(body, max_size)
    return body


def decode_within(body: bytes, encodings: str, capture: Budget, request: Budget) -> bytes:
    """:func:`decode_content` within what the capture's and the request's budgets have left, which
    the decoded size is taken from; :class:`DecodedTooLarge` says which bound was hit. The capture's
    allowance first grows by :data:`DECODED_PER_ENCODED_BYTE` per byte of ``body``.

    >>> import gzip
    >>> capture, request = Budget(MAX_DECODED_PER_CAPTURE), Budget(MAX_DECODED_SIZE)
    >>> decode_within(gzip.compress(b"hello"), "gzip", capture, request), capture.used, request.used
    (b'hello', 5, 5)
    >>> decode_within(gzip.compress(b"hello" * 999), "gzip", Budget(3), request)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    toolkit.io.content_encoding.DecodedTooLarge: gzip: decodes to more than the 983 bytes left of the capture's ...
    """
    capture.grant(DECODED_PER_ENCODED_BYTE * len(body))
    room = min(MAX_DECODED_SIZE, capture.left, request.left)
    try:
        decoded = decode_content(body, encodings, max_size=room)
    except DecodedTooLarge as exc:
        if room == MAX_DECODED_SIZE:
            raise
        owner = (
            f"capture's decoding budget ({capture.limit} bytes for all bodies)"
            if room == capture.left
            else f"request's decoding budget ({request.limit} bytes for its two bodies)"
        )
        name = str(exc).split(":", 1)[0]
        raise DecodedTooLarge(f"{name}: decodes to more than the {room} bytes left of the {owner}") from None
    capture.spend(len(decoded))
    request.spend(len(decoded))
    return decoded


def _bounded(name: str, decompress: Callable[[bytes, int], bytes]) -> Callable[[bytes, int], bytes]:
    """A decoder raising :class:`ContentDecodingError` (naming the coding) for damage and bombs."""

    def decode(body: bytes, max_size: int) -> bytes:
        try:
            return decompress(body, max_size)
        except DecompressionBomb:
            raise DecodedTooLarge(f"{name}: decodes to more than {max_size} bytes") from None
        except ValueError as exc:
            raise ContentDecodingError(f"{name}: {exc}") from None

    return decode


def _zlib_or_raw(body: bytes, limit: int) -> bytes:
    # RFC 9110 says zlib format; many servers send raw deflate. A zlib header (RFC 1950: method 8,
    # header a multiple of 31) tells which.
    zlib_header = len(body) >= 2 and body[0] & 0x0F == 8 and int.from_bytes(body[:2], "big") % 31 == 0
    return unzlib(body, limit) if zlib_header else inflate_raw(body, limit)


_DECODERS = {
    "gzip": _bounded("gzip", gunzip),
    "x-gzip": _bounded("gzip", gunzip),
    "deflate": _bounded("deflate", _zlib_or_raw),
    "br": _bounded("br", unbrotli),
    "zstd": _bounded("zstd", unzstd),
}

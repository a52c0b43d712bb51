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

__all__ = ["MAX_DECODED_SIZE", "ContentDecodingError", "decode_content"]

#: Largest decoded body kept; a larger one is a decompression bomb for our purposes.
MAX_DECODED_SIZE = 256 * 1024 * 1024


class ContentDecodingError(ValueError):
    """A body does not decode with the coding its headers declare."""


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


def _bounded(name: str, decompress: Callable[[bytes, int], bytes]) -> Callable[[bytes, int], bytes]:
    """A decoder raising :class:`ContentDecodingError` (naming the coding) for damage and bombs."""

    def decode(body: bytes, max_size: int) -> bytes:
        try:
            return decompress(body, max_size)
        except DecompressionBomb:
            raise ContentDecodingError(f"{name}: decodes to more than {max_size} bytes") from None
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

"""Undo HTTP ``Content-Encoding`` (gzip, deflate, br, zstd), with a bound on the output size.

>>> import gzip
>>> decode_content(gzip.compress(b"hello"), "gzip")
b'hello'
>>> decode_content(b"hello", "identity")
b'hello'
>>> decode_content(b"not gzip", "gzip")
Traceback (most recent call last):
...
toolkit.io.content_encoding.ContentDecodingError: gzip: not a gzip stream
"""

from __future__ import annotations

import zlib

import brotli
import zstandard

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


def _zlib(body: bytes, max_size: int, wbits: int, name: str) -> bytes:
    decompressor = zlib.decompressobj(wbits)
    try:
        out = decompressor.decompress(body, max_size + 1)
    except zlib.error as exc:
        if name == "gzip" and not body.startswith(b"\x1f\x8b"):
            raise ContentDecodingError("gzip: not a gzip stream") from None
        raise ContentDecodingError(f"{name}: {exc}") from None
    if len(out) > max_size:
        raise ContentDecodingError(f"{name}: decodes to more than {max_size} bytes")
    if not decompressor.eof:
        raise ContentDecodingError(f"{name}: stream is truncated")
    return out


def _gzip(body: bytes, max_size: int) -> bytes:
    return _zlib(body, max_size, 16 + zlib.MAX_WBITS, "gzip")


def _deflate(body: bytes, max_size: int) -> bytes:
    # RFC 9110 says zlib format; many servers send raw deflate. A zlib header (RFC 1950: method 8,
    # header a multiple of 31) tells which.
    zlib_header = len(body) >= 2 and body[0] & 0x0F == 8 and int.from_bytes(body[:2], "big") % 31 == 0
    return _zlib(body, max_size, zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS, "deflate")


def _brotli(body: bytes, max_size: int) -> bytes:
    decompressor = brotli.Decompressor()
    try:
        out = decompressor.process(body, output_buffer_limit=max_size + 1)
    except brotli.error as exc:
        raise ContentDecodingError(f"br: {exc}") from None
    if len(out) > max_size:
        raise ContentDecodingError(f"br: decodes to more than {max_size} bytes")
    if not decompressor.is_finished():
        raise ContentDecodingError("br: stream is truncated")
    return out


def _zstd(body: bytes, max_size: int) -> bytes:
    try:  # a stream reader stops at the bound (a one-shot decompress would not)
        out = zstandard.ZstdDecompressor().stream_reader(body).read(max_size + 1)
    except zstandard.ZstdError as exc:
        raise ContentDecodingError(f"zstd: {exc}") from None
    if len(out) > max_size:
        raise ContentDecodingError(f"zstd: decodes to more than {max_size} bytes")
    return out


_DECODERS = {
    "gzip": _gzip,
    "x-gzip": _gzip,
    "deflate": _deflate,
    "br": _brotli,
    "zstd": _zstd,
}

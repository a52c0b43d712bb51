"""Bounded decompression: gzip, zlib, raw deflate, brotli and zstd, never more than a limit out.

Used by the HTTP content decoding of the readers and by the leak engine's transforms, so that a
compression bomb is an error (:class:`DecompressionBomb`) and not an out-of-memory crash.

>>> import gzip
>>> gunzip(gzip.compress(b"hello"))
b'hello'
>>> gunzip(gzip.compress(b"0" * 10_000), limit=100)
Traceback (most recent call last):
...
toolkit.compression.DecompressionBomb: gzip expands beyond 100 bytes
"""

from __future__ import annotations

import zlib

import brotli
import zstandard

__all__ = ["MAX_DECOMPRESSED", "DecompressionBomb", "gunzip", "inflate_raw", "unbrotli", "unzlib", "unzstd"]


#: Default bound on the output of one decompression.
MAX_DECOMPRESSED = 64 * 1024 * 1024


class DecompressionBomb(ValueError):
    """A compressed blob expands beyond the allowed size."""


def _inflate(data: bytes, wbits: int, name: str, limit: int = MAX_DECOMPRESSED, whole: bool = False) -> bytes:
    decompressor = zlib.decompressobj(wbits)
    try:
        out = decompressor.decompress(data, limit + 1)
    except zlib.error as exc:
        raise ValueError(f"not {name}: {exc}") from None
    if len(out) > limit:
        raise DecompressionBomb(f"{name} expands beyond {limit} bytes")
    if not decompressor.eof:
        raise ValueError(f"not {name}: stream is truncated")
    if whole and decompressor.unused_data:
        raise ValueError(f"not {name}: stream ends before the data")
    return out


def gunzip(data: bytes, limit: int = MAX_DECOMPRESSED) -> bytes:
    """Decompress one gzip member (trailing bytes ignored), at most ``limit`` bytes out."""
    return _inflate(data, 16 + zlib.MAX_WBITS, "gzip", limit)


def unzlib(data: bytes, limit: int = MAX_DECOMPRESSED) -> bytes:
    """Decompress a zlib stream, at most ``limit`` bytes out."""
    return _inflate(data, zlib.MAX_WBITS, "zlib", limit)


def inflate_raw(data: bytes, limit: int = MAX_DECOMPRESSED) -> bytes:
    """Decompress raw deflate (no header) that fills ``data`` exactly, at most ``limit`` bytes out.

    Raw deflate has no header to recognise it by; asking that the stream end exactly where the
    data ends rejects most random input that happens to inflate.
    """
    return _inflate(data, -zlib.MAX_WBITS, "deflate", limit, whole=True)


def unbrotli(data: bytes, limit: int = MAX_DECOMPRESSED) -> bytes:
    """Decompress brotli, at most ``limit`` bytes out."""
    decompressor = brotli.Decompressor()
    try:
        out = decompressor.process(data, output_buffer_limit=limit + 1)
    except brotli.error as exc:
        raise ValueError(f"not brotli: {exc}") from None
    if len(out) > limit:
        raise DecompressionBomb(f"brotli expands beyond {limit} bytes")
    if not decompressor.is_finished():
        raise ValueError("not brotli: stream is truncated")
    return out


def unzstd(data: bytes, limit: int = MAX_DECOMPRESSED) -> bytes:
    """Decompress a zstd frame, at most ``limit`` bytes out."""
    try:
        reader = zstandard.ZstdDecompressor().stream_reader(data)
        out = reader.read(limit + 1)
    except zstandard.ZstdError as exc:
        raise ValueError(f"not zstd: {exc}") from None
    if len(out) > limit:
        raise DecompressionBomb(f"zstd expands beyond {limit} bytes")
    return out

"""Content-Encoding decoding, bounded so a compression bomb is an error and not an OOM."""

from __future__ import annotations

import gzip
import zlib

import brotli
import pytest
import zstandard

from toolkit.io.content_encoding import ContentDecodingError, decode_content

PLAIN = b"data_list=" + b"x" * 1000
ENCODED = {
    "gzip": gzip.compress(PLAIN),
    "deflate": zlib.compress(PLAIN),
    "br": brotli.compress(PLAIN),
    "zstd": zstandard.ZstdCompressor().compress(PLAIN),
}


@pytest.mark.parametrize("coding", sorted(ENCODED))
def test_round_trip_and_bomb(coding: str) -> None:
    assert decode_content(ENCODED[coding], coding) == PLAIN
    with pytest.raises(ContentDecodingError, match="more than 100 bytes"):
        decode_content(ENCODED[coding], coding, max_size=100)


def test_raw_deflate_stacked_codings_and_unknown() -> None:
    raw = zlib.compressobj(wbits=-15)
    assert decode_content(raw.compress(PLAIN) + raw.flush(), "deflate") == PLAIN
    assert decode_content(gzip.compress(ENCODED["br"]), "br, gzip") == PLAIN
    with pytest.raises(ContentDecodingError, match="unknown content coding"):
        decode_content(PLAIN, "compress")

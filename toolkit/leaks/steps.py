"""The steps of a leak's ``chain``, named once: each decoding step with the transform family it undoes
and the verb a reader sees, and each structural step (``form:``, ``json:`` ...) with its phrase.

The unwrapper writes these names into chains, the leak search reads them back as encoding layers,
and the figures and the report describe them; none keeps its own list.

>>> from toolkit.leaks.steps import DECODING_STEPS, URLDECODE, describe_step, is_decoding
>>> URLDECODE.name, URLDECODE.family, URLDECODE.verb
('urldecode', 'percent', 'percent-decode')
>>> [describe_step(s) for s in "form:data_list > urldecode > gzip > json:[0].url".split(" > ")]
['form field data_list', 'percent-decode (urldecode)', 'gunzip (gzip)', 'JSON value at [0].url']
>>> is_decoding("gzip"), is_decoding("json:[0].url")
(True, False)

A family is what :mod:`toolkit.leaks.transforms` calls the encoding a step undoes (``quote`` and
``quote_plus`` are both undone by ``urldecode``), so both sides of a finding read in one vocabulary:

>>> from toolkit.leaks.transforms import TRANSFORMS
>>> sorted(n for n, t in TRANSFORMS.items() if t.family == DECODING_STEPS["json_unescape"].family)
['json_escape']
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BASE32",
    "BASE58",
    "BASE64",
    "BROTLI",
    "DECODING_STEPS",
    "DEFLATE",
    "GZIP",
    "HEX",
    "HTML",
    "JSON_UNESCAPE",
    "LZSTRING",
    "STRUCTURES",
    "URLDECODE",
    "ZLIB",
    "ZSTD",
    "DecodingStep",
    "describe_step",
    "is_decoding",
]


@dataclass(frozen=True)
class DecodingStep:
    """One decoding step of a chain."""

    name: str
    """As written in ``leaks.chain`` (``urldecode``)."""
    family: str
    """The transform family it undoes, as :class:`toolkit.leaks.transforms.Transform` names it."""
    verb: str
    """What undoing it means, for a reader (``percent-decode``)."""


URLDECODE = DecodingStep("urldecode", "percent", "percent-decode")
BASE64 = DecodingStep("base64", "base64", "base64-decode")
BASE32 = DecodingStep("base32", "base32", "base32-decode")
BASE58 = DecodingStep("base58", "base58", "base58-decode")
HEX = DecodingStep("hex", "hex", "hex-decode")
HTML = DecodingStep("html", "html", "unescape HTML entities")
JSON_UNESCAPE = DecodingStep("json_unescape", "json_escape", "unescape JSON string")
GZIP = DecodingStep("gzip", "gzip", "gunzip")
ZLIB = DecodingStep("zlib", "zlib", "inflate (zlib)")
DEFLATE = DecodingStep("deflate", "deflate", "inflate (raw deflate)")
BROTLI = DecodingStep("brotli", "brotli", "brotli-decompress")
ZSTD = DecodingStep("zstd", "zstd", "zstd-decompress")
LZSTRING = DecodingStep("lzstring", "lzstring", "LZ-string decompress")

#: Every decoding step, by name.
DECODING_STEPS: dict[str, DecodingStep] = {
    step.name: step
    for step in (
        URLDECODE,
        BASE64,
        BASE32,
        BASE58,
        HEX,
        HTML,
        JSON_UNESCAPE,
        GZIP,
        ZLIB,
        DEFLATE,
        BROTLI,
        ZSTD,
        LZSTRING,
    )
}

#: Structural steps and locations (``PREFIX:NAME``) a reader is told about, by prefix, as a phrase.
STRUCTURES: dict[str, str] = {
    "form": "form field",
    "json": "JSON value at",
    "query": "query parameter",
    "header": "header",
    "cookie": "cookie",
    "multipart": "multipart part",
    "pb": "protobuf field",
}


def is_decoding(step: str) -> bool:
    """``step`` (one step of a chain) undoes an encoding, rather than entering a structure."""
    return step.strip() in DECODING_STEPS


def describe_step(step: str) -> str:
    """One step of a chain (or a location) as a reader reads it; an unknown step as it is.

    >>> describe_step("base64"), describe_step("query:u"), describe_step("segment:2")
    ('base64-decode (base64)', 'query parameter u', 'segment:2')
    """
    step = step.strip()
    if step in DECODING_STEPS:
        return f"{DECODING_STEPS[step].verb} ({step})"
    prefix, _sep, rest = step.partition(":")
    if rest and prefix in STRUCTURES:
        return f"{STRUCTURES[prefix]} {rest}"
    return step

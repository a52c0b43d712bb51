"""Recall: a URL or identifier encoded by any chain of up to 3 transforms (and hash-of-chain),
embedded in any request location, is found, and the finding names exactly that chain.

Chains are drawn as: an optional needle-side fold (lower, upper, punycode), an optional hash of a
supported pre-hash encoding (and, for identifiers, a hash of a hash), then up to 3 layers of
reversible encodings and compressions (text-only encodings only while the value is text). Layers
that leave the value unchanged (``lower`` of lower-case text, punycode of an ASCII host) are not
counted. The embedding's own encoding (a query value is percent-encoded if it needs to be) is an
extra layer the finding must also name. A value is embedded between separators (``v2|...|end``)
except where a decoder cannot delimit it inside longer text (lz-string's URI alphabet, MIME line
breaks, HTML numeric references, and tokens under 16 characters): those fill their location whole.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from urllib.parse import quote, quote_plus

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.leaks.detect import effective_layers, find_leaks
from toolkit.leaks.needles import Expansion
from toolkit.leaks.transforms import HASHES, TRANSFORMS
from toolkit.schema import TABLES

TEXT_ENCODINGS = [
    "quote",
    "quote_plus",
    "quote_lower",
    "quote_all",
    "quote_twice",
    "html",
    "html_numeric",
    "json_escape",
    "lzstring_base64",
    "lzstring_uri",
]
BYTE_ENCODINGS = [
    "base64",
    "base64_nopad",
    "base64url",
    "base64url_nopad",
    "base64_mime",
    "base32",
    "hex",
    "hex_upper",
    "gzip",
    "zlib",
    "deflate",
    "brotli",
    "zstd",
]
COMPRESSIONS = {"gzip", "zlib", "deflate", "brotli", "zstd"}
#: Last layers that a decoder cannot find inside a longer text (no delimiting alphabet).
WHOLE_ONLY = {"lzstring_uri", "base64_mime", "html_numeric"}

label = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=3, max_size=10)
unicode_label = st.text("abcdéüßçñ日本", min_size=2, max_size=6)
segment = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~é ", min_size=1, max_size=12)


@st.composite
def urls(draw: st.DrawFn) -> str:
    host_labels = draw(st.lists(label, min_size=1, max_size=3))
    if draw(st.booleans()):
        host_labels.append(draw(unicode_label))
    host = ".".join([*host_labels, draw(st.sampled_from(["com", "org", "de", "co.uk"]))])
    path = "/".join(quote(s) for s in draw(st.lists(segment, min_size=1, max_size=4)))
    url = f"https://{host}/{path}"
    if draw(st.booleans()):
        url += "?q=" + quote_plus(draw(st.text("abcdefgh ijklmnop", min_size=5, max_size=20)))
    if draw(st.booleans()):
        url += "#" + draw(label)
    return url


# Identifiers are high-entropy values; "0000000000000000" compresses to a 6-character lz-string
# token that no decoder can tell from a word.
identifiers = st.one_of(
    st.text("0123456789abcdef", min_size=16, max_size=16),
    st.uuids().map(str),
    st.builds(lambda a, b: f"{a}@{b}.org", label, label),
).filter(lambda value: len(set(value)) >= 6)


@st.composite
def chains(draw: st.DrawFn, kind: str) -> list[str]:
    expansion = Expansion()
    chain: list[str] = []
    text = True
    if draw(st.booleans()):
        chain.append(draw(st.sampled_from(["lower", "upper", "punycode"] if kind == "url" else ["lower", "upper"])))
    if draw(st.integers(0, 3)) == 0:
        allowed = expansion.url_pre_hash if kind == "url" else expansion.pre_hash
        pre = tuple(chain) if chain else draw(st.sampled_from(allowed))
        if pre in allowed:
            hashes = HASHES if kind == "identifier" else expansion.url_hashes  # URLs: the twelve they had
            chain = [*pre, draw(st.sampled_from(hashes))]
            if kind == "identifier" and not pre and draw(st.booleans()):
                chain.append(draw(st.sampled_from(HASHES)))
    budget = draw(st.integers(0, 3))
    while budget > 0:
        choices = TEXT_ENCODINGS + BYTE_ENCODINGS if text else BYTE_ENCODINGS
        name = draw(st.sampled_from([c for c in choices if budget >= 2 or c != "quote_twice"]))
        chain.append(name)
        budget -= 2 if name == "quote_twice" else 1
        text = name not in COMPRESSIONS
    return chain


def expected_layers(value: bytes, chain: list[str]) -> tuple[bytes, list[str]]:
    """Apply ``chain``; return the result and the families of the layers that changed the value."""
    families: list[str] = []
    for name in chain:
        encoded = TRANSFORMS[name].encode(value)
        if encoded != value:
            family = TRANSFORMS[name].family
            families += [family, family] if name == "quote_twice" else [family]
        value = encoded
    return value, families


def _is_text(data: bytes) -> bool:
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        return False
    return text.isprintable() or set(text) <= set("\r\n" + "".join(map(chr, range(32, 127))))


Embedding = Callable[[str, str, str], tuple[dict[str, object], str, list[str]]]


def _request(**fields: object) -> pd.DataFrame:
    base: dict[str, list[object]] = {
        "url": ["https://collector.tracker-example.net/v1/e"],
        "host": ["collector.tracker-example.net"],
        "method": ["POST"],
        "request_headers": [[("user-agent", "test")]],
        "body": [None],
        "evidence": ["test#entry=0"],
    }
    for key, value in fields.items():
        base[key] = [value]
    return TABLES["requests"].frame(base)


def embed_query(value: str, pre: str, post: str) -> tuple[dict[str, object], str, list[str]]:
    whole = pre + value + post
    encoded = quote(whole, safe="")
    return (
        {"url": f"https://collector.tracker-example.net/v1/e?a=1&data={encoded}"},
        "query:data",
        ["percent"] if encoded != whole else [],
    )


def embed_path(value: str, pre: str, post: str) -> tuple[dict[str, object], str, list[str]]:
    whole = pre + value + post
    encoded = quote(whole, safe="")
    return (
        {"url": f"https://collector.tracker-example.net/v1/{encoded}/e"},
        "url_path",
        ["percent"] if encoded != whole else [],
    )


def embed_header(value: str, pre: str, post: str) -> tuple[dict[str, object], str, list[str]]:
    whole = pre + value + post
    encoded = whole if whole.isascii() and "\n" not in whole else quote(whole, safe="")
    return (
        {"request_headers": [("user-agent", "test"), ("X-Payload", encoded)]},
        "header:x-payload",
        ["percent"] if encoded != whole else [],
    )


def embed_cookie(value: str, pre: str, post: str) -> tuple[dict[str, object], str, list[str]]:
    whole = pre + value + post
    encoded = quote(whole, safe="")
    return (
        {"request_headers": [("Cookie", f"sid=1; track={encoded}; z=2")]},
        "cookie:track",
        ["percent"] if encoded != whole else [],
    )


def embed_form(value: str, pre: str, post: str) -> tuple[dict[str, object], str, list[str]]:
    whole = pre + value + post
    encoded = quote_plus(whole, safe="")
    body = f"crc=12&gzip=1&data_list={encoded}".encode()
    return (
        {"body": body, "content_type": "application/x-www-form-urlencoded"},
        "body",
        ["percent"] if encoded != whole else [],
    )


def embed_json(value: str, pre: str, post: str) -> tuple[dict[str, object], str, list[str]]:
    body = json.dumps([{"event": "view", "properties": {"n": 1, "v": pre + value + post}}]).encode()
    return {"body": body, "content_type": "application/json"}, "body", []


def embed_multipart(value: str, pre: str, post: str) -> tuple[dict[str, object], str, list[str]]:
    body = (
        f'--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--XyZ\r\nContent-Disposition: '
        f'form-data; name="payload"\r\n\r\n{pre}{value}{post}\r\n--XyZ--\r\n'
    ).encode()
    return {"body": body, "content_type": "multipart/form-data; boundary=XyZ"}, "body", []


def embed_xml(value: str, pre: str, post: str) -> tuple[dict[str, object], str, list[str]]:
    from html import escape

    body = f'<?xml version="1.0"?><r><a>1</a><p>{escape(pre + value + post, quote=False)}</p></r>'.encode()
    return {"body": body, "content_type": "text/xml"}, "body", []


def embed_text(value: str, pre: str, post: str) -> tuple[dict[str, object], str, list[str]]:
    return {"body": f"{pre}{value}{post}".encode(), "content_type": "text/plain"}, "body", []


TEXT_EMBEDDINGS = [
    embed_query,
    embed_path,
    embed_header,
    embed_cookie,
    embed_form,
    embed_json,
    embed_multipart,
    embed_xml,
    embed_text,
]
SEPARATORS = st.tuples(st.sampled_from(["", "v2|", "id: ", "x=1;"]), st.sampled_from(["", "|end", " ok", ";"]))


def _binary_body(blob: bytes, wrap: str) -> dict[str, object]:
    body = b"\x08\x96\x01\x12" + _varint(len(blob)) + blob + b"\x18\x01" if wrap == "protobuf" else blob
    return {"body": body, "content_type": "application/octet-stream"}


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def check(
    needle_value: str, kind: str, chain: list[str], embedding_index: int, separators: tuple[str, str], wrap: str
) -> None:
    encoded, families = expected_layers(needle_value.encode(), chain)
    if _is_text(encoded):
        embedding = TEXT_EMBEDDINGS[embedding_index % len(TEXT_EMBEDDINGS)]
        whole = (chain and chain[-1] in WHOLE_ONLY) or len(encoded.rstrip(b"=")) < 16  # short tokens: whole
        pre, post = ("", "") if whole else separators
        fields, location, extra = embedding(encoded.decode(), pre, post)
    else:
        fields, location, extra = _binary_body(encoded, wrap), "body", []
    requests = _request(**fields)
    if kind == "url":
        leaks = find_leaks(requests, visited=[needle_value])
        leaks = leaks[leaks.needle_kind == "url"]
    else:
        leaks = find_leaks(requests, visited=[], identifiers=[f"ID={needle_value}"])
    expected = families + extra
    found = [
        effective_layers(c, m)
        for c, m, loc in zip(leaks.chain, leaks.matched_form, leaks.location, strict=True)
        if loc == location
    ]
    alternatives = [expected]
    if _case_fold_only_touches_escapes(needle_value.encode(), chain):
        # e.g. lower("/%C3%A9") == "/%c3%a9": the same bytes as lower-hex percent-encoding, so
        # either explanation is right.
        alternatives.append(["percent" if f in ("lower", "upper") else f for f in expected])
    assert any(a in found for a in alternatives), f"chain {chain} in {location}: expected {expected}, found {found}"


def _case_fold_only_touches_escapes(value: bytes, chain: list[str]) -> bool:
    """Whether every case fold in ``chain`` changed only the hex digits of %XX escapes."""
    touched = False
    for name in chain:
        encoded = TRANSFORMS[name].encode(value)
        if name in ("lower", "upper") and encoded != value:
            fold = bytes.lower if name == "lower" else bytes.upper
            escapes_only = re.sub(rb"%[0-9A-Fa-f]{2}", lambda m, fold=fold: fold(m.group(0)), value)
            if escapes_only != encoded:
                return False
            touched = True
        value = encoded
    return touched


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(urls(), st.data(), st.integers(0, 100), SEPARATORS, st.sampled_from(["whole", "protobuf"]))
def test_urls_through_chains_are_found_with_their_chain(
    url: str, data: st.DataObject, where: int, separators: tuple[str, str], wrap: str
) -> None:
    check(url, "url", data.draw(chains("url")), where, separators, wrap)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(identifiers, st.data(), st.integers(0, 100), SEPARATORS, st.sampled_from(["whole", "protobuf"]))
def test_identifiers_through_chains_are_found_with_their_chain(
    value: str, data: st.DataObject, where: int, separators: tuple[str, str], wrap: str
) -> None:
    check(value, "identifier", data.draw(chains("identifier")), where, separators, wrap)


def test_mint_browser_chain_is_named_exactly() -> None:
    url = "https://www.example-news.com/a/b.html"
    fields, _, _ = embed_form(
        TRANSFORMS["base64"]
        .encode(TRANSFORMS["gzip"].encode(json.dumps([{"properties": {"url": url}}]).encode()))
        .decode(),
        "",
        "",
    )
    leaks = find_leaks(_request(**fields), visited=[url])
    assert leaks.chain.tolist() == ["form:data_list > urldecode > base64 > gzip > json:[0].properties.url"]
    assert leaks.matched_form.tolist() == ["url"]

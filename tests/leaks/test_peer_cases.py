"""The request-side test cases of two published leak detectors, re-created as our own tests.

Each family names the file its cases come from (facts and test vectors only; the requests here are
built with the standard library and the hash libraries, not with the toolkit's own transforms, so a
wrong transform fails its case). Families and who finds them are tabled in ``bench/README.md``.

* LeakDetector (Englehardt et al., "I never signed up for this!", PETS 2018): the URL cases of
  ``citp/no-boundaries`` ``test/test_leakdetector.py``, and the hashes and encodings its detector
  chains (``analysis/LeakDetector.py`` there; the Python 3 port ``leaky-forms/leaky-forms``
  ``leak-detector/LeakDetector.py``: ``HASHES``, ``ENCODINGS_NO_ROT``, ``sha_salted_1``).
* value-searcher (stevenwdv/value-searcher): ``test/src/valueSearcher.spec.ts``, "constructed test
  cases" with a text value, encoders applied innermost first.

Cases about body splitting (binary multipart parts) are h-bodies' (issue 15) and not here.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import html
import json
import random
import re
import zlib
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

import mmh3
import pandas as pd
import pytest
from Crypto.Hash import MD2, MD4, RIPEMD160

import toolkit
from toolkit.cli import main
from toolkit.errors import CaptureError
from toolkit.leaks import lzstring
from toolkit.leaks.detect import effective_layers, find_leaks
from toolkit.leaks.needles import Expansion
from toolkit.schema import TABLES

#: The address LeakDetector's tests search for (no-boundaries test/test_leakdetector.py URLs).
EMAIL = "randomtestuser.1234@gmail.com"


def _requests(
    url: str, body: bytes | None = None, headers: list[tuple[str, str]] | None = None, content_type: str | None = None
) -> pd.DataFrame:
    row = {
        "url": url,
        "host": urlsplit(url).hostname,
        "method": "POST" if body else "GET",
        "request_headers": headers or [],
        "body": body,
        "content_type": content_type,
        "evidence": "peer#1",
    }
    return TABLES["requests"].frame({k: [v] for k, v in row.items()})


def _found(requests: pd.DataFrame, value: str = EMAIL, expansion: Expansion | None = None) -> pd.DataFrame:
    leaks = find_leaks(requests, visited=[], identifiers={"email": value}, expansion=expansion)
    return leaks[leaks.needle_kind == "identifier"]


# --- LeakDetector: its URL test cases (no-boundaries test/test_leakdetector.py) -----------------

# The four tracker URLs of that test, shortened to the parts that carry the address.
LEAKDETECTOR_URLS = [
    # the address percent-encoded twice inside a form-encoded query value
    "https://d.adroll.com/emailc/FYTZRQUEVVGS7EWCIOE64A/MNBMU5UBV5A6DJOSTXTI32?pv=69385629193.64719"
    "&adroll_external_data=shotgun%3D1%26adroll_email%3Drandomtestuser.1234%2540gmail.com%26input_id%3Demail",
    # the address verbatim in a URL inside a query value
    "http://cspix.media6degrees.com/orbserv/hbpix?pixId=1598&pcv=45&curl=http://www.fodors.com/newsletter"
    "/thanks/?source=header?email=randomtestuser.1234@gmail.com&ptid=100",
    # the address percent-encoded inside a path in a query value
    "https://www.dice.com/config/dice/api.json?path=%2Fvalidations%2Femail%2Frandomtestuser.1234%40gmail.com",
    # ';'-separated parameters, the address percent-encoded in one of them
    "http://pixel.quantserve.com/pixel;r=1985358177;a=p-d0i2EbAMl-wE2;url=http%3A%2F%2Fwww.fodors.com%2F"
    "newsletter%2Fthanks%2F%3Fsource%3Dheader%3Femail%3Drandomtestuser.1234%40gmail.com;ogl=title.Subscribe",
]


@pytest.mark.parametrize("url", LEAKDETECTOR_URLS, ids=["adroll", "media6degrees", "dice", "quantserve"])
def test_leakdetector_url_cases(url: str) -> None:
    found = _found(_requests(url))
    assert not found.empty
    assert set(found.needle) == {EMAIL}


# --- LeakDetector: the hashes it chains (leaky-forms HASHES, no-boundaries Hasher) --------------

_E = EMAIL.encode()


def _hexdigest(name: str) -> Callable[[bytes], str]:
    if name == "md2":
        return lambda data: MD2.new(data).hexdigest()
    if name == "md4":
        return lambda data: MD4.new(data).hexdigest()
    if name == "ripemd160":
        return lambda data: RIPEMD160.new(data).hexdigest()
    return lambda data: hashlib.new(name, data).hexdigest()


#: LeakDetector's hash functions as it writes them (decimal strings for MurmurHash3 and checksums).
LEAKDETECTOR_HASHES: dict[str, Callable[[bytes], str]] = {
    **{
        name: _hexdigest(name)
        for name in (
            "md2",
            "md4",
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
            "ripemd160",
            "blake2b",
            "blake2s",
        )
    },
    "mmh3_32": lambda data: str(mmh3.hash(data)),
    "mmh3_64_1": lambda data: str(mmh3.hash64(data)[0]),
    "mmh3_64_2": lambda data: str(mmh3.hash64(data)[1]),
    "mmh3_128": lambda data: str(mmh3.hash128(data)),
    "crc32": lambda data: str(zlib.crc32(data)),
    "adler32": lambda data: str(zlib.adler32(data)),
}


@pytest.mark.parametrize("name", sorted(LEAKDETECTOR_HASHES))
def test_leakdetector_hashes(name: str) -> None:
    digest = LEAKDETECTOR_HASHES[name](_E)
    found = _found(_requests(f"https://t.tracker.example/p?uid={digest}&v=1"))
    assert list(found.matched_form) == [f"{name}(email)"]
    upper = LEAKDETECTOR_HASHES[name](EMAIL.upper().encode())  # it also hashes the upper-case address
    found = _found(_requests(f"https://t.tracker.example/p?uid={upper}&v=1"))
    assert list(found.matched_form) == [f"{name}(upper(email))"]


@pytest.mark.parametrize(
    ("inner", "outer"),
    [
        ("md5", "sha256"),
        ("sha1", "md5"),
        ("md4", "sha1"),
        ("ripemd160", "sha512"),
        ("md2", "md5"),
        ("md5", "mmh3_128"),
        ("mmh3_128", "md5"),
        ("crc32", "sha1"),
        ("sha256", "mmh3_64_1"),
    ],
)
def test_leakdetector_two_hash_layers(inner: str, outer: str) -> None:
    digest = LEAKDETECTOR_HASHES[outer](LEAKDETECTOR_HASHES[inner](_E).encode())
    found = _found(_requests("https://t.tracker.example/c", body=json.dumps({"h": digest}).encode()))
    assert list(found.matched_form) == [f"{outer}({inner}(email))"]


def test_three_hash_layers() -> None:
    # no-boundaries' test builds its detector with hash_layers=3
    digest = hashlib.sha256(hashlib.sha1(hashlib.md5(_E).hexdigest().encode()).hexdigest().encode()).hexdigest()
    found = _found(_requests(f"https://t.tracker.example/p?e={digest}"))
    assert list(found.matched_form) == ["sha256(sha1(md5(email)))"]
    assert _found(_requests(f"https://t.tracker.example/p?e={digest}"), expansion=Expansion(hash_layers=2)).empty


def test_leakdetector_salted_hash() -> None:
    # leaky-forms' sha_salted_1: SHA-256 of the address followed by the salt "QX4QkKEU"
    digest = hashlib.sha256(_E + b"QX4QkKEU").hexdigest()
    requests = _requests(f"https://t.tracker.example/p?e={digest}")
    assert _found(requests).empty  # a salt must be given
    found = _found(requests, expansion=Expansion(salts=("QX4QkKEU",)))
    assert list(found.matched_form) == ["sha256(salt_after(email))"]
    before = hashlib.sha1(b"QX4QkKEU" + _E).hexdigest()
    found = _found(_requests(f"https://t.tracker.example/p?e={before}"), expansion=Expansion(salts=("QX4QkKEU",)))
    assert list(found.matched_form) == ["sha1(salt_before(email))"]


# --- LeakDetector: its encodings (ENCODINGS_NO_ROT), on the address and on its hashes -----------


def _b58(data: bytes) -> str:
    # Bitcoin alphabet, written out here rather than taken from the toolkit
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    number, out = int.from_bytes(data, "big"), ""
    while number:
        number, digit = divmod(number, 58)
        out = alphabet[digit] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def _lz_uri(text: str) -> str:
    return lzstring.compress_to_uri_component(text)  # checked against lz-string's own vectors in test_transforms


_SHA1 = hashlib.sha1(_E).hexdigest()
_MD5 = hashlib.md5(_E).hexdigest()
LEAKDETECTOR_ENCODINGS: dict[str, tuple[str, list[str]]] = {
    # name: (query value, the layers the finding must name, first applied first)
    "base16": (base64.b16encode(_E).decode(), ["hex"]),
    "base32": (base64.b32encode(_E).decode(), ["base32"]),
    "base58": (_b58(_E), ["base58"]),
    "base64": (base64.b64encode(_E).decode(), ["base64"]),
    "urlencode": (quote(quote_plus(EMAIL), safe=""), ["percent", "percent"]),
    "entity": (quote(html.escape("<" + EMAIL + ">"), safe=""), ["html", "percent"]),
    "lzstring": (_lz_uri(EMAIL), ["lzstring"]),
    "base64(base64)": (base64.b64encode(base64.b64encode(_E)).decode(), ["base64", "base64"]),
    "base58(base64)": (_b58(base64.b64encode(_E)), ["base64", "base58"]),
    "base64(base58)": (base64.b64encode(_b58(_E).encode()).decode(), ["base58", "base64"]),
    "base32(base16)": (base64.b32encode(base64.b16encode(_E)).decode(), ["hex", "base32"]),
    "base64(gzip)": (base64.b64encode(gzip.compress(_E, mtime=0)).decode(), ["gzip", "base64"]),
    "base64(zlib)": (base64.b64encode(zlib.compress(_E)).decode(), ["zlib", "base64"]),
    "base64(deflate)": (base64.b64encode(zlib.compress(_E, wbits=-15)).decode(), ["deflate", "base64"]),
    "base64(sha1)": (base64.b64encode(_SHA1.encode()).decode(), ["sha1", "base64"]),
    "base58(md5)": (_b58(_MD5.encode()), ["md5", "base58"]),
    "base32(sha1)": (base64.b32encode(_SHA1.encode()).decode(), ["sha1", "base32"]),
    "lzstring(md5)": (_lz_uri(_MD5), ["md5", "lzstring"]),
}


@pytest.mark.parametrize("name", sorted(LEAKDETECTOR_ENCODINGS))
def test_leakdetector_encodings(name: str) -> None:
    value, layers = LEAKDETECTOR_ENCODINGS[name]
    found = _found(_requests(f"https://t.tracker.example/p?d={value}&v=1"))
    named = [effective_layers(chain, form) for chain, form in zip(found.chain, found.matched_form, strict=True)]
    assert layers in named, named


@pytest.mark.parametrize("where", ["cookie", "referer", "post"])
def test_leakdetector_locations(where: str) -> None:
    # it searches URLs, Cookie headers, Referer headers and POST bodies
    token = base64.b64encode(hashlib.sha256(_E).hexdigest().encode()).decode()
    headers = {
        "cookie": [("Cookie", f"_t={token}; x=1")],
        "referer": [("Referer", f"https://shop.example/?e={token}")],
    }.get(where, [])
    body = f"a=1&e={token}".encode() if where == "post" else None
    found = _found(_requests("https://t.tracker.example/p", body, headers, "application/x-www-form-urlencoded"))
    assert list(found.matched_form) == ["sha256(email)"]


# --- raw digests (issue 15): the hash's bytes rather than its hex ------------------------------

_RAW = hashlib.sha256(_E).digest()
RAW_DIGEST_CASES: dict[str, tuple[str, bytes | None, str, str]] = {
    # name: (URL, body, expected matched form, expected chain)
    "base64(sha256)": (
        f"https://t.example/p?h={quote(base64.b64encode(_RAW).decode(), safe='')}",
        None,
        "sha256_raw(email)",
        "urldecode > base64",
    ),
    "base64url(sha256)": (
        f"https://t.example/p?h={base64.urlsafe_b64encode(_RAW).decode().rstrip('=')}",
        None,
        "sha256_raw(email)",
        "base64",
    ),
    "binary body": ("https://t.example/p", b"\x00\x07" + _RAW + b"\xff", "sha256_raw(email)", ""),
    "hash of base64": (
        f"https://t.example/p?h={base64.b64encode(hashlib.md5(base64.b64encode(_E)).digest()).decode()}",
        None,
        "md5_raw(base64(email))",
        "base64",
    ),
    # gzip as zlib (and Node's zlib.gzipSync) writes it: level 6, zlib's own header
    "hash of gzip": (
        f"https://t.example/p?h={hashlib.sha1(zlib.compress(_E, wbits=31)).hexdigest()}",
        None,
        "sha1(gzip(email))",
        "",
    ),
    "raw of raw": (
        f"https://t.example/p?h={base64.b64encode(hashlib.sha256(_RAW).digest()).decode()}",
        None,
        "sha256_raw(sha256_raw(email))",
        "base64",
    ),
    "base58(sha1)": (f"https://t.example/p?h={_b58(hashlib.sha1(_E).digest())}", None, "sha1_raw(email)", "base58"),
}


@pytest.mark.parametrize("name", sorted(RAW_DIGEST_CASES))
def test_raw_digests(name: str) -> None:
    url, body, form, chain = RAW_DIGEST_CASES[name]
    found = _found(_requests(url, body))
    assert list(found.matched_form) == [form], found[["matched_form", "chain"]].values.tolist()
    assert found.chain.iloc[0].endswith(chain)


# --- value-searcher: constructed test cases with a text value (valueSearcher.spec.ts) ------------

VALUE = '"hi /& hello!"\n 😎'


def _str(data: bytes) -> str:
    return data.decode("utf-8", "surrogatepass")  # lz-string's UTF-16 form may hold lone surrogates


def _js_component(text: str) -> str:
    return quote(text, safe="!'()*~")  # encodeURIComponent


def _vs(name: str) -> Callable[[bytes], bytes]:
    """value-searcher's encoders, by its names, on bytes (text is UTF-8)."""
    encoders: dict[str, Callable[[bytes], bytes]] = {
        "hash": lambda b: hashlib.sha256(b).digest(),
        "base64": base64.b64encode,
        "hex": lambda b: b.hex().encode(),
        "url": lambda b: f"https://example.com/?stuff={_js_component(_str(b))}&more=idk".encode(),
        "urlForm": lambda b: f"stuff={_js_component(_str(b)).replace('%20', '+')}&more=idk".encode(),
        "json": lambda b: json.dumps({"stuff": b.decode(), "more": "idk"}, ensure_ascii=False).encode(),
        "htmlElem": lambda b: (
            b"<stuff>"
            + b.replace(b"&", b"&amp;").replace(b"<", b"&lt;").replace(b">", b"&gt;")
            + b"</stuff><more>idk</more>"
        ),
        "htmlAttr": lambda b: (
            b'<elem stuff="' + html.escape(b.decode()).replace("&#x27;", "&apos;").encode() + b'" more="idk"/>'
        ),
        "lzText": lambda b: lzstring.compress_to_uint8array(b.decode()),
        "utf16LzText": lambda b: lzstring.compress_to_utf16(b.decode()).encode("utf-8", "surrogatepass"),
        "base64LzText": lambda b: lzstring.compress_to_base64(b.decode()).encode(),
        "gzip": lambda b: gzip.compress(b, mtime=0),
        "deflateRaw": lambda b: zlib.compress(b, wbits=-15),
        "surrounded": lambda b: b"stuff=" + b + b"; more=idk",
        "multipartTextForm": lambda b: (
            b"--0.5\r\nContent-Disposition: form-data; name=stuff\r\n\r\n"
            + b
            + b"\r\n--0.5\r\nContent-Disposition: form-data; name=more\r\n\r\nidk\r\n--0.5--"
        ),
    }
    return encoders[name]


#: Its cases, outermost encoder first, that we find (the text value; its binary value is not a
#: text needle). Left out, and counted in bench/README.md: [multipartBinaryForm, deflateRaw, json,
#: htmlAttr] (a binary multipart part, h-bodies) and [hex, hash, base64, hash, gzip] (a hash of an
#: encoding of a hash: beyond the needle side's chains).
VALUE_SEARCHER_CASES = [
    [],
    ["base64"],
    ["hex"],
    ["url"],
    ["urlForm"],
    ["json"],
    ["htmlElem"],
    ["htmlAttr"],
    ["lzText"],
    ["utf16LzText"],
    ["base64LzText"],
    ["gzip"],
    ["deflateRaw"],
    ["surrounded", "base64"],
    ["surrounded", "hex"],
    ["surrounded", "url"],
    ["surrounded", "urlForm"],
    ["surrounded", "json"],
    ["surrounded", "htmlElem"],
    ["surrounded", "htmlAttr"],
    ["surrounded", "base64LzText"],
    ["gzip", "json"],
    ["base64", "lzText", "url", "json"],
    ["base64LzText", "url", "json"],
    ["base64", "lzText", "json", "htmlAttr"],
    ["urlForm", "utf16LzText", "url", "json"],
    ["multipartTextForm", "utf16LzText", "json", "htmlElem"],
    ["surrounded", "url", "surrounded", "json"],
    # with its hash (SHA-256, raw bytes) among the layers
    ["hash"],
    ["hex", "hash"],
    ["gzip", "base64", "hash"],
    ["hash", "base64"],
    ["hex", "hash", "base64"],
    ["base64", "hash", "deflateRaw"],
    ["base64", "hash", "lzText"],
    ["base64", "hash", "base64LzText"],
    ["hash", "hash"],
]


@pytest.mark.parametrize("encoders", VALUE_SEARCHER_CASES, ids=lambda e: "-".join(e) or "direct")
def test_value_searcher_cases(encoders: list[str]) -> None:
    body = VALUE.encode()
    for name in reversed(encoders):
        body = _vs(name)(body)
    content_type = "multipart/form-data; boundary=0.5" if encoders[:1] == ["multipartTextForm"] else None
    found = _found(_requests("https://t.example/collect", body, content_type=content_type), VALUE)
    assert not found.empty, f"{encoders}: not found"


def test_cli_salt_option(tmp_path: Path) -> None:
    digest = hashlib.md5(b"pepper" + _E).hexdigest()
    entry = {
        "startedDateTime": "2024-01-01T00:00:00Z",
        "time": 1,
        "request": {
            "method": "GET",
            "url": f"https://t.tracker.example/p?e={digest}",
            "httpVersion": "HTTP/1.1",
            "headers": [],
            "queryString": [],
            "cookies": [],
            "headersSize": -1,
            "bodySize": 0,
        },
        "response": {
            "status": 204,
            "statusText": "",
            "httpVersion": "HTTP/1.1",
            "headers": [],
            "cookies": [],
            "content": {"size": 0, "mimeType": "text/plain"},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": 0,
        },
        "cache": {},
        "timings": {"send": 0, "wait": 0, "receive": 0},
    }
    har = tmp_path / "salted.har"
    har.write_text(
        json.dumps({"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": [entry]}})
    )
    for salts, expected in (([], []), (["--salt", "pepper"], ["md5(salt_before(email))"])):
        out = tmp_path / f"out{len(salts)}"
        assert main(["analyze", str(har), "--out", str(out), "--id", f"email={EMAIL}", *salts]) == 0
        assert pd.read_csv(out / "leaks.csv")["matched_form"].tolist() == expected


# --- the negative set: each capture searched for values taken from the other captures -----------

_TOKEN = re.compile(r"^[A-Za-z0-9._@:+/=-]{10,80}$")


def _values_of(requests: pd.DataFrame) -> set[str]:
    """Query and cookie values of a capture that look like identifiers (10 to 80 token characters,
    letters and digits both)."""
    out: set[str] = set()
    for url, cookies in zip(requests["url"], requests["cookies"], strict=True):
        pairs = parse_qsl(urlsplit(str(url)).query) if isinstance(url, str) else []
        pairs += [(str(k), str(v)) for k, v in (cookies if cookies is not None else [])]
        for _name, value in pairs:
            if _TOKEN.match(value) and re.search(r"[A-Za-z]", value) and re.search(r"[0-9]", value):
                out.add(value)
    return out


@pytest.mark.slow
def test_no_false_positives_with_other_captures_values(corpus: Path) -> None:
    files = sorted(p for p in (corpus / "har").glob("*.har") if "malformed" not in p.name)
    captures = {}
    for path in files:
        try:
            capture = toolkit.load(path)
        except CaptureError:
            continue
        if not capture.requests.empty:
            captures[path.name] = capture
    values = {name: _values_of(c.requests) for name, c in captures.items()}
    rng = random.Random(15)
    searched = 0
    for name, capture in captures.items():
        raw = b"\n".join(_request_bytes(capture.requests)).lower()
        others = sorted(v for other, vs in values.items() if other != name for v in vs)
        # a value that is in this capture as such is no negative: it may really be here
        chosen = [v for v in rng.sample(others, min(16, len(others))) if v.lower().encode() not in raw]
        if not chosen:
            continue
        searched += len(chosen)
        identifiers = {f"v{i}": v for i, v in enumerate(chosen)}
        leaks = find_leaks(capture, visited=[], identifiers=identifiers)
        assert leaks.empty, f"{name}: {leaks[['needle', 'matched_form', 'location', 'chain']].values.tolist()}"
    assert searched > 300, searched


def _request_bytes(requests: pd.DataFrame) -> list[bytes]:
    out = []
    for url, headers, body in zip(requests["url"], requests["request_headers"], requests["body"], strict=True):
        out.append(str(url).encode("utf-8", "surrogateescape"))
        out.extend(f"{k}: {v}".encode("utf-8", "surrogateescape") for k, v in (headers if headers is not None else []))
        if isinstance(body, bytes):
            out.append(body)
    return out


def test_short_checksums_match_only_standing_alone() -> None:
    crc = str(zlib.crc32(_E))
    assert list(_found(_requests(f"https://t.tracker.example/p?c={crc}&v=1")).matched_form) == ["crc32(email)"]
    for embedded in (f"17{crc}", f"{crc}9", f"x{crc}", f"{zlib.crc32(_E):08x}ab"):
        assert _found(_requests(f"https://t.tracker.example/p?c={embedded}&v=1")).empty, embedded

"""What to look for: visited URLs and their parts, search terms, identifiers, and their forms.

Why one module: every kind of needle (URL and its parts, search term, identifier) is expanded into
patterns by the same :class:`Expansion` settings defined here.

A :class:`Needle` is one value worth finding (a full URL, its host, a search term, an ANDROID_ID);
a :class:`Pattern` is one byte string to search for, made by applying needle-side transforms
(case folds, percent-encoding, base64 at its three alignments, hex, hashes ...) to a needle.

>>> needles = url_needles("https://www.example-search.com/search?q=hiv+test#top")
>>> for needle in needles[:3]:
...     print(needle.form, needle.value)
url https://www.example-search.com/search?q=hiv+test#top
url_no_fragment https://www.example-search.com/search?q=hiv+test
no_scheme www.example-search.com/search?q=hiv+test
>>> [(n.kind, n.value, n.severity) for n in needles if n.kind == "search_term"]
[('search_term', 'hiv test', 'search_term')]
>>> [n.value for n in identifier_needles("latitude", "48.856613")]
['48.856613', '48.8566', '48.857', '48.856', '48.86', '48.85']
>>> forms = {p.matched_form for p in expand(identifier_needles("ANDROID_ID", "9774d56d682e549c")[0])}
>>> {"ANDROID_ID", "sha256(ANDROID_ID)", "md5(sha1(ANDROID_ID))", "base64(ANDROID_ID)"} <= forms
True
"""

from __future__ import annotations

import base64
import binascii
import csv
import functools
import io
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

from toolkit.leaks.transforms import CHECKSUMS, HASHES, RAW_DIGESTS, TRANSFORMS, salted
from toolkit.userfiles import read_user_bytes

_IDENTIFIER_ONLY_HASHES = ("md4", "ripemd160", "md2")  # each hash costs patterns per URL form

__all__ = [
    "MAX_VISITED_BYTES",
    "SEARCH_PARAMETERS",
    "Expansion",
    "Needle",
    "Pattern",
    "expand",
    "identifier_needles",
    "is_search_page",
    "meaningful_term",
    "parse_identifiers",
    "read_visited",
    "url_needles",
]

#: Query parameter names that carry a search term on common search engines and sites.
SEARCH_PARAMETERS = frozenset(
    {
        "q",
        "query",
        "search",
        "search_query",
        "searchterm",
        "keyword",
        "keywords",
        "wd",
        "word",
        "text",
        "p",
        "k",
        "term",
        "s",
        "kw",
        "qs",
        "oq",
    }
)

#: A browsing log larger than this is refused (a log of a million visits is some 100 MB less).
MAX_VISITED_BYTES = 64 * 1024 * 1024

_URL_SAFE = ":/?#[]@!$&'()*+,;=~-._%"

#: Shortest needle value searched for; shorter values match by chance.
MIN_NEEDLE_LENGTH = 4


@dataclass(frozen=True, slots=True)
class Needle:
    """One value worth finding."""

    kind: str
    """``url``, ``url_part``, ``search_term``, ``host`` or ``identifier``."""
    value: str
    """The value itself."""
    form: str
    """Which part of the source it is (``url``, ``host_path``, ``query:q``) or the identifier name."""
    source: str
    """The visited URL it was derived from, or the identifier name."""
    severity: str
    """``full_url``, ``path``, ``search_term``, ``domain`` or ``identifier``."""
    inferred: bool = False
    """The visited URL was inferred from the capture, not given by the user."""


@dataclass(slots=True, unsafe_hash=True)
class Pattern:
    """One byte string to search for, and how it was made from its needle.

    A value, hashed by its fields, never changed once made; not a frozen dataclass only because an
    index makes some 10^5 of them and a frozen one's ``__init__`` takes three times as long.
    """

    data: bytes
    needle: Needle
    transforms: tuple[str, ...] = ()
    """Needle-side transforms, first applied first."""
    bounded: bool = False
    """Matches only where no ASCII letter or digit touches it (short checksums: ``crc32``)."""

    @property
    def raw(self) -> bool:
        """A raw digest is among the transforms (``sha256_raw``)."""
        return any(name.endswith("_raw") for name in self.transforms)

    @property
    def matched_form(self) -> str:
        """``sha256(base64(url))``: the transforms written around the needle's form name."""
        text = self.needle.form
        for name in self.transforms:
            text = f"{name}({text})"
        return text


@dataclass(frozen=True)
class Expansion:
    """Which needle-side forms to generate (the decoding side handles deeper chains).

    Hash chains are written first applied first: ``pre_hash`` encodings, then up to
    ``hash_layers`` hashes (``sha256(sha1(md5(x)))`` is three). Every hash is searched as hex
    (``sha256``), upper-case hex and raw digest (``sha256_raw``: its bytes as such in a binary body,
    or under any encoding the decoding side undoes, such as base64 or base64url).

    >>> needle = identifier_needles("email", "someone@example.org")[0]
    >>> forms = {p.matched_form for p in expand(needle, Expansion(salts=("pepper",)))}
    >>> {"sha256(sha1(md5(email)))", "sha256_raw(email)", "sha256(salt_after(email))"} <= forms
    True
    >>> len(expand(needle, Expansion(hash_layers=2))) < len(expand(needle))
    True
    """

    hashes: tuple[str, ...] = HASHES
    """Hash functions to search for."""
    hash_layers: int = 3
    """1: ``sha256(x)``; 2: also ``md5(sha1(x))``; 3: also ``sha256(sha1(md5(x)))`` (identifiers only)."""
    nested_hashes: tuple[str, ...] = ("md5", "sha1", "sha256")
    """Hashes combined beyond two layers, and with a raw digest inside (``sha256_raw(sha256_raw(x))``):
    the number of patterns grows as their count to the power of the layers."""
    raw_digests: bool = True
    """Search raw digests (``sha256_raw``) as well as hex ones."""
    checksums: tuple[str, ...] = CHECKSUMS
    """CRC-32, Adler-32 and MurmurHash3 forms searched for (identifiers only: the value, its lower
    and upper case, and inside or around a hash in two layers)."""
    salts: tuple[str, ...] = ()
    """Researcher-given salts, hashed before and after the value (``sha256(salt_after(email))``)."""
    pre_hash: tuple[tuple[str, ...], ...] = (
        (),
        ("lower",),
        ("upper",),
        ("base64",),
        ("base64url_nopad",),
        ("quote",),
        ("hex",),
        ("lower", "base64"),
        ("gzip",),
        ("deflate",),
        ("zlib",),
        ("lzstring_base64",),
        ("lzstring_uint8array",),
    )
    """Encodings applied before hashing (hash-of-encoding chains)."""
    url_pre_hash: tuple[tuple[str, ...], ...] = ((), ("lower",), ("quote",), ("base64",))
    """The same for full URLs (there are many more URLs than identifiers)."""
    url_hashes: tuple[str, ...] = tuple(name for name in HASHES if name not in _IDENTIFIER_ONLY_HASHES)
    """Hash functions searched for full URLs (md2, md4, ripemd160 are for identifiers: each hash
    costs four patterns per URL form, and there are thousands of URL forms)."""
    url_raw_digests: tuple[str, ...] = ("md5", "sha1", "sha256")
    """Hashes whose raw digests are searched for full URLs (plain URL only)."""
    nested_checksums: tuple[str, ...] = ("crc32", "adler32", "mmh3_32", "mmh3_64_1", "mmh3_64_2", "mmh3_128")
    """Checksums combined with a hash in two layers (LeakDetector's: ``md5(mmh3_128(x))``)."""
    hashed_kinds: frozenset[str] = field(default_factory=lambda: frozenset({"identifier", "url"}))
    """Needle kinds whose hashes are searched for."""


_TEXT_FORMS: tuple[tuple[str, ...], ...] = (
    (),
    ("lower",),
    ("upper",),
    ("punycode",),
    ("quote",),
    ("quote_plus",),
    ("quote_uri",),
    ("quote_lower",),
    ("quote_all",),
    ("quote_twice",),
    ("base32",),
    ("hex",),
    ("hex_upper",),
    ("html",),
    ("html_numeric",),
    ("json_escape",),
    ("lower", "quote"),
    ("lower", "quote_plus"),
    ("quote_js",),
    ("quote_js_plus",),
)
#: Text forms of identifiers only (a URL's base58 form is long and no sender is known to use it).
_IDENTIFIER_TEXT_FORMS: tuple[tuple[str, ...], ...] = (("base58",),)


def _base64_aligned(data: bytes) -> list[bytes]:
    """The base64 text of ``data`` at each of the 3 byte offsets inside a longer base64 text.

    Characters that depend on unknown neighbouring bytes are cut off both ends.
    """
    out = []
    for offset in range(3):
        text = base64.b64encode(b"\0" * offset + data)
        start = (offset * 4 + 2) // 3
        end = (offset + len(data)) // 3 * 4
        if end - start >= 4:
            out.append(text[start:end])
    return out


#: base64 to base64url (RFC 4648 section 5): the same text but for these two characters.
_URLSAFE = bytes.maketrans(b"+/", b"-_")


_Form = tuple[tuple[str, ...], bool]
"""How a pattern is made: its needle-side transforms and whether it is ``bounded``."""

_TextForm = tuple[tuple[str, ...], _Form, Callable[[bytes], bytes] | None]
"""A text form's chain, its (shared) form, and its transform if it is one step."""


def _text_forms(chains: Sequence[tuple[str, ...]]) -> tuple[_TextForm, ...]:
    return tuple((chain, (chain, False), TRANSFORMS[chain[0]].encode if len(chain) == 1 else None) for chain in chains)


#: The text forms of needles of other kinds and of identifiers.
_TEXT = _text_forms(_TEXT_FORMS)
_IDENTIFIER_TEXT = _text_forms((*_TEXT_FORMS, *_IDENTIFIER_TEXT_FORMS))
_BASE64_FORM: _Form = (("base64",), False)
_BASE64URL_FORM: _Form = (("base64url",), False)
_FOLDS = ("lower", "upper", "punycode")


def expand(needle: Needle, expansion: Expansion = Expansion()) -> list[Pattern]:
    """All patterns for one needle, without duplicate byte strings (the simplest form wins).

    >>> [p.matched_form for p in expand(Needle("identifier", "ab cd", "x", "x", "identifier"))][:4]
    ['x', 'upper(x)', 'quote(x)', 'quote_plus(x)']
    """
    datas, forms = _forms(needle.kind, needle.value.encode("utf-8"), expansion)
    # the first of equal byte strings wins: the index of each one's first occurrence, in their order
    first = dict(zip(reversed(datas), range(len(datas) - 1, -1, -1), strict=True))
    order = sorted(first.values()) if len(first) < len(datas) else range(len(datas))
    return [Pattern(datas[i], needle, *forms[i]) for i in order if len(datas[i]) >= MIN_NEEDLE_LENGTH]


def _forms(kind: str, raw: bytes, expansion: Expansion) -> tuple[list[bytes], list[_Form]]:
    """The byte strings searched for a needle of ``kind`` and value ``raw``, each with its form, in
    the order of preference (simplest first), duplicates included."""
    datas: list[bytes] = []
    forms: list[_Form] = []
    encoded, done = _chain_encoder(raw)
    identifier = kind == "identifier"
    for chain, form, step in _IDENTIFIER_TEXT if identifier else _TEXT:
        if step is not None:
            data = done[chain] = step(raw)
        else:
            data = encoded(chain)
        if chain and chain[-1] in _FOLDS and data == raw:
            continue
        datas.append(data)
        forms.append(form)
    aligned = _base64_aligned(raw)
    datas += aligned
    forms += [_BASE64_FORM] * len(aligned)
    datas += [text.translate(_URLSAFE) for text in aligned]
    forms += [_BASE64URL_FORM] * len(aligned)
    if kind in expansion.hashed_kinds:
        for chain in expansion.pre_hash if identifier else expansion.url_pre_hash:
            data = encoded(chain)
            if chain and data == raw:
                continue
            _add_hashes(datas, forms, data, _hash_steps(expansion, chain, identifier, identifier or not chain))
        if identifier:
            _add_layers(datas, forms, raw, expansion)
            for salt in expansion.salts:
                for position in ("before", "after"):
                    fold = salted(salt, position)
                    steps = _hash_steps(expansion, (fold.name,), True, True)
                    _add_hashes(datas, forms, fold.encode(raw), steps)
            for chain in ((), ("lower",), ("upper",)):
                data = encoded(chain)
                if chain and data == raw:
                    continue
                for name in expansion.checksums:
                    digest = TRANSFORMS[name].encode(data)
                    datas.append(digest)
                    forms.append(((*chain, name), len(digest) < 16))
    return datas, forms


def _chain_encoder(raw: bytes) -> tuple[Callable[[tuple[str, ...]], bytes], dict[tuple[str, ...], bytes]]:
    """``encoded(chain)``: ``raw`` through the transforms of ``chain``, each chain once (chains share
    their first steps), and a step after a fold that left the value as it is not done again; and
    the chains done so far, by chain (for the caller to add to). Not recursive: a closure that
    calls itself is a reference cycle, left to the cyclic collector (paused while an index is built)."""
    done: dict[tuple[str, ...], bytes] = {(): raw}

    def encoded(chain: tuple[str, ...]) -> bytes:
        data = done.get(chain)
        if data is not None:
            return data
        start = len(chain) - 1
        while chain[:start] not in done:
            start -= 1
        data = done[chain[:start]]
        for end in range(start + 1, len(chain) + 1):
            step = chain[end - 1]
            if end > 1 and data == raw:  # a fold that changed nothing: the step as done on raw
                single = done.get((step,))
                data = single if single is not None else TRANSFORMS[step].encode(raw)
                done[(step,)] = data
            else:
                data = TRANSFORMS[step].encode(data)
            done[chain[:end]] = data
        return data

    return encoded, done


_HashStep = tuple[Callable[[bytes], bytes], bool, _Form, _Form | None, _Form | None]
"""A hash's digest function, whether it gives the raw digest (hex made from it), and the forms of
its hex, upper-case hex and raw digest patterns (``None``: not searched)."""


def _hash_steps(expansion: Expansion, chain: tuple[str, ...], all_raw: bool, some_raw: bool) -> list[_HashStep]:
    """:func:`_hash_steps_of`, worked out once for each expansion and chain (not for each needle)."""
    try:
        return _cached_hash_steps(expansion, chain, all_raw, some_raw)
    except TypeError:  # an expansion given with lists cannot be a key
        return _hash_steps_of(expansion, chain, all_raw, some_raw)


def _hash_steps_of(expansion: Expansion, chain: tuple[str, ...], all_raw: bool, some_raw: bool) -> list[_HashStep]:
    """The hashes of a value made by ``chain``: with ``all_raw`` (identifiers) every hash, all raw
    digests too; else the ``url_hashes``, raw the ``url_raw_digests`` with ``some_raw``. Hex digests
    are searched in upper case too, except of a compressed value (as software writes it)."""
    upper = not any(TRANSFORMS[step].kind == "compression" for step in chain)
    steps: list[_HashStep] = []
    for name in expansion.hashes if all_raw else expansion.url_hashes:
        raw_name = RAW_DIGESTS.get(name)
        with_raw = expansion.raw_digests and (all_raw or (some_raw and name in expansion.url_raw_digests))
        steps.append(
            (
                TRANSFORMS[raw_name].encode if raw_name else TRANSFORMS[name].encode,
                raw_name is not None,
                ((*chain, name), False),
                ((*chain, name, "upper"), False) if upper else None,
                ((*chain, RAW_DIGESTS[name]), False) if with_raw else None,
            )
        )
    return steps


_cached_hash_steps = functools.lru_cache(maxsize=256)(_hash_steps_of)


def _add_hashes(datas: list[bytes], forms: list[_Form], data: bytes, steps: list[_HashStep]) -> None:
    """Hex, upper-case hex and raw digests of ``data`` (see :func:`_hash_steps`)."""
    for digest_of, raw, hex_form, upper_form, raw_form in steps:
        digest = digest_of(data)
        text = binascii.hexlify(digest) if raw else digest
        datas.append(text)
        forms.append(hex_form)
        if upper_form is not None:
            datas.append(text.upper())
            forms.append(upper_form)
        if raw_form is not None:
            datas.append(digest)
            forms.append(raw_form)


def _add_layers(datas: list[bytes], forms: list[_Form], raw: bytes, expansion: Expansion) -> None:
    """Nested hashes of an identifier: two layers of any ``hashes`` or ``nested_checksums`` (as text
    inside), and up to ``hash_layers`` of ``nested_hashes`` (hex or raw digests in the first two)."""
    if expansion.hash_layers < 2:
        return
    checksums = [name for name in expansion.nested_checksums if name in expansion.checksums]
    functions = (*expansion.hashes, *checksums)
    for inner in functions:
        digest = TRANSFORMS[inner].encode(raw)
        for outer in functions:
            if inner in checksums and outer in checksums:
                continue  # a checksum of a checksum: short, and no tracker is known to send one
            outer_digest = TRANSFORMS[outer].encode(digest)
            datas.append(outer_digest)
            forms.append(((inner, outer), len(outer_digest) < 16))
    names = [n for n in expansion.nested_hashes if n in TRANSFORMS]
    forms_of = [*names, *(RAW_DIGESTS[n] for n in names if expansion.raw_digests and n in RAW_DIGESTS)]
    level: list[tuple[bytes, tuple[str, ...]]] = [(TRANSFORMS[n].encode(raw), (n,)) for n in forms_of]
    for depth in range(2, expansion.hash_layers + 1):
        deeper: list[tuple[bytes, tuple[str, ...]]] = []
        for data, chain in level:
            for name in forms_of if depth == 2 else names:  # raw digests up to two layers
                digest = TRANSFORMS[name].encode(data)
                datas.append(digest)
                forms.append(((*chain, name), False))
                if depth < expansion.hash_layers:
                    deeper.append((digest, (*chain, name)))
        level = deeper


# --- visited URLs ----------------------------------------------------------------------------


#: Search parameters whose name alone says "search" (others, such as ``p`` or ``s``, need a search page).
_STRONG_SEARCH_PARAMETERS = frozenset(
    {"q", "query", "search", "search_query", "searchterm", "keyword", "keywords", "wd", "kw"}
)

#: Hosts of search engines (a label of the host name), whose result pages carry the user's terms.
_SEARCH_ENGINES = frozenset(
    {
        "google",
        "bing",
        "duckduckgo",
        "yahoo",
        "baidu",
        "yandex",
        "ecosia",
        "startpage",
        "qwant",
        "naver",
        "sogou",
        "ask",
        "brave",
        "seznam",
        "search",
    }
)

_SEARCH_PATH = re.compile(
    r"(?:^|[/_.-])(?:search|s|find|results?|query|suche|recherche|buscar?|busca|cerca|zoeken|sok|szukaj|poisk)"
    r"(?:$|[/_.-])",
    re.IGNORECASE,
)


def is_search_page(url: str) -> bool:
    """A search results page: a search engine's host, or a path that says "search".

    >>> is_search_page("https://www.example-search.com/search?q=hiv+test"), is_search_page("https://a.example/?q=x")
    (True, True)
    >>> is_search_page("https://www.facebook.com/tr?id=1&ev=PageView&q=FitApp")
    False
    """
    parts = urlsplit(url)
    host_labels = set((parts.hostname or "").lower().split("."))
    if host_labels & _SEARCH_ENGINES or _SEARCH_PATH.search(parts.path):
        return True
    strong = {name.lower() for name, _ in parse_qsl(parts.query)} & _STRONG_SEARCH_PARAMETERS
    return parts.path in ("", "/") and bool(strong)


def meaningful_term(value: str) -> bool:
    """A value a person could have typed as a search: letters, some variety, not a token or a flag.

    >>> [meaningful_term(v) for v in ("hiv test clinic", "aaaa", "1234567", "true", "9f86d081884c7d65")]
    [True, False, False, False, False]
    """
    text = value.strip()
    if len(text) < 3 or not any(c.isalpha() for c in text) or len(set(text.lower())) < 3:
        return False
    if text.lower() in {"true", "false", "null", "none", "undefined", "nan"}:
        return False
    # identifiers, not words: long hex, or long unbroken runs with many digits
    if " " not in text and len(text) >= 12 and re.fullmatch(r"[0-9a-fA-F-]+", text):
        return False
    return not (" " not in text and len(text) >= 16 and sum(c.isdigit() for c in text) >= 3)


def _query_needles(url: str, inferred: bool) -> list[Needle]:
    """Query values of a visited URL. For an inferred URL only the search terms of a search page
    count: its other values (``target=<app name>``, campaign tags) are not the user's."""
    out = []
    search_page = is_search_page(url) if inferred else True
    for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=False):
        value = value.strip()
        if len(value) < MIN_NEEDLE_LENGTH or (value.isdigit() and len(value) < 6):
            continue
        if name.lower() in SEARCH_PARAMETERS and search_page and (not inferred or meaningful_term(value)):
            out.append(Needle("search_term", value, f"query:{name}", url, "search_term", inferred))
        elif not inferred:
            out.append(Needle("url_part", value, f"query:{name}", url, "path", inferred))
    return out


def url_needles(url: str, *, inferred: bool = False) -> list[Needle]:
    """The needles of one visited URL: the URL in several cuts, its query values, its host.

    >>> [n.form for n in url_needles("https://a.example/p/q?x=hello")]
    ['url', 'no_scheme', 'no_query', 'host_path', 'path_query', 'query:x', 'host']
    """
    url = url.strip()
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    no_fragment = urlunsplit(parts._replace(fragment=""))
    cuts = [
        ("url", "url", url, "full_url"),
        ("url", "url_no_fragment", no_fragment, "full_url"),
        ("url_part", "no_scheme", no_fragment.split("://", 1)[-1], "full_url"),
        ("url_part", "no_query", urlunsplit(parts._replace(query="", fragment="")), "path"),
        ("url_part", "host_path", parts.netloc + parts.path, "path"),
        ("url_part", "path_query", parts.path + (f"?{parts.query}" if parts.query else ""), "path"),
    ]
    # The same URL as a browser puts it on the wire (non-ASCII percent-encoded as UTF-8), or as
    # typed when it was given percent-encoded: both are the URL itself, not an encoding of it.
    wire = quote(url, safe=_URL_SAFE)
    typed = unquote(url) if "%" in url else url
    for other in (wire, typed):
        if other != url:
            cuts.insert(1, ("url", "url", other, "full_url"))
            no_fragment_other = urlunsplit(urlsplit(other)._replace(fragment=""))
            cuts.append(("url", "url_no_fragment", no_fragment_other, "full_url"))
    out: list[Needle] = []
    seen: set[str] = set()
    for kind, form, value, severity in cuts:
        if value in seen or len(value) < MIN_NEEDLE_LENGTH:
            continue
        if form == "path_query" and (parts.path in ("", "/") and not parts.query):
            continue
        if form in ("host_path", "no_scheme") and parts.path in ("", "/") and not parts.query:
            continue  # the host itself (and its root page): the host needle covers it
        seen.add(value)
        out.append(Needle(kind, value, form, url, severity, inferred))
    out.extend(_query_needles(url, inferred))
    if host and len(host) >= MIN_NEEDLE_LENGTH:
        out.append(Needle("host", host, "host", url, "domain", inferred))
    return out


def read_visited(path: str | os.PathLike[str]) -> list[str]:
    """Visited URLs from a browsing log: text (one URL a line), JSON or CSV with a ``url`` column.

    Only a regular file of at most :data:`MAX_VISITED_BYTES` is read (not a FIFO or a device).

    Raises:
        ValueError: the file cannot be read, is not a regular file, is too large, is not UTF-8
            text or holds no URL, naming the file.
    """
    name = os.fspath(path)
    try:
        text = read_user_bytes(path, limit=MAX_VISITED_BYTES).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    urls: list[str] = []
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        try:
            urls = _urls_from_json(json.loads(text))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{name}: not valid JSON: {exc}") from None
    else:
        first = stripped.splitlines()[0] if stripped else ""
        if "," in first or "\t" in first or first.lower() == "url":
            dialect = csv.excel_tab if "\t" in first else csv.excel
            rows = list(csv.reader(io.StringIO(text), dialect))
            header = [h.strip().lower() for h in rows[0]] if rows else []
            column = header.index("url") if "url" in header else 0
            body = rows[1:] if "url" in header or not _is_url(rows[0][0]) else rows
            urls = [r[column].strip() for r in body if len(r) > column]
        else:
            urls = [line.strip() for line in text.splitlines()]
    urls = [u for u in urls if u and not u.startswith("#")]
    if not urls:
        raise ValueError(f"{name}: no visited URL found (expected one URL a line, JSON or CSV)")
    return urls


def _is_url(text: str) -> bool:
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text.strip()))


def _urls_from_json(data: Any) -> list[str]:
    if isinstance(data, Mapping):
        lists = [v for v in data.values() if isinstance(v, list)]
        return _urls_from_json(lists[0]) if lists else _urls_from_json([data])
    out = []
    for item in data if isinstance(data, list) else []:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, Mapping):
            value = next((v for k, v in item.items() if str(k).lower() == "url"), None)
            if isinstance(value, str):
                out.append(value)
    return out


# --- identifiers -----------------------------------------------------------------------------

_COORDINATE = re.compile(r"lat|lon|lng", re.IGNORECASE)
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def parse_identifiers(items: Iterable[str] | Mapping[str, str] | None) -> list[tuple[str, str]]:
    """``NAME=VALUE`` strings (or a mapping) to pairs.

    >>> parse_identifiers(["ANDROID_ID=9774d56d682e549c", "email = a@b.org"])
    [('ANDROID_ID', '9774d56d682e549c'), ('email', 'a@b.org')]
    """
    if items is None:
        return []
    if isinstance(items, Mapping):
        return [(str(k), str(v)) for k, v in items.items()]
    pairs = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ValueError(f"identifier {item!r} is not NAME=VALUE")
        pairs.append((name.strip(), value.strip()))
    return pairs


def identifier_needles(name: str, value: str) -> list[Needle]:
    """The needles of one identifier: the value and its usual variants (rounded coordinates,
    UUIDs without dashes, phone numbers as digits, e-mail in lower case)."""
    values = [value]
    if _COORDINATE.search(name):
        try:
            number = float(value)
        except ValueError:
            number = None
        if number is not None:
            for places in (4, 3, 2):
                values.append(f"{number:.{places}f}")
                truncated = f"{int(number * 10**places) / 10**places:.{places}f}"
                values.append(truncated)
    elif _UUID.match(value):
        values.append(value.replace("-", ""))
    elif re.fullmatch(r"\+?[\d\s().-]{7,}", value):
        digits = re.sub(r"\D", "", value)
        values += [digits, f"+{digits}"]
    elif "@" in value:
        values.append(value.lower())
    out: list[Needle] = []
    for item in dict.fromkeys(values):
        if len(item) >= MIN_NEEDLE_LENGTH:
            out.append(Needle("identifier", item, name, name, "identifier"))
    return out


def all_needles(
    visited: Sequence[str], identifiers: Sequence[tuple[str, str]], *, inferred: bool = False
) -> list[Needle]:
    """Needles of every visited URL and identifier, without duplicates."""
    out: dict[tuple[str, str, str], Needle] = {}
    for url in visited:
        for needle in url_needles(url, inferred=inferred):
            # a host is one needle, whichever visited URL it came from
            source = "" if needle.kind == "host" else needle.source
            out.setdefault((needle.kind, needle.value, source), needle)
    for name, value in identifiers:
        for needle in identifier_needles(name, value):
            out.setdefault((needle.kind, needle.value, needle.source), needle)
    return list(out.values())

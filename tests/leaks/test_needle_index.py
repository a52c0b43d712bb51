"""The needle index holds the patterns a plain, one-pattern-at-a-time expansion makes, in its order.

``expand`` and :class:`NeedleIndex` are built for speed (forms made in batches, hash forms worked out
once per expansion, a sorted automaton); the reference here makes every pattern the simple way.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.leaks.detect import NeedleIndex
from toolkit.leaks.needles import (
    _IDENTIFIER_TEXT_FORMS,
    _TEXT_FORMS,
    MIN_NEEDLE_LENGTH,
    Expansion,
    Needle,
    all_needles,
    expand,
)
from toolkit.leaks.search import available_engines, build_matcher
from toolkit.leaks.transforms import RAW_DIGESTS, TRANSFORMS, apply_chain, salted

VISITED = [
    "https://www.example-search.com/search?q=hiv+test&page=22222#r",
    "https://a.example/nähe.html",
    "https://a.example/n%C3%A4he.html",
    "https://bücher.example/x?y=zzzz",
    "http://x.example/",
    "https://A.Example/UPPER?Q=Mixed+Case",
    "https://ex.org/%E2%82%AC/%zz?x=%20a%20&k=caf%C3%A9",
    "https://日本.example/パス?q=検索 語",
]
IDENTIFIERS = [
    ("ANDROID_ID", "9774d56d682e549c"),
    ("email", "Some.One@Example.org"),
    ("lat", "48.856613"),
    ("adid", "38400000-8cf0-11bd-b23e-10b96e40000d"),
    ("phone", "+49 (30) 1234-5678"),
    ("name", "Jürgen Groß"),
    ("short", "abcd"),
    ("odd", "x😀y\x00z"),
]
NEEDLES = [
    *all_needles(VISITED, IDENTIFIERS),
    Needle("identifier", "ab", "tiny", "tiny", "identifier"),  # too short: no pattern
    Needle("url", "ΩΩ", "url", "u", "full_url"),
]
EXPANSIONS = [
    Expansion(),
    Expansion(salts=("pepper", "QX4QkKEU")),
    Expansion(hash_layers=1, raw_digests=False),
    Expansion(hashes=("md5", "sha256"), checksums=("crc32", "mmh3_32"), nested_hashes=("md5",), hash_layers=4),
    Expansion(
        hashed_kinds=frozenset({"identifier", "url", "url_part", "host", "search_term"}),
        pre_hash=((), ("gzip",), ("upper", "base64"), ("lower", "quote")),
        url_pre_hash=((), ("gzip",), ("lower", "quote_plus")),
        url_raw_digests=("md5",),
    ),
]


def _simple_expand(needle: Needle, expansion: Expansion) -> list[tuple[bytes, tuple[str, ...], bool]]:
    """Every pattern of ``needle`` made one at a time (the first of equal byte strings wins)."""
    raw = needle.value.encode("utf-8")
    seen: dict[bytes, tuple[bytes, tuple[str, ...], bool]] = {}

    def add(data: bytes, transforms: tuple[str, ...], bounded: bool = False) -> None:
        if len(data) >= MIN_NEEDLE_LENGTH and data not in seen:
            seen[data] = (data, transforms, bounded)

    identifier = needle.kind == "identifier"
    for chain in (*_TEXT_FORMS, *_IDENTIFIER_TEXT_FORMS) if identifier else _TEXT_FORMS:
        data = apply_chain(chain, raw)
        if not (chain and chain[-1] in ("lower", "upper", "punycode") and data == raw):
            add(data, chain)
    for urlsafe, name in ((False, "base64"), (True, "base64url")):
        for offset in range(3):  # the needle at each byte offset of a longer base64 text
            text = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(b"\0" * offset + raw)
            start, end = (offset * 4 + 2) // 3, (offset + len(raw)) // 3 * 4
            if end - start >= 4:
                add(text[start:end], (name,))
    if needle.kind not in expansion.hashed_kinds:
        return list(seen.values())
    for chain in expansion.pre_hash if identifier else expansion.url_pre_hash:
        data = apply_chain(chain, raw)
        if not (chain and data == raw):
            _simple_hashes(add, data, chain, expansion, identifier, identifier or not chain)
    if identifier:
        _simple_layers(add, raw, expansion)
        for salt in expansion.salts:
            for position in ("before", "after"):
                fold = salted(salt, position)
                _simple_hashes(add, fold.encode(raw), (fold.name,), expansion, True, True)
        for chain in ((), ("lower",), ("upper",)):
            data = apply_chain(chain, raw)
            if not (chain and data == raw):
                for name in expansion.checksums:
                    digest = TRANSFORMS[name].encode(data)
                    add(digest, (*chain, name), len(digest) < 16)
    return list(seen.values())


def _simple_hashes(
    add: Any, data: bytes, chain: tuple[str, ...], expansion: Expansion, all_raw: bool, some_raw: bool
) -> None:
    compressed = any(TRANSFORMS[step].kind == "compression" for step in chain)
    for name in expansion.hashes if all_raw else expansion.url_hashes:
        digest = TRANSFORMS[name].encode(data)
        add(digest, (*chain, name))
        if not compressed:
            add(digest.upper(), (*chain, name, "upper"))
        if expansion.raw_digests and (all_raw or (some_raw and name in expansion.url_raw_digests)):
            add(TRANSFORMS[RAW_DIGESTS[name]].encode(data), (*chain, RAW_DIGESTS[name]))


def _simple_layers(add: Any, raw: bytes, expansion: Expansion) -> None:
    if expansion.hash_layers < 2:
        return
    checksums = [name for name in expansion.nested_checksums if name in expansion.checksums]
    functions = (*expansion.hashes, *checksums)
    for inner in functions:
        for outer in functions:
            if not (inner in checksums and outer in checksums):
                digest = apply_chain((inner, outer), raw)
                add(digest, (inner, outer), len(digest) < 16)
    names = list(expansion.nested_hashes)
    forms = [*names, *(RAW_DIGESTS[n] for n in names if expansion.raw_digests)]
    level = [(n,) for n in forms]
    for depth in range(2, expansion.hash_layers + 1):
        level = [(*chain, name) for chain in level for name in (forms if depth == 2 else names)]
        for chain in level:
            add(apply_chain(chain, raw), chain)


@pytest.mark.parametrize("expansion", EXPANSIONS, ids=range(len(EXPANSIONS)))
def test_index_holds_the_simple_expansion_in_its_order(expansion: Expansion) -> None:
    expected = [(*form, needle) for needle in NEEDLES for form in _simple_expand(needle, expansion)]
    assert [(p.data, p.transforms, p.bounded, p.needle) for n in NEEDLES for p in expand(n, expansion)] == expected
    index = NeedleIndex(NEEDLES, expansion)
    # grouped by key (the last KEY_BYTES bytes), keys in the order of their first pattern: text keys first
    by_key: dict[bytes, list[tuple[Any, ...]]] = {}
    for row in expected:
        by_key.setdefault(row[0][-NeedleIndex.KEY_BYTES :], []).append(row)
    keys = [key for key in by_key if key.isascii()] + [key for key in by_key if not key.isascii()]
    assert [(p.data, p.transforms, p.bounded, p.needle) for p in index.every] == [r for k in keys for r in by_key[k]]
    assert [group[0].data[-NeedleIndex.KEY_BYTES :] for group in index.patterns] == keys
    assert len(index) == len(expected) and index.shortest == min(len(row[0]) for row in expected)
    assert index.every[0].matched_form == index.every[0].needle.form
    # every key is found where it occurs, by its number in the index
    text_keys = keys[: index._offset]
    assert index._offset == sum(key.isascii() for key in keys)
    for number in range(0, len(text_keys), 97):
        assert (number, 0, len(text_keys[number])) in index.matcher.find(text_keys[number])


@pytest.mark.skipif("ahocorasick_rs" not in available_engines(), reason="ahocorasick_rs not installed")
@settings(max_examples=100, deadline=None)
@given(
    patterns=st.lists(st.binary(min_size=1, max_size=4), min_size=1, max_size=12),
    text=st.binary(max_size=200),
)
def test_rust_matcher_numbers_matches_as_given(patterns: list[bytes], text: bytes) -> None:
    """Built from the sorted patterns, it finds what the library finds from them as given, in its order."""
    import ahocorasick_rs

    as_given = ahocorasick_rs.BytesAhoCorasick(patterns, implementation=ahocorasick_rs.Implementation.ContiguousNFA)
    expected = as_given.find_matches_as_indexes(text, overlapping=True)
    assert build_matcher(patterns, "ahocorasick_rs").find(text) == expected

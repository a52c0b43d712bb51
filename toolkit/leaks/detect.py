"""Find visited URLs, search terms and identifiers in outgoing requests: the ``leaks`` table.

Why one module: the needle index, the pass over the requests and the rows of the ``leaks`` table are one
search, and its helpers are private to it.

>>> import toolkit
>>> from toolkit.leaks.detect import find_leaks
>>> capture = toolkit.load("data/sample.har")
>>> leaks = find_leaks(capture, identifiers=["ANDROID_ID=9774d56d682e549c"])
>>> row = leaks[leaks.needle_kind == "url"].iloc[0]
>>> row.host, row.location, row.matched_form
('sa.api.intl.miui.com', 'body', 'url')
>>> row.chain
'form:data_list > urldecode > base64 > gzip > json:[0].properties.url'
>>> sorted(set(leaks.severity))
['full_url', 'identifier']

Visited URLs come from the user (a browsing log, see :func:`toolkit.leaks.needles.read_visited`)
or, when none are given, are inferred from the capture's navigations (``evidence`` then says
``inferred needle``). A URL sent to its own site (same registrable domain) is not a leak; a
Referer carrying it to a third party is reported with ``kind = referer``.

A needle that a server sends back in a ``Set-Cookie`` (``set-cookie:NAME``) or a ``Location``
(``response_header:location``, its URL read as a request's) is a row with ``direction = response``:
the server plants or forwards the value. It is evidence of another kind than the device sending it,
so every count and ranking of leaks takes only :func:`toolkit.leaks.direction.sent_by_device`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import itertools
import operator
import os
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pandas as pd

from toolkit.endpoints.classify import endpoints_in_context
from toolkit.endpoints.domains import registrable_domain
from toolkit.leaks.adapters import sdk_label
from toolkit.leaks.inference import infer_visited, without_ambient
from toolkit.leaks.needles import (
    Expansion,
    Needle,
    Pattern,
    all_needles,
    expand,
    parse_identifiers,
    read_visited,
)
from toolkit.leaks.search import Matcher, build_matcher
from toolkit.leaks.steps import DECODING_STEPS, is_decoding
from toolkit.leaks.transforms import TRANSFORMS
from toolkit.leaks.unwrap import Limits, Located, unwrap_request, unwrap_response
from toolkit.problems import ProblemLog
from toolkit.progress import counted
from toolkit.request_key import hashable_part
from toolkit.schema import TABLES

if TYPE_CHECKING:
    from toolkit.capture import Capture

__all__ = ["NeedleIndex", "effective_layers", "find_leaks"]

#: Magic numbers of gzip, zstd and zlib (default, best, fastest) streams.
_COMPRESSED = (b"\x1f\x8b", b"\x28\xb5\x2f\xfd", b"\x78\x9c", b"\x78\xda", b"\x78\x01")

#: Columns of a ``requests`` row that are unwrapped, in the order :func:`_request_texts` takes them
#: (the response's headers last: a needle the server sends back is a ``response`` finding).
_REQUEST_PARTS = ("url", "request_headers", "body", "content_type", "cookies", "response_headers")

_SEVERITY_RANK = {"full_url": 0, "identifier": 0, "path": 1, "search_term": 2, "domain": 3}
#: Names of the chain steps that undo an encoding (the rest enter a structure), from the registry.
_DECODING_STEPS = frozenset(DECODING_STEPS)


class NeedleIndex:
    """Every pattern of every needle, compiled into one matcher.

    Long patterns are searched by their last :attr:`KEY_BYTES` bytes and confirmed in full where
    that key occurs: the automaton stays small (its size grows with the bytes of its patterns, and
    ``quote_all`` or ``sha512`` forms are long) while a hit is still an exact match.

    >>> from toolkit.leaks.needles import identifier_needles
    >>> index = NeedleIndex(identifier_needles("email", "someone.with.a.long.address@example.org"))
    >>> [p.matched_form for p in index.find(b"to=SOMEONE.WITH.A.LONG.ADDRESS@EXAMPLE.ORG&x=1")]
    ['upper(email)']
    >>> index.find(b"to=ONE.WITH.A.LONG.ADDRESS@EXAMPLE.ORG")
    []
    """

    KEY_BYTES = 16
    """16 measured best on the bench_leaks traffic: a faster search and a smaller automaton than 24, 12 or 8."""

    def __init__(self, needles: Iterable[Needle], expansion: Expansion | None = None, engine: str = "auto") -> None:
        with _cyclic_gc_paused():  # some 10^5 patterns, no cycles: each collection would scan them all
            by_key = _patterns_by_key(needles, expansion or Expansion(), self.KEY_BYTES)
        self.count = sum(map(len, by_key.values()))
        shortest = min(map(len, by_key), default=0)  # a key is a pattern's last KEY_BYTES bytes
        if shortest == self.KEY_BYTES:
            shortest = min(len(pattern.data) for group in by_key.values() for pattern in group)
        self.shortest = shortest
        """Length of the shortest pattern: a shorter text holds no hit."""
        # Keys with a byte above 0x7F (raw digests, non-ASCII needles) can only occur in a text that
        # has one: they get an automaton of their own, run on such texts only. Random bytes in the
        # keys would otherwise keep the main automaton off its root state and slow every search.
        text_keys = list(filter(bytes.isascii, by_key))
        binary_keys = list(itertools.filterfalse(bytes.isascii, by_key))
        self.patterns: list[list[Pattern]] = list(map(by_key.__getitem__, itertools.chain(text_keys, binary_keys)))
        """Patterns by key: those of the text keys (numbered as :attr:`matcher` numbers them), then
        those of the binary keys (:attr:`binary_matcher`'s numbers, offset by the text keys)."""
        self.matcher: Matcher = build_matcher(text_keys, engine)
        self.binary_matcher: Matcher | None = build_matcher(binary_keys, engine) if binary_keys else None
        self._offset = len(text_keys)
        # Texts are searched together, joined by a byte that no key holds if there is one: a match
        # that runs past the end of its text is dropped.
        joined = b"".join(text_keys)
        self.separator = next((bytes([b]) for b in (0, 1, 0xFF) if bytes([b]) not in joined), b"\0")

    def __len__(self) -> int:
        return self.count

    def limits(self, limits: Limits) -> Limits:
        """``limits`` for unwrapping texts to search with this index: no text shorter than its
        shortest pattern is kept (it holds no hit, and decodes into nothing longer; a blob that could
        be a headerless stream is kept down to 8 bytes, as the walk tries such streams).

        Raw deflate is tried on every blob: a bound taken from the needles' values (issue 20's second
        pass) missed a digest of a long value, which deflates shorter than the value (bench/README.md).
        """
        shortest = max(limits.shortest_text, min(self.shortest, 8))
        return dataclasses.replace(limits, shortest_text=shortest)

    @functools.cached_property
    def every(self) -> list[Pattern]:
        """All patterns, numbered: hits cross process boundaries as numbers (see :attr:`numbers`)."""
        return [pattern for group in self.patterns for pattern in group]

    @functools.cached_property
    def numbers(self) -> dict[int, int]:
        """Each pattern's number in :attr:`every`, by ``id()``."""
        return {id(pattern): number for number, pattern in enumerate(self.every)}

    def find(self, data: bytes) -> list[Pattern]:
        """Patterns occurring in ``data`` (each once)."""
        if not data:
            return []
        return self._confirm(data, [*self.matcher.find(data), *self._binary_matches(data)], 0)

    @functools.cached_property
    def _shortest_binary(self) -> int:
        """Length of the shortest pattern with a binary key: no shorter text can hold one in full."""
        return min((len(p.data) for group in self.patterns[self._offset :] for p in group), default=0)

    def _binary_matches(self, data: bytes) -> list[tuple[int, int, int]]:
        if (
            self.binary_matcher is None
            or len(data) < self._shortest_binary
            or data.isascii()
            or data.startswith(_COMPRESSED)
        ):
            return []
        return [(index + self._offset, start, end) for index, start, end in self.binary_matcher.find(data)]

    def find_each(self, texts: Sequence[bytes]) -> list[list[Pattern]]:
        """:meth:`find` of every text, searched in one call of the matcher.

        >>> from toolkit.leaks.needles import identifier_needles
        >>> index = NeedleIndex(identifier_needles("ANDROID_ID", "9774d56d682e549c"))
        >>> [[p.matched_form for p in found] for found in index.find_each([b"a", b"id=9774d56d682e549c", b""])]
        [[], ['ANDROID_ID'], []]
        """
        out: list[list[Pattern]] = [[] for _ in texts]
        for number, found in self.found_in(texts).items():
            out[number] = found
        return out

    def found_in(self, texts: Sequence[bytes]) -> dict[int, list[Pattern]]:
        """:meth:`find_each`'s non-empty results, by the number of their text (in text order).

        The texts are joined by :attr:`separator` and searched in one call of each matcher: the
        work per text is C calls (lengths, offsets), the Python work is per match.

        >>> from toolkit.leaks.needles import identifier_needles
        >>> index = NeedleIndex(identifier_needles("ANDROID_ID", "9774d56d682e549c"))
        >>> {n: [p.matched_form for p in found] for n, found in index.found_in([b"a", b"9774d56d682e549c"]).items()}
        {1: ['ANDROID_ID']}
        """
        if len(texts) < 2:
            return {n: found for n, text in enumerate(texts) if (found := self.find(text))}
        lengths = list(map(len, texts))
        # starts[n]: where text n begins in the joined texts; starts[n + 1] - 1: where it ends
        starts = list(itertools.accumulate(map((1).__add__, lengths), initial=0))
        joined = self.separator.join(texts)
        by_text: dict[int, list[tuple[int, int, int]]] = {}
        for match in self.matcher.find(joined):
            number = bisect_right(starts, match[1]) - 1
            if match[2] < starts[number + 1]:  # a match running past the end of its text is dropped
                by_text.setdefault(number, []).append(match)
        if self.binary_matcher is not None:
            self._add_binary(texts, lengths, starts, by_text)
        return {
            number: found
            for number in sorted(by_text)
            if (found := self._confirm(joined, by_text[number], starts[number]))
        }

    def _add_binary(
        self,
        texts: Sequence[bytes],
        lengths: list[int],
        starts: list[int],
        by_text: dict[int, list[tuple[int, int, int]]],
    ) -> None:
        """Add to ``by_text`` the matches of the binary keys, at their offsets in the joined ``texts``.

        Only texts long enough for a binary pattern, with a byte above 0x7F, are searched (joined
        the same way); compressed containers are searched in their decompressed form, not as such.
        """
        assert self.binary_matcher is not None
        shortest = self._shortest_binary
        binary = [
            n
            for n, size in enumerate(lengths)
            if size >= shortest and not texts[n].isascii() and not texts[n].startswith(_COMPRESSED)
        ]
        if not binary:
            return
        inner = list(itertools.accumulate((lengths[n] + 1 for n in binary), initial=0))
        for index, start, end in self.binary_matcher.find(self.separator.join([texts[n] for n in binary])):
            slot = bisect_right(inner, start) - 1
            if end < inner[slot + 1]:
                number = binary[slot]
                shift = starts[number] - inner[slot]
                by_text.setdefault(number, []).append((index + self._offset, start + shift, end + shift))

    def _confirm(self, data: bytes, matches: Iterable[tuple[int, int, int]], lowest: int) -> list[Pattern]:
        """The patterns of ``matches`` in ``data`` (keys of long patterns confirmed in full, not before
        ``lowest``), each once, in the order of their first match."""
        seen: set[int] = set()
        out: list[Pattern] = []
        key_bytes = self.KEY_BYTES
        for index, _start, end in matches:
            for pattern in self.patterns[index]:
                if id(pattern) in seen:
                    continue
                size = len(pattern.data)
                # a long pattern is compared where it would start, without a slice of ``data``
                if size <= key_bytes or (end - size >= lowest and data.startswith(pattern.data, end - size)):
                    if pattern.bounded and not _stands_alone(data, end - size, end, lowest):
                        continue
                    seen.add(id(pattern))
                    out.append(pattern)
        return out


def _patterns_by_key(needles: Iterable[Needle], expansion: Expansion, key_bytes: int) -> dict[bytes, list[Pattern]]:
    """The patterns of ``needles`` by their last ``key_bytes`` bytes (keys in the order of their first pattern)."""
    by_key: dict[bytes, list[Pattern]] = {}
    for needle in needles:
        for pattern in expand(needle, expansion):
            key = pattern.data[-key_bytes:]
            group = by_key.get(key)
            if group is None:
                by_key[key] = [pattern]
            else:
                group.append(pattern)
    return by_key


_LAST_INDEX: list[tuple[tuple[Any, ...], NeedleIndex]] = []
"""The index of the last needle set (one: an index of 10^5 patterns holds tens of megabytes)."""


def _shared_index(needles: Sequence[Needle], expansion: Expansion | None, engine: str) -> NeedleIndex:
    """The :class:`NeedleIndex` of ``needles``, built once for consecutive calls with the same needle
    set (the captures of a study searched for the same visited URLs and identifiers, in one process
    or in each worker) instead of once per call: its build is seconds for a thousand URLs.

    >>> from toolkit.leaks.needles import identifier_needles
    >>> needles = identifier_needles("ANDROID_ID", "9774d56d682e549c")
    >>> _shared_index(needles, None, "auto") is _shared_index(list(needles), Expansion(), "auto")
    True
    """
    key = (tuple(needles), expansion or Expansion(), engine)
    try:
        hash(key)
    except TypeError:  # an expansion given with lists: built each time
        return NeedleIndex(needles, expansion, engine)
    if _LAST_INDEX and _LAST_INDEX[0][0] == key:
        return _LAST_INDEX[0][1]
    _LAST_INDEX.clear()  # the old index goes before the new one is built: one at a time in memory
    index = NeedleIndex(needles, expansion, engine)
    _LAST_INDEX.append((key, index))
    return index


def _stands_alone(data: bytes, start: int, end: int, lowest: int) -> bool:
    """No ASCII letter or digit right before ``start`` (not before ``lowest``) or at ``end``.

    >>> _stands_alone(b"id=907060870&x", 3, 12, 0), _stands_alone(b"1907060870", 1, 10, 0)
    (True, False)
    """
    before = data[start - 1 : start] if start > lowest else b""
    after = data[end : end + 1]
    return not (before.isalnum() and before.isascii()) and not (after.isalnum() and after.isascii())


@dataclass(frozen=True)
class _Hit:
    pattern: Pattern
    location: str
    chain: tuple[str, ...]
    """Steps with JSON paths worked out."""
    direction: str = "request"
    """``response``: found in a response header the server sent back (Set-Cookie, Location)."""


def _locate(index: NeedleIndex, text: Located, found: list[Pattern]) -> list[_Hit]:
    """Where the patterns ``found`` in ``text`` are: the text, or the leaf or JSON value holding them."""
    if not found and not (text.search_parts and text.parts is not None):
        return []

    def steps(item: Located) -> tuple[str, ...]:
        return tuple(item.resolve(step) for step in item.chain)

    if text.parts is None:
        resolved = steps(text)
        return [_Hit(p, text.location, resolved) for p in found]
    if text.where is not None and not text.search_parts:  # JSON: place each occurrence by its offset
        occurrences: list[tuple[int, int, Pattern]] = []
        for number, pattern in enumerate(found):
            start = text.data.find(pattern.data)
            while start >= 0 and len(occurrences) < 10_000:
                occurrences.append((start, number, pattern))
                start = text.data.find(pattern.data, start + 1)
        placed_hits: dict[tuple[int, tuple[str, ...]], _Hit] = {}
        for start, number, pattern in sorted(occurrences, key=lambda o: o[:2]):  # one pass of the cursor
            resolved = tuple(text.resolve(step) for step in text.where(start))
            placed_hits.setdefault((number, resolved), _Hit(pattern, text.location, resolved))
        return list(placed_hits.values())
    hits: list[_Hit] = []
    placed: set[Needle] = set()
    for part in text.parts():
        # Leaves that differ from the raw text (escapes) are searched in full; otherwise only what
        # the raw text holds can be in a leaf.
        in_part = index.find(part.data) if text.search_parts else [p for p in found if p.data in part.data]
        if in_part:
            resolved = steps(part)
            hits.extend(_Hit(pattern, part.location, resolved) for pattern in in_part)
            placed.update(pattern.needle for pattern in in_part)
    unplaced = [p for p in found if p.needle not in placed]
    if unplaced:
        resolved = steps(text)
        hits.extend(_Hit(p, text.location, resolved) for p in unplaced)
    return hits


_COVERED, _DATA, _SEARCH_PARTS = (operator.attrgetter(name) for name in ("covered", "data", "search_parts"))
"""Attributes of :class:`Located` texts, read by C calls over a request's texts."""
#: Bytes of unwrapped text searched in one call of the matcher (requests are taken whole): a call per
#: request finds the automaton's states out of the CPU cache after each request's unwrapping. On the
#: first 3,000 requests of bench/bench_leaks.py the search took 2.9 s CPU a request at a time, 1.6 s
#: in batches of 256 KB, 1.4 s of 1 MB, 1.3 s of 4 MB and 1.6 s of 16 MB.
_BATCH_BYTES = 4 << 20


def _request_texts(
    limits: Limits, request: tuple[Any, ...], on_problem: Callable[[str], None]
) -> tuple[list[Located], int]:
    """The texts to search in one request (``url, headers, body, content_type, cookies,
    response_headers``), and how many of them the device sent (the response's headers come last)."""
    url, headers, body, content_type, cookies, response_headers = request
    unwrapped = unwrap_request(
        url=url,
        headers=headers,
        body=body,
        content_type=content_type,
        cookies=cookies,
        limits=limits,
        on_problem=on_problem,
        keep_covered=False,
    )
    texts = list(itertools.filterfalse(_COVERED, unwrapped))
    sent = len(texts)
    if response_headers:
        texts += itertools.filterfalse(
            _COVERED, unwrap_response(response_headers, limits=limits, on_problem=on_problem)
        )
    return texts, sent


def _batch_hits(index: NeedleIndex, batch: Sequence[tuple[list[Located], int]]) -> list[list[_Hit]]:
    """The hits of each request of ``batch`` (its texts and how many the device sent): the texts of
    all of them are searched in one call, and only texts with a hit are located further."""
    texts = list(itertools.chain.from_iterable(request_texts for request_texts, _sent in batch))
    found_in = index.found_in(list(map(_DATA, texts)))
    # texts whose leaves differ from them (escapes) are located even with no hit of their own
    located_too = [
        n for n in itertools.compress(itertools.count(), map(_SEARCH_PARTS, texts)) if texts[n].parts is not None
    ]
    numbers = sorted(found_in.keys() | located_too) if located_too else list(found_in)
    out: list[list[_Hit]] = []
    first = 0
    at = 0  # numbers[at:] are of this request or after it
    for request_texts, sent in batch:
        hits: list[_Hit] = []
        end = first + len(request_texts)
        while at < len(numbers) and numbers[at] < end:
            number = numbers[at]
            located = _locate(index, texts[number], found_in.get(number, []))
            if located and number - first >= sent:
                located = [dataclasses.replace(hit, direction="response") for hit in located]
            hits.extend(located)
            at += 1
        out.append(hits)
        first = end
    return out


def _batches(
    limits: Limits, work: Iterable[tuple[Any, ...]]
) -> Iterator[tuple[list[tuple[list[Located], int]], list[list[str]]]]:
    """The requests of ``work`` unwrapped, in batches of about :data:`_BATCH_BYTES` of text (each
    request's texts, how many the device sent, and its problem messages)."""
    batch: list[tuple[list[Located], int]] = []
    messages: list[list[str]] = []
    size = 0
    for request in work:
        messages.append([])
        texts, sent = _request_texts(limits, request, messages[-1].append)
        batch.append((texts, sent))
        size += sum(map(len, map(_DATA, texts)))
        if size >= _BATCH_BYTES:
            yield batch, messages
            batch, messages, size = [], [], 0
    if batch:
        yield batch, messages


def _hits_of_work(
    index: NeedleIndex, limits: Limits, work: Iterable[tuple[Any, ...]]
) -> Iterator[tuple[list[_Hit], list[str]]]:
    """The hits and problem messages of every request of ``work``, in order, searched in batches."""
    for batch, messages in _batches(limits, work):
        yield from zip(_batch_hits(index, batch), messages, strict=True)


_Found = tuple[list[tuple[int, str, tuple[str, ...], str]], list[str]]
"""The hits of one request as (pattern number, location, chain, direction), and its problem messages."""
_FORKED: tuple[NeedleIndex, Limits, list[tuple[Any, ...]], dict[int, int]] | None = None
"""What the worker processes inherit when they are forked."""


def _hits_of_slice(bounds: tuple[int, int]) -> list[_Found]:
    """In a forked worker: the hits of the requests ``bounds`` of the inherited work."""
    assert _FORKED is not None
    index, limits, work, numbers = _FORKED
    return [
        ([(numbers[id(h.pattern)], h.location, h.chain, h.direction) for h in hits], messages)
        for hits, messages in _hits_of_work(index, limits, work[bounds[0] : bounds[1]])
    ]


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon


def _distinct(work: Sequence[tuple[Any, ...]]) -> tuple[list[tuple[Any, ...]], list[int]]:
    """The distinct requests of ``work`` (first occurrences, in order) and, for each request, the
    number of its distinct one: a request sent again with the same URL, headers and body (a retry,
    a beacon, a capture that repeats a session) has the same hits and is searched once.

    >>> _distinct([("u", [("a", "1")], b"x"), ("v", None, None), ("u", [("a", "1")], b"x")])
    ([('u', [('a', '1')], b'x'), ('v', None, None)], [0, 1, 0])
    """
    first: dict[Any, int] = {}
    distinct: list[tuple[Any, ...]] = []
    which: list[int] = []
    for request in work:
        try:
            key = hashable_part(request)
            number = first.setdefault(key, len(distinct))
        except TypeError:  # a part with no hashable form: searched on its own
            number = len(distinct)
        if number == len(distinct):
            distinct.append(request)
        which.append(number)
    return distinct, which


def _hits_of_requests(
    index: NeedleIndex, limits: Limits, work: list[tuple[Any, ...]], workers: int
) -> Iterator[tuple[list[_Hit], list[str]]]:
    """The hits and problem messages of every request, in order: each distinct request (see
    :func:`_distinct`) is searched once, its result given again for its repeats."""
    distinct, which = _distinct(work)
    produced = _hits_of_distinct(index, limits, distinct, workers)
    uses = Counter(which)
    kept: dict[int, tuple[list[_Hit], list[str]]] = {}  # results still to be given again
    made = 0
    for number in which:
        if number == made:
            made += 1
            result = next(produced)
        else:
            result = kept[number]
        uses[number] -= 1
        if uses[number]:
            kept[number] = result
        else:
            kept.pop(number, None)
        yield result
    for _ in produced:  # nothing is left: this lets a pool of workers close as it does when done
        pass


def _hits_of_distinct(
    index: NeedleIndex, limits: Limits, work: list[tuple[Any, ...]], workers: int
) -> Iterator[tuple[list[_Hit], list[str]]]:
    """The hits and problem messages of every request, in order; with ``workers`` > 1 the requests
    are unwrapped and searched in that many forked processes (the index is inherited, not copied)."""
    if workers <= 1 or len(work) < 64 or not _can_fork():
        yield from _hits_of_work(index, limits, work)
        return
    import multiprocessing

    global _FORKED
    _FORKED = (index, limits, work, index.numbers)  # numbered once, here: the workers inherit it
    try:
        size = max(8, -(-len(work) // (workers * 16)))
        slices = [(start, min(start + size, len(work))) for start in range(0, len(work), size)]
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for found in pool.imap(_hits_of_slice, slices):
                for numbered, messages in found:
                    yield [_Hit(index.every[n], where, chain, way) for n, where, chain, way in numbered], messages
    finally:
        _FORKED = None


def _registrable(host: str | None) -> str | None:
    return registrable_domain(host) if host else None


def _host_of(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def effective_layers(chain: str, matched_form: str) -> list[str]:
    """The encoding layers of a finding, first applied first, as transform families.

    The decoding steps of ``chain`` are undone last-applied first; the needle-side transforms of
    ``matched_form`` were applied first. Structural steps (``form:``, ``json:``) are left out.

    >>> effective_layers("form:data_list > urldecode > base64 > gzip > json:[0].url", "url")
    ['gzip', 'base64', 'percent']
    >>> effective_layers("query:u > base64", "sha256(lower(url))")
    ['lower', 'sha256', 'base64']
    """
    decoding = [s.strip() for s in chain.split(">") if is_decoding(s)]
    needle_side: list[str] = []
    text = matched_form
    while "(" in text and text.endswith(")"):
        name, _, inner = text.partition("(")
        needle_side.append(name)
        text = inner[:-1]
    out: list[str] = []
    for name in reversed(needle_side):
        family = TRANSFORMS[name].family if name in TRANSFORMS else name
        out += [family, family] if name == "quote_twice" else [family]
    out += [DECODING_STEPS[s].family for s in reversed(decoding)]
    return out


def _endpoint_lookup(endpoints: pd.DataFrame) -> Callable[[str], tuple[Any, Any]]:
    """Organisation and role of each destination host, as the ``endpoints`` table gives them."""
    known = {
        str(host): (_missing_to_none(org), _missing_to_none(role))
        for host, org, role in zip(endpoints["host"], endpoints["organisation"], endpoints["role"], strict=True)
    }

    def lookup(host: str) -> tuple[Any, Any]:
        return known.get(host, (None, None))

    return lookup


@dataclass(frozen=True)
class _Sender:
    """What the leak rows of one request share: its evidence, the SDK labels' inputs, and the
    columns that are the same in each (``ts``, ``capture``, ``session``, ``host``, ``organisation``, ``role``)."""

    evidence: str
    host: str
    path: str | None
    body: bytes | None
    shared: dict[str, Any]


def _sender(
    row: Mapping[str, Any], capture: str, host: str, evidence: str, lookup: Callable[[str], tuple[Any, Any]]
) -> _Sender:
    """The :class:`_Sender` of the request ``row``, worked out once for all its rows."""
    body = _value(row, "body")
    path = _value(row, "path")
    if path is None and (url := _value(row, "url")):
        with contextlib.suppress(ValueError):
            path = urlsplit(str(url)).path
    organisation, role = lookup(host)
    shared = {
        "ts": _value(row, "ts"),
        "capture": _value(row, "capture") or capture,
        "session": _value(row, "session"),
        "host": host or None,
        "organisation": organisation,
        "role": role,
    }
    return _Sender(evidence, host, path, body if isinstance(body, bytes) else None, shared)


def _sdk_label(sender: _Sender, location: str, chain: str, log: ProblemLog) -> str:
    """``; Sensors Analytics event search (track)`` where an adapter knows the format, else ``""``
    (an adapter that fails gives ``""`` and a ``decode`` problem row naming the request)."""
    try:
        label = sdk_label(sender.host, sender.path, sender.body, location, chain)
    except Exception as exc:  # an adapter only labels a finding: its failure is reported, never fatal
        message = f"SDK adapter failed on this request: {type(exc).__name__}: {exc}"
        log.add(sender.evidence, "decode", message, "warning")
        return ""
    return f"; {label}" if label else ""


#: The request columns the leak search reads (the others are never turned into Python objects).
_ROW_COLUMNS = (*_REQUEST_PARTS, "evidence", "host", "path", "ts", "capture", "session")


class _RequestRow(Mapping[str, Any]):
    """One request as the search reads it: a view of the columns it needs, at one position (a dict of
    every column per request, ``to_dict("records")``, held the whole table twice over: issue 20)."""

    __slots__ = ("_columns", "_position")

    def __init__(self, columns: Mapping[str, list[Any]], position: int) -> None:
        self._columns, self._position = columns, position

    def __getitem__(self, name: str) -> Any:
        return self._columns[name][self._position]

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)


def _request_rows(requests: pd.DataFrame) -> list[_RequestRow]:
    """The rows of ``requests`` as :class:`_RequestRow` views (values as ``to_dict("records")`` gives them).

    >>> frame = pd.DataFrame({"url": ["https://a.example/", "https://b.example/"], "status": [200, 404]})
    >>> rows = _request_rows(frame)
    >>> rows[1]["url"], rows[1].get("status"), dict(rows[0])
    ('https://b.example/', None, {'url': 'https://a.example/'})
    """
    names = [name for name in _ROW_COLUMNS if name in requests.columns]
    columns = {name: list(requests[name].astype(object)) for name in names}
    return [_RequestRow(columns, position) for position in range(len(requests))]


def _missing_to_none(value: Any) -> Any:
    return None if value is None or value is pd.NA or (isinstance(value, float) and value != value) else value


def _requests_of(requests_or_capture: Any) -> tuple[pd.DataFrame, str]:
    if isinstance(requests_or_capture, pd.DataFrame):
        frame = requests_or_capture
        capture = str(frame["capture"].iloc[0]) if len(frame) and "capture" in frame else "requests"
        return frame, capture
    frame = requests_or_capture.requests
    return frame, requests_or_capture.provenance.capture_id


def _value(row: Mapping[str, Any], name: str) -> Any:
    value = row.get(name)
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return value


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector, and restore it as it was.

    Unwrapping allocates millions of short-lived objects, and each burst of allocations makes the
    collector scan every live object (the needle index, the requests): a quarter of the time of
    :func:`find_leaks` (bench/bench_leaks.py). The walk makes no reference cycles (texts refer to
    their walker, not back), so reference counting frees everything as before.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def find_leaks(
    requests_or_capture: Capture | pd.DataFrame,
    visited: str | os.PathLike[str] | Sequence[str] | None = None,
    identifiers: Iterable[str] | Mapping[str, str] | None = None,
    *,
    expansion: Expansion | None = None,
    limits: Limits | None = None,
    engine: str = "auto",
    problems: ProblemLog | None = None,
    workers: int = 1,
    salts: Sequence[str] = (),
    endpoints: pd.DataFrame | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """The ``leaks`` table of a capture (or a ``requests`` table).

    Args:
        requests_or_capture: a :class:`toolkit.Capture` or a ``requests`` DataFrame.
        visited: visited URLs, or a browsing-log file; ``None`` infers them from the capture.
        identifiers: ``NAME=VALUE`` strings or a mapping (ANDROID_ID, advertising id, e-mail ...).
        expansion: needle-side forms; limits: unwrapping bounds; engine: search engine name.
        problems: where requests that could not be fully unwrapped are reported (a gzip bomb);
            the problems are also in ``leaks.attrs["problems"]``.
        workers: processes that unwrap and search the requests (forked, where the platform can
            fork and this is not itself a daemonic worker); 1 does it all in this process.
        salts: salts the sender is known to hash identifiers with (added to ``expansion.salts``):
            ``sha256(salt_after(email))`` is the SHA-256 of the e-mail address followed by the salt.
        endpoints: the ``endpoints`` table the rows take ``organisation`` and ``role`` from (a study's,
            with its vendors); by default :func:`toolkit.endpoints.endpoints_in_context` of the
            requests with the visited sites as first party. An empty table leaves both missing.
        progress: a bar of the requests searched on stderr (:mod:`toolkit.progress`; a widget in
            Jupyter); ``None`` shows it for many requests when stderr is a terminal.
    """
    if salts:
        expansion = expansion or Expansion()
        expansion = dataclasses.replace(expansion, salts=tuple(dict.fromkeys((*expansion.salts, *salts))))
    with _cyclic_gc_paused():
        return _find_leaks(
            requests_or_capture, visited, identifiers, expansion, limits, engine, problems, workers, endpoints, progress
        )


def _find_leaks(
    requests_or_capture: Any,
    visited: str | os.PathLike[str] | Sequence[str] | None,
    identifiers: Iterable[str] | Mapping[str, str] | None,
    expansion: Expansion | None,
    limits: Limits | None,
    engine: str,
    problems: ProblemLog | None,
    workers: int,
    endpoints: pd.DataFrame | None,
    progress: bool | None = None,
) -> pd.DataFrame:
    requests, capture = _requests_of(requests_or_capture)
    log = problems if problems is not None else ProblemLog(capture)
    inferred = visited is None
    if visited is None:
        pages = getattr(requests_or_capture, "meta", {}).get("pages") or []
        urls = infer_visited(requests, pages) if len(requests) or pages else []
    elif isinstance(visited, str | os.PathLike):
        urls = read_visited(visited)
    else:
        urls = list(visited)
    needles = all_needles(urls, parse_identifiers(identifiers), inferred=inferred)
    needles, ambient = without_ambient(needles, requests)
    index = _shared_index(needles, expansion, engine)
    limits = index.limits(limits or Limits())
    if endpoints is None:
        endpoints = endpoints_in_context(requests, visited=urls)
    records = _request_rows(requests)
    work = [tuple(_value(row, name) for name in _REQUEST_PARTS) for row in records]
    found = counted(_hits_of_requests(index, limits, work, workers), len(work), "leak search", "request", progress)
    rows = _leak_rows(records, found, capture, log, _endpoint_lookup(endpoints))
    kept = _kept_rows(rows)
    columns = {name: [r[name] for r in kept] for name in TABLES["leaks"].names}
    table = TABLES["leaks"].validate(TABLES["leaks"].frame(columns))
    table.attrs["problems"] = log.frame()
    table.attrs["needle_patterns"] = len(index)
    table.attrs["visited"] = _visited_note(urls, inferred, ambient)
    return table


_Rows = dict[tuple[Any, ...], tuple[tuple[int, ...], dict[str, Any]]]
"""Leak rows by (request position, needle source, location, structural chain, direction), each with
the rank that chose it among the hits of that key (the lowest wins)."""


def _leak_rows(
    records: Sequence[Mapping[str, Any]],
    found: Iterable[tuple[list[_Hit], list[str]]],
    capture: str,
    log: ProblemLog,
    lookup: Callable[[str], tuple[Any, Any]],
) -> _Rows:
    """One row per request, needle source, location and structural chain: the best-ranked hit
    (severity, fewest needle-side transforms, hex before raw, longest value, most decodings)."""
    source_domain: dict[str, str | None] = {}
    structures: dict[tuple[str, ...], tuple[str, ...]] = {}  # chains repeat from hit to hit
    rows: _Rows = {}
    for position, (row, (hits, messages)) in enumerate(zip(records, found, strict=True)):
        evidence = _value(row, "evidence") or f"{capture}#row={position}"
        for message in messages:
            log.add(evidence, "decode", message, "warning")
        if not hits:
            continue
        host = _value(row, "host") or _host_of(str(_value(row, "url") or "")) or ""
        destination = _registrable(host)
        sender = _sender(row, capture, host, evidence, lookup)
        for hit in hits:
            needle = hit.pattern.needle
            if needle.kind != "identifier":
                if needle.source not in source_domain:
                    source_domain[needle.source] = _registrable(_host_of(needle.source))
                if destination is not None and source_domain[needle.source] == destination:
                    continue
            structural = structures.get(hit.chain)
            if structural is None:
                structural = structures[hit.chain] = tuple(s for s in hit.chain if s not in _DECODING_STEPS)
            key = (position, needle.source, hit.location, structural, hit.direction)
            rank = (
                _SEVERITY_RANK.get(needle.severity, 9),
                len(hit.pattern.transforms),
                hit.pattern.raw,  # hex on the wire: the hex digest, not its decoding into raw bytes
                -len(needle.value),
                -(len(hit.chain) - len(structural)),
            )
            if key not in rows or rows[key][0] > rank:
                rows[key] = (rank, _leak_record(sender, hit, log))
    return rows


def _leak_record(sender: _Sender, hit: _Hit, log: ProblemLog) -> dict[str, Any]:
    """The ``leaks`` row of one hit in the request of ``sender``."""
    needle = hit.pattern.needle
    chain = " > ".join(hit.chain)
    return {
        **sender.shared,
        "kind": "referer" if hit.location == "header:referer" and needle.kind != "identifier" else "leak",
        "needle_kind": needle.kind,
        "needle": needle.value,
        "matched_form": hit.pattern.matched_form,
        "location": hit.location,
        "chain": chain,
        "severity": needle.severity,
        "direction": hit.direction,
        "needle_source": "inferred" if needle.inferred else "given",
        "evidence": sender.evidence
        + _sdk_label(sender, hit.location, chain, log)
        + ("; inferred needle" if needle.inferred else ""),
    }


def _kept_rows(rows: _Rows) -> list[dict[str, Any]]:
    """The rows left once redundant findings are dropped: a domain-level finding where a URL of that
    domain was found at the same place, and a finding at a structured leaf (a form field holding
    JSON, searched on its own) where the same needle was placed deeper inside it."""
    hosts = {source: _host_of(source) for source in {key[1] for key in rows}}
    covered = {
        (key[0], key[2], key[3], hosts[key[1]])
        for key, (_rank, record) in rows.items()
        if record["severity"] != "domain" and record["needle_kind"] != "identifier"
    }
    placed_deeper = {
        (*key[:3], key[3][:depth], key[4], record["needle"])
        for key, (_rank, record) in rows.items()
        for depth in range(len(key[3]))
    }
    return [
        record
        for key, (_rank, record) in rows.items()
        if not (record["severity"] == "domain" and (key[0], key[2], key[3], record["needle"]) in covered)
        and (*key, record["needle"]) not in placed_deeper
    ]


def _visited_note(urls: Sequence[str], inferred: bool, ambient: Sequence[Needle]) -> str:
    """One line on where the visited URLs came from, for summaries and reports.

    >>> _visited_note([], True, [])
    'visited URLs: no browsing log given and no top-level navigation in the capture, so none inferred'
    """
    if not inferred:
        return f"visited URLs: {len(urls)} given"
    if not urls:
        return "visited URLs: no browsing log given and no top-level navigation in the capture, so none inferred"
    dropped = sorted({n.value for n in ambient})
    return f"visited URLs: {len(urls)} inferred from the capture's top-level navigations (findings marked inferred)" + (
        f"; {len(dropped)} values in nearly every request left out: {', '.join(dropped[:5])}" if dropped else ""
    )

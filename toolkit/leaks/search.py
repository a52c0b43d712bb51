"""Search a text for many byte patterns at once (Aho-Corasick), with a portable fallback.

Engines, fastest first as measured by ``bench/bench_leaks.py`` on this project's machine:
``ahocorasick_rs`` (Rust), ``pyahocorasick`` (C), and ``naive`` (``bytes.find`` per pattern,
pure Python, always available). ``auto`` takes the first one that imports.

>>> matcher = build_matcher([b"needle", b"eed", b"zzz"])
>>> sorted(matcher.find(b"a needle in a haystack"))
[(0, 2, 8), (1, 3, 6)]
>>> sorted(build_matcher([b"needle", b"eed"], engine="naive").find(b"a needle"))
[(0, 2, 8), (1, 3, 6)]
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from typing import Any, Protocol

__all__ = ["ENGINES", "Matcher", "available_engines", "build_matcher"]

#: Engines in order of preference (measured speed).
ENGINES = ("ahocorasick_rs", "pyahocorasick", "naive")

Match = tuple[int, int, int]
"""(pattern index, start, end) of one occurrence."""


class Matcher(Protocol):
    """Finds every (overlapping) occurrence of every pattern."""

    engine: str

    def find(self, data: bytes) -> list[Match]:
        """Every occurrence in ``data`` as (pattern index, start, end)."""
        ...


class _RustMatcher:
    engine = "ahocorasick_rs"

    def __init__(self, patterns: Sequence[bytes]) -> None:
        import ahocorasick_rs

        # The contiguous NFA measured fastest here with ~10^5 patterns and builds with less memory
        # than the DFA the library may pick by itself (bench/bench_leaks.py). Given in sorted order,
        # its trie is built in a fifth less time (the bench's 135,365 keys: 1.04 -> 0.83 s); matches
        # are numbered back to the order given. Their order is the library's for the patterns as
        # given: the matches of one position come in the trie's order (a stable sort keeps equal
        # patterns in theirs), tests/leaks/test_needle_index.py.
        self._numbers = array("I", sorted(range(len(patterns)), key=patterns.__getitem__))
        self._automaton: Any = ahocorasick_rs.BytesAhoCorasick(
            list(map(patterns.__getitem__, self._numbers)), implementation=ahocorasick_rs.Implementation.ContiguousNFA
        )

    def find(self, data: bytes) -> list[Match]:
        numbers = self._numbers
        return [
            (numbers[index], start, end)
            for index, start, end in self._automaton.find_matches_as_indexes(data, overlapping=True)
        ]


class _PyAhoMatcher:
    engine = "pyahocorasick"

    def __init__(self, patterns: Sequence[bytes]) -> None:
        import ahocorasick

        automaton: Any = ahocorasick.Automaton()
        for index, pattern in enumerate(patterns):
            automaton.add_word(pattern.decode("latin-1"), (index, len(pattern)))
        automaton.make_automaton()
        self._automaton = automaton

    def find(self, data: bytes) -> list[Match]:
        return [
            (index, end + 1 - length, end + 1) for end, (index, length) in self._automaton.iter(data.decode("latin-1"))
        ]


class _NaiveMatcher:
    engine = "naive"

    def __init__(self, patterns: Sequence[bytes]) -> None:
        self._patterns = list(patterns)

    def find(self, data: bytes) -> list[Match]:
        out = []
        for index, pattern in enumerate(self._patterns):
            start = data.find(pattern)
            while start >= 0:
                out.append((index, start, start + len(pattern)))
                start = data.find(pattern, start + 1)
        return out


class _EmptyMatcher:
    engine = "none"

    def find(self, data: bytes) -> list[Match]:
        return []


_BUILDERS: dict[str, type[_RustMatcher] | type[_PyAhoMatcher] | type[_NaiveMatcher]] = {
    "ahocorasick_rs": _RustMatcher,
    "pyahocorasick": _PyAhoMatcher,
    "naive": _NaiveMatcher,
}


def available_engines() -> list[str]:
    """Engines that import here, in order of preference.

    >>> available_engines()[-1]
    'naive'
    """
    out = []
    for name in ENGINES:
        try:
            _BUILDERS[name]([b"probe"])
        except ImportError:
            continue
        out.append(name)
    return out


def build_matcher(patterns: Sequence[bytes], engine: str = "auto") -> Matcher:
    """A matcher for ``patterns`` (non-empty byte strings) with the named engine or the best.

    Raises:
        ValueError: an unknown engine name, or an empty pattern.
    """
    if not all(patterns):
        raise ValueError("empty pattern")
    if not patterns:
        return _EmptyMatcher()
    if engine == "auto":
        for name in ENGINES:
            try:
                return _BUILDERS[name](patterns)
            except ImportError:
                continue
    if engine not in _BUILDERS:
        raise ValueError(f"unknown search engine {engine!r}; choose one of {', '.join(ENGINES)} or auto")
    return _BUILDERS[engine](patterns)

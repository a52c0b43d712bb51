"""All search engines find the same occurrences, overlapping ones included."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.leaks.search import available_engines, build_matcher


@pytest.mark.parametrize("engine", available_engines())
@settings(max_examples=100, deadline=None)
@given(
    patterns=st.lists(st.binary(min_size=1, max_size=4), min_size=1, max_size=8, unique=True),
    text=st.binary(max_size=200),
)
def test_engines_agree_with_bytes_find(engine: str, patterns: list[bytes], text: bytes) -> None:
    expected = set()
    for index, pattern in enumerate(patterns):
        start = text.find(pattern)
        while start >= 0:
            expected.add((index, start, start + len(pattern)))
            start = text.find(pattern, start + 1)
    assert set(build_matcher(patterns, engine).find(text)) == expected


def test_high_bytes_and_overlaps() -> None:
    for engine in available_engines():
        matcher = build_matcher([b"\xff\xfe", b"aa", b"aaa"], engine)
        assert sorted(matcher.find(b"\xff\xfeaaaa")) == [
            (0, 0, 2),
            (1, 2, 4),
            (1, 3, 5),
            (1, 4, 6),
            (2, 2, 5),
            (2, 3, 6),
        ], engine


def test_bad_engine_and_empty_pattern() -> None:
    with pytest.raises(ValueError, match="unknown search engine"):
        build_matcher([b"x"], "grep")
    with pytest.raises(ValueError, match="empty pattern"):
        build_matcher([b""])
    assert build_matcher([]).find(b"anything") == []

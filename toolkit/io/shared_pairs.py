"""Header (name, value) pairs kept once: the same pair in many messages is one object.

A capture repeats its headers (the User-Agent, ``accept-encoding``, ``:method GET`` ...) in every
request and response; as separate tuples of separate strings they cost about 200 bytes each,
which made the header columns the largest part of a large capture's memory. The HTTP/1.x and
HPACK decoders hand their pairs through :func:`shared_pair`, which returns the pair seen before
when there is one. The cache is bounded (:data:`MAX_PAIRS` pairs of short values; emptied when
full) and holds only values that are equal wherever they are shared, so no table changes.

>>> first, second = shared_pair("accept", "*/*"), shared_pair("accept", "*/*")
>>> first is second, first
(True, ('accept', '*/*'))
>>> shared_pair("cookie", "x" * 500) is shared_pair("cookie", "x" * 500)  # long values: not kept
False
"""

from __future__ import annotations

__all__ = ["MAX_PAIRS", "MAX_VALUE", "shared_pair"]

#: Pairs kept at most (about 10 MB); the cache is emptied when it is full.
MAX_PAIRS = 50_000
#: Longer values (cookies, tokens) are rarely repeated: not kept.
MAX_VALUE = 256

_PAIRS: dict[tuple[str, str], tuple[str, str]] = {}


def shared_pair(name: str, value: str) -> tuple[str, str]:
    """``(name, value)``, as the same object as an equal pair handed out before when possible."""
    pair = (name, value)
    if len(value) > MAX_VALUE or len(name) > MAX_VALUE:
        return pair
    found = _PAIRS.get(pair)
    if found is None:
        if len(_PAIRS) >= MAX_PAIRS:
            _PAIRS.clear()
        _PAIRS[pair] = found = pair
    return found

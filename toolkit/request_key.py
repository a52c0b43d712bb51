"""The key under which a request sent again is recognised: a hashable copy of what a search reads.

The leak search and the data-type search each read a request's URL, headers, body and cookies once
per distinct request and give its findings again to each repeat. Header and cookie lists arrive as
lists of ``(name, value)`` pairs (tuples, lists or arrays, depending on the reader and the storage),
bodies as ``bytes``, ``bytearray`` or ``memoryview``: this makes one hashable value of them.

>>> hashable_part([("a", "1")]), hashable_part(None), hashable_part(bytearray(b"x"))
((('a', '1'),), None, b'x')
>>> hashable_part([["a", "1"], ["b", "2"]])
(('a', '1'), ('b', '2'))
>>> hashable_part({"a": 1})
Traceback (most recent call last):
...
TypeError: a mapping
"""

from __future__ import annotations

from typing import Any

__all__ = ["hashable_part"]


def hashable_part(value: Any) -> Any:
    """A hashable copy of a request part (lists become tuples); ``TypeError`` if there is none."""
    if value is None or isinstance(value, str | bytes | int | float):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, dict):
        raise TypeError("a mapping")
    items = tuple(value)
    try:
        hash(items)  # (name, value) pairs of text: hashable as they are
    except TypeError:
        return tuple(hashable_part(item) for item in items)
    return items

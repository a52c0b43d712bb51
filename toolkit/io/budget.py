"""A budget of bytes that one capture may make out of few: decompressed bodies, decoded header lists.

Each body and each header block has its own bound, but a small hostile capture can hold thousands of
them (ten 250 MB gzip bodies in a 3 MB file; HPACK entries of 4 KB named again by every stream). A
:class:`Budget` is shared by all the records of one capture (and one per request, for its bodies):
every expansion spends from it, and once it is spent the records beyond it are kept unexpanded and
reported. An allowance may grow with the input read (:meth:`Budget.grant`), so that a large honest
capture is not cut where a small hostile one is.

>>> budget = Budget(100)
>>> budget.left
100
>>> budget.spend(60); budget.left
40
>>> budget.grant(10); budget.left
50
>>> budget.spend(80); budget.left, budget.spent
(0, True)
"""

from __future__ import annotations

__all__ = ["Budget"]


class Budget:
    """Bytes still allowed; :meth:`spend` may overdraw it (``left`` is then 0)."""

    __slots__ = ("limit", "used")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        """Bytes allowed in all (the initial allowance plus every grant)."""
        self.used = 0
        """Bytes spent so far."""

    @property
    def left(self) -> int:
        """Bytes that may still be spent."""
        return max(0, self.limit - self.used)

    @property
    def spent(self) -> bool:
        """True once nothing is left."""
        return self.used >= self.limit

    def spend(self, size: int) -> None:
        """Count ``size`` bytes made."""
        self.used += size

    def grant(self, size: int) -> None:
        """Allow ``size`` more bytes (an allowance that grows with the input)."""
        self.limit += size

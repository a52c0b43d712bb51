"""Giving memory that Python freed back to the operating system, between the long stages of a run.

glibc's ``malloc`` keeps freed blocks for its own reuse; what comes after a stage (Arrow's tables,
Python's object arenas) asks the system for new memory, so the freed state of reading a large
capture would stay in the process's peak next to the tables built after it (issue 20). Where
``malloc_trim`` is missing (not glibc: macOS, musl, Windows) nothing is done.

>>> release_freed_memory() in (True, False)
True
"""

from __future__ import annotations

import ctypes
import functools
import sys
from collections.abc import Callable

__all__ = ["release_freed_memory"]


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return None
    return trim


def release_freed_memory() -> bool:
    """Return the C heap's free memory to the system, and what Arrow's memory pool keeps for reuse
    (pandas' Arrow-backed columns allocate there: mimalloc or jemalloc, which hold freed pages);
    whether the C heap could be asked (glibc)."""
    arrow = sys.modules.get("pyarrow")  # only if loaded: never imported for this
    if arrow is not None:
        arrow.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True

"""One capture, start to finish: load (decrypt, classify), leaks, data types; the CLI writes the result.

>>> from toolkit.analysis import analyze
>>> result = analyze("data/lab/normal.har", identifiers=["ANDROID_ID=8e5fbce04dc91566"], vendors=["Xiaomi"])
>>> sorted(result.tables)
['datatypes', 'endpoints', 'leaks', 'problems', 'requests']
>>> "identifier" in set(result.leaks["needle_kind"])
True
>>> result.visited_note.startswith("visited URLs:")
True
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from toolkit.capture import Capture, Provenance, load
from toolkit.endpoints import Context
from toolkit.io.keylog import KeyLog

__all__ = ["Analysis", "analyze"]


@dataclass
class Analysis:
    """What :func:`analyze` found in one capture: its tables (with ``leaks`` and ``datatypes``)."""

    capture: Capture
    """The loaded capture; its ``tables`` include ``leaks`` and ``datatypes``."""
    visited_note: str = ""
    """Where the visited URLs came from (given, inferred, none), for summaries."""

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table, by name."""
        return self.capture.tables

    @property
    def leaks(self) -> pd.DataFrame:
        return self.capture.tables["leaks"]

    @property
    def datatypes(self) -> pd.DataFrame:
        return self.capture.tables["datatypes"]

    @property
    def provenance(self) -> Provenance:
        return self.capture.provenance


def analyze(
    path: str | os.PathLike[str],
    *,
    keylog: str | os.PathLike[str] | KeyLog | None = None,
    visited: str | os.PathLike[str] | Sequence[str] | None = None,
    identifiers: Iterable[str] | Mapping[str, str] | None = None,
    vendors: Sequence[str] = (),
    salts: Sequence[str] = (),
    strict: bool = False,
    workers: int = 1,
    progress: bool | None = None,
) -> Analysis:
    """Load ``path`` and find its leaks and data types.

    Args:
        keylog: an NSS key log to decrypt TLS with (see :func:`toolkit.load`).
        visited: the browsing log (a file, or URLs); ``None`` infers visits from the capture.
        identifiers: known identifiers (``NAME=VALUE`` strings or a mapping).
        vendors: makers of the app or browser under study: their hosts get the role ``platform``.
        salts: salts the app is known to hash identifiers with.
        strict: raise on the first damaged record.
        workers: processes that search the requests for leaks.
        progress: bars for reading, the leak search and the data types (:mod:`toolkit.progress`);
            ``None`` shows them for long work when stderr is a terminal.

    Raises:
        CaptureError: the capture cannot be read.
        OSError, ValueError: an unreadable browsing log, a malformed identifier.
    """
    from toolkit.datatypes import find_datatypes
    from toolkit.freed_memory import release_freed_memory
    from toolkit.leaks import find_leaks

    context = Context(vendors=tuple(vendors)) if vendors else None
    capture = load(path, keylog=keylog, strict=strict, context=context, progress=progress)
    if isinstance(visited, os.PathLike):
        visited = os.fspath(visited)
    leaks = find_leaks(
        capture, visited=visited, identifiers=identifiers or None, workers=workers, salts=salts, progress=progress
    )
    release_freed_memory()  # what the search freed, before the data types (issue 20)
    note = str(leaks.attrs.get("visited", ""))
    leaks.attrs.clear()
    capture.tables["leaks"] = leaks
    unread: list[tuple[str, str, str]] = []  # SDK payloads that are encrypted: said in problems
    capture.tables["datatypes"] = find_datatypes(capture.requests, unread, progress=progress)
    release_freed_memory()  # the data types' row lists, before the tables are written
    if unread:
        from toolkit.datatypes import problem_rows
        from toolkit.study.columns import concat_tables

        capture.tables["problems"] = concat_tables("problems", [capture.problems, problem_rows(unread)])
    return Analysis(capture, note)

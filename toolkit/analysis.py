"""One capture, start to finish: load (decrypt), classify once, leaks, data types; the CLI writes the
result, notebooks show it, a study's job runs it on each of its captures.

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
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from toolkit.capture import Capture, Provenance, load
from toolkit.endpoints import endpoints_in_context, with_endpoints
from toolkit.io.keylog import KeyLog
from toolkit.parallel import beside
from toolkit.schema import TABLES

#: Requests from which ``workers`` > 1 find the data types in a process of their own (fewer: not worth a fork).
LANES_FROM = 2_000

__all__ = ["FINDINGS", "Analysis", "analyze"]


#: What :func:`analyze` can find in a capture's requests besides its tables.
FINDINGS = ("leaks", "datatypes")


@dataclass
class Analysis:
    """What :func:`analyze` found in one capture: its tables (with ``leaks`` and ``datatypes``)."""

    capture: Capture
    """The loaded capture; its ``tables`` include ``leaks`` and ``datatypes`` (those asked for)."""
    visited_note: str = ""
    """Where the visited URLs came from (given, inferred, none), for summaries."""
    notes: list[str] = field(default_factory=list)
    """What could not be done (the leak search failed on this capture), in words."""

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
    classify: bool = True,
    find: Collection[str] = FINDINGS,
) -> Analysis:
    """Load ``path`` and find its leaks and data types.

    Args:
        keylog: an NSS key log to decrypt TLS with (see :func:`toolkit.load`).
        visited: the browsing log (a file, or URLs); ``None`` infers visits from the capture.
        identifiers: known identifiers (``NAME=VALUE`` strings or a mapping).
        vendors: makers of the app or browser under study: their hosts get the role ``platform``.
        salts: salts the app is known to hash identifiers with.
        strict: raise on the first damaged record (and when the leak search fails).
        workers: processes that search the requests for leaks; more than one also finds the data
            types in a process of its own meanwhile (from :data:`LANES_FROM` requests).
        progress: bars for reading, the leak search and the data types (:mod:`toolkit.progress`);
            ``None`` shows them for long work when stderr is a terminal.
        classify: give every host its organisation and role; ``False`` leaves them (and the
            ``endpoints`` table) out, for a caller that classifies many captures at once (a Study,
            with its vendors).
        find: what to look for in the requests, of :data:`FINDINGS` (a Study finds data types once
            over all its requests).

    Raises:
        CaptureError: the capture cannot be read.
        OSError, ValueError: an unreadable browsing log, a malformed identifier.
    """
    from toolkit.datatypes import find_datatypes
    from toolkit.freed_memory import release_freed_memory
    from toolkit.leaks.needles import parse_identifiers, read_visited

    unknown = set(find) - set(FINDINGS)
    if unknown:
        raise ValueError(f"cannot find {sorted(unknown)}; findings are {', '.join(FINDINGS)}")
    if isinstance(visited, str | os.PathLike):  # the caller's input fails as itself, before the long read
        visited = read_visited(visited)
    parse_identifiers(identifiers)
    capture = load(path, keylog=keylog, strict=strict, classify=False, progress=progress)
    analysis = Analysis(capture)
    endpoints = _classify(capture, visited, vendors) if classify else TABLES["endpoints"].empty()
    extra = []  # problems rows of the searches (a decompression bomb, an encrypted SDK payload)
    requests = capture.requests

    def datatypes() -> tuple[pd.DataFrame, list[tuple[str, str, str]]]:
        unread: list[tuple[str, str, str]] = []  # SDK payloads that are encrypted: said in problems
        return find_datatypes(requests, unread, progress=progress if workers == 1 else False), unread

    lane = None
    if "datatypes" in find:  # with workers, found on another core while the leak search runs here
        lane = beside(datatypes) if workers > 1 and len(requests) >= LANES_FROM else datatypes
    if "leaks" in find:
        leaks = _leaks(analysis, visited, identifiers, salts, strict, workers, progress, endpoints)
        extra.append(leaks.attrs.get("problems"))
        leaks.attrs.clear()
        capture.tables["leaks"] = leaks
        release_freed_memory()  # what the search freed, before the data types (issue 20)
    if lane is not None:
        capture.tables["datatypes"], unread = lane()
        release_freed_memory()  # the data types' row lists, before the tables are written
        if unread:
            from toolkit.datatypes import problem_rows

            extra.append(problem_rows(unread))
    found = [frame for frame in extra if isinstance(frame, pd.DataFrame) and len(frame)]
    if found:
        frames = [capture.problems, *found]
        names = TABLES["problems"].names
        columns = {name: [v for f in frames for v in f[name].astype(object).tolist()] for name in names}
        capture.tables["problems"] = TABLES["problems"].frame(columns)
    return analysis


def _classify(capture: Capture, visited: Sequence[str] | None, vendors: Sequence[str]) -> pd.DataFrame:
    """The capture's one classification: its ``endpoints`` table (the visited sites, given or
    inferred as the leak search infers them, are first party; the vendors' hosts are ``platform``),
    joined into ``requests``, ``flows`` and ``dns``; the leaks take their organisation and role from it."""
    from toolkit.leaks.inference import infer_visited

    if visited is None:
        visited = infer_visited(capture.requests, capture.meta.get("pages") or [])
    endpoints = endpoints_in_context(capture.tables, visited=visited, vendors=vendors)
    tables = capture.tables
    tables.update(with_endpoints(tables, endpoints))
    problems = tables.pop("problems")
    tables["endpoints"] = endpoints
    tables["problems"] = problems  # last, as load gives them
    return endpoints


def _leaks(
    analysis: Analysis,
    visited: str | os.PathLike[str] | Sequence[str] | None,
    identifiers: Iterable[str] | Mapping[str, str] | None,
    salts: Sequence[str],
    strict: bool,
    workers: int,
    progress: bool | None,
    endpoints: pd.DataFrame,
) -> pd.DataFrame:
    """The capture's leaks, and the note on the visited URLs; a leak search that fails gives no
    leaks and a note (unless ``strict``): the capture's tables are kept."""
    from toolkit.leaks import find_leaks

    try:
        leaks = find_leaks(
            analysis.capture,
            visited=visited,
            identifiers=identifiers or None,
            workers=workers,
            salts=salts,
            endpoints=endpoints,
            progress=progress,
        )
    except Exception as exc:  # the engine failing on one capture must not lose its tables
        if strict:
            raise
        analysis.notes.append(f"leaks not searched ({type(exc).__name__}: {exc})")
        return TABLES["leaks"].empty()
    analysis.visited_note = str(leaks.attrs.get("visited", ""))
    return leaks

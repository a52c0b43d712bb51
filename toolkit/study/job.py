"""The work on one capture of a study (:func:`analyse_capture`: :func:`toolkit.analysis.analyze`, the
one single-capture pipeline, without classification, and the identifier candidates), as values that
travel to a local worker process or a Dask cluster (:mod:`toolkit.parallel`) and back. A capture that
fails gives a result with notes, not an exception (unless ``strict``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from toolkit.analysis import analyze
from toolkit.errors import CaptureError
from toolkit.identifiers import Candidate, request_candidates
from toolkit.schema import TABLES
from toolkit.study.columns import Columns, _label_columns, _rows, _with_session, stack_columns, table_columns
from toolkit.study.manifest import CAPTURE_TABLES, CaptureSpec
from toolkit.userfiles import size_and_sha256

__all__ = ["CaptureJob", "CaptureResult", "analyse_capture", "warm_up"]


@dataclass(frozen=True)
class CaptureJob:
    """The work on one capture of a study, as a value that can travel to a worker process."""

    session: str
    spec: CaptureSpec
    package: str | None = None
    """Fills the ``app`` column when the capture does not say."""
    visited: tuple[str, ...] | None = None
    """The session's visited URLs; ``None`` lets the leak engine infer them."""
    identifiers: tuple[tuple[str, str], ...] = ()
    """Known identifiers as (name, value) pairs."""
    strict: bool = False

    def settings(self) -> dict[str, Any]:
        """Everything besides the capture's bytes that decides the result (for resuming; the
        :class:`~toolkit.study.store.ResultStore` adds its own layout version to the digest)."""
        from toolkit.capture import toolkit_version

        keylog = self.spec.keylog
        return {
            "toolkit": toolkit_version(),
            "session": self.session,
            "package": self.package,
            "tables": list(self.spec.tables) if self.spec.tables else None,
            "keylog": size_and_sha256(keylog)[1] if keylog is not None and keylog.is_file() else None,
            "visited": list(self.visited) if self.visited is not None else None,
            "identifiers": [list(pair) for pair in self.identifiers],
            "strict": self.strict,
        }


@dataclass
class CaptureResult:
    """What the work on one capture gave: its tables with the ``session`` column, and notes."""

    columns: dict[str, Columns]
    """The capture tables taken (``requests``, ``flows``, ``dns``, ``tls``), ``leaks`` and ``problems``
    (these two only when they have rows), each as lists of Python values (:func:`table_columns`)."""
    notes: list[tuple[str, str, str]] = field(default_factory=list)
    """(capture, kind, message): what could not be done; becomes a note and a ``problems`` row."""
    problems: list[tuple[str, str, str]] = field(default_factory=list)
    """(capture, kind, message): more ``problems`` rows without a record (the leak search's own rows come
    with the capture's ``problems`` table, from :func:`toolkit.analysis.analyze`)."""
    sha256: str | None = None
    provenance: dict[str, Any] | None = None
    """Where the capture came from (:class:`toolkit.capture.Provenance` as a dict: path, size, sha256,
    format, compression, tool, toolkit version, key logs)."""
    failed: bool = False
    """The capture could not be loaded at all."""
    candidates: list[list[Candidate]] = field(default_factory=list)
    """Identifier candidates of each row of the ``requests`` table, in row order
    (:func:`toolkit.identifiers.request_candidates`); the Study merges them across captures."""
    store_error: str | None = None
    """Why the result could not be written to the study's store (:func:`toolkit.study.store.analyse_and_store`)."""
    stored: bool = False
    """Its files were written to the study's store where the work ran."""

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables as DataFrames (built on each call)."""
        return {name: stack_columns(name, [columns]) for name, columns in self.columns.items()}


def analyse_capture(job: CaptureJob) -> CaptureResult:
    """One capture's :func:`toolkit.analysis.analyze` (load, leaks) and its requests' identifier
    candidates, with the ``session`` column (runs in a worker process). Hosts are not classified
    here: the Study classifies every capture's hosts at once, with its vendors and visited sites.

    A capture that cannot be read gives a result with ``failed`` set and a note (unless ``strict``).

    >>> from pathlib import Path
    >>> result = analyse_capture(CaptureJob("normal", CaptureSpec(Path("data/lab/normal.har"))))
    >>> len(result.tables["requests"]), set(result.tables["requests"]["session"]), len(result.tables["leaks"]) > 0
    (18, {'normal'}, True)
    >>> len(result.candidates), sorted({c.kind for found in result.candidates for c in found})[:3]
    (18, ['client_id', 'device_id', 'distinct_id'])
    """
    spec = job.spec
    name = spec.path.name
    wants_requests = spec.tables is None or "requests" in spec.tables
    try:
        analysis = analyze(
            spec.path,
            keylog=spec.keylog,
            visited=job.visited,
            identifiers=dict(job.identifiers),
            strict=job.strict,
            progress=False,
            classify=False,
            find=("leaks",) if wants_requests else (),
        )  # progress=False: no bar of its own, the study has one
    except (CaptureError, OSError) as exc:
        if job.strict:
            raise
        return CaptureResult({}, [(name, "missing", f"capture not loaded: {exc}")], failed=True)
    except Exception as exc:  # a reader bug must not end a study of many captures; it is reported
        if job.strict:
            raise
        message = f"capture not loaded: reader failed ({type(exc).__name__}: {exc})"
        return CaptureResult({}, [(name, "missing", message)], failed=True)
    capture = analysis.capture
    columns: dict[str, Columns] = {}
    for table in CAPTURE_TABLES:
        if (spec.tables is None or table in spec.tables) and table in capture.tables:
            columns[table] = _label_columns(table_columns(table, capture.tables[table]), job.session, job.package)
    if len(capture.problems):  # an empty table costs more to send back than one with rows
        columns["problems"] = table_columns("problems", capture.problems)
    result = CaptureResult(columns, sha256=capture.provenance.sha256, provenance=capture.provenance.record())
    result.notes = [(name, "missing", note) for note in analysis.notes]
    if "requests" in columns and _rows(columns["requests"]):
        result.candidates = request_candidates(_with_session(capture.requests, job.session, job.package))
        leaks = capture.tables.get("leaks")
        if leaks is not None and len(leaks):
            columns["leaks"] = _label_columns(table_columns("leaks", leaks), job.session, job.package)
    return result


def warm_up() -> None:
    """Load once what every capture's work needs (the leak engine, the public suffix list and the
    owner atlas of the bundled classification), so that worker processes forked afterwards share it
    instead of each loading it on its first capture.

    >>> warm_up()
    """
    import toolkit.leaks.detect  # noqa: F401  (imported for its side effect: loaded before the workers fork)
    from toolkit.endpoints import classify

    classify(["www.example.com"])  # the suffix list and the atlas, for the leak engine's own domains


def _capture_leaks(
    requests: pd.DataFrame,
    capture: str,
    visited: Sequence[str] | None,
    identifiers: Mapping[str, str],
    endpoints: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame | None, list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """The leaks of one capture's requests, with the notes and problems of the search.

    Their ``organisation`` and ``role`` come from ``endpoints``; without it they are left missing:
    the study fills them from its own endpoints (its vendors and visited sites) once every capture is in.
    """
    if endpoints is None:
        endpoints = TABLES["endpoints"].empty()
    try:
        from toolkit.leaks.detect import find_leaks

        leaks = find_leaks(
            requests.reset_index(drop=True),
            visited=list(visited) if visited is not None else None,
            identifiers=identifiers,
            endpoints=endpoints,
            progress=False,
        )
    except Exception as exc:  # the engine failing on one capture must not end the study
        return None, [(capture, "missing", f"leaks not searched ({type(exc).__name__}: {exc})")], []
    problems = []
    found = leaks.attrs.get("problems")
    if isinstance(found, pd.DataFrame) and len(found):
        for row in found.itertuples(index=False):
            problems.append((capture, str(row.kind), f"{row.record}: {row.message}"))
    return leaks, [], problems

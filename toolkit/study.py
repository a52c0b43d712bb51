"""A Study: several labelled captures (sessions) analysed together, compared, and checked.

One capture shows traffic; a finding compares sessions: "incognito still sends URLs", "the
toggle stops it", "the token links incognito to normal browsing". A :class:`Study` loads every
capture of every :class:`Session`, classifies hosts (:mod:`toolkit.endpoints`), finds leaks
(:mod:`toolkit.leaks`) and identifiers (:mod:`toolkit.identifiers`), and stacks the tables with a
``session`` column. It is built in Python or from a TOML manifest that a reporter publishes beside
the findings (see ``data/studies/xiaomi-2020.toml``).

The per-capture work (:func:`analyse_capture`: load, decrypt, classify, find leaks and identifier
candidates) runs on local worker processes, or on a Dask cluster when given one (:meth:`Study.run`,
:mod:`toolkit.parallel`), with the same tables as a serial run; a capture that fails becomes
``problems`` rows. Each capture's tables come back as plain column lists (:func:`table_columns`),
which are stacked once (:func:`stack_columns`). With ``out=``, per-capture results are kept as
Parquet datasets (:class:`ResultStore`) and a study stopped half-way resumes where it was.

>>> from toolkit.study import Session, Study
>>> study = Study(
...     [Session("normal", ["data/lab/normal.har"], mode="normal"),
...      Session("incognito", ["data/lab/incognito.har"], mode="incognito")],
...     vendors=["Xiaomi"], known_identifiers={"ANDROID_ID": "8e5fbce04dc91566"})
>>> study.requests.groupby("session", observed=True).size().to_dict()
{'normal': 18, 'incognito': 18}
>>> row = study.identifiers.set_index("value").loc["8e5fbce04dc91566"]
>>> row["persistence"], row["matches_known"], bool(row["linkable"])
('across_modes', 'ANDROID_ID', True)
>>> compared = study.compare()
>>> compared[compared.organisation == "Xiaomi"][["session", "requests", "leaks_url"]].values.tolist()
[['normal', 6, 8], ['incognito', 6, 8]]
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import tomllib
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from toolkit.capture import load
from toolkit.errors import CaptureError
from toolkit.identifiers import PRIVATE_MODES, Candidate, discover_identifiers, request_candidates
from toolkit.schema import TABLES

if TYPE_CHECKING:
    from toolkit.claims import Claim

__all__ = [
    "CaptureJob", "CaptureResult", "CaptureSpec", "Columns", "ManifestError", "ResultStore", "Session", "StoredJob",
    "Study", "analyse_and_store", "analyse_capture", "concat_tables", "stack_columns", "table_columns", "warm_up",
    "write_result_files",
]  # fmt: skip

#: Tables a capture can give, stacked per session by a Study.
CAPTURE_TABLES = ("requests", "flows", "dns", "tls")
#: Needle kinds counted per destination by :meth:`Study.compare`.
LEAK_KINDS = ("url", "url_part", "search_term", "host", "identifier")


class ManifestError(ValueError):
    """A study manifest cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class CaptureSpec:
    """One capture file of a session, with its key log and the tables to take from it."""

    path: Path
    keylog: Path | None = None
    """NSS key log for the capture's TLS (pcapng files may carry their keys inside)."""
    tables: tuple[str, ...] | None = None
    """Tables to take (``("flows", "dns", "tls")`` when a HAR of the same session gives the requests);
    ``None`` takes all."""

    @classmethod
    def of(cls, item: CaptureSpec | str | os.PathLike[str]) -> CaptureSpec:
        """A spec from a spec or a path."""
        return item if isinstance(item, CaptureSpec) else cls(Path(item))


@dataclass(frozen=True)
class Session:
    """A labelled session: its captures, and what was true while it was recorded.

    >>> Session("incognito", ["data/lab/incognito.har"], mode="incognito").private
    True
    """

    name: str
    captures: Sequence[CaptureSpec | str | os.PathLike[str]]
    mode: str | None = None
    """``normal``, ``incognito`` ... ; sessions in one mode are compared with sessions in another."""
    toggles: Mapping[str, Any] = field(default_factory=dict)
    """Settings that matter to a claim, e.g. ``{"incognito_data_collection": False}``."""
    app: str | None = None
    package: str | None = None
    """Android package, used for the ``app`` column when the capture does not say."""
    version: str | None = None
    device: str | None = None
    visited: Sequence[str] | str | os.PathLike[str] | None = None
    """Visited URLs, or a browsing-log file; ``None`` lets the leak engine infer them."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "captures", tuple(CaptureSpec.of(c) for c in self.captures))
        if not self.name:
            raise ValueError("a session needs a name")

    @property
    def specs(self) -> tuple[CaptureSpec, ...]:
        """The captures as :class:`CaptureSpec` objects."""
        return tuple(CaptureSpec.of(c) for c in self.captures)

    @property
    def private(self) -> bool:
        """The user expected not to be recognised (incognito or private mode)."""
        return (self.mode or "").lower() in PRIVATE_MODES

    def labels(self) -> dict[str, Any]:
        """The labels as one flat mapping (``mode``, ``app`` ..., ``toggles.<name>``)."""
        out: dict[str, Any] = {
            "session": self.name, "mode": self.mode, "app": self.app, "package": self.package,
            "version": self.version, "device": self.device,
        }  # fmt: skip
        out.update({f"toggles.{k}": v for k, v in self.toggles.items()})
        return out


Columns = dict[str, list[Any]]
"""A table as one list of Python values per schema column: how per-capture results travel from a
worker and are stacked (lists pickle and concatenate far faster than DataFrames)."""


def table_columns(name: str, frame: pd.DataFrame) -> Columns:
    """The columns of a table ``name`` as lists of Python values (missing values as ``None`` or ``pd.NA``).

    ``TABLES[name].frame(table_columns(name, frame))`` gives the frame back.

    >>> frame = TABLES["problems"].frame({"capture": ["a.har", None], "kind": ["decode", "missing"]})
    >>> table_columns("problems", frame)["capture"], table_columns("problems", frame)["kind"]
    (['a.har', None], ['decode', 'missing'])
    """
    return {c.name: _python_values(frame[c.name], c.dtype) for c in TABLES[name].columns}


def _python_values(series: pd.Series, dtype: str) -> list[Any]:
    values = series.array
    if dtype == "category" and isinstance(values, pd.Categorical):
        categories = values.categories.tolist()
        return [categories[code] if code >= 0 else None for code in values.codes.tolist()]
    if dtype == "string" and hasattr(values, "__arrow_array__"):
        import pyarrow as pa

        return pa.array(values).to_pylist()  # one C call instead of a NumPy object array
    if dtype in ("Int64", "boolean"):
        return values.to_numpy(dtype=object, na_value=pd.NA).tolist()
    return series.tolist()


def _rows(columns: Columns) -> int:
    return len(next(iter(columns.values()), ()))


def stack_columns(name: str, parts: Iterable[Columns]) -> pd.DataFrame:
    """One table ``name`` from the columns of several (:func:`table_columns`), with the schema's dtypes.

    >>> a = {"capture": ["a.har"], "kind": ["decode"]}
    >>> stack_columns("problems", [a, {"capture": ["b.har"], "kind": ["missing"]}])["capture"].tolist()
    ['a.har', 'b.har']
    """
    table = TABLES[name]
    parts = [p for p in parts if _rows(p)]
    if not parts:
        return table.empty()
    given = {c for p in parts for c in p}
    columns = {
        c: list(itertools.chain.from_iterable(p.get(c) or [None] * _rows(p) for p in parts))
        for c in table.names
        if c in given
    }
    return table.validate(table.frame(columns))


def concat_tables(name: str, frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Stack tables of one kind, keeping the schema's dtypes (categories are re-made).

    >>> a = TABLES["problems"].frame({"capture": ["a.har"], "kind": ["decode"]})
    >>> b = TABLES["problems"].frame({"capture": ["b.har"], "kind": ["missing"]})
    >>> concat_tables("problems", [a, b])["kind"].tolist()
    ['decode', 'missing']
    """
    # column by column as Python values: pd.concat of hundreds of frames whose categories differ is
    # slow, and the schema re-makes every dtype anyway
    return stack_columns(name, [table_columns(name, f) for f in frames if len(f)])


def _label_columns(columns: Columns, session: str, package: str | None) -> Columns:
    """The ``session`` column set, and ``app`` filled with the package where the capture does not say."""
    rows = _rows(columns)
    if "session" in columns:
        columns["session"] = [session] * rows
    if "app" in columns and package:
        columns["app"] = [package if v is None or v is pd.NA else v for v in columns["app"]]
    return columns


def _with_session(frame: pd.DataFrame, session: str, package: str | None) -> pd.DataFrame:
    out = frame.copy()
    if "session" in out:
        out["session"] = pd.array([session] * len(out), dtype="string").astype("category")
    if "app" in out and package:
        filled = out["app"].astype("string").fillna(package)
        out["app"] = filled.astype("category")
    return out


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
        """Everything besides the capture's bytes that decides the result (for resuming)."""
        from toolkit.capture import toolkit_version

        keylog = self.spec.keylog
        return {
            "store": STORE_VERSION, "toolkit": toolkit_version(), "session": self.session,
            "package": self.package, "tables": list(self.spec.tables) if self.spec.tables else None,
            "keylog": _sha256(keylog) if keylog is not None and keylog.is_file() else None,
            "visited": list(self.visited) if self.visited is not None else None,
            "identifiers": [list(pair) for pair in self.identifiers], "strict": self.strict,
        }  # fmt: skip


@dataclass
class CaptureResult:
    """What the work on one capture gave: its tables with the ``session`` column, and notes."""

    columns: dict[str, Columns]
    """The capture tables taken (``requests``, ``flows``, ``dns``, ``tls``), ``leaks`` and ``problems``
    (these two only when they have rows), each as lists of Python values (:func:`table_columns`)."""
    notes: list[tuple[str, str, str]] = field(default_factory=list)
    """(capture, kind, message): what could not be done; becomes a note and a ``problems`` row."""
    problems: list[tuple[str, str, str]] = field(default_factory=list)
    """(capture, kind, message): ``problems`` rows from the leak engine (e.g. a decompression bomb)."""
    sha256: str | None = None
    failed: bool = False
    """The capture could not be loaded at all."""
    candidates: list[list[Candidate]] = field(default_factory=list)
    """Identifier candidates of each row of the ``requests`` table, in row order
    (:func:`toolkit.identifiers.request_candidates`); the Study merges them across captures."""
    store_error: str | None = None
    """Why the result could not be written to the study's store (:func:`analyse_and_store`)."""

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables as DataFrames (built on each call)."""
        return {name: stack_columns(name, [columns]) for name, columns in self.columns.items()}


def analyse_capture(job: CaptureJob) -> CaptureResult:
    """Load one capture, classify its hosts, find its leaks and its requests' identifier candidates
    (runs in a worker process).

    A capture that cannot be read gives a result with ``failed`` set and a note (unless ``strict``).

    >>> result = analyse_capture(CaptureJob("normal", CaptureSpec(Path("data/lab/normal.har"))))
    >>> len(result.tables["requests"]), set(result.tables["requests"]["session"]), len(result.tables["leaks"]) > 0
    (18, {'normal'}, True)
    >>> len(result.candidates), sorted({c.kind for found in result.candidates for c in found})[:3]
    (18, ['client_id', 'device_id', 'distinct_id'])
    """
    spec = job.spec
    name = spec.path.name
    try:
        capture = load(spec.path, strict=job.strict, keylog=spec.keylog)
    except (CaptureError, OSError) as exc:
        if job.strict:
            raise
        return CaptureResult({}, [(name, "missing", f"capture not loaded: {exc}")], failed=True)
    except Exception as exc:  # a reader bug must not end a study of many captures; it is reported
        if job.strict:
            raise
        message = f"capture not loaded: reader failed ({type(exc).__name__}: {exc})"
        return CaptureResult({}, [(name, "missing", message)], failed=True)
    columns: dict[str, Columns] = {}
    for table in CAPTURE_TABLES:
        if (spec.tables is None or table in spec.tables) and table in capture.tables:
            columns[table] = _label_columns(table_columns(table, capture.tables[table]), job.session, job.package)
    if len(capture.problems):  # an empty table costs more to send back than one with rows
        columns["problems"] = table_columns("problems", capture.problems)
    result = CaptureResult(columns, sha256=capture.provenance.sha256)
    if "requests" in columns and _rows(columns["requests"]):
        requests = _with_session(capture.tables["requests"], job.session, job.package)
        result.candidates = request_candidates(requests)
        leak_parts = []
        for capture_id, part in requests.groupby("capture", observed=True, sort=False):
            leaks, notes, problems = _capture_leaks(part, str(capture_id), job.visited, dict(job.identifiers))
            result.notes += notes
            result.problems += problems
            if leaks is not None and len(leaks):
                leak_parts.append(table_columns("leaks", leaks))
        if leak_parts:
            if len(leak_parts) > 1:  # a file with several captures in it
                leak_parts = [table_columns("leaks", stack_columns("leaks", leak_parts))]
            columns["leaks"] = leak_parts[0]
    return result


def warm_up() -> None:
    """Load once what every capture's work needs (the leak engine, the public suffix list and the
    owner atlas of the bundled classification), so that worker processes forked afterwards share it
    instead of each loading it on its first capture.

    >>> warm_up()
    """
    import toolkit.leaks.detect  # noqa: F401  (imported for its side effect: loaded before the workers fork)
    from toolkit.endpoints import classify

    classify(["www.example.com"])


def _capture_leaks(
    requests: pd.DataFrame, capture: str, visited: Sequence[str] | None, identifiers: Mapping[str, str]
) -> tuple[pd.DataFrame | None, list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """The leaks of one capture's requests, with the notes and problems of the search."""
    try:
        from toolkit.leaks.detect import find_leaks

        leaks = find_leaks(
            requests.reset_index(drop=True), visited=list(visited) if visited is not None else None,
            identifiers=identifiers,
        )  # fmt: skip
    except Exception as exc:  # the engine failing on one capture must not end the study
        return None, [(capture, "missing", f"leaks not searched ({type(exc).__name__}: {exc})")], []
    problems = []
    found = leaks.attrs.get("problems")
    if isinstance(found, pd.DataFrame) and len(found):
        for row in found.itertuples(index=False):
            problems.append((capture, str(row.kind), f"{row.record}: {row.message}"))
    return leaks, [], problems


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as raw:
        while chunk := raw.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


#: Bumped when the layout of a result folder or the meaning of its files changes.
STORE_VERSION = 2  # 2: identifier candidates stored beside the tables
#: Tables a :class:`ResultStore` keeps per capture.
STORED_TABLES = (*CAPTURE_TABLES, "leaks", "problems")
#: Columns of the stored identifier candidates, one row per candidate; ``request`` is the row of the
#: capture's ``requests`` table it was found in.
CANDIDATE_COLUMNS = ("request", "value", "key", "location", "chain", "kind", "named")


class ResultStore:
    """Per-capture results as Parquet datasets partitioned by session and capture, with an index.

    Layout: ``<folder>/<table>/session=<name>/capture=<file>/part-0.parquet`` (names URL-quoted,
    hive style, so ``pandas.read_parquet(folder / "requests")`` reads a whole table with its
    ``session`` and ``capture`` columns) and ``<folder>/index.json``: for each capture its SHA-256
    and a digest of the settings that made it. A capture is read back only when both match.
    Lists (headers, DNS answers) are stored as Parquet lists; bodies as binary. The identifier
    candidates of the requests go to ``<folder>/candidates/`` in the same layout (columns
    :data:`CANDIDATE_COLUMNS`), so that a resumed study does not unwrap its requests again.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.index_path = self.folder / "index.json"
        self.entries: dict[str, dict[str, Any]] = {}
        if self.index_path.is_file():
            try:
                data = json.loads(self.index_path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError):
                data = {}  # an unreadable index only means nothing is resumed
            if isinstance(data, dict) and data.get("store") == STORE_VERSION:
                self.entries = dict(data.get("captures", {}))
        self._reserved: dict[str, str] = {}

    @staticmethod
    def key(job: CaptureJob) -> str:
        return f"{job.session}\t{job.spec.path}"

    def fingerprint(self, job: CaptureJob) -> tuple[str, str] | None:
        """(SHA-256 of the capture, digest of the settings), or ``None`` if the file cannot be read."""
        try:
            sha = _sha256(job.spec.path)
        except OSError:
            return None
        return sha, self.settings_digest(job)

    @staticmethod
    def settings_digest(job: CaptureJob) -> str:
        """A digest of everything besides the capture's bytes that decides its result."""
        settings = json.dumps(job.settings(), sort_keys=True, default=str)
        return hashlib.sha256(settings.encode()).hexdigest()

    def has(self, job: CaptureJob) -> bool:
        """An earlier result of ``job`` is in the index (current or not: :meth:`read` checks)."""
        return self.key(job) in self.entries

    def reserve(self, job: CaptureJob) -> str:
        """The partition (``session=<name>/capture=<file>``) that ``job``'s result will be written to;
        reserved until :meth:`record` (so that jobs written elsewhere, at once, get different ones)."""
        partition = self._reserved[self.key(job)] = self._partition(job)
        return partition

    def _partition(self, job: CaptureJob) -> str:
        quote = partial(urllib.parse.quote, safe="")
        own = self.key(job)
        taken = {e["partition"] for k, e in self.entries.items() if k != own}
        taken |= {p for k, p in self._reserved.items() if k != own}
        base = f"session={quote(job.session)}/capture={quote(job.spec.path.name)}"
        partition, n = base, 1
        while partition in taken:  # two files of one session with the same name
            n += 1
            partition = f"{base}-{n}"
        return partition

    def read(self, job: CaptureJob, sha256: str, settings: str) -> CaptureResult | None:
        """The stored result of ``job``, if it was made from the same bytes with the same settings."""
        entry = self.entries.get(self.key(job))
        if not entry or entry.get("sha256") != sha256 or entry.get("settings") != settings:
            return None
        tables: dict[str, Columns] = {}
        try:
            for name in entry["tables"]:
                path = self.folder / name / entry["partition"] / "part-0.parquet"
                tables[name] = _from_parquet(name, path) if path.is_file() else {}
            requests = _rows(tables["requests"]) if "requests" in tables else 0
            path = self.folder / "candidates" / entry["partition"] / "part-0.parquet"
            candidates = _candidates_from_parquet(path, requests) if path.is_file() else [[] for _ in range(requests)]
            if sum(map(len, candidates)) != entry["candidates"]:
                return None
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            return None  # a damaged store is analysed again, not trusted
        notes = [(str(c), str(k), str(m)) for c, k, m in entry.get("notes", [])]
        problems = [(str(c), str(k), str(m)) for c, k, m in entry.get("problems", [])]
        return CaptureResult(tables, notes, problems, sha256=sha256, candidates=candidates)

    def write(self, job: CaptureJob, result: CaptureResult, sha256: str, settings: str) -> None:
        """Store ``result`` (replacing an earlier one of the same capture); :meth:`save` writes the index."""
        partition = self.reserve(job)
        write_result_files(self.folder, partition, result)
        self.record(job, result, sha256, settings)

    def record(self, job: CaptureJob, result: CaptureResult, sha256: str, settings: str) -> None:
        """Enter ``result``, whose files are written to the partition :meth:`reserve` gave (by
        :func:`write_result_files`, here or in a worker), in the index; :meth:`save` writes it."""
        partition = self._reserved[self.key(job)]
        self.entries[self.key(job)] = {
            "session": job.session, "capture": str(job.spec.path), "partition": partition, "sha256": sha256,
            "settings": settings, "tables": sorted(result.columns), "candidates": sum(map(len, result.candidates)),
            "notes": [list(t) for t in result.notes], "problems": [list(t) for t in result.problems],
        }  # fmt: skip

    def save(self) -> None:
        """Write the index (atomically: a study stopped half-way can be resumed)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self.index_path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps({"store": STORE_VERSION, "captures": self.entries}, indent=1) + "\n")
        os.replace(temporary, self.index_path)


def write_result_files(folder: str | os.PathLike[str], partition: str, result: CaptureResult) -> None:
    """Write the tables and identifier candidates of one capture's result to a :class:`ResultStore`
    folder, replacing the files of ``partition`` (the index is the store's own business)."""
    folder = Path(folder)
    for name in STORED_TABLES:
        where = folder / name / partition
        if where.is_dir():
            shutil.rmtree(where)
        columns = result.columns.get(name)
        if columns is not None and _rows(columns):
            where.mkdir(parents=True)
            _to_parquet(stack_columns(name, [columns]), where / "part-0.parquet", _partition_values(partition))
    where = folder / "candidates" / partition
    if where.is_dir():
        shutil.rmtree(where)
    if any(result.candidates):
        where.mkdir(parents=True)
        _candidates_to_parquet(result.candidates, where / "part-0.parquet")


@dataclass(frozen=True)
class StoredJob:
    """A capture's work whose result is also written to a :class:`ResultStore` folder where it runs."""

    job: CaptureJob
    folder: str | None = None
    """The store's folder; ``None``: the result is only returned."""
    partition: str = ""
    """From :meth:`ResultStore.reserve`."""


def analyse_and_store(task: StoredJob) -> CaptureResult:
    """:func:`analyse_capture`, then the result written to the store (unless the capture failed).

    Writing where the work ran spares the study's own process the Parquet encoding of every
    capture; a folder that cannot be written to is said in ``store_error``.
    """
    result = analyse_capture(task.job)
    if task.folder is not None and not result.failed:
        try:
            write_result_files(task.folder, task.partition, result)
        except OSError as exc:
            result.store_error = f"{task.folder}: cannot store the result of {task.job.spec.path.name}: {exc}"
    return result


def _to_parquet(frame: pd.DataFrame, path: Path, partition: Mapping[str, str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = frame.copy()
    frame.attrs = {}
    for column, value in partition.items():
        # the partition folders give these columns back (keeping them in the files would clash);
        # a row whose value differs from its folder's keeps its own under another name
        if column in frame:
            own = frame.pop(column).astype(object)
            if not all(v == value for v in own):
                frame[f"row_{column}"] = pd.array(own, dtype="string")
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)


def _from_parquet(name: str, path: Path) -> Columns:
    """The columns of a table written by :func:`_to_parquet`, with lists, pairs and bytes as the readers
    make them."""
    import pyarrow.parquet as pq

    frame = pq.read_table(path).to_pandas()
    partition = _partition_values("/".join(path.parent.parts[-2:]))
    columns: dict[str, list[Any]] = {}
    for column in TABLES[name].columns:
        if f"row_{column.name}" in frame:
            columns[column.name] = frame[f"row_{column.name}"].tolist()
        elif column.name in partition and column.name not in frame:
            columns[column.name] = [partition[column.name]] * len(frame)
        elif column.dtype == "object":
            columns[column.name] = [_python_value(v) for v in frame[column.name].tolist()]
        else:
            columns[column.name] = frame[column.name].tolist()
    if len({len(values) for values in columns.values()}) > 1:
        raise ValueError(f"{path}: columns of different lengths")
    return columns


def _candidates_to_parquet(candidates: Sequence[Sequence[Candidate]], path: Path) -> None:
    """Identifier candidates per request as one Parquet row per candidate (:data:`CANDIDATE_COLUMNS`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [(position, c) for position, found in enumerate(candidates) for c in found]
    text = {name: pa.array([getattr(c, name) for _p, c in rows], pa.string()) for name in CANDIDATE_COLUMNS[1:-1]}
    columns = {
        "request": pa.array([position for position, _c in rows], pa.int32()),
        **text,
        "named": pa.array([c.named for _p, c in rows], pa.bool_()),
    }
    pq.write_table(pa.table(columns), path)


def _candidates_from_parquet(path: Path, requests: int) -> list[list[Candidate]]:
    """The candidates written by :func:`_candidates_to_parquet`, one list for each of ``requests`` rows.

    Raises:
        IndexError: a candidate names a request the table does not have (a damaged store).
    """
    import pyarrow.parquet as pq

    data = pq.read_table(path, columns=list(CANDIDATE_COLUMNS)).to_pydict()
    out: list[list[Candidate]] = [[] for _ in range(requests)]
    for position, value, key, location, chain, kind, named in zip(
        *(data[name] for name in CANDIDATE_COLUMNS), strict=True
    ):
        if not 0 <= position < requests:
            raise IndexError(f"candidate of request {position}, of {requests}")
        out[position].append(Candidate(value, key, location, chain, kind, bool(named)))
    return out


def _partition_values(partition: str) -> dict[str, str]:
    """``session=a/capture=b%2Fc`` → ``{"session": "a", "capture": "b/c"}``."""
    return {k: urllib.parse.unquote(v) for k, v in (part.split("=", 1) for part in partition.split("/"))}


def _python_value(value: Any) -> Any:
    """Parquet lists come back as arrays: lists of text stay lists, (name, value) pairs tuples."""
    if hasattr(value, "tolist") and not isinstance(value, bytes | str):
        return [tuple(v.tolist()) if hasattr(v, "tolist") else v for v in value.tolist()]
    return value


class Study:
    """Several sessions analysed together; tables are computed on first use and kept.

    Args:
        sessions: the sessions (names must differ).
        known_identifiers: identifiers the researcher knows (``{"ANDROID_ID": "..."}``).
        vendors: organisations that make the software under study (roles: ``platform``).
        sites: extra first-party sites (visited URLs and HAR pages are added).
        claims: claims to check (see :mod:`toolkit.claims`).
        mask_identifiers: shorten identifier values in the ``identifiers`` table.
        strict: raise on the first unreadable capture or damaged record (:func:`toolkit.load`);
            the captures are then read in this process, one after the other.
        workers, client, out, progress: where and how the per-capture work runs (see :meth:`run`).
    """

    def __init__(
        self,
        sessions: Sequence[Session],
        *,
        known_identifiers: Mapping[str, str] | None = None,
        vendors: Sequence[str] = (),
        sites: Sequence[str] = (),
        claims: Sequence[Claim] = (),
        name: str = "",
        description: str = "",
        mask_identifiers: bool = False,
        source: str | None = None,
        strict: bool = False,
        workers: int | None = None,
        client: Any = None,
        out: str | os.PathLike[str] | None = None,
        progress: bool | None = None,
    ) -> None:
        names = [s.name for s in sessions]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"session names must differ; repeated: {', '.join(duplicates)}")
        if not sessions:
            raise ValueError("a study needs at least one session")
        self.sessions = list(sessions)
        self.known_identifiers = dict(known_identifiers or {})
        self.vendors = tuple(vendors)
        self.sites = tuple(sites)
        self.claims = list(claims)
        self.name = name
        self.description = description
        self.mask_identifiers = mask_identifiers
        self.source = source
        """The manifest the study was read from, if any."""
        self.strict = strict
        """Raise on the first unreadable capture or damaged record instead of reporting it."""
        self._tables: dict[str, pd.DataFrame] | None = None
        self._extra_problems: list[tuple[str, str, str]] = []
        self.notes: list[str] = []
        """What could not be done (a missing component, a capture that did not load)."""
        self.workers = workers
        """Local worker processes for the per-capture work (``None``: the CPU count; ``1``: serial)."""
        self.client = client
        """A ``dask.distributed.Client`` or scheduler address to run the captures on, or ``None``."""
        self.out = Path(out) if out is not None else None
        """Folder of per-capture Parquet results and their index, for resuming (see :meth:`run`)."""
        self.progress = progress
        """Show progress on stderr (``None``: when stderr is a terminal)."""

    # --- building -------------------------------------------------------------------------

    @classmethod
    def from_manifest(cls, path: str | os.PathLike[str], *, strict: bool = False) -> Study:
        """Read a TOML manifest; paths in it are relative to the manifest's folder.

        Raises:
            ManifestError: the file is not TOML or an entry is missing or wrong (names the entry).
        """
        from toolkit.claims import Claim

        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ManifestError(f"{path}: cannot read: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ManifestError(f"{path}: not valid TOML: {exc}") from None
        base = path.parent
        meta = data.get("study", {})
        sessions = [
            _session_of(entry, base, f"{path}: session {i + 1}") for i, entry in enumerate(data.get("session", []))
        ]
        if not sessions:
            raise ManifestError(f"{path}: no [[session]] entry")
        claims = []
        for i, entry in enumerate(data.get("claim", [])):
            where = f"{path}: claim {i + 1}"
            try:
                claims.append(Claim.from_mapping(entry))
            except (KeyError, TypeError, ValueError) as exc:
                raise ManifestError(f"{where}: {exc}") from None
        known = data.get("identifiers", {})
        if not isinstance(known, Mapping) or not all(isinstance(v, str) for v in known.values()):
            raise ManifestError(f"{path}: [identifiers] must map names to text values")
        try:
            return cls(
                sessions,
                known_identifiers=known,
                vendors=tuple(meta.get("vendors", ())),
                sites=tuple(meta.get("sites", ())),
                claims=claims,
                name=str(meta.get("name", path.stem)),
                description=str(meta.get("description", "")),
                mask_identifiers=bool(meta.get("mask_identifiers", False)),
                source=str(path),
                strict=strict,
            )
        except ValueError as exc:
            raise ManifestError(f"{path}: {exc}") from None

    # --- running --------------------------------------------------------------------------

    def session(self, name: str) -> Session:
        """The session called ``name``."""
        for session in self.sessions:
            if session.name == name:
                return session
        raise KeyError(f"no session {name!r}; sessions are {', '.join(s.name for s in self.sessions)}")

    def select(self, selector: str | Sequence[str] | Mapping[str, Any] | None) -> list[Session]:
        """Sessions by name (or names), or by labels: ``{"mode": "incognito", "toggles.x": False}``.

        >>> study = Study([Session("a", [], mode="normal"), Session("b", [], mode="incognito")])
        >>> [s.name for s in study.select({"mode": "incognito"})], [s.name for s in study.select(None)]
        (['b'], ['a', 'b'])
        """
        if selector is None:
            return list(self.sessions)
        if isinstance(selector, str):
            return [self.session(selector)]
        if isinstance(selector, Mapping):
            return [s for s in self.sessions if all(_label_matches(s.labels().get(k), v) for k, v in selector.items())]
        return [self.session(n) for n in selector]

    def run(
        self,
        *,
        workers: int | None = None,
        client: Any = None,
        out: str | os.PathLike[str] | None = None,
        progress: bool | None = None,
    ) -> Study:
        """Load and analyse everything now (otherwise done on first use, once); returns the study.

        The per-capture work (load, decrypt, classify, find leaks) runs in parallel; the results
        are the same tables in the same row order wherever it runs. A capture that fails becomes
        ``problems`` rows and a note; the others go on.

        Args:
            workers: local worker processes (default: the CPU count); ``1`` runs here, serially.
            client: a ``dask.distributed.Client`` or a scheduler address (``"tcp://host:8786"``)
                to run the captures on a Dask cluster instead (needs ``dask[distributed]``).
            out: a folder for per-capture results as Parquet datasets partitioned by
                ``session=``/``capture=`` (``out/requests/session=a/capture=b.har/part-0.parquet``)
                with an ``index.json``; captures already there with the same SHA-256 and the same
                settings are read back instead of analysed again (resume). Local workers write
                their captures' files themselves; a Dask cluster's results are written here as they
                arrive (its workers may not see the folder).
            progress: show progress on stderr; ``None`` shows it when stderr is a terminal.

        Raises:
            OSError: ``out`` cannot be written to (after the analysis; what was stored is indexed).
        """
        if workers is not None:
            self.workers = workers
        if client is not None:
            self.client = client
        if out is not None:
            self.out = Path(out)
            self._tables = None  # the results are wanted in that folder: (re)computed or read back
        if progress is not None:
            self.progress = progress
        self._ensure()
        return self

    def _ensure(self) -> dict[str, pd.DataFrame]:
        if self._tables is None:
            self._tables = self._analyse()
        return self._tables

    def _note(self, capture: str, kind: str, message: str) -> None:
        self.notes.append(f"{capture}: {message}")
        self._extra_problems.append((capture, kind, message))

    def jobs(self) -> list[CaptureJob]:
        """The per-capture work of the study, in session and capture order."""
        identifiers = tuple(sorted(self.known_identifiers.items()))
        out = []
        for session in self.sessions:
            visited = self._visited(session)
            for spec in session.specs:
                out.append(
                    CaptureJob(
                        session.name, spec, session.package, tuple(visited) if visited is not None else None,
                        identifiers, self.strict,
                    )
                )  # fmt: skip
        return out

    def _run_jobs(self, jobs: Sequence[CaptureJob]) -> list[CaptureResult | str]:
        """Each job's result (or why it has none), from the store or from the workers."""
        from toolkit.parallel import Progress, run_each

        store = ResultStore(self.out) if self.out is not None else None
        results: list[CaptureResult | str | None] = [None] * len(jobs)
        digests: list[str] = [""] * len(jobs)
        todo: list[int] = []
        for i, job in enumerate(jobs):
            if store is not None:
                digests[i] = store.settings_digest(job)
                # a capture is hashed here only to check an earlier result: a new one's SHA-256 comes
                # from its load, in the worker
                key = store.fingerprint(job) if store.has(job) else None
                results[i] = store.read(job, *key) if key is not None else None
            if results[i] is None:
                todo.append(i)
        display = Progress(len(todo), enabled=self.progress)
        # local workers write their results to the store themselves; a Dask cluster's workers may not
        # see this folder, so their results are written here, each as it arrives
        local = self.client is None or self.strict
        tasks, stored = [], set()
        for i in todo:
            entry = ResultStore.key(jobs[i])
            if store is None or entry in stored:  # not stored, or one file twice in a session
                tasks.append(StoredJob(jobs[i]))
            else:
                stored.add(entry)
                tasks.append(StoredJob(jobs[i], str(store.folder) if local else None, store.reserve(jobs[i])))

        def done(index: int, outcome: Any) -> None:
            task, result = tasks[index], outcome.value
            error = outcome.error
            if error is None and result is not None and result.failed:
                error = result.notes[0][2]
            if store is not None and not local and result is not None and not result.failed and task.partition:
                try:
                    write_result_files(store.folder, task.partition, result)
                except OSError as exc:
                    result.store_error = f"{store.folder}: cannot store the result of {task.job.spec.path.name}: {exc}"
            display.done(f"{task.job.session}/{task.job.spec.path.name}", error)

        if self.strict:  # the first error is raised as it is, from this process
            outcomes = run_each(analyse_and_store, tasks, workers=1, on_done=done, catch=False)
        else:
            outcomes = run_each(
                analyse_and_store, tasks, workers=self.workers, client=self.client, on_done=done, prepare=warm_up
            )
        display.close()
        store_errors = []
        for i, task, outcome in zip(todo, tasks, outcomes, strict=True):
            if outcome.value is None:
                results[i] = f"capture not analysed: {outcome.error}"
                continue
            results[i] = result = outcome.value
            if store is not None and result.sha256 is not None and not result.failed and task.partition:
                if result.store_error is None:
                    store.record(task.job, result, result.sha256, digests[i])
                else:
                    store_errors.append(result.store_error)
        if store is not None:
            store.save()
            if store_errors:  # the analysis is done, but the study cannot be kept where it was asked to be
                raise OSError(f"{store_errors[0]} ({len(store_errors)} of {len(todo)} results not stored)")
        return [r if r is not None else "capture not analysed" for r in results]

    def _analyse(self) -> dict[str, pd.DataFrame]:
        self._extra_problems = []
        self.notes = []
        per_table: dict[str, list[Columns]] = {name: [] for name in STORED_TABLES}
        candidates: list[list[Candidate]] = []  # one list per request, in the stacked table's row order
        jobs = self.jobs()
        for job, result in zip(jobs, self._run_jobs(jobs), strict=True):
            if isinstance(result, str):
                self._note(job.spec.path.name, "missing", result)
                continue
            for capture, kind, message in result.notes:
                self._note(capture, kind, message)
            self._extra_problems.extend(result.problems)
            for name, columns in result.columns.items():
                per_table[name].append(columns)
            candidates += result.candidates
        tables = {name: self._in_order(stack_columns(name, per_table[name])) for name in CAPTURE_TABLES}
        leaks = stack_columns("leaks", per_table["leaks"])
        tables.update(self._derive(tables, found_leaks=leaks, candidates=candidates))
        extra = {
            "capture": [c for c, _k, _m in self._extra_problems],
            "kind": [k for _c, k, _m in self._extra_problems],
            "message": [m for _c, _k, m in self._extra_problems],
            "severity": ["warning"] * len(self._extra_problems),
        }
        tables["problems"] = stack_columns("problems", [*per_table["problems"], extra])
        return tables

    def _in_order(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The ``session`` column's categories in the study's session order (for groupby and plots)."""
        if "session" in frame and isinstance(frame["session"].dtype, pd.CategoricalDtype):
            names = pd.Index([s.name for s in self.sessions], dtype=frame["session"].cat.categories.dtype)
            frame["session"] = frame["session"].cat.set_categories(names)
        return frame

    def _derive(
        self,
        tables: Mapping[str, pd.DataFrame],
        keep: Mapping[str, pd.DataFrame] | None = None,
        found_leaks: pd.DataFrame | None = None,
        candidates: Sequence[Sequence[Candidate]] | None = None,
    ) -> dict[str, pd.DataFrame]:
        """Endpoints, leaks and identifiers from the capture tables (those in ``keep`` are kept;
        ``found_leaks`` are the leaks and ``candidates`` the identifier candidates of each request
        that the per-capture work found; without them they are found here)."""
        keep = keep or {}
        out: dict[str, pd.DataFrame] = {}
        out["endpoints"] = keep["endpoints"] if "endpoints" in keep else self._endpoints(tables)
        if "leaks" in keep:
            out["leaks"] = keep["leaks"]
        elif found_leaks is not None:
            out["leaks"] = self._leaks_in_context(found_leaks, out["endpoints"])
        else:
            out["leaks"] = self._leaks(tables["requests"], out["endpoints"])
        if "identifiers" in keep:
            out["identifiers"] = keep["identifiers"]
        else:
            if candidates is not None and len(candidates) != len(tables["requests"]):
                candidates = None  # not the candidates of these requests: found again here
            out["identifiers"] = discover_identifiers(
                tables["requests"],
                known=self.known_identifiers,
                modes={s.name: s.mode for s in self.sessions if s.mode},
                organisations=_host_map(out["endpoints"], "organisation"),
                masked=self.mask_identifiers,
                leaks=out["leaks"],
                candidates=candidates,
            )
        return out

    def _context(self, tables: Mapping[str, pd.DataFrame]) -> Any:
        from toolkit.endpoints import Context

        sites = list(self.sites)
        for session in self.sessions:
            sites += self._visited(session) or []
        inferred = Context.infer({"requests": tables["requests"]})
        sites += [s for s in inferred.sites if s not in sites]
        return Context(sites=tuple(dict.fromkeys(sites)), vendors=self.vendors)

    def _endpoints(self, tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
        try:
            from toolkit.endpoints import classify

            return classify(
                {k: v for k, v in tables.items() if k in ("requests", "flows", "dns")}, self._context(tables)
            )
        except Exception as exc:
            self._note("study", "missing", f"endpoints not classified ({type(exc).__name__}: {exc}); roles unknown")
            hosts = pd.unique(tables["requests"]["host"].dropna().to_numpy(dtype=object)).tolist()
            return TABLES["endpoints"].frame({"host": hosts, "role": ["unknown"] * len(hosts)})

    def _visited(self, session: Session) -> list[str] | None:
        if session.visited is None:
            return None
        if isinstance(session.visited, str | os.PathLike):
            from toolkit.leaks.needles import read_visited

            return read_visited(session.visited)
        return list(session.visited)

    def _leaks(self, requests: pd.DataFrame, endpoints: pd.DataFrame) -> pd.DataFrame:
        frames = []
        for session in self.sessions:
            mine = requests[requests["session"] == session.name]
            if not len(mine):
                continue
            visited = self._visited(session)
            for capture, part in mine.groupby("capture", observed=True, sort=False):
                leaks, notes, problems = _capture_leaks(part, str(capture), visited, self.known_identifiers)
                for note in notes:
                    self._note(*note)
                self._extra_problems.extend(problems)
                if leaks is not None:
                    frames.append(leaks)
        return self._leaks_in_context(concat_tables("leaks", frames), endpoints)

    def _leaks_in_context(self, leaks: pd.DataFrame, endpoints: pd.DataFrame) -> pd.DataFrame:
        """The stacked per-capture leaks, with organisation and role as the study's context (visited sites,
        vendors) decides them."""
        leaks = self._in_order(leaks)
        if len(leaks) and len(endpoints):
            organisation, role = _host_map(endpoints, "organisation"), _host_map(endpoints, "role")
            hosts = leaks["host"].astype(object)
            leaks["organisation"] = pd.array(
                [
                    organisation.get(h, o) if isinstance(h, str) else o
                    for h, o in zip(hosts, leaks["organisation"], strict=True)
                ],
                dtype="string",
            )
            leaks["role"] = pd.array(
                [
                    role.get(h, r) if isinstance(h, str) else r
                    for h, r in zip(hosts, leaks["role"].astype(object), strict=True)
                ],
                dtype="string",
            ).astype("category")
        return TABLES["leaks"].validate(leaks)

    # --- tables ---------------------------------------------------------------------------

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table: requests, flows, dns, tls, endpoints, leaks, identifiers, problems."""
        return dict(self._ensure())

    @property
    def requests(self) -> pd.DataFrame:
        return self._ensure()["requests"]

    @property
    def flows(self) -> pd.DataFrame:
        return self._ensure()["flows"]

    @property
    def dns(self) -> pd.DataFrame:
        return self._ensure()["dns"]

    @property
    def tls(self) -> pd.DataFrame:
        return self._ensure()["tls"]

    @property
    def endpoints(self) -> pd.DataFrame:
        return self._ensure()["endpoints"]

    @property
    def leaks(self) -> pd.DataFrame:
        return self._ensure()["leaks"]

    @property
    def identifiers(self) -> pd.DataFrame:
        return self._ensure()["identifiers"]

    @property
    def problems(self) -> pd.DataFrame:
        return self._ensure()["problems"]

    def replace_tables(self, **tables: pd.DataFrame) -> Study:
        """A copy of the study with some tables replaced, to ask "what if the data were different".

        Replacing a capture table (``requests``, ``flows``, ``dns``, ``tls``) recomputes the
        endpoints, leaks and identifiers from it, unless they are given too.
        """
        unknown = set(tables) - set(TABLES)
        if unknown:
            raise KeyError(f"no tables {sorted(unknown)}; tables are {', '.join(TABLES)}")
        current = dict(self._ensure())
        copy = Study(
            self.sessions, known_identifiers=self.known_identifiers, vendors=self.vendors, sites=self.sites,
            claims=self.claims, name=self.name, description=self.description,
            mask_identifiers=self.mask_identifiers, source=self.source, strict=self.strict,
            workers=self.workers, client=self.client, out=self.out, progress=self.progress,
        )  # fmt: skip
        copy._extra_problems = []
        copy.notes = list(self.notes)
        current.update({k: TABLES[k].validate(v) for k, v in tables.items()})
        derived = ("endpoints", "leaks", "identifiers")
        if set(tables) & set(CAPTURE_TABLES):
            current.update(copy._derive(current, keep={k: v for k, v in tables.items() if k in derived}))
        copy._tables = current
        return copy

    def sessions_table(self) -> pd.DataFrame:
        """One row per session: its labels and row counts."""
        rows = []
        tables = self._ensure()
        for session in self.sessions:
            row = session.labels()
            row["captures"] = [str(s.path) for s in session.specs]
            for name in ("requests", "flows", "tls", "leaks"):
                frame = tables[name]
                row[name] = int((frame["session"] == session.name).sum()) if len(frame) else 0
            rows.append(row)
        return pd.DataFrame(rows)

    # --- comparison -----------------------------------------------------------------------

    def compare(self) -> pd.DataFrame:
        """Per session and destination organisation: requests, bytes sent, leaks by needle kind.

        Tidy: one row per (session, organisation); hosts no list knows are grouped under their
        registrable domain. Columns: session, mode, organisation, role, hosts, requests,
        bytes_up (URL, headers and body of the requests), leaks, leaks_<kind> for
        :data:`LEAK_KINDS`, referer_leaks.
        """
        tables = self._ensure()
        requests, leaks, endpoints = tables["requests"], tables["leaks"], tables["endpoints"]
        destination = _destination_map(endpoints)
        role = _host_map(endpoints, "role")
        frame = pd.DataFrame(
            {
                "session": requests["session"].astype(object),
                "host": requests["host"].astype(object),
                "bytes_up": [_request_bytes(r) for r in requests.to_dict("records")],
            }
        )
        frame["organisation"] = [destination.get(h, h) for h in frame["host"]]
        frame["role"] = [role.get(h, "unknown") for h in frame["host"]]
        grouped = frame.groupby(["session", "organisation"], sort=False, dropna=False)
        out = grouped.agg(
            role=("role", lambda s: ", ".join(sorted(set(s)))),
            hosts=("host", lambda s: len(set(s))),
            requests=("host", "size"),
            bytes_up=("bytes_up", "sum"),
        ).reset_index()
        lk = pd.DataFrame(
            {
                "session": leaks["session"].astype(object),
                "organisation": [destination.get(h, h) for h in leaks["host"].astype(object)],
                "needle_kind": leaks["needle_kind"].astype(object),
                "kind": leaks["kind"].astype(object),
            }
        )
        counts = {}
        for column, mask in (
            [("leaks", lk["kind"].notna())]
            + [(f"leaks_{k}", lk["needle_kind"] == k) for k in LEAK_KINDS]
            + [("referer_leaks", lk["kind"] == "referer")]
        ):
            counts[column] = lk[mask].groupby(["session", "organisation"]).size()
        for column, series in counts.items():
            index = pd.MultiIndex.from_frame(out[["session", "organisation"]])
            out[column] = series.reindex(index, fill_value=0).to_numpy()
        modes = {s.name: s.mode for s in self.sessions}
        out.insert(1, "mode", [modes.get(s) for s in out["session"]])
        order = {s.name: i for i, s in enumerate(self.sessions)}
        out = out.sort_values(
            ["session", "requests"], key=lambda c: c.map(order) if c.name == "session" else -c, kind="stable"
        )
        return out.reset_index(drop=True).astype(
            {"session": "category", "mode": "string", "organisation": "string", "role": "string"}
        )

    def diff(
        self, before: str | Sequence[str] | Mapping[str, Any], after: str | Sequence[str] | Mapping[str, Any]
    ) -> pd.DataFrame:
        """What appears or disappears between two sessions (or two groups of sessions).

        Items: destinations contacted (``destination``), leak kinds per destination
        (``leak:url``, ``leak:search_term`` ...) and identifiers (``identifier``).
        Columns: item, what, organisation, before, after, change (appears / disappears / both).
        """
        a = {s.name for s in self.select(before)}
        b = {s.name for s in self.select(after)}
        tables = self._ensure()
        destination = _destination_map(tables["endpoints"])
        items: dict[tuple[str, str, str], set[str]] = {}

        def add(what: str, item: str, organisation: str, session: str) -> None:
            items.setdefault((what, item, organisation), set()).add(session)

        for session, host in zip(
            tables["requests"]["session"].astype(object), tables["requests"]["host"].astype(object), strict=True
        ):
            org = destination.get(host, host)
            add("destination", str(org), str(org), session)
        leaks = tables["leaks"]
        for session, host, kind in zip(
            leaks["session"].astype(object),
            leaks["host"].astype(object),
            leaks["needle_kind"].astype(object),
            strict=True,
        ):
            org = destination.get(host, host)
            add(f"leak:{kind}", f"{kind} to {org}", str(org), session)
        for row in tables["identifiers"].itertuples(index=False):
            orgs = ", ".join(row.organisations) or ", ".join(row.hosts)
            for session in row.sessions:
                add("identifier", str(row.value), orgs, session)
        rows = []
        for (what, item, org), sessions in items.items():
            in_a, in_b = bool(sessions & a), bool(sessions & b)
            if not (in_a or in_b):
                continue
            change = "both" if in_a and in_b else ("disappears" if in_a else "appears")
            rows.append(
                {"what": what, "item": item, "organisation": org, "before": in_a, "after": in_b, "change": change}
            )
        out = pd.DataFrame(rows, columns=["what", "item", "organisation", "before", "after", "change"])
        return out.sort_values(["change", "what", "item"], kind="stable").reset_index(drop=True)

    # --- claims and output ----------------------------------------------------------------

    def evaluate(self, claims: Sequence[Claim] | None = None) -> pd.DataFrame:
        """The claims table: one row per claim with its verdict (see :func:`toolkit.claims.evaluate`)."""
        from toolkit.claims import evaluate

        return evaluate(self, self.claims if claims is None else claims)

    def write(self, out: str | os.PathLike[str], fmt: str = "csv") -> list[Path]:
        """Write every table (with its ``session`` column), ``sessions``, ``comparison``,
        ``claims``, ``claim_evidence`` and ``summary.json`` to the folder ``out``."""
        from toolkit.claims import evidence_table
        from toolkit.export import write_table

        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        tables = self.tables
        problems = tables["problems"].copy()
        owner = {spec.path.name: session.name for session in self.sessions for spec in session.specs}
        problems.insert(
            1, "session", pd.array([owner.get(c) for c in problems["capture"].astype(object)], dtype="string")
        )
        tables["problems"] = problems
        tables["sessions"] = self.sessions_table()
        tables["comparison"] = self.compare()
        claims = self.evaluate()
        tables["claim_evidence"] = evidence_table(claims)
        tables["claims"] = claims.drop(columns=["rows"])
        written = [write_table(frame, folder / name, fmt) for name, frame in tables.items()]  # type: ignore[arg-type]
        summary = {
            "study": self.name,
            "manifest": self.source,
            "sessions": [s.labels() for s in self.sessions],
            "rows": {name: len(frame) for name, frame in tables.items()},
            "verdicts": dict(zip(claims["claim"], claims["verdict"], strict=True)),
            "notes": self.notes,
        }
        (folder / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
        return [*written, folder / "summary.json"]

    def __repr__(self) -> str:
        sessions = ", ".join(f"{s.name} ({s.mode or '-'}, {len(s.specs)} captures)" for s in self.sessions)
        return f"<Study {self.name or '(unnamed)'}: {sessions}>"


def _label_matches(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, list | tuple | set):
        return any(_label_matches(actual, w) for w in wanted)
    if isinstance(actual, str) and isinstance(wanted, str):
        return actual.lower() == wanted.lower()
    return bool(actual == wanted)


def _host_map(endpoints: pd.DataFrame, column: str) -> dict[str, Any]:
    return {
        h: v
        for h, v in zip(endpoints["host"].astype(object), endpoints[column].astype(object), strict=True)
        if isinstance(h, str) and v is not None and v is not pd.NA
    }


def _destination_map(endpoints: pd.DataFrame) -> dict[str, str]:
    """Host → organisation, or the registrable domain when no list knows the owner."""
    out = {}
    for host, org, domain in zip(
        endpoints["host"].astype(object), endpoints["organisation"].astype(object),
        endpoints["registrable_domain"].astype(object), strict=True,
    ):  # fmt: skip
        if isinstance(host, str):
            out[host] = org if isinstance(org, str) else (domain if isinstance(domain, str) else host)
    return out


def _request_bytes(row: Mapping[str, Any]) -> int:
    size = len(str(row.get("url") or ""))
    headers = row.get("request_headers")
    if isinstance(headers, list | tuple):
        size += sum(len(str(k)) + len(str(v)) + 4 for k, v in headers)
    body = row.get("body")
    if isinstance(body, bytes | bytearray):
        size += len(body)
    return size


def _session_of(entry: Any, base: Path, where: str) -> Session:
    if not isinstance(entry, Mapping):
        raise ManifestError(f"{where}: must be a table")
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise ManifestError(f"{where}: `name` is missing")
    where = f"{where} ({name})"
    raw = entry.get("captures", [])
    if isinstance(raw, str | Mapping):
        raw = [raw]
    if not raw:
        raise ManifestError(f"{where}: `captures` is empty")
    specs = []
    for item in raw:
        if isinstance(item, str):
            specs.append(CaptureSpec(base / item))
        elif isinstance(item, Mapping) and isinstance(item.get("path"), str):
            keylog = item.get("keylog")
            tables = item.get("tables")
            if tables is not None and (not isinstance(tables, list) or set(tables) - set(CAPTURE_TABLES)):
                raise ManifestError(f"{where}: `tables` must list some of {', '.join(CAPTURE_TABLES)}")
            specs.append(
                CaptureSpec(base / item["path"], base / keylog if keylog else None, tuple(tables) if tables else None)
            )
        else:
            raise ManifestError(f"{where}: a capture is a path or a table with `path`")
    for spec in specs:
        if not spec.path.exists():
            raise ManifestError(f"{where}: capture {spec.path} does not exist")
    visited = entry.get("visited")
    if isinstance(visited, str):
        visited = base / visited
        if not visited.exists():
            raise ManifestError(f"{where}: browsing log {visited} does not exist")
    toggles = entry.get("toggles", {})
    if not isinstance(toggles, Mapping):
        raise ManifestError(f"{where}: `toggles` must be a table")
    known = {"name", "captures", "mode", "toggles", "app", "package", "version", "device", "visited"}
    unknown = set(entry) - known
    if unknown:
        raise ManifestError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(known)}")
    return Session(
        name, specs, mode=entry.get("mode"), toggles=dict(toggles), app=entry.get("app"),
        package=entry.get("package"), version=entry.get("version"), device=entry.get("device"), visited=visited,
    )  # fmt: skip

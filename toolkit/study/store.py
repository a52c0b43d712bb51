"""Per-capture results kept as Parquet datasets with an index (:class:`ResultStore`), so that a study
stopped half-way resumes where it was; :func:`analyse_and_store` writes a capture's result where its
work ran.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.identifiers import Candidate
from toolkit.schema import TABLES
from toolkit.study.columns import Columns, _rows
from toolkit.study.job import CaptureJob, CaptureResult, analyse_capture
from toolkit.study.manifest import CAPTURE_TABLES
from toolkit.userfiles import size_and_sha256

__all__ = [
    "CANDIDATE_COLUMNS",
    "STORED_TABLES",
    "STORE_VERSION",
    "ResultStore",
    "StoredJob",
    "analyse_and_store",
    "write_result_files",
]

#: Bumped when the layout of a result folder or the meaning of its files changes.
STORE_VERSION = 3  # 2: identifier candidates stored beside the tables; 3: tables unclassified (the study classifies)
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
        # partition -> the captures (keys) whose entry or reservation names it: a study of thousands
        # of captures asks for each partition once, without going through every entry each time
        self._holders: dict[str, set[str]] = {}
        for key, entry in self.entries.items():
            self._hold(entry.get("partition"), key)

    @staticmethod
    def key(job: CaptureJob) -> str:
        return f"{job.session}\t{job.spec.path}"

    def fingerprint(self, job: CaptureJob, settings: str | None = None) -> tuple[str, str] | None:
        """(SHA-256 of the capture, digest of the settings), or ``None`` if the file cannot be read;
        ``settings``: the digest, when the caller has it already."""
        try:
            sha = size_and_sha256(job.spec.path)[1]
        except OSError:
            return None
        return sha, settings if settings is not None else self.settings_digest(job)

    @staticmethod
    def settings_digest(job: CaptureJob) -> str:
        """A digest of everything besides the capture's bytes that decides its result, and of the
        store's layout (:data:`STORE_VERSION`)."""
        settings = json.dumps({**job.settings(), "store": STORE_VERSION}, sort_keys=True, default=str)
        return hashlib.sha256(settings.encode()).hexdigest()

    def has(self, job: CaptureJob) -> bool:
        """An earlier result of ``job`` is in the index (current or not: :meth:`read` checks)."""
        return self.key(job) in self.entries

    def reserve(self, job: CaptureJob) -> str:
        """The partition (``session=<name>/capture=<file>``) that ``job``'s result will be written to;
        reserved until :meth:`record` (so that jobs written elsewhere, at once, get different ones)."""
        key = self.key(job)
        earlier = self._reserved.get(key)
        partition = self._reserved[key] = self._partition(job)
        self._hold(partition, key)
        self._release(earlier, key)
        return partition

    def _partition(self, job: CaptureJob) -> str:
        quote = partial(urllib.parse.quote, safe="")
        own = self.key(job)
        base = f"session={quote(job.session)}/capture={quote(job.spec.path.name)}"
        partition, n = base, 1
        while any(key != own for key in self._holders.get(partition, ())):  # one name twice in a session
            n += 1
            partition = f"{base}-{n}"
        return partition

    def _hold(self, partition: str | None, key: str) -> None:
        if partition is not None:
            self._holders.setdefault(partition, set()).add(key)

    def _release(self, partition: str | None, key: str) -> None:
        """``key`` no longer holds ``partition``, unless its entry or reservation still names it."""
        if partition is not None and partition not in (
            self._reserved.get(key),
            self.entries.get(key, {}).get("partition"),
        ):
            self._holders.get(partition, set()).discard(key)

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
        provenance = entry.get("provenance")
        return CaptureResult(
            tables,
            notes,
            problems,
            sha256=sha256,
            candidates=candidates,
            provenance=dict(provenance) if isinstance(provenance, dict) else None,
        )

    def write(self, job: CaptureJob, result: CaptureResult, sha256: str, settings: str) -> None:
        """Store ``result`` (replacing an earlier one of the same capture); :meth:`save` writes the index."""
        partition = self.reserve(job)
        write_result_files(self.folder, partition, result)
        self.record(job, result, sha256, settings)

    def record(self, job: CaptureJob, result: CaptureResult, sha256: str, settings: str) -> None:
        """Enter ``result``, whose files are written to the partition :meth:`reserve` gave (by
        :func:`write_result_files`, here or in a worker), in the index; :meth:`save` writes it."""
        key = self.key(job)
        partition = self._reserved[key]
        earlier = self.entries.get(key, {}).get("partition")
        self.entries[key] = {
            "session": job.session,
            "capture": str(job.spec.path),
            "partition": partition,
            "sha256": sha256,
            "settings": settings,
            "tables": sorted(result.columns),
            "candidates": sum(map(len, result.candidates)),
            "notes": [list(t) for t in result.notes],
            "problems": [list(t) for t in result.problems],
            "provenance": result.provenance,
        }
        self._release(earlier, key)

    def witness(self) -> str:
        """Make a file with a new random name in the folder and return its name: a worker that sees
        it shares this folder (a Dask worker on this machine, or on a shared file system) and can write
        its results itself (:class:`StoredJob`). :meth:`drop_witness` removes it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f".witness-{secrets.token_hex(8)}"
        (self.folder / name).touch()
        return name

    def drop_witness(self, name: str) -> None:
        (self.folder / name).unlink(missing_ok=True)

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
            _to_parquet(name, columns, where / "part-0.parquet", _partition_values(partition))
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
    witness: str | None = None
    """Write only if this file (:meth:`ResultStore.witness`) is in ``folder`` where the work runs:
    for workers that may not share the study's file system (Dask); ``None``: always write."""


def analyse_and_store(task: StoredJob) -> CaptureResult:
    """:func:`analyse_capture`, then the result written to the store (unless the capture failed, or
    the worker does not see the store's witness file): ``stored`` says which.

    Writing where the work ran spares the study's own process the Parquet encoding of every
    capture; a folder that cannot be written to is said in ``store_error``.
    """
    result = analyse_capture(task.job)
    if task.folder is None or result.failed:
        return result
    if task.witness is not None and not os.path.isfile(os.path.join(task.folder, task.witness)):
        return result  # another machine's folder of that name, or none: the study's process writes it
    try:
        write_result_files(task.folder, task.partition, result)
        result.stored = True
    except OSError as exc:
        result.store_error = f"{task.folder}: cannot store the result of {task.job.spec.path.name}: {exc}"
    return result


def _to_parquet(name: str, columns: Columns, path: Path, partition: Mapping[str, str]) -> None:
    """Write one capture's table ``name`` (its :data:`Columns`) as Parquet, straight from the lists.

    The file is what ``pyarrow.Table.from_pandas`` makes of the table's DataFrame (same Arrow types,
    pandas metadata for the dtypes), without building the DataFrame: about six times faster.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = _rows(columns)
    kinds: dict[str, str] = {}
    values_of: dict[str, list[Any]] = {}
    own: dict[str, list[Any]] = {}
    for column in TABLES[name].columns:
        values = columns.get(column.name)
        if values is None:
            values = [None] * rows
        if column.name in partition:
            # the partition folders give these columns back (keeping them in the files would clash);
            # a row whose value differs from its folder's keeps its own under another name
            value = partition[column.name]
            if not all(isinstance(v, str) and v == value for v in values):
                own[column.name] = values
            continue
        kinds[column.name], values_of[column.name] = column.dtype, values
    for key in partition:
        if key in own:
            kinds[f"row_{key}"], values_of[f"row_{key}"] = "string", own[key]
    schema = _arrow_schema(name, tuple(kinds))
    arrays = []
    for field, kind in kinds.items():
        values = values_of[field]
        if kind == "category":
            arrays.append(_dictionary_array(values))
        elif kind == "object":  # lists, pairs, bytes: Arrow infers their type, as from_pandas does
            arrays.append(pa.array(values, from_pandas=True))
        else:
            arrays.append(pa.array(values, type=schema.field(field).type, from_pandas=True))
    fields = [schema.field(field).with_type(array.type) for field, array in zip(kinds, arrays, strict=True)]
    pq.write_table(pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata=schema.metadata)), path)


@cache
def _arrow_schema(name: str, columns: tuple[str, ...]) -> Any:
    """The Arrow schema (with its pandas metadata) of table ``name`` with these ``columns`` (``row_*``
    ones are text), as ``pyarrow.Schema.from_pandas`` gives it for a one-row table."""
    import pyarrow as pa

    frame = TABLES[name].frame({c.name: [None] for c in TABLES[name].columns})
    frame = pd.DataFrame({c: frame[c] if c in frame else pd.array([None], dtype="string") for c in columns})
    return pa.Schema.from_pandas(frame, preserve_index=False)


def _dictionary_array(values: Sequence[Any]) -> Any:
    """A category column as Arrow dictionary: sorted categories and the narrowest codes, as pandas makes them.

    >>> _dictionary_array(["b", None, "a", "b"]).to_pylist()
    ['b', None, 'a', 'b']
    """
    import pyarrow as pa

    categories = sorted({v for v in values if isinstance(v, str)})
    code = {c: i for i, c in enumerate(categories)}
    width = pa.int8() if len(categories) < 127 else pa.int16() if len(categories) < 32767 else pa.int32()
    codes = pa.array([code.get(v) if isinstance(v, str) else None for v in values], type=width)
    return pa.DictionaryArray.from_arrays(codes, pa.array(categories, type=pa.large_string()))


def _from_parquet(name: str, path: Path) -> Columns:
    """The columns of a table written by :func:`_to_parquet`, with lists, pairs and bytes as the readers
    make them (read with Arrow alone: a DataFrame on the way would cost four times as much).

    Raises:
        KeyError: a column of the table is not in the file (a damaged store).
    """
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    names = set(table.column_names)
    partition = _partition_values("/".join(path.parent.parts[-2:]))
    columns: dict[str, list[Any]] = {}
    for column in TABLES[name].columns:
        if f"row_{column.name}" in names:
            columns[column.name] = table.column(f"row_{column.name}").to_pylist()
        elif column.name in partition and column.name not in names:
            columns[column.name] = [partition[column.name]] * table.num_rows
        elif column.dtype == "object":
            columns[column.name] = [_python_value(v) for v in table.column(column.name).to_pylist()]
        else:
            columns[column.name] = table.column(column.name).to_pylist()
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
    """Parquet lists come back as lists: lists of text stay lists, (name, value) pairs become tuples again.

    >>> _python_value([["a", "1"], ["b", "2"]]), _python_value(["x.example"]), _python_value(b"body")
    ([('a', '1'), ('b', '2')], ['x.example'], b'body')
    """
    if isinstance(value, list):
        return [tuple(v) if isinstance(v, list) else v for v in value]
    return value

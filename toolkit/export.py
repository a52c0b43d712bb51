"""Writing tables to files people open in other tools: CSV, Parquet, JSON.

Columns of Python objects are made portable first: header and cookie lists become JSON text,
bodies (bytes) become text when they are UTF-8 and ``base64:``-prefixed base64 otherwise.

>>> import pandas as pd
>>> frame = pd.DataFrame({"body": [b"a=1", b"\\x00\\xff", None], "headers": [[("A", "1")], [], None]})
>>> portable(frame).astype(object).values.tolist()
[['a=1', '[["A", "1"]]'], ['base64:AP8=', '[]'], [<NA>, <NA>]]

CSV files are opened in spreadsheets, which run a cell that begins with ``=``, ``+``, ``-`` or
``@`` as a formula; a capture decides those cells (a method, an app name, a header). In CSV,
such a text cell gets a leading ``'`` (OWASP, "CSV Injection"), which spreadsheets show as text;
Parquet and JSON keep the values as they are.

>>> neutralise_formula("=1+2"), neutralise_formula("@SUM(A1)"), neutralise_formula("GET")
("'=1+2", "'@SUM(A1)", 'GET')

CSV is for people: a body (a column of bytes) or a header list longer than :data:`CSV_CELL_LIMIT`
as text is not written into it (megabytes of pages, scripts, base64 images and the same headers in
every row), only its size and where it is: the row of the table's Parquet file, written beside the
CSV, row for row, with every value whole. Parquet is the lossless format.

>>> csv_body(b"crc=1&v=2", "requests.parquet"), csv_body(b"x" * 5000, "requests.parquet", 7)
('crc=1&v=2', '(5,000 bytes: requests.parquet row 7)')

Findings repeated in a long capture (the same value sent to the same place in every beacon) are one
CSV row each in :data:`FOLDED_IN_CSV`'s tables: the first time and evidence, ``count`` rows alike
and the time of the last one (``ts_last``); every row is in the Parquet file beside the CSV.

>>> leaks = pd.DataFrame({"ts": pd.to_datetime([1, 2, 3], unit="s", utc=True), "needle": ["a", "b", "a"],
...                       "evidence": ["f#frames=1", "f#frames=2", "f#frames=3"]})
>>> folded = fold_repeats(leaks, ("ts", "evidence"))
>>> folded[["needle", "evidence", "count"]].values.tolist(), folded["ts_last"].dt.second.tolist()
([['a', 'f#frames=1', 2], ['b', 'f#frames=2', 1]], [3, 2])
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from toolkit.freed_memory import release_freed_memory
from toolkit.output_folder import replace_file

__all__ = [
    "CSV_BODY_LIMIT",
    "CSV_CELL_LIMIT",
    "FOLDED_IN_CSV",
    "FORMULA_TRIGGERS",
    "ExportFormat",
    "csv_body",
    "fold_repeats",
    "neutralise_formula",
    "portable",
    "write_table",
]

ExportFormat = Literal["csv", "parquet", "json"]

#: First characters that make a spreadsheet read a cell as a formula: OWASP's list (= + - @, tab,
#: carriage return; https://owasp.org/www-community/attacks/CSV_Injection), with line feed and NUL
#: (OWASP ASVS 5.0, V1.2.10) and the full-width forms some spreadsheets take for the ASCII ones.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\x00", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise_formula(value: str) -> str:
    """``value`` as a spreadsheet shows it and does not run it: a leading ``'`` before a formula trigger."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def _may_hold_formula(column: pd.Series) -> bool:
    """Whether a cell of ``column`` may begin with a formula trigger: a text column is tested in one
    vectorised call, a category column by its categories, other object columns cell by cell."""
    if isinstance(column.dtype, pd.StringDtype):
        return bool(column.str.startswith(FORMULA_TRIGGERS).fillna(False).any())
    if isinstance(column.dtype, pd.CategoricalDtype):
        column = pd.Series(column.cat.categories, dtype=object)
    elif column.dtype != object:
        return False
    return any(isinstance(v, str) and v.startswith(FORMULA_TRIGGERS) for v in column.tolist())


def _csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """The text cells of ``frame`` (text and category columns) with formulas neutralised."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if _may_hold_formula(column):
            values = column.astype(object).tolist()
            out[name] = pd.array([neutralise_formula(v) if isinstance(v, str) else v for v in values], dtype=object)
    return out


#: The longest body (as text: UTF-8, or ``base64:`` and base64) or header list (as JSON text) a CSV
#: cell holds; a longer one is in the Parquet file beside the CSV.
CSV_CELL_LIMIT = 256
#: The former name of :data:`CSV_CELL_LIMIT` (bodies only).
CSV_BODY_LIMIT = CSV_CELL_LIMIT
#: Rows turned into CSV text at a time.
CSV_ROWS_AT_ONCE = 5_000
#: Rows of a Parquet row group at most (bodies whole: fewer rows at a time) ...
PARQUET_ROWS_AT_ONCE = 5_000
#: ... and the body bytes of a row group at most (Arrow holds a copy of each row's body, even of
#: bodies that are one object in the table).
PARQUET_BYTES_AT_ONCE = 2 * 1024 * 1024
#: Tables whose CSV holds each distinct finding once, and the columns that may differ between the
#: rows folded into one (their first values are shown): see :func:`fold_repeats`.
FOLDED_IN_CSV: dict[str, tuple[str, ...]] = {
    "leaks": ("ts", "evidence"),
    "datatypes": ("ts", "evidence"),
    "dns": ("ts", "flow_id", "evidence"),
    "tls": ("ts", "flow_id", "evidence"),
}
#: Columns of object lists that go to the Parquet file when long (the header lists of requests).
_LISTS_REFERENCED = ("request_headers", "cookies", "response_headers")


def csv_body(value: bytes | bytearray | memoryview, parquet_name: str, row: int | None = None) -> str:
    """A body as a CSV cell: its text when short, else its size and the Parquet file (and row) holding it."""
    data = bytes(value)
    if len(data) <= CSV_CELL_LIMIT:
        text = _bytes_text(data)
        if len(text) <= CSV_CELL_LIMIT:
            return text
    return f"({len(data):,} bytes: {parquet_name}{'' if row is None else f' row {row}'})"


def _csv_list(value: Any, parquet_name: str, row: int) -> Any:
    """A header or cookie list as a CSV cell: JSON text when short, else how many and where."""
    if not isinstance(value, list | tuple):
        return value
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= CSV_CELL_LIMIT else f"({len(value)} pairs: {parquet_name} row {row})"


def fold_repeats(frame: pd.DataFrame, varying: Sequence[str]) -> pd.DataFrame:
    """One row per group of rows equal in every column but ``varying``, in order of first appearance:
    the first row's values, ``count`` (rows in the group) and ``ts_last`` (the group's last ``ts``)."""
    group = np.zeros(len(frame), dtype=np.int64)
    for name in frame.columns:  # one group number per row, column by column (no copy of the table)
        if name not in varying:
            codes, uniques = pd.factorize(_hashable(frame[name]), use_na_sentinel=False)
            group, _ = pd.factorize(group * max(len(uniques), 1) + codes)
    first = np.unique(group, return_index=True)[1]  # group numbers follow the first appearances
    out = frame.iloc[first].reset_index(drop=True)
    out["count"] = pd.array(np.bincount(group, minlength=len(first)), dtype="Int64")
    out["ts_last"] = frame["ts"].groupby(group).max().to_numpy() if len(frame) else frame["ts"].to_numpy()
    return out


def _hashable(column: pd.Series) -> Any:
    """``column`` as values a group-by takes: lists (answers, offered versions) as JSON text."""
    if column.dtype != object:
        return column
    return pd.array(_portable_values(column.tolist()), dtype="string")


def _bytes_columns(frame: pd.DataFrame) -> list[str]:
    """The object columns holding only bytes (or missing values): bodies."""
    found = []
    for name in frame.columns:
        if frame[name].dtype != object:
            continue
        values = frame[name].tolist()
        if any(isinstance(v, bytes | bytearray | memoryview) for v in values) and all(
            v is None or v is pd.NA or isinstance(v, bytes | bytearray | memoryview) for v in values
        ):
            found.append(name)
    return found


def _without_long_cells(frame: pd.DataFrame, parquet_name: str, first_row: int) -> tuple[pd.DataFrame, bool]:
    """``frame`` (rows from ``first_row`` on) with its bodies and header lists as CSV cells
    (:func:`csv_body`, :func:`_csv_list`), and whether any was left out."""
    columns = _bytes_columns(frame)
    lists = [name for name in _LISTS_REFERENCED if name in frame.columns and frame[name].dtype == object]
    if not columns and not lists:
        return frame, False
    out, cut = frame.copy(deep=False), False
    for name in columns:
        cells = [
            None if v is None or v is pd.NA else csv_body(v, parquet_name, first_row + i)
            for i, v in enumerate(frame[name].tolist())
        ]
        cut = cut or any(c is not None and c.endswith(")") and f": {parquet_name} row " in c for c in cells)
        out[name] = pd.array(cells, dtype="string")
    for name in lists:
        listed = [_csv_list(v, parquet_name, first_row + i) for i, v in enumerate(frame[name].tolist())]
        cut = cut or any(
            isinstance(c, str) and c.endswith(f": {parquet_name} row {first_row + i})") for i, c in enumerate(listed)
        )
        out[name] = pd.array([None if v is None or v is pd.NA else v for v in listed], dtype=object)
    return out, cut


def _bytes_text(value: bytes) -> str:
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return "base64:" + base64.b64encode(value).decode()
    if "\x00" in text or text.startswith("base64:"):
        return "base64:" + base64.b64encode(value).decode()
    return text


def _portable_value(value: Any, keep_bytes: bool = False) -> Any:
    if value is None or value is pd.NA:
        return None if keep_bytes else pd.NA
    if isinstance(value, bytes | bytearray):
        if keep_bytes:
            return bytes(value)
        return _bytes_text(bytes(value))
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def portable(frame: pd.DataFrame, *, keep_bytes: bool = False) -> pd.DataFrame:
    """A copy of ``frame`` whose object columns hold only text (or missing values).

    With ``keep_bytes``, a column holding only bytes stays binary (for Parquet).
    """
    out = frame.copy()
    for name in out.columns:
        if out[name].dtype != object:
            continue
        values = out[name].tolist()
        if keep_bytes and all(v is None or isinstance(v, bytes) for v in values):
            continue
        out[name] = pd.array(_portable_values(values), dtype="string")
    return out


def _portable_values(values: list[Any]) -> list[Any]:
    """:func:`_portable_value` of each of ``values``; a list made of the same objects as an earlier
    one (the header pairs a capture reader shares between requests) is turned into JSON once.

    >>> pair = ("Accept", "*/*")
    >>> _portable_values([[pair], [pair], None, b"x"])
    ['[["Accept", "*/*"]]', '[["Accept", "*/*"]]', <NA>, 'x']
    """
    made: dict[tuple[int, ...], Any] = {}  # ids of the items: ``values`` keeps them alive meanwhile
    out = []
    for value in values:
        if type(value) is list:
            key = tuple(map(id, value))
            text = made.get(key)
            if text is None:
                text = made[key] = _portable_value(value)
            out.append(text)
        else:
            out.append(_portable_value(value))
    return out


#: Units of a time stamp and their length in the unit below seconds they are counted in.
_UNITS = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


def _time_text(column: pd.Series) -> pd.Series:
    """``column.astype(str)`` (missing values None), made in one Arrow call for a UTC column (the
    tables' time zone): pandas shows the shortest of seconds, ms, µs and ns that shows every value.

    >>> stamps = pd.Series(pd.to_datetime([0, 1_500, None], unit="ms", utc=True))
    >>> _time_text(stamps).tolist()
    ['1970-01-01 00:00:00.000+00:00', '1970-01-01 00:00:01.500+00:00', None]
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    tz, unit = column.dt.tz, column.dt.unit
    missing = column.isna().to_numpy()
    if str(tz) != "UTC" or unit not in _UNITS or missing.all():
        text = column.astype(str).astype(object)
        text[missing] = None
        return text
    counts = column.array.asi8
    present = counts[~missing]
    shown = next(u for u in _UNITS if _UNITS[u] <= _UNITS[unit] and not (present % (_UNITS[unit] // _UNITS[u])).any())
    stamps = pa.array(counts // (_UNITS[unit] // _UNITS[shown]), type=pa.timestamp(shown), mask=missing)
    text = pc.strftime(stamps, format="%Y-%m-%d %H:%M:%S+00:00")
    return pd.Series(text.to_pylist(), index=column.index, dtype=object)


def _times_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its timestamp columns as text, in one format per column (pandas picks the
    shortest that shows every value; a slice of rows alone could get a shorter one)."""
    out = frame
    for name in frame.columns:
        if isinstance(frame[name].dtype, pd.DatetimeTZDtype) or str(frame[name].dtype).startswith("datetime64"):
            out = out.copy(deep=False) if out is frame else out
            out[name] = _time_text(frame[name])
    return out


def _row_groups(frame: pd.DataFrame) -> list[tuple[int, int]]:
    """(start, stop) of the Parquet row groups: :data:`PARQUET_ROWS_AT_ONCE` rows at most, and no
    more body bytes than :data:`PARQUET_BYTES_AT_ONCE` (but at least one row)."""
    sizes = np.zeros(len(frame), dtype=np.int64)
    for name in _bytes_columns(frame):
        sizes += np.fromiter(
            (len(v) if isinstance(v, bytes) else 0 for v in frame[name].tolist()), np.int64, len(frame)
        )
    groups, start, total = [], 0, 0
    for row, size in enumerate(sizes.tolist()):
        if row > start and (row - start >= PARQUET_ROWS_AT_ONCE or total + size > PARQUET_BYTES_AT_ONCE):
            groups.append((start, row))
            start, total = row, 0
        total += size
    groups.append((start, len(frame)))
    return groups


def _write_parquet(frame: pd.DataFrame, path: str) -> None:
    """``frame`` as Parquet, one row group per slice of rows (memory follows the slice)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    groups = _row_groups(frame)
    first = portable(frame.iloc[groups[0][0] : groups[0][1]], keep_bytes=True)
    if len(groups) == 1:
        first.to_parquet(path, index=False)
        return
    table = pa.Table.from_pandas(first, preserve_index=False)
    schema, binary = table.schema, set(_bytes_columns(frame))
    for index, field in enumerate(schema):  # a column with no value in the first slice
        if pa.types.is_null(field.type) and (field.name in binary or frame[field.name].notna().any()):
            schema = schema.set(index, field.with_type(pa.binary() if field.name in binary else pa.string()))
    with pq.ParquetWriter(path, schema) as writer:
        writer.write_table(table.cast(schema))
        del first, table
        for start, stop in groups[1:]:
            part = portable(frame.iloc[start:stop], keep_bytes=True)
            writer.write_table(pa.Table.from_pandas(part, schema=schema, preserve_index=False))
    pa.default_memory_pool().release_unused()  # Arrow's allocator keeps freed memory otherwise


def write_table(frame: pd.DataFrame, path: str | os.PathLike[str], fmt: ExportFormat = "csv") -> Path:
    """Write ``frame`` to ``path`` (suffix added from ``fmt`` if missing); return the path.

    The file is written whole or not at all (:func:`toolkit.output_folder.replace_file`); a
    symbolic link at ``path`` is replaced, not followed. CSV cells that a spreadsheet would run
    as formulas are neutralised (:func:`neutralise_formula`). A CSV whose long bodies or header
    lists are left out (:func:`csv_body`), or whose repeated findings are folded (a file named after
    a table of :data:`FOLDED_IN_CSV`: :func:`fold_repeats`), gets the whole table as Parquet beside
    it (same name, ``.parquet``).
    """
    if fmt not in ("csv", "parquet", "json"):
        raise ValueError(f"unknown export format {fmt!r}; use csv, parquet or json")
    target = Path(path)
    if target.suffix != f".{fmt}":
        target = target.with_name(target.name + f".{fmt}")
    if fmt == "csv":
        beside = target.with_suffix(".parquet")
        whole = frame
        varying = FOLDED_IN_CSV.get(target.stem, ())
        folded = bool(varying) and {"ts", *varying} <= set(frame.columns)
        if folded:
            frame = fold_repeats(frame, varying)
        cut = [folded and len(frame) < len(whole)]
        frame = _times_as_text(frame)  # formatted once for the whole column, as one to_csv would

        def write_csv(temporary: str) -> None:
            # in slices of rows: the text of a slice is made, written and dropped (memory follows
            # the slice, not the table)
            with open(temporary, "w", encoding="utf-8", newline="") as handle:
                for start in range(0, max(len(frame), 1), CSV_ROWS_AT_ONCE):
                    rows = frame.iloc[start : start + CSV_ROWS_AT_ONCE]
                    shown, slice_cut = _without_long_cells(rows, beside.name, start)
                    cut[0] = cut[0] or slice_cut
                    # CRLF ends rows (RFC 4180), so a cell holding a lone CR is quoted too: unquoted,
                    # a reader would end the row there and start a new one with the rest of the cell
                    _csv_safe(portable(shown)).to_csv(handle, index=False, header=start == 0, lineterminator="\r\n")

        replace_file(target, write_csv)
        if cut[0]:
            write_table(whole, beside, "parquet")
        release_freed_memory()  # the text of the slices, before the next table
    elif fmt == "parquet":
        replace_file(target, lambda temporary: _write_parquet(frame, temporary))
    else:
        data = portable(frame)
        replace_file(
            target,
            lambda temporary: data.to_json(
                temporary, orient="records", date_format="iso", force_ascii=False, lines=True
            ),
        )
    return target

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

CSV is for people: a body (a column of bytes) longer than :data:`CSV_BODY_LIMIT` as text is not
written into it (megabytes of pages, scripts and base64 images), only its size and where it is:
the table's Parquet file, written beside the CSV, row for row, with every body whole. Parquet is
the lossless format.

>>> csv_body(b"crc=1&v=2", "requests.parquet"), csv_body(b"x" * 5000, "requests.parquet")
('crc=1&v=2', '(5,000 bytes: in requests.parquet)')
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from toolkit.output_folder import replace_file

__all__ = [
    "CSV_BODY_LIMIT",
    "FORMULA_TRIGGERS",
    "ExportFormat",
    "csv_body",
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


#: The longest body (as text: UTF-8, or ``base64:`` and base64) a CSV cell holds; a longer one is
#: in the Parquet file beside the CSV.
CSV_BODY_LIMIT = 1024
#: Rows turned into CSV text at a time.
CSV_ROWS_AT_ONCE = 20_000
#: Rows of a Parquet row group (bodies whole: fewer rows at a time).
PARQUET_ROWS_AT_ONCE = 5_000


def csv_body(value: bytes | bytearray | memoryview, parquet_name: str) -> str:
    """A body as a CSV cell: its text when short, else its size and the Parquet file holding it."""
    data = bytes(value)
    if len(data) <= CSV_BODY_LIMIT:
        text = _bytes_text(data)
        if len(text) <= CSV_BODY_LIMIT:
            return text
    return f"({len(data):,} bytes: in {parquet_name})"


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


def _without_long_bodies(frame: pd.DataFrame, parquet_name: str) -> tuple[pd.DataFrame, bool]:
    """``frame`` with its bodies as CSV cells (:func:`csv_body`), and whether any was left out."""
    columns = _bytes_columns(frame)
    if not columns:
        return frame, False
    out, cut = frame.copy(deep=False), False
    for name in columns:
        cells = [None if v is None or v is pd.NA else csv_body(v, parquet_name) for v in frame[name].tolist()]
        cut = cut or any(c is not None and c.endswith(f"in {parquet_name})") for c in cells)
        out[name] = pd.array(cells, dtype="string")
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


def _write_parquet(frame: pd.DataFrame, path: str) -> None:
    """``frame`` as Parquet, one row group per slice of rows (memory follows the slice)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    first = portable(frame.iloc[:PARQUET_ROWS_AT_ONCE], keep_bytes=True)
    if len(frame) <= PARQUET_ROWS_AT_ONCE:
        first.to_parquet(path, index=False)
        return
    table = pa.Table.from_pandas(first, preserve_index=False)
    schema, binary = table.schema, set(_bytes_columns(frame))
    for index, field in enumerate(schema):  # a column with no value in the first slice
        if pa.types.is_null(field.type) and (field.name in binary or frame[field.name].notna().any()):
            schema = schema.set(index, field.with_type(pa.binary() if field.name in binary else pa.string()))
    with pq.ParquetWriter(path, schema) as writer:
        writer.write_table(table.cast(schema))
        for start in range(PARQUET_ROWS_AT_ONCE, len(frame), PARQUET_ROWS_AT_ONCE):
            part = portable(frame.iloc[start : start + PARQUET_ROWS_AT_ONCE], keep_bytes=True)
            writer.write_table(pa.Table.from_pandas(part, schema=schema, preserve_index=False))


def write_table(frame: pd.DataFrame, path: str | os.PathLike[str], fmt: ExportFormat = "csv") -> Path:
    """Write ``frame`` to ``path`` (suffix added from ``fmt`` if missing); return the path.

    The file is written whole or not at all (:func:`toolkit.output_folder.replace_file`); a
    symbolic link at ``path`` is replaced, not followed. CSV cells that a spreadsheet would run
    as formulas are neutralised (:func:`neutralise_formula`). A CSV whose long bodies are left
    out (:func:`csv_body`) gets the whole table as Parquet beside it (same name, ``.parquet``).
    """
    if fmt not in ("csv", "parquet", "json"):
        raise ValueError(f"unknown export format {fmt!r}; use csv, parquet or json")
    target = Path(path)
    if target.suffix != f".{fmt}":
        target = target.with_name(target.name + f".{fmt}")
    if fmt == "csv":
        beside = target.with_suffix(".parquet")
        cut = [False]

        frame = _times_as_text(frame)  # formatted once for the whole column, as one to_csv would

        def write_csv(temporary: str) -> None:
            # in slices of rows: the text of a slice is made, written and dropped (memory follows
            # the slice, not the table)
            with open(temporary, "w", encoding="utf-8", newline="") as handle:
                for start in range(0, max(len(frame), 1), CSV_ROWS_AT_ONCE):
                    shown, slice_cut = _without_long_bodies(frame.iloc[start : start + CSV_ROWS_AT_ONCE], beside.name)
                    cut[0] = cut[0] or slice_cut
                    # CRLF ends rows (RFC 4180), so a cell holding a lone CR is quoted too: unquoted,
                    # a reader would end the row there and start a new one with the rest of the cell
                    _csv_safe(portable(shown)).to_csv(handle, index=False, header=start == 0, lineterminator="\r\n")

        replace_file(target, write_csv)
        if cut[0]:
            write_table(frame, beside, "parquet")
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

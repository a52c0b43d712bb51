"""Tables as plain column lists (:data:`Columns`): how the per-capture results of a study travel back
from worker processes and are stacked once (:func:`stack_columns`), with the schema's dtypes.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

import pandas as pd

from toolkit.schema import TABLES

__all__ = ["Columns", "concat_tables", "stack_columns", "table_columns"]

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

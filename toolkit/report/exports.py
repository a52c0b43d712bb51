"""The report's tables as files: CSV, Parquet and JSON, every row and every full value.

The report shows the first rows and cuts long cells; these files keep everything (masked the
same way as the report when identifiers are masked). Written with :func:`toolkit.export.write_table`.

>>> import tempfile
>>> from toolkit.schema import TABLES
>>> leaks = TABLES["leaks"].frame({"needle": ["x" * 500]})
>>> with tempfile.TemporaryDirectory() as out:
...     tables = {"leaks": leaks, "flows": TABLES["flows"].empty()}
...     paths = export_tables(tables, out, formats=("csv", "json"))
...     [p.name for p in paths]
['leaks.csv', 'leaks.json']
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from toolkit.export import ExportFormat, write_table

__all__ = ["export_tables", "flat_tables"]

_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def flat_tables(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The tables as files can hold them: a column of nested tables becomes its own table,
    ``<table>_<column>``, with a ``parent`` row number. The claims table's evidence ``rows`` become
    ``claim_evidence``, as :func:`toolkit.verdicts.write_study` writes it.

    >>> inner = pd.DataFrame({"evidence": ["a.har#entry=1"]})
    >>> flat = flat_tables({"checks": pd.DataFrame({"check": ["c"], "rows": [inner]})})
    >>> sorted(flat), list(flat["checks"].columns), flat["checks_rows"].values.tolist()
    (['checks', 'checks_rows'], ['check'], [[0, 'a.har#entry=1']])
    """
    out: dict[str, pd.DataFrame] = {}
    for name, frame in tables.items():
        nested = [
            column
            for column in frame.columns
            if frame[column].dtype == object and any(isinstance(v, pd.DataFrame) for v in frame[column])
        ]
        out[name] = frame.drop(columns=nested) if nested else frame
        if name == "claims" and "rows" in nested and "claim" in frame.columns:
            from toolkit.claims import evidence_table

            out["claim_evidence"] = evidence_table(frame)
            nested.remove("rows")
        for column in nested:
            parts = [
                value.assign(parent=position)
                for position, value in enumerate(frame[column])
                if isinstance(value, pd.DataFrame) and len(value)
            ]
            if parts:
                combined = pd.concat([p.reset_index(drop=True) for p in parts], ignore_index=True)
                combined.attrs = {}
                out[f"{name}_{column}"] = combined[["parent", *[c for c in combined.columns if c != "parent"]]]
    return out


def export_tables(
    tables: Mapping[str, pd.DataFrame],
    out_dir: str | os.PathLike[str],
    *,
    formats: Sequence[ExportFormat] = ("csv",),
    include_empty: bool = False,
) -> list[Path]:
    """Write each table as ``<out_dir>/<name>.<format>``; empty tables are skipped unless asked.

    Columns of nested tables are written as tables of their own (see :func:`flat_tables`).

    Raises:
        ValueError: a format is not csv, parquet or json.
    """
    for fmt in formats:
        if fmt not in ("csv", "parquet", "json"):
            raise ValueError(f"unknown export format {fmt!r}; use csv, parquet or json")
    target = Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in flat_tables(tables).items():
        if frame.empty and not include_empty:
            continue
        safe = _SAFE_NAME.sub("_", name).strip("._") or "table"
        for fmt in formats:
            written.append(write_table(frame, target / f"{safe}.{fmt}", fmt))
    return written

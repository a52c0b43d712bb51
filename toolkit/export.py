"""Writing tables to files people open in other tools: CSV, Parquet, JSON.

Columns of Python objects are made portable first: header and cookie lists become JSON text,
bodies (bytes) become text when they are UTF-8 and ``base64:``-prefixed base64 otherwise.

>>> import pandas as pd
>>> frame = pd.DataFrame({"body": [b"a=1", b"\\x00\\xff", None], "headers": [[("A", "1")], [], None]})
>>> portable(frame).astype(object).values.tolist()
[['a=1', '[["A", "1"]]'], ['base64:AP8=', '[]'], [<NA>, <NA>]]
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any, Literal

import pandas as pd

__all__ = ["ExportFormat", "portable", "write_table"]

ExportFormat = Literal["csv", "parquet", "json"]


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
        out[name] = pd.array([_portable_value(v) for v in values], dtype="string")
    return out


def write_table(frame: pd.DataFrame, path: str | os.PathLike[str], fmt: ExportFormat = "csv") -> Path:
    """Write ``frame`` to ``path`` (suffix added from ``fmt`` if missing); return the path."""
    target = Path(path)
    if target.suffix != f".{fmt}":
        target = target.with_name(target.name + f".{fmt}")
    data = portable(frame, keep_bytes=fmt == "parquet")
    if fmt == "csv":
        data.to_csv(target, index=False)
    elif fmt == "parquet":
        data.to_parquet(target, index=False)
    elif fmt == "json":
        data.to_json(target, orient="records", date_format="iso", force_ascii=False, lines=True)
    else:
        raise ValueError(f"unknown export format {fmt!r}; use csv, parquet or json")
    return target

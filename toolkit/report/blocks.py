"""The pieces a report is made of (paragraphs, facts, tables, figures, folded details, sections) and
how one cell of a table reads as text: what the sections build and the renderers
(:mod:`~toolkit.report.html`, :mod:`~toolkit.report.markdown`) draw.

>>> cell_text([("Host", "a.example"), ("Accept", "*/*")]), cell_text(b"\\xff\\x00")
('Host: a.example; Accept: */*', 'base64:/wA=')
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = ["Block", "Details", "Facts", "FigureBlock", "Paragraph", "Section", "TableBlock", "cell_text", "first_text"]


@dataclass(frozen=True)
class Paragraph:
    """Prose written by the toolkit (it may name hosts or values from a capture: renderers escape it)."""

    text: str
    style: Literal["", "lead", "scope"] = ""
    """``lead``: the finding the page opens with; ``scope``: what the results apply to."""


@dataclass(frozen=True)
class Facts:
    """Name/value pairs; the values may be captured text."""

    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class TableBlock:
    """A table: the first rows of an exported table, each cell plain text or ``None``."""

    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str | None, ...], ...]
    total_rows: int
    """Rows in the full table (more than ``len(rows)`` when the report shows only the first)."""
    source: str | None = None
    """Name of the exported table holding every row and the full values."""
    captured: frozenset[str] = frozenset()
    """Columns holding captured values (shown as code)."""
    max_chars: int | None = None
    """Characters shown per cell, when this table needs more (or fewer) than the report's default."""
    folded: bool = False
    """Shown folded (HTML ``<details>``) under its caption: long tables do not make the page long."""
    nowrap: frozenset[str] = frozenset()
    """Columns whose cells never break inside a word (verdicts, short labels)."""
    tones: tuple[tuple[str, str], ...] = ()
    """Cell text → tone (``contradicted`` ...), coloured by the HTML renderer."""


@dataclass(frozen=True)
class FigureBlock:
    """A figure rendered to PNG."""

    name: str
    caption: str
    """Shown under the figure; may quote captured values (rendered as text)."""
    png: bytes
    alt: str
    """Alternative text, written by the toolkit only: it becomes an attribute, so never captured text."""
    half: bool = False
    """Half the page's width, so that two such figures stand side by side."""


@dataclass(frozen=True)
class Details:
    """Blocks shown folded under a one-line summary (HTML ``<details>``; Markdown: the summary in bold)."""

    summary: str
    """May quote captured values (rendered as text)."""
    blocks: tuple[Block, ...]


Block = Paragraph | Facts | TableBlock | FigureBlock | Details


@dataclass(frozen=True)
class Section:
    anchor: str
    """Fixed identifier for links inside the report (never derived from captured data)."""
    title: str
    blocks: tuple[Block, ...]

    def walk(self) -> Iterator[Block]:
        """Every block of the section, those folded in :class:`Details` too, in page order."""
        for block in self.blocks:
            yield block
            if isinstance(block, Details):
                yield from Section("", "", block.blocks).walk()


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and np.isnan(value)


def cell_text(value: Any) -> str | None:
    """One cell as text: header pairs as ``name: value``, lists joined, bytes as UTF-8 or base64."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if _missing(value):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        stamp = pd.Timestamp(value)
        if stamp.tzinfo is not None:
            stamp = stamp.tz_convert("UTC")
        return stamp.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + (" UTC" if stamp.tzinfo is not None else "")
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return "base64:" + base64.b64encode(bytes(value)).decode()
    if isinstance(value, list | tuple):
        if all(isinstance(v, list | tuple) and len(v) == 2 for v in value):
            return "; ".join(f"{cell_text(k) or ''}: {cell_text(v) or ''}" for k, v in value)
        return ", ".join(cell_text(v) or "" for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, pd.DataFrame):
        return f"(table of {len(value)} rows)"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    return str(value)


def first_text(frame: pd.DataFrame, *names: str) -> pd.Series:
    """Per row, the first of the columns ``names`` that has a value, as text."""
    out = pd.Series([pd.NA] * len(frame), index=frame.index, dtype="string")
    for name in names:
        if name in frame.columns:
            out = out.fillna(frame[name].astype("string"))
    return out

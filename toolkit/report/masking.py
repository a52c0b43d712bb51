"""Masking identifiers for publication: the same value always gets the same mask.

A report meant for the public should not print a reader's ANDROID_ID. :class:`Masker` gives each
identifier a label (``⟦android_id-1⟧``) in order of first registration, and replaces the value
wherever it occurs inside other text: URLs, headers, bodies, needles, evidence. The usual
encodings of the value (upper and lower case, percent-encoding, base64, and MD5/SHA-1/SHA-256
hex digests) are masked as well, labelled with the form (``⟦android_id-1:sha256⟧``). Labels are
numbers, not hashes, so a mask cannot be checked against a guessed value.

>>> masker = Masker()
>>> masker.add("8e5fbce04dc91566", "android_id")
'⟦android_id-1⟧'
>>> masker.text("https://t.example/c?aid=8e5fbce04dc91566&x=1")
'https://t.example/c?aid=⟦android_id-1⟧&x=1'
>>> masker.add("8e5fbce04dc91566", "other") == masker.mask("8e5fbce04dc91566")
True
"""

from __future__ import annotations

import base64
import hashlib
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

__all__ = ["MIN_MASKED_LENGTH", "Masker"]

#: Values shorter than this are masked where they are a whole cell, never inside other text
#: (masking ``"1"`` everywhere would destroy the report).
MIN_MASKED_LENGTH = 4


def _forms(value: str) -> dict[str, str]:
    raw = value.encode("utf-8")
    forms = {
        "": value,
        "lower": value.lower(),
        "upper": value.upper(),
        "urlencoded": urllib.parse.quote(value, safe=""),
        "base64": base64.b64encode(raw).decode().rstrip("="),
        "base64url": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "md5": hashlib.md5(raw).hexdigest(),
        "sha1": hashlib.sha1(raw).hexdigest(),
        "sha256": hashlib.sha256(raw).hexdigest(),
    }
    return {name: form for name, form in forms.items() if name == "" or form != value}


class Masker:
    """Consistent masks for identifier values, applied to strings, bytes and whole tables."""

    def __init__(self) -> None:
        self._labels: dict[str, str] = {}
        self._counts: dict[str, int] = {}
        self._replacements: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None

    def __len__(self) -> int:
        return len(self._labels)

    def __bool__(self) -> bool:
        return bool(self._labels)

    @classmethod
    def from_tables(cls, tables: Mapping[str, pd.DataFrame], extra: Iterable[str] = ()) -> Masker:
        """A masker for the identifiers of a report: the ``identifiers`` table's values, the
        needles of identifier leaks, and ``extra`` values.

        >>> from toolkit.schema import TABLES
        >>> ids = TABLES["identifiers"].frame({"value": ["0c47d630"], "kind": ["distinct_id"]})
        >>> Masker.from_tables({"identifiers": ids}).mask("0c47d630")
        '⟦distinct_id-1⟧'
        """
        masker = cls()
        identifiers = tables.get("identifiers")
        if identifiers is not None and not identifiers.empty:
            kinds = identifiers["kind"].astype("string") if "kind" in identifiers else None
            for i, value in enumerate(identifiers["value"].astype("string")):
                if value is not pd.NA:
                    kind = kinds.iloc[i] if kinds is not None else pd.NA
                    masker.add(str(value), None if kind is pd.NA else str(kind))
        leaks = tables.get("leaks")
        if leaks is not None and not leaks.empty:
            chosen = leaks[leaks["needle_kind"].astype("string") == "identifier"]
            for value in chosen["needle"].astype("string").dropna():
                masker.add(str(value), "identifier")
        for value in extra:
            masker.add(value, None)
        return masker

    def add(self, value: str, kind: str | None = None) -> str:
        """Register ``value`` (once) and return its mask."""
        if value in self._labels:
            return self._labels[value]
        prefix = re.sub(r"[^A-Za-z0-9_]+", "_", kind or "id").strip("_") or "id"
        self._counts[prefix] = self._counts.get(prefix, 0) + 1
        label = f"{prefix}-{self._counts[prefix]}"
        self._labels[value] = f"⟦{label}⟧"
        if len(value) >= MIN_MASKED_LENGTH:
            for form_name, form in _forms(value).items():
                self._replacements.setdefault(form, f"⟦{label}:{form_name}⟧" if form_name else f"⟦{label}⟧")
        self._pattern = None
        return self._labels[value]

    def mask(self, value: str) -> str:
        """The mask of a registered value; any other text with the registered values masked."""
        return self._labels.get(value) or self.text(value)

    def text(self, text: str) -> str:
        """``text`` with every registered value (and its encoded forms) replaced by its mask."""
        if text in self._labels:
            return self._labels[text]
        pattern = self._compiled()
        if pattern is None:
            return text
        return pattern.sub(lambda m: self._replacements[m.group(0)], text)

    def _compiled(self) -> re.Pattern[str] | None:
        if self._pattern is None and self._replacements:
            forms = sorted(self._replacements, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(f) for f in forms))
        return self._pattern

    def value(self, value: Any) -> Any:
        """Mask a cell of any kind: text, bytes, lists and tuples (of pairs), dicts, nested tables."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, bytes | bytearray):
            decoded = bytes(value).decode("utf-8", errors="surrogateescape")
            return self.text(decoded).encode("utf-8", errors="surrogateescape")
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.value(v) for v in value)
        if isinstance(value, dict):
            return {self.value(k): self.value(v) for k, v in value.items()}
        if isinstance(value, pd.DataFrame):  # nested tables, e.g. the evidence rows of a claim
            return self.frame(value)
        return value

    def frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A copy of ``frame`` with every text, category and object column masked; dtypes kept."""
        if not self:
            return frame
        out = frame.copy()
        for name in out.columns:
            column = out[name]
            if isinstance(column.dtype, pd.CategoricalDtype):
                masked = column.astype("string").map(self.text, na_action="ignore").astype("string")
                out[name] = masked.astype("category")
            elif isinstance(column.dtype, pd.StringDtype):
                out[name] = column.map(self.text, na_action="ignore").astype(column.dtype)
            elif column.dtype == object:
                values = [self.value(v) for v in column.tolist()]
                series = pd.Series(index=column.index, dtype=object)
                series[:] = values if len(values) else []
                out[name] = series
        return out

    def frames(self, tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        """Every table masked (see :meth:`frame`)."""
        return {name: self.frame(frame) for name, frame in tables.items()}

"""Collecting the records a reader skipped or read only in part.

Readers are lenient by default and never silent: every skipped or damaged record becomes a row of
the ``problems`` table. With ``strict=True`` the first problem raises instead.

>>> from toolkit.problems import ProblemLog
>>> log = ProblemLog("session.har")
>>> log.add("entry 3", "malformed", "request.url is missing; entry skipped")
>>> log.frame()[["record", "kind", "severity"]].values.tolist()
[['entry 3', 'malformed', 'error']]
>>> ProblemLog("session.har", strict=True).add("entry 3", "malformed", "bad url; entry skipped")
Traceback (most recent call last):
...
toolkit.errors.MalformedCaptureError: session.har: entry 3: bad url
"""

from __future__ import annotations

import os
import re
from typing import Literal

import pandas as pd

from toolkit.errors import (
    CaptureError,
    MalformedCaptureError,
    TruncatedCaptureError,
    UnsupportedFormatError,
)
from toolkit.schema import TABLES

__all__ = ["ProblemKind", "ProblemLog"]

ProblemKind = Literal["malformed", "truncated", "unsupported", "missing", "decode"]
Severity = Literal["error", "warning"]

#: The end of a message saying what a lenient reader skipped ("; skipped", "; rest of request skipped").
_SKIPPED = re.compile(r";[^;]*\bskipped\s*$")

_ERRORS: dict[str, type[CaptureError]] = {
    "truncated": TruncatedCaptureError,
    "unsupported": UnsupportedFormatError,
}


class ProblemLog:
    """Problems of one input file, in the order they were found."""

    def __init__(self, path: str | os.PathLike[str], *, strict: bool = False) -> None:
        self.path = os.fspath(path)
        self.capture = os.path.basename(self.path)
        self.strict = strict
        self._rows: list[tuple[str | None, str, str, str]] = []

    def add(
        self,
        record: str | None,
        kind: ProblemKind,
        message: str,
        severity: Severity = "error",
    ) -> None:
        """Record a problem; in strict mode raise the matching :class:`CaptureError` instead."""
        if self.strict:  # nothing is skipped: the run stops here, so "; entry skipped" would be untrue
            raise _ERRORS.get(kind, MalformedCaptureError)(self.path, record, _SKIPPED.sub("", message))
        self._rows.append((record, kind, " ".join(message.split()), severity))

    def __len__(self) -> int:
        return len(self._rows)

    def frame(self) -> pd.DataFrame:
        """The problems as a ``problems`` table."""
        records, kinds, messages, severities = ([row[i] for row in self._rows] for i in range(4))
        return TABLES["problems"].frame(
            {
                "capture": [self.capture] * len(records),
                "record": records,
                "kind": kinds,
                "message": messages,
                "severity": severities,
            }
        )

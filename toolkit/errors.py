"""Errors raised on input the toolkit cannot read.

Every message names the file, the record inside it and the reason, on one line, so that a
researcher can find the damaged record in a hex editor or a text editor:

>>> from toolkit.errors import MalformedCaptureError
>>> str(MalformedCaptureError("session.har", "entry 12", "request.url is missing"))
'session.har: entry 12: request.url is missing'
>>> str(MalformedCaptureError("session.har", None, "not JSON"))
'session.har: not JSON'
>>> import pickle
>>> pickle.loads(pickle.dumps(MalformedCaptureError("session.har", "entry 12", "bad"))).record
'entry 12'
"""

from __future__ import annotations

import errno
import os

__all__ = [
    "CaptureError",
    "CaptureNotFoundError",
    "MalformedCaptureError",
    "TruncatedCaptureError",
    "UnsupportedFormatError",
]


class CaptureError(Exception):
    """A capture (or one of its records) cannot be read.

    Attributes:
        path: the file, as given by the user.
        record: the record inside the file (``"entry 12"``, ``"frame 7"``), or ``None`` when the
            whole file is at fault.
        reason: what is wrong, in words a researcher understands.
    """

    def __init__(self, path: str | os.PathLike[str], record: str | None, reason: str) -> None:
        self.path = os.fspath(path)
        self.record = record
        self.reason = reason
        super().__init__(self._message())

    def __reduce__(self) -> tuple[type[CaptureError], tuple[str, str | None, str]]:
        """Pickled with its three fields, so that it crosses to and from worker processes whole."""
        return type(self), (self.path, self.record, self.reason)

    def _message(self) -> str:
        name = os.path.basename(self.path) or self.path
        where = f"{name}: {self.record}: " if self.record else f"{name}: "
        return where + " ".join(self.reason.split())


class MalformedCaptureError(CaptureError):
    """The file or a record breaks its format's rules (bad JSON, a wrong type, a bad length)."""


class TruncatedCaptureError(CaptureError):
    """The file ends in the middle of a record (an interrupted download or capture)."""


class UnsupportedFormatError(CaptureError):
    """The file is readable but is not a format (or a variant of one) that the toolkit reads."""


class CaptureNotFoundError(CaptureError, FileNotFoundError):
    """The file does not exist: both a :class:`CaptureError` and the built-in ``FileNotFoundError``.

    >>> error = CaptureNotFoundError("nope.pcap", None, "no such file")
    >>> isinstance(error, FileNotFoundError), error.filename, str(error)
    (True, 'nope.pcap', 'nope.pcap: no such file')
    """

    def __init__(self, path: str | os.PathLike[str], record: str | None, reason: str) -> None:
        super().__init__(path, record, reason)
        self.errno = errno.ENOENT
        self.strerror = reason
        self.filename = self.path

    def __str__(self) -> str:
        return self._message()

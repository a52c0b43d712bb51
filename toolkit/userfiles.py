"""Files a user names (a browsing log, a manifest's capture): regular files only, read with a bound.

A name can point at something that is not a file at all: a FIFO blocks the reader until someone
writes to it, ``/dev/zero`` never ends, ``/dev/stdin`` waits for a terminal. Those are refused
with a :class:`UserFileError` that names the file and what it is; opening never blocks (a FIFO is
opened without waiting for a writer, then refused).

>>> import tempfile, os
>>> with tempfile.TemporaryDirectory() as folder:
...     path = os.path.join(folder, "urls.txt")
...     _ = open(path, "w").write("https://a.example/\\n")
...     read_user_bytes(path, limit=1024)
b'https://a.example/\\n'
>>> read_user_bytes("/dev/zero", limit=1024)
Traceback (most recent call last):
...
toolkit.userfiles.UserFileError: /dev/zero: not a regular file (a character device); give a file
"""

from __future__ import annotations

import hashlib
import os
import stat
from typing import BinaryIO

__all__ = ["UserFileError", "check_regular_file", "open_user_file", "read_user_bytes", "size_and_sha256"]


class UserFileError(ValueError):
    """A file named by the user cannot be read: missing, not a regular file, or too large."""


def _kind(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "not a file")


def check_regular_file(path: str | os.PathLike[str]) -> None:
    """Raise :class:`UserFileError` unless ``path`` is (a link to) a regular file.

    >>> check_regular_file("/dev/null")
    Traceback (most recent call last):
    ...
    toolkit.userfiles.UserFileError: /dev/null: not a regular file (a character device); give a file
    """
    name = os.fspath(path)
    try:
        mode = os.stat(name).st_mode
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
        raise UserFileError(f"{name}: cannot open: {getattr(exc, 'strerror', None) or exc}") from None
    if not stat.S_ISREG(mode):
        raise UserFileError(f"{name}: not a regular file ({_kind(mode)}); give a file")


def open_user_file(path: str | os.PathLike[str]) -> BinaryIO:
    """The regular file at ``path``, open for reading in binary mode (the caller closes it).

    The file is opened without blocking and checked once open, so a FIFO swapped in after an
    earlier check is refused too.

    Raises:
        UserFileError: the file is missing, unreadable or not a regular file.
    """
    name = os.fspath(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(name, flags)
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
        raise UserFileError(f"{name}: cannot open: {getattr(exc, 'strerror', None) or exc}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise UserFileError(f"{name}: not a regular file ({_kind(mode)}); give a file")
    if flags & getattr(os, "O_NONBLOCK", 0) and hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def read_user_bytes(path: str | os.PathLike[str], *, limit: int) -> bytes:
    """The content of the regular file at ``path``, at most ``limit`` bytes (larger: refused).

    Raises:
        UserFileError: the file is missing, not a regular file, or larger than ``limit`` bytes.
    """
    name = os.fspath(path)
    with open_user_file(path) as handle:
        info = os.fstat(handle.fileno())
        if info.st_size > limit:
            raise UserFileError(f"{name}: {info.st_size:,} bytes, more than the {limit:,} allowed")
        data = handle.read(limit + 1)
    if len(data) > limit:  # grew while being read
        raise UserFileError(f"{name}: more than the {limit:,} bytes allowed")
    return data


def size_and_sha256(path: str | os.PathLike[str]) -> tuple[int, str]:
    """Size in bytes and hex SHA-256 of a file, read in 1 MiB pieces: the provenance of a capture,
    a key log or a bundled data file.

    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "x")
    ...     _ = open(path, "wb").write(b"abc")
    ...     size_and_sha256(path)
    (3, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    """
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as raw:
        while chunk := raw.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()

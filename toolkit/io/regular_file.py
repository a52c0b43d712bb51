"""Reading only regular files: a FIFO, a device or a socket given as a capture or a body file is refused.

Opening a FIFO for reading waits for a writer and reading ``/dev/zero`` never ends, so a reader that
trusts a name it was given can hang or fill memory. :func:`special_file_kind` says what a path is when
it is not a regular file; :func:`read_regular_file` opens without waiting, checks, and reads at most a
bound.

>>> import os, tempfile
>>> folder = tempfile.mkdtemp()
>>> fifo = os.path.join(folder, "pipe")
>>> os.mkfifo(fifo)
>>> special_file_kind(fifo), special_file_kind(folder), special_file_kind("/dev/null")
('a FIFO', 'a directory', 'a character device')
>>> read_regular_file(fifo, 10)
Traceback (most recent call last):
...
OSError: [Errno 22] not a regular file (a FIFO)
"""

from __future__ import annotations

import errno
import os
import stat

__all__ = ["read_regular_file", "special_file_kind"]

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def special_file_kind(path: str | os.PathLike[str]) -> str | None:
    """What ``path`` is (``"a FIFO"``, ``"a character device"`` ...) when it exists and is not a regular
    file (symbolic links followed); None for a regular file or a path that cannot be examined."""
    try:
        return _kind(os.stat(path).st_mode)
    except (OSError, ValueError):
        return None


def read_regular_file(path: str | os.PathLike[str], limit: int) -> tuple[bytes, bool]:
    """The first ``limit`` bytes of the regular file ``path``, and whether it holds more.

    Raises:
        OSError: the file cannot be opened, or is not a regular file (``EINVAL``, naming its kind).
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO without writer does not block
    with os.fdopen(descriptor, "rb") as raw:
        kind = _kind(os.fstat(descriptor).st_mode)
        if kind is not None:
            raise OSError(errno.EINVAL, f"not a regular file ({kind})")
        data = raw.read(limit + 1)
    return data[:limit], len(data) > limit

"""Progress of the long steps (reading, decrypting, leak search, a study's captures), with ``tqdm``.

``tqdm.auto`` draws a text bar on a terminal and a widget in Jupyter. Bars go to stderr, and only
when asked: ``progress=True`` shows them, ``False`` never, ``None`` when stderr is a terminal (so
that logs, pipes and tests stay clean; a notebook asks with ``progress=True``).

>>> import io
>>> shown = io.StringIO()
>>> with bar(3, "leak search", unit="request", enabled=True, file=shown) as ticks:
...     ticks.update(3)
>>> "leak search: 100%" in shown.getvalue() and "3/3" in shown.getvalue()
True
>>> quiet = io.StringIO()
>>> list(counted(range(3), 3, "reading", enabled=False, file=quiet)), quiet.getvalue()
([0, 1, 2], '')
"""

from __future__ import annotations

import io
import sys
import warnings
from collections.abc import Iterable, Iterator
from typing import IO, Any, TypeVar

from toolkit.terminal import for_terminal

__all__ = ["ReadProgress", "bar", "counted", "wanted"]

T = TypeVar("T")


def wanted(progress: bool | None, file: IO[str] | None = None) -> bool:
    """Whether to show progress: as asked, or (``None``) when ``file`` (stderr) is a terminal."""
    if progress is not None:
        return progress
    isatty = getattr(file or sys.stderr, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def bar(
    total: float | None,
    label: str,
    *,
    unit: str = "it",
    enabled: bool | None = None,
    file: IO[str] | None = None,
    unit_scale: bool = False,
) -> Any:
    """A ``tqdm.auto`` bar of ``total`` steps on stderr (a do-nothing bar unless :func:`wanted`).

    ``label`` may come from a capture (a file name): it is shown without control characters.
    """
    file = file or sys.stderr
    show = wanted(enabled, file)
    if show and file is not sys.stderr:
        from tqdm import tqdm  # a given stream (a test's): the text bar writes to it
    elif show:
        with warnings.catch_warnings():  # Jupyter without ipywidgets: tqdm falls back to text, and warns
            warnings.simplefilter("ignore")
            from tqdm.auto import tqdm
    else:
        from tqdm import tqdm  # disabled: no widget to build in a notebook
    return tqdm(
        total=total,
        desc=for_terminal(label, one_line=True),
        unit=unit,
        unit_scale=unit_scale,
        disable=not show,
        file=file,
        mininterval=0.5,
        dynamic_ncols=True,
    )


#: Steps from which on a bar is shown on a terminal when not asked for (``enabled=None``).
QUIET_BELOW = 1000


def counted(
    items: Iterable[T],
    total: int,
    label: str,
    unit: str = "it",
    enabled: bool | None = None,
    *,
    file: IO[str] | None = None,
) -> Iterator[T]:
    """``items`` as they are, one tick of a :func:`bar` for each (the bar closes at the end).

    Not asked for (``enabled=None``), fewer than :data:`QUIET_BELOW` items show no bar.
    """
    if enabled is None and total < QUIET_BELOW:
        enabled = False
    with bar(total, label, unit=unit, enabled=enabled, file=file) as ticks:
        for item in items:
            yield item
            ticks.update(1)


class ReadProgress(io.RawIOBase):
    """A binary file wrapper whose reads advance a bar of ``total`` bytes.

    >>> shown = io.StringIO()
    >>> raw = ReadProgress(io.BytesIO(b"x" * 100), total=100, label="big.pcap", enabled=True, file=shown)
    >>> _ = raw.read(50); _ = raw.read(50); raw.close()
    >>> "reading big.pcap: 100%" in shown.getvalue()
    True
    """

    def __init__(
        self,
        raw: IO[bytes],
        total: int,
        label: str,
        *,
        enabled: bool | None = None,
        file: IO[str] | None = None,
    ) -> None:
        super().__init__()
        self._raw = raw
        self._bar = bar(total, f"reading {label}", unit="B", enabled=enabled, file=file, unit_scale=True)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self._advance(size, len(buffer))
        return size

    def read(self, size: int | None = -1) -> bytes:
        data = self._raw.read(-1 if size is None else size)
        self._advance(len(data), size)
        return data

    def _advance(self, got: int, asked: int | None) -> None:
        self._bar.update(got)
        if not got and asked != 0:  # the end of the file: what follows is not reading
            self.step("building the tables")

    def step(self, text: str) -> None:
        """Name the work done after the last byte was read (shown after the bar)."""
        self._bar.set_postfix_str(text, refresh=True)

    def close(self) -> None:
        if not self.closed:
            self._bar.close()
            self._raw.close()
        super().close()

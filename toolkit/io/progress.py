"""Progress of reading a large file, shown on a terminal and nowhere else.

>>> import io
>>> shown = io.StringIO()
>>> raw = ReadProgress(io.BytesIO(b"x" * 100), total=100, label="big.pcap", stream=shown, enabled=True, every=0)
>>> _ = raw.read(50); _ = raw.read(50); raw.close()
>>> shown.getvalue().replace("\\r", "|").split("|")[1:]
['reading big.pcap: 50% of 0.0 MB', 'reading big.pcap: 100% of 0.0 MB', 'reading big.pcap: 100% of 0.0 MB\\n']
"""

from __future__ import annotations

import io
import sys
import time
from typing import IO, Any

from toolkit.terminal import for_terminal

__all__ = ["ReadProgress"]


class ReadProgress(io.RawIOBase):
    """A binary file wrapper that reports how much of ``total`` bytes was read.

    Quiet unless ``enabled`` (default: when ``stream`` is a terminal); updates at most every
    ``every`` seconds.
    """

    def __init__(
        self,
        raw: IO[bytes],
        total: int,
        label: str,
        *,
        stream: IO[str] | None = None,
        enabled: bool | None = None,
        every: float = 0.5,
    ) -> None:
        super().__init__()
        self._raw = raw
        self._total = max(total, 1)
        self._label = for_terminal(label, one_line=True)  # a file name can hold escape sequences
        self._stream = stream or sys.stderr
        if enabled is None:
            isatty = getattr(self._stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self._enabled = enabled
        self._every = every
        self._done = 0
        self._last = 0.0
        self._shown = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self._advance(size)
        return size

    def read(self, size: int | None = -1) -> bytes:
        data = self._raw.read(-1 if size is None else size)
        self._advance(len(data))
        return data

    def _advance(self, size: int) -> None:
        self._done += size
        if not self._enabled:
            return
        now = time.monotonic()
        if now - self._last >= self._every:
            self._last = now
            self._show()

    def _show(self) -> None:
        share = min(self._done / self._total, 1.0)
        self._stream.write(f"\rreading {self._label}: {share:.0%} of {self._total / 1e6:.1f} MB")
        self._stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown and not self.closed:
            self._show()  # the final state
            self._stream.write("\n")
            self._stream.flush()
        self._raw.close()
        super().close()

"""Run one check in a forked child under a time and a memory bound, so a hang or a bomb is caught.

The child sets ``RLIMIT_AS`` (its address space may grow by ``memory`` bytes beyond what it
inherited) and arms :mod:`faulthandler` to dump every thread's stack and exit after ``seconds``,
which also catches a loop inside C code; the parent kills the child if even that does not end it.
The child sends back a small JSON outcome through a pipe. POSIX only (``os.fork``).

>>> def check(n):
...     return {"status": "ok", "rows": n}
>>> run_bounded(check, (3,), seconds=5, memory=1 << 30).status
'ok'
>>> def loops(_):
...     while True:
...         pass
>>> outcome = run_bounded(loops, (0,), seconds=0.5, memory=1 << 30)
>>> outcome.status, outcome.kind, outcome.where.endswith(":loops")
('crash', 'timeout', True)
>>> def bomb(_):
...     return {"status": "ok", "size": len(bytearray(2 << 30))}
>>> run_bounded(bomb, (0,), seconds=5, memory=1 << 28).kind
'memory'
"""

from __future__ import annotations

import faulthandler
import json
import os
import re
import resource
import select
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Outcome", "run_bounded", "where"]

#: Extra time the parent grants before it kills a child that did not stop itself.
_GRACE_SECONDS = 5.0
_OWN_FILE = re.compile(r"(?:^|/)(toolkit/(?!fuzz/)[^/].*)$")


@dataclass
class Outcome:
    """What one check ended in."""

    status: str
    """``ok`` (a result), ``rejected`` (the one documented error) or ``crash``."""
    kind: str = ""
    """For a crash: ``exception``, ``timeout``, ``memory``, ``killed`` or ``bad-error``."""
    exception: str = ""
    message: str = ""
    where: str = ""
    """The innermost frame of the toolkit (``toolkit/io/http1.py:_body``), or of anything if none."""
    detail: str = ""
    """The traceback or the stack dump."""
    seconds: float = 0.0
    info: dict[str, Any] | None = None

    @property
    def signature(self) -> str:
        """What tells one crash from another: kind, exception and place."""
        return f"{self.kind}:{self.exception}:{self.where}"


def where(frames: list[tuple[str, str]]) -> str:
    """The innermost (file, function) of the toolkit's own code, as ``toolkit/x.py:function``.

    >>> where([("/usr/lib/python3/json/decoder.py", "decode"), ("/src/toolkit/io/har.py", "read_har"),
    ...        ("/usr/lib/python3/json/decoder.py", "raw_decode")])
    'toolkit/io/har.py:read_har'
    """
    own = [(match.group(1), n) for f, n in frames if (match := _OWN_FILE.search(f))]
    file, name = (own or [(os.path.basename(f), n) for f, n in frames] or [("?", "?")])[-1]
    return f"{file}:{name}"


_DUMP_FRAME = re.compile(r'File "([^"]+)", line \d+ in (\S+)')


def _child(
    check: Callable[..., dict[str, Any]], args: tuple[Any, ...], seconds: float, memory: int, write_fd: int, dump: Any
) -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as statm:
        in_use = int(statm.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (in_use + memory, hard))
    faulthandler.dump_traceback_later(seconds, exit=True, file=dump)
    try:
        outcome: dict[str, Any] = check(*args)
    except BaseException as exc:  # the point: anything the check lets out is a finding
        summary = traceback.extract_tb(exc.__traceback__)
        exc.__traceback__ = None  # frees what a memory bomb held before the report is written
        frames = [(frame.filename, frame.name) for frame in summary]
        outcome = {
            "status": "crash",
            "kind": "memory" if isinstance(exc, MemoryError) else "exception",
            "exception": type(exc).__name__,
            "message": str(exc)[:500],
            "where": where(frames),
            "detail": "".join(traceback.format_list(summary))[-4000:],
        }
    faulthandler.cancel_dump_traceback_later()
    with os.fdopen(write_fd, "w") as out:
        out.write(json.dumps(outcome, default=str))
    os._exit(0)


def run_bounded(check: Callable[..., dict[str, Any]], args: tuple[Any, ...], *, seconds: float, memory: int) -> Outcome:
    """Run ``check(*args)`` in a child process; its dict return becomes the :class:`Outcome`."""
    read_fd, write_fd = os.pipe()
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as dump:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            os.close(read_fd)
            try:
                _child(check, args, seconds, memory, write_fd, dump)
            finally:
                os._exit(3)
        os.close(write_fd)
        text = _read_until(read_fd, started + seconds + _GRACE_SECONDS)
        if text is None:
            os.kill(pid, signal.SIGKILL)
        _, status, usage = os.wait4(pid, 0)
        os.close(read_fd)
        elapsed = time.monotonic() - started
        dump.seek(0)
        stack = dump.read()
    if text:
        fields = json.loads(text)
        outcome = Outcome(**{k: v for k, v in fields.items() if k in Outcome.__dataclass_fields__})
        outcome.info = {k: v for k, v in fields.items() if k not in Outcome.__dataclass_fields__}
        outcome.seconds = elapsed
        return outcome
    frames = _dumped_frames(stack)
    if stack:
        kind, message = "timeout", f"still running after {seconds:g} s"
    elif os.WIFSIGNALED(status):
        kind, message = "killed", f"signal {os.WTERMSIG(status)} (max RSS {usage.ru_maxrss // 1024} MiB)"
    else:
        kind, message = "killed", f"exit status {os.waitstatus_to_exitcode(status)}"
    return Outcome("crash", kind, "", message, where(frames) if frames else "?", stack[-4000:], elapsed)


def _dumped_frames(stack: str) -> list[tuple[str, str]]:
    """The frames of the busiest thread in a faulthandler dump, outermost first."""
    threads = [_DUMP_FRAME.findall(section) for section in stack.split("\n\n")]
    threads = [t for t in threads if t]
    if not threads:
        return []
    busiest = max(threads, key=lambda t: (any(f"{os.sep}toolkit{os.sep}" in f for f, _ in t), len(t)))
    return busiest[::-1]  # faulthandler lists the innermost call first


def _read_until(fd: int, deadline: float) -> str | None:
    """All the child wrote, or ``None`` if it is still running at ``deadline``."""
    chunks: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return None
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks).decode()
        chunks.append(chunk)

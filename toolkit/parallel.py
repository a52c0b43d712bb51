"""Running one function over many items: here, in local worker processes, or on a Dask cluster.

A study of a thousand captures is a thousand independent jobs. :func:`run_each` runs them and
gives back one :class:`Outcome` per item, **in the order of the items** whatever order they
finish in, so that results do not depend on where they ran. A job that raises (or whose worker
dies) gives an outcome with an ``error`` instead of ending the run.

>>> from toolkit.parallel import run_each
>>> [o.value for o in run_each(abs, [-1, 2, -3], workers=1)]
[1, 2, 3]
>>> run_each(int, ["7", "x"], workers=1)[1].error
"ValueError: invalid literal for int() with base 10: 'x'"

Where the jobs run:

- ``workers=1`` (or a single item): in this process, one after the other.
- ``workers=None`` (default) or ``n``: a local pool of ``os.cpu_count()`` or ``n`` processes
  (:class:`concurrent.futures.ProcessPoolExecutor`); the function and items must be picklable.
- ``client=``: a :class:`dask.distributed.Client`, or a scheduler address (``"tcp://host:8786"``)
  to connect to. Dask is imported only then; the toolkit opens no connection otherwise.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import IO, Any, Generic, TypeVar

__all__ = ["Outcome", "Progress", "default_workers", "run_each"]

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Outcome(Generic[R]):
    """What one job gave: its value, or why it has none."""

    value: R | None
    error: str | None = None
    """``"ExceptionType: message"`` when the job raised or its worker died; ``None`` on success."""

    @property
    def ok(self) -> bool:
        return self.error is None


def default_workers() -> int:
    """Worker processes used when none are asked for: the machine's CPU count.

    >>> default_workers() >= 1
    True
    """
    return os.cpu_count() or 1


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def run_each(
    function: Callable[[T], R],
    items: Sequence[T],
    *,
    workers: int | None = None,
    client: Any = None,
    on_done: Callable[[int, Outcome[R]], None] | None = None,
    catch: bool = True,
) -> list[Outcome[R]]:
    """Call ``function`` on every item; the outcomes in the items' order.

    Args:
        function: a module-level function (it is pickled by name for processes and Dask).
        items: the jobs' inputs.
        workers: local processes; ``1`` runs in this process; ``None`` uses :func:`default_workers`.
        client: a ``dask.distributed.Client`` or a scheduler address; overrides ``workers``.
        on_done: called in this process as each job finishes (index, outcome), e.g. for progress.
        catch: turn exceptions into outcomes; ``False`` lets the first one propagate (in-process only).

    Raises:
        ValueError: ``workers`` is below 1, or ``catch=False`` was asked of processes or a cluster.
    """
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    if client is not None:
        if not catch:
            raise ValueError("catch=False needs workers=1: errors are raised in this process only")
        return _on_dask(function, items, client, on_done)
    count = min(workers or default_workers(), len(items))
    if count <= 1:
        return _here(function, items, on_done, catch)
    if not catch:
        raise ValueError("catch=False needs workers=1: errors are raised in this process only")
    return _in_processes(function, items, count, on_done)


def _here(
    function: Callable[[T], R],
    items: Sequence[T],
    on_done: Callable[[int, Outcome[R]], None] | None,
    catch: bool,
) -> list[Outcome[R]]:
    outcomes: list[Outcome[R]] = []
    for index, item in enumerate(items):
        try:
            outcome: Outcome[R] = Outcome(function(item))
        except Exception as exc:
            if not catch:
                raise
            outcome = Outcome(None, _describe(exc))
        outcomes.append(outcome)
        if on_done is not None:
            on_done(index, outcome)
    return outcomes


def _in_processes(
    function: Callable[[T], R],
    items: Sequence[T],
    count: int,
    on_done: Callable[[int, Outcome[R]], None] | None,
) -> list[Outcome[R]]:
    outcomes: list[Outcome[R] | None] = [None] * len(items)
    with ProcessPoolExecutor(max_workers=count) as pool:
        futures: dict[Future[R], int] = {pool.submit(function, item): i for i, item in enumerate(items)}
        for future in as_completed(futures):
            index = futures[future]
            try:
                outcome: Outcome[R] = Outcome(future.result())
            except Exception as exc:  # the job raised, or its worker died (BrokenProcessPool)
                outcome = Outcome(None, _describe(exc))
            outcomes[index] = outcome
            if on_done is not None:
                on_done(index, outcome)
    return [o if o is not None else Outcome(None, "RuntimeError: job never finished") for o in outcomes]


def _on_dask(
    function: Callable[[T], R],
    items: Sequence[T],
    client: Any,
    on_done: Callable[[int, Outcome[R]], None] | None,
) -> list[Outcome[R]]:
    try:
        from dask.distributed import Client
        from dask.distributed import as_completed as dask_completed
    except ImportError:
        raise ImportError("running on a Dask cluster needs dask.distributed: pip install 'dask[distributed]'") from None
    own = isinstance(client, str)
    if own:
        client = Client(client)
    try:
        outcomes: list[Outcome[R] | None] = [None] * len(items)
        futures = client.map(function, list(items), pure=False)
        index_of = {future.key: i for i, future in enumerate(futures)}
        for future in dask_completed(futures):
            index = index_of[future.key]
            try:
                outcome: Outcome[R] = Outcome(future.result())
            except Exception as exc:  # the job raised, or its worker was lost (KilledWorker)
                outcome = Outcome(None, _describe(exc))
            outcomes[index] = outcome
            future.release()
            if on_done is not None:
                on_done(index, outcome)
        return [o if o is not None else Outcome(None, "RuntimeError: job never finished") for o in outcomes]
    finally:
        if own:
            client.close()


@dataclass
class Progress:
    """A one-line progress display on a terminal: ``[ 12/200] 1 failed  last: app.pcapng``.

    Quiet when the stream is not a terminal (``enabled=None``), so logs and tests stay clean;
    failures are listed when it closes.

    >>> import io
    >>> stream = io.StringIO()
    >>> progress = Progress(2, stream=stream, enabled=True)
    >>> progress.done("a.har")
    >>> progress.done("b.har", error="not JSON")
    >>> progress.close()
    >>> print(stream.getvalue().replace("\\r", "\\n").strip())
    [1/2] 0 failed  last: a.har
    [2/2] 1 failed  last: b.har
    1 of 2 failed:
      b.har: not JSON
    """

    total: int
    stream: IO[str] | None = None
    enabled: bool | None = None
    finished: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.stream is None:
            self.stream = sys.stderr
        if self.enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            self.enabled = bool(isatty and isatty())

    def done(self, name: str, error: str | None = None) -> None:
        """One job has finished (with ``error`` if it failed)."""
        self.finished += 1
        if error is not None:
            self.failures.append((name, error))
        if self.enabled and self.stream is not None:
            width = len(str(self.total))
            line = f"[{self.finished:>{width}}/{self.total}] {len(self.failures)} failed  last: {name}"
            self.stream.write("\r" + line[:110])
            self.stream.flush()

    def close(self) -> None:
        """End the line and list the failures."""
        if not (self.enabled and self.stream is not None):
            return
        self.stream.write("\n")
        if self.failures:
            self.stream.write(f"{len(self.failures)} of {self.total} failed:\n")
            for name, error in self.failures:
                self.stream.write(f"  {name}: {error}\n")
        self.stream.flush()

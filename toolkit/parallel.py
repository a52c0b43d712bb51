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
  (:class:`concurrent.futures.ProcessPoolExecutor`, the platform's start method: forked from this
  process on Linux, so they start with what it has imported and loaded, see ``prepare``; started
  fresh on macOS and Windows); the function and items must be picklable.
- ``client=``: a :class:`dask.distributed.Client`, or a scheduler address (``"tcp://host:8786"``)
  to connect to. Dask is imported only then; the toolkit opens no connection otherwise.

Items travel to processes and Dask workers a few at a time (:func:`batches`), and the jobs run with
the heap that existed before them left out of the garbage collector's passes (:func:`frozen_heap`).
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import partial
from typing import IO, Any, Generic, TypeVar

from toolkit.terminal import for_terminal

__all__ = ["Outcome", "Progress", "batches", "beside", "can_fork", "default_workers", "frozen_heap", "run_each"]

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


def batches(count: int, workers: int, *, most: int = 8) -> list[range]:
    """Consecutive runs of item positions to send as one task: large first, down to single items at
    the end (so that the workers finish together), at most ``most`` items each.

    One task per item costs a round trip per item (pickling the call, waking this process for the
    result; on Dask also the scheduler's bookkeeping); a few items per task pay it once.

    >>> [len(b) for b in batches(60, 2)]
    [7, 6, 5, 5, 4, 4, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    >>> [len(b) for b in batches(3, 2)], batches(0, 2)
    ([1, 1, 1], [])
    """
    out, start = [], 0
    while start < count:
        size = max(1, min(most, (count - start) // (4 * workers)))
        out.append(range(start, start + size))
        start += size
    return out


def _run_batch(function: Callable[[T], R], items: Sequence[T]) -> list[Outcome[R]]:
    """Run several jobs in a worker; each job that raises gives an outcome with its error."""
    outcomes: list[Outcome[R]] = []
    with frozen_heap():  # the worker's own long-lived objects (its imports, reference data) too
        for item in items:
            try:
                outcomes.append(Outcome(function(item)))
            except Exception as exc:
                outcomes.append(Outcome(None, _describe(exc)))
    return outcomes


def run_each(
    function: Callable[[T], R],
    items: Sequence[T],
    *,
    workers: int | None = None,
    client: Any = None,
    on_done: Callable[[int, Outcome[R]], None] | None = None,
    catch: bool = True,
    prepare: Callable[[], object] | None = None,
) -> list[Outcome[R]]:
    """Call ``function`` on every item; the outcomes in the items' order.

    Args:
        function: a module-level function (it is pickled by name for processes and Dask).
        items: the jobs' inputs.
        workers: local processes; ``1`` runs in this process; ``None`` uses :func:`default_workers`.
        client: a ``dask.distributed.Client`` or a scheduler address; overrides ``workers``.
        on_done: called in this process as each job finishes (index, outcome), e.g. for progress.
        catch: turn exceptions into outcomes; ``False`` lets the first one propagate (in-process only).
        prepare: a module-level function to call once where the jobs will run, before them (imports,
            reference data): here before local worker processes are forked from this one (they
            inherit what it loaded), in each worker when they are started fresh (``spawn``, as on
            macOS and Windows), on each Dask worker (``client.run``). Its errors are ignored: the
            jobs then do the loading themselves.

    Raises:
        ValueError: ``workers`` is below 1, or ``catch=False`` was asked of processes or a cluster.
    """
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    if client is not None:
        if not catch:
            raise ValueError("catch=False needs workers=1: errors are raised in this process only")
        return _on_dask(function, items, client, on_done, prepare)
    count = min(workers or default_workers(), len(items))
    if count <= 1:
        return _here(function, items, on_done, catch)
    if not catch:
        raise ValueError("catch=False needs workers=1: errors are raised in this process only")
    return _in_processes(function, items, count, on_done, prepare)


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Leave the objects that exist now out of the garbage collector's passes until the block ends
    (:func:`gc.freeze`).

    Jobs make many short-lived objects, so the collector runs often, and each full pass walks every
    object of the process: with a notebook's tables (or a study's earlier results) in memory that is
    a tenth of the jobs' time. Worker processes forked inside the block inherit the freeze, so their
    passes skip the objects they inherited, and do not copy the memory pages that hold them.
    Freed by reference counting as usual; only a reference cycle among them waits for the block's end.

    >>> with frozen_heap():
    ...     gc.get_freeze_count() > 0
    True

    Cheap to enter: :func:`gc.freeze` moves lists, O(1). (Not :func:`gc.get_freeze_count`, which
    walks every frozen object: about 7 ms per batch on a worker holding pandas; it is asked only
    outside any block.) The outermost block unfreezes; a forked worker inherits the depth, so it
    leaves its parent's freeze alone.
    """
    global _freeze_depth
    # the outermost block unfreezes, unless someone else had frozen the heap (theirs to undo)
    outermost = _freeze_depth == 0 and not gc.get_freeze_count()
    _freeze_depth += 1
    gc.freeze()
    try:
        yield
    finally:
        _freeze_depth -= 1
        if outermost:
            gc.unfreeze()


_freeze_depth = 0
"""How many :func:`frozen_heap` blocks this process (or the parent it was forked from) is inside."""


def _here(
    function: Callable[[T], R],
    items: Sequence[T],
    on_done: Callable[[int, Outcome[R]], None] | None,
    catch: bool,
) -> list[Outcome[R]]:
    outcomes: list[Outcome[R]] = []
    with frozen_heap():
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


def _prepare_quietly(prepare: Callable[[], object]) -> None:
    with contextlib.suppress(Exception):  # only an optimisation: the jobs load what they need themselves
        prepare()


def _in_processes(
    function: Callable[[T], R],
    items: Sequence[T],
    count: int,
    on_done: Callable[[int, Outcome[R]], None] | None,
    prepare: Callable[[], object] | None,
) -> list[Outcome[R]]:
    context = multiprocessing.get_context()  # the platform's default: fork on Linux, spawn on macOS and Windows
    initializer = None
    if prepare is not None:
        if context.get_start_method() == "fork":
            _prepare_quietly(prepare)  # once, here: the forked workers inherit it
        else:
            initializer = partial(_prepare_quietly, prepare)
    outcomes: list[Outcome[R] | None] = [None] * len(items)
    with frozen_heap(), ProcessPoolExecutor(max_workers=count, mp_context=context, initializer=initializer) as pool:
        futures: dict[Future[list[Outcome[R]]], range] = {
            pool.submit(_run_batch, function, [items[i] for i in batch]): batch for batch in batches(len(items), count)
        }
        for future in as_completed(futures):
            batch = futures[future]
            try:
                done = future.result()
            except Exception as exc:  # its worker died (BrokenProcessPool): every job of the batch
                done = [Outcome(None, _describe(exc))] * len(batch)
            for index, outcome in zip(batch, done, strict=True):
                outcomes[index] = outcome
                if on_done is not None:
                    on_done(index, outcome)
    return [o if o is not None else Outcome(None, "RuntimeError: job never finished") for o in outcomes]


def _on_dask(
    function: Callable[[T], R],
    items: Sequence[T],
    client: Any,
    on_done: Callable[[int, Outcome[R]], None] | None,
    prepare: Callable[[], object] | None,
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
        if prepare is not None:
            client.run(_prepare_quietly, prepare)
        workers = max(1, sum(client.nthreads().values()))
        outcomes: list[Outcome[R] | None] = [None] * len(items)
        parts = batches(len(items), workers)
        futures = client.map(_run_batch, [function] * len(parts), [[items[i] for i in b] for b in parts], pure=False)
        batch_of = {future.key: batch for future, batch in zip(futures, parts, strict=True)}
        # results are fetched by the client's event loop as they come (not one round trip each from here)
        for future, result in dask_completed(futures, with_results=True, raise_errors=False):
            batch = batch_of[future.key]
            if future.status == "finished":
                done = result
            else:  # its worker was lost (KilledWorker) or it was cancelled: every job of the batch
                error = result[1] if isinstance(result, tuple) else result
                done = [Outcome(None, _describe(error))] * len(batch)
            future.release()
            for index, outcome in zip(batch, done, strict=True):
                outcomes[index] = outcome
                if on_done is not None:
                    on_done(index, outcome)
        return [o if o is not None else Outcome(None, "RuntimeError: job never finished") for o in outcomes]
    finally:
        if own:
            client.close()


@dataclass
class Progress:
    """A study's captures on a progress bar (``tqdm``, see :mod:`toolkit.progress`): done, failed,
    the last one; the failures are listed when it closes.

    Quiet when the stream is not a terminal (``enabled=None``), so logs and tests stay clean.

    >>> import io
    >>> stream = io.StringIO()
    >>> progress = Progress(2, stream=stream, enabled=True)
    >>> progress.done("a.har")
    >>> progress.done("b.har", error="not JSON")
    >>> progress.close()
    >>> shown = stream.getvalue()
    >>> "2/2" in shown and "1 failed, last: b.har" in shown
    True
    >>> print(shown[shown.index("1 of 2"):].strip())
    1 of 2 failed:
      b.har: not JSON
    """

    total: int
    stream: IO[str] | None = None
    enabled: bool | None = None
    finished: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    _bar: Any = None

    def __post_init__(self) -> None:
        from toolkit.progress import bar, wanted

        if self.stream is None:
            self.stream = sys.stderr
        self.enabled = wanted(self.enabled, self.stream)
        self._bar = bar(self.total, "captures", unit="capture", enabled=self.enabled, file=self.stream)

    def done(self, name: str, error: str | None = None) -> None:
        """One job has finished (with ``error`` if it failed)."""
        self.finished += 1
        if error is not None:
            self.failures.append((name, error))
        if self.enabled:
            last = for_terminal(name, one_line=True)[-60:]
            self._bar.set_postfix_str(f"{len(self.failures)} failed, last: {last}", refresh=False)
        self._bar.update(1)

    def close(self) -> None:
        """End the bar and list the failures."""
        self._bar.close()
        if not (self.enabled and self.stream is not None):
            return
        if self.failures:
            self.stream.write(f"{len(self.failures)} of {self.total} failed:\n")
            for name, error in self.failures:
                self.stream.write(f"  {for_terminal(name, one_line=True)}: {for_terminal(error, one_line=True)}\n")
        self.stream.flush()


def can_fork() -> bool:
    """Whether this process can fork a worker that shares its memory: a platform with ``fork``, and
    not itself a daemonic worker (a study's pool), which may not have children.

    >>> isinstance(can_fork(), bool)
    True
    """
    return "fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon


def _lane(function: Callable[[], R], sender: Any) -> None:
    """In the forked process: run ``function`` and send back ``(True, value)`` or ``(False, error)``."""
    with frozen_heap():  # the inherited tables are not walked by the collector, nor their pages copied
        try:
            result: tuple[bool, Any] = (True, function())
        except Exception as exc:
            result = (False, exc)
    try:
        sender.send(result)
    except Exception as exc:  # a value or error that does not pickle
        sender.send((False, RuntimeError(_describe(exc))))
    sender.close()


def beside(function: Callable[[], R]) -> Callable[[], R]:
    """Start ``function`` in a process forked from this one, to run on another core while this one
    works on; return the call that waits for its value (or raises its error).

    The forked process starts with this process's memory as it is (tables are not copied or pickled
    on the way in); the value comes back pickled. Where this process cannot fork (:func:`can_fork`),
    ``function`` runs here, at once.

    >>> wait = beside(lambda: sum(range(10)))
    >>> wait()
    45
    >>> beside(lambda: int("x"))()
    Traceback (most recent call last):
    ...
    ValueError: invalid literal for int() with base 10: 'x'
    """
    if not can_fork():
        try:
            value = function()
        except Exception as exc:
            error = exc

            def raised() -> R:
                raise error

            return raised
        return lambda: value
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_lane, args=(function, sender), daemon=True)
    process.start()
    sender.close()

    def wait() -> R:
        try:
            ok, value = receiver.recv()
        except EOFError:  # it died without a word (killed, out of memory)
            process.join()
            raise RuntimeError(f"a worker process ended with code {process.exitcode} and no result") from None
        finally:
            receiver.close()
        process.join()
        if not ok:
            raise value
        return value

    return wait

"""A bound on work that could block forever (reading a FIFO waits for a writer)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest


def error_within(seconds: float, work: Callable[[], object]) -> BaseException | None:
    """The error ``work`` raised (None if it returned); fails the test if it still runs after ``seconds``."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            work()
            outcome.append(None)
        except BaseException as exc:  # handed back to the test
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"still running after {seconds} s: blocked on a special file")
    return outcome[0]

"""Shared test fixtures: the shared corpus and lists, skipped where absent."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest
from hypothesis import settings

from tests.paths import CORPUS, LISTS

# urllib3 (under the notebooks' papermill) probes IPv6 with a socket when imported: import it before
# pytest-socket blocks sockets in the tests. Without the lab extra it is absent; the toolkit never uses it.
with contextlib.suppress(ImportError):
    import urllib3  # noqa: F401

# Property tests draw the same examples on every run (seeded from the test's name), so that CI on a
# clean clone sees what the developer saw; `HYPOTHESIS_PROFILE=explore` draws new ones.
settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("explore", max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The third-party capture corpus; tests using it skip where it is not present."""
    if not CORPUS.is_dir():
        pytest.skip(f"{CORPUS} is not present")
    return CORPUS


@pytest.fixture(scope="session")
def lists() -> Path:
    """The third-party tracker lists; tests using them skip where they are not present."""
    if not LISTS.is_dir():
        pytest.skip(f"{LISTS} is not present")
    return LISTS


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes more than 30 seconds (the snapshot tests)")

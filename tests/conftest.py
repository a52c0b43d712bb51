"""Shared test fixtures: the shared corpus and lists, skipped where absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.paths import CORPUS, LISTS


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

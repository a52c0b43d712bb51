"""Shared test fixtures: paths to the bundled data and to the shared corpus (skipped if absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
#: The shared third-party corpus: $TOOLKIT_CORPUS, or ../shared/corpus beside the checkout.
CORPUS = Path(os.environ.get("TOOLKIT_CORPUS", ROOT.parent / "shared" / "corpus"))


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The third-party capture corpus; tests using it skip where it is not present."""
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not present")
    return CORPUS

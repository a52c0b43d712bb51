"""Fixtures of the report tests."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

from tests.report.published import make_reports


@pytest.fixture(scope="session")
def published_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo's report (the Xiaomi study) and one capture's report, made by the CLI once."""
    return make_reports(tmp_path_factory.mktemp("published"))

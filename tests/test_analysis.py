"""toolkit.analyze: one capture start to finish, the same tables as the steps run by hand, and the CLI's path."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import toolkit
from tests.paths import DATA
from toolkit.datatypes import find_datatypes

CAPTURE = DATA / "lab" / "normal.pcapng"
VISITED = DATA / "xiaomi-2020.visited.txt"
IDS = ["ANDROID_ID=8e5fbce04dc91566"]


def test_analyze_gives_the_tables_of_the_steps_by_hand() -> None:
    result = toolkit.analyze(CAPTURE, visited=VISITED, identifiers=IDS, vendors=["Xiaomi"])
    capture = toolkit.load(CAPTURE, context=toolkit.Context(vendors=("Xiaomi",)))
    leaks = toolkit.find_leaks(capture, visited=str(VISITED), identifiers=IDS)
    leaks.attrs.clear()
    pd.testing.assert_frame_equal(result.leaks, leaks)
    pd.testing.assert_frame_equal(result.datatypes, find_datatypes(capture.requests))
    pd.testing.assert_frame_equal(result.tables["requests"], capture.requests)
    assert result.provenance.sha256 == capture.provenance.sha256
    urls = [line for line in VISITED.read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert result.visited_note == f"visited URLs: {len(urls)} given"
    assert (result.leaks["role"].astype(object) == "platform").any()


def test_the_cli_writes_what_analyze_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import toolkit.analysis
    from toolkit.cli import main

    calls = []
    original = toolkit.analysis.analyze

    def recorded(*args: object, **kwargs: object) -> toolkit.Analysis:
        calls.append(kwargs)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(toolkit.analysis, "analyze", recorded)
    assert main(["analyze", str(CAPTURE), "--id", IDS[0], "--vendor", "Xiaomi", "--out", str(tmp_path)]) == 0
    assert len(calls) == 1 and calls[0]["vendors"] == ["Xiaomi"]
    written = pd.read_csv(tmp_path / "leaks.csv")  # each finding once, with how many rows it stands for
    found = toolkit.analyze(CAPTURE, identifiers=IDS, vendors=["Xiaomi"]).leaks
    assert written["count"].sum() == len(found) > 0 and len(written) <= len(found)
    if len(written) < len(found):
        assert len(pd.read_parquet(tmp_path / "leaks.parquet")) == len(found)

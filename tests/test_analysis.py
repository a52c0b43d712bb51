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
    written = pd.read_csv(tmp_path / "leaks.csv")
    assert len(written) == len(toolkit.analyze(CAPTURE, identifiers=IDS, vendors=["Xiaomi"]).leaks) > 0


def test_two_workers_give_the_tables_and_files_of_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``--workers 2`` the data types are found, and half of the tables written, by forked
    processes (from LANES_FROM requests: here from one): the same tables and the same bytes."""
    import toolkit.analysis
    from toolkit.cli import main
    from toolkit.parallel import can_fork

    if not can_fork():
        pytest.skip("the lanes fork; here everything runs in this process")
    monkeypatch.setattr(toolkit.analysis, "LANES_FROM", 1)
    one = toolkit.analyze(CAPTURE, visited=VISITED, identifiers=IDS, workers=1)
    two = toolkit.analyze(CAPTURE, visited=VISITED, identifiers=IDS, workers=2)
    assert sorted(one.tables) == sorted(two.tables) and len(one.datatypes) > 0
    for name, table in one.tables.items():
        pd.testing.assert_frame_equal(two.tables[name], table)
    folders = {}
    for workers in ("1", "2"):
        folders[workers] = tmp_path / workers
        arguments = ["analyze", str(CAPTURE), "--id", IDS[0], "--out", str(folders[workers]), "--workers", workers]
        assert main(arguments) == 0
    files = sorted(p.name for p in folders["1"].iterdir() if p.name != "summary.json")
    assert files == sorted(p.name for p in folders["2"].iterdir() if p.name != "summary.json") and len(files) >= 8
    for name in files:
        assert (folders["1"] / name).read_bytes() == (folders["2"] / name).read_bytes(), name


def test_a_lane_that_fails_or_dies_is_said_here() -> None:
    import os

    from toolkit.parallel import beside, can_fork

    with pytest.raises(ValueError, match="invalid literal"):
        beside(lambda: int("x"))()
    if can_fork():
        with pytest.raises(RuntimeError, match="ended with code 3 and no result"):
            beside(lambda: os._exit(3))()

"""toolkit.analyze: one capture start to finish, the same tables as the steps run by hand, and the CLI's path."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

import toolkit
from tests.paths import DATA
from toolkit.datatypes import find_datatypes
from toolkit.endpoints import endpoints_in_context, with_endpoints
from toolkit.leaks.needles import read_visited

CAPTURE = DATA / "lab" / "normal.pcapng"
VISITED = DATA / "xiaomi-2020.visited.txt"
IDS = ["ANDROID_ID=8e5fbce04dc91566"]


def test_analyze_gives_the_tables_of_the_steps_by_hand() -> None:
    result = toolkit.analyze(CAPTURE, visited=VISITED, identifiers=IDS, vendors=["Xiaomi"])
    capture = toolkit.load(CAPTURE, classify=False)
    urls = read_visited(VISITED)
    endpoints = endpoints_in_context(capture.tables, visited=urls, vendors=["Xiaomi"])
    leaks = toolkit.find_leaks(capture, visited=urls, identifiers=IDS, endpoints=endpoints)
    leaks.attrs.clear()
    pd.testing.assert_frame_equal(result.leaks, leaks)
    pd.testing.assert_frame_equal(result.tables["endpoints"], endpoints)
    classified = with_endpoints(capture.tables, endpoints)
    for name in ("requests", "flows", "dns"):
        pd.testing.assert_frame_equal(result.tables[name], classified[name])
    pd.testing.assert_frame_equal(result.datatypes, find_datatypes(classified["requests"]))
    assert result.provenance.sha256 == capture.provenance.sha256
    assert result.visited_note == f"visited URLs: {len(urls)} given"
    assert (result.leaks["role"].astype(object) == "platform").any()
    # the leak engine's own classification (with no endpoints given) finds the same leaks
    own = toolkit.find_leaks(capture, visited=urls, identifiers=IDS)
    own.attrs.clear()
    pd.testing.assert_frame_equal(result.leaks, own)


def test_one_classification_for_every_table_of_a_capture() -> None:
    """The visited sites are first party in requests, flows and dns as in the leaks (the tables
    were classified without them before, the leaks with them)."""
    result = toolkit.analyze(CAPTURE, visited=VISITED, identifiers=IDS, vendors=["Xiaomi"])
    role = dict(zip(result.tables["endpoints"]["host"], result.tables["endpoints"]["role"].astype(object), strict=True))
    for name, column in (("requests", "host"), ("flows", "hostname"), ("dns", "qname"), ("leaks", "host")):
        frame = result.tables[name].dropna(subset=[column])
        assert len(frame), name
        assert frame["role"].astype(object).tolist() == [role[h] for h in frame[column]], name
    assert (result.tables["flows"]["role"].astype(object) == "first_party").any()


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


def test_without_classification_the_caller_classifies_and_nothing_else_changes() -> None:
    """A study runs analyze with classify=False (it classifies all its captures at once): the hosts
    get no organisation or role, the leaks are the same findings, and only the asked-for searches run."""
    classified = toolkit.analyze(CAPTURE, visited=VISITED, identifiers=IDS, vendors=["Xiaomi"])
    bare = toolkit.analyze(CAPTURE, visited=VISITED, identifiers=IDS, classify=False, find=("leaks",))
    assert "endpoints" not in bare.tables and "datatypes" not in bare.tables
    assert bare.tables["requests"]["organisation"].isna().all() and bare.tables["flows"]["role"].isna().all()
    assert bare.leaks[["organisation", "role"]].isna().all().all()
    same = ["needle_kind", "needle", "host", "location", "chain", "evidence"]
    pd.testing.assert_frame_equal(bare.leaks[same], classified.leaks[same])
    with pytest.raises(ValueError, match="cannot find"):
        toolkit.analyze(CAPTURE, find=("identifiers",))


def test_a_failing_leak_search_keeps_the_tables_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import toolkit.leaks

    def broken(*args: object, **kwargs: object) -> pd.DataFrame:
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(toolkit.leaks, "find_leaks", broken)
    result = toolkit.analyze(CAPTURE, identifiers=IDS)
    assert result.leaks.empty and len(result.tables["requests"]) > 0
    assert result.notes == ["leaks not searched (RuntimeError: engine exploded)"]
    with pytest.raises(RuntimeError, match="engine exploded"):
        toolkit.analyze(CAPTURE, identifiers=IDS, strict=True)
    with pytest.raises(ValueError, match="not NAME=VALUE"):  # the caller's mistake is not the engine's
        toolkit.analyze(CAPTURE, identifiers=["ANDROID_ID"])


def test_the_leak_searchs_problems_join_the_problems_table(tmp_path: Path) -> None:
    """A decompression bomb inside a form field: the leak search skips that branch and says so in
    ``problems`` (it was dropped with the leaks' attrs before)."""
    bomb = base64.b64encode(gzip.compress(b"\0" * 80_000_000)).decode()
    request = {
        "method": "POST",
        "url": "https://t.example/upload",
        "httpVersion": "HTTP/1.1",
        "headers": [],
        "queryString": [],
        "cookies": [],
        "headersSize": -1,
        "bodySize": -1,
        "postData": {"mimeType": "application/x-www-form-urlencoded", "text": "data=" + bomb},
    }
    response = {
        "status": 200,
        "statusText": "OK",
        "httpVersion": "HTTP/1.1",
        "headers": [],
        "cookies": [],
        "content": {"size": 0, "mimeType": "text/plain"},
        "redirectURL": "",
        "headersSize": -1,
        "bodySize": 0,
    }
    entry = {
        "startedDateTime": "2020-04-30T09:00:00.000Z",
        "time": 1,
        "request": request,
        "response": response,
        "cache": {},
        "timings": {"send": 0, "wait": 0, "receive": 0},
    }
    path = tmp_path / "bomb.har"
    path.write_text(
        json.dumps({"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": [entry]}})
    )
    problems = toolkit.analyze(path, visited=["https://a.example/x"]).tables["problems"]
    assert problems["record"].tolist() == ["bomb.har#entry=0"]
    assert problems["kind"].tolist() == ["decode"] and "decompression bomb" in problems["message"].iloc[0]


def test_the_cli_says_when_the_leak_search_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import toolkit.leaks
    from toolkit.cli import main

    def broken(*args: object, **kwargs: object) -> pd.DataFrame:
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(toolkit.leaks, "find_leaks", broken)
    assert main(["analyze", str(CAPTURE), "--out", str(tmp_path)]) == 0
    assert "note: leaks not searched (RuntimeError: engine exploded)" in capsys.readouterr().out
    assert (tmp_path / "requests.csv").exists()


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

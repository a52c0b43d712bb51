"""Identifier discovery: stable ids found without being told, nonces and timestamps left out."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

import toolkit
from tests.paths import DATA
from toolkit.identifiers import NONCE_NAMES, candidates_in_request, discover_identifiers, identifier_shape, mask
from toolkit.schema import TABLES

LAB = DATA / "lab"
SCENARIOS = ("normal", "incognito", "incognito_toggle_off")
MODES = {"normal": "normal", "incognito": "incognito", "incognito_toggle_off": "incognito"}


def _lab_requests() -> pd.DataFrame:
    frames = []
    for name in SCENARIOS:
        requests = toolkit.load(LAB / f"{name}.har").requests.copy()
        requests["session"] = pd.array([name] * len(requests), dtype="string").astype("category")
        frames.append(requests)
    return pd.concat(frames, ignore_index=True)


def _requests(urls: list[str], sessions: list[str] | None = None, **columns: list[object]) -> pd.DataFrame:
    sessions = sessions or ["s"] * len(urls)
    return TABLES["requests"].frame(
        {
            "url": urls,
            "host": [u.split("/")[2] for u in urls],
            "session": sessions,
            "evidence": [f"t.har#entry={i}" for i in range(len(urls))],
            **columns,
        }
    )


def test_lab_identifiers_are_exactly_the_ground_truth() -> None:
    truth = json.loads((LAB / "normal.truth.json").read_text())["identifiers"]
    table = discover_identifiers(_lab_requests(), known={"ANDROID_ID": truth["android_id"]}, modes=MODES)
    assert set(table["value"]) == {truth["android_id"], truth["distinct_id"], truth["ad_tag_client_id"]}
    rows = table.set_index("value")
    android = rows.loc[truth["android_id"]]
    assert android["matches_known"] == "ANDROID_ID"
    assert android["keys"] == ["$device_id"]
    assert rows.loc[truth["distinct_id"], "keys"] == ["distinct_id"]
    assert rows.loc[truth["ad_tag_client_id"], "keys"] == ["query:cid"]
    assert set(table["persistence"]) == {"across_modes"}
    assert table["linkable"].all()
    assert rows.loc[truth["distinct_id"], "sessions"] == list(SCENARIOS)
    assert rows.loc[truth["distinct_id"], "hosts"] == ["sa.api.intl.miui.com"]
    # 6 + 6 + 2 telemetry posts carry it
    assert rows.loc[truth["distinct_id"], "requests"] == 14
    assert rows.loc[truth["distinct_id"], "first_seen"] < rows.loc[truth["distinct_id"], "last_seen"]
    assert TABLES["identifiers"].validate(table) is table


def test_one_session_only_is_not_linkable() -> None:
    requests = _lab_requests()
    normal = requests[requests["session"] == "normal"].reset_index(drop=True)
    table = discover_identifiers(normal, modes=MODES)
    assert set(table["persistence"]) == {"session"}
    assert not table["linkable"].any()


def test_known_identifier_matches_when_hashed() -> None:
    android_id = "9774d56d682e549c"
    digest = hashlib.sha256(android_id.encode()).hexdigest()
    requests = _requests([f"https://t.example/c?h={digest}", f"https://t.example/c?h={digest}"])
    table = discover_identifiers(requests, known={"ANDROID_ID": android_id})
    assert table["value"].tolist() == [digest]
    assert table["matches_known"].tolist() == ["sha256(ANDROID_ID)"]
    assert table["kind"].tolist() == ["android_id"]
    # without the known value it is still found, as a hex identifier
    assert discover_identifiers(requests)["kind"].tolist() == ["hex"]


def test_values_that_change_every_request_are_dropped() -> None:
    stable = "3f2a9c1e77b04d18aa"
    urls = [f"https://t.example/c?u={stable}&n={i:04d}abcdef0123456789&ts=158823720{i}" for i in range(4)]
    table = discover_identifiers(_requests(urls))
    assert table["value"].tolist() == [stable]
    assert table["requests"].tolist() == [4]


def test_persistence_classes() -> None:
    urls = [
        "https://t.example/a?device_id=aaaa1111bbbb2222",  # one request, but named: kept
        "https://t.example/b?x=cccc3333dddd4444eeee",
        "https://t.example/b?x=cccc3333dddd4444eeee",
        "https://t.example/c?y=ffff5555aaaa6666",
        "https://t.example/c?y=ffff5555aaaa6666",
        "https://t.example/d?w=0000777788889999ab",
        "https://t.example/d?w=0000777788889999ab",
    ]
    sessions = ["one", "one", "one", "one", "two", "one", "three"]
    modes = {"one": "normal", "two": "normal", "three": "incognito"}
    table = discover_identifiers(_requests(urls, sessions), modes=modes).set_index("value")
    assert table.loc["aaaa1111bbbb2222", "persistence"] == "request"
    assert table.loc["cccc3333dddd4444eeee", "persistence"] == "session"
    assert table.loc["ffff5555aaaa6666", "persistence"] == "across_sessions"
    assert table.loc["0000777788889999ab", "persistence"] == "across_modes"
    assert table.loc["0000777788889999ab", "linkable"]
    assert not table.loc["ffff5555aaaa6666", "linkable"]


def test_masked_values() -> None:
    requests = _requests(["https://t.example/c?gaid=38400000-8cf0-11bd-b23e-10b96e40000d"])
    assert discover_identifiers(requests, masked=True)["value"].tolist() == ["3840…000d"]
    assert mask("0c47d630-7f55-4377-aafd-ccf9486ae5f3") == "0c47…e5f3"


def test_candidates_from_json_cookies_and_headers() -> None:
    body = json.dumps({"events": [{"props": {"idfa": "6D92078A-8246-4BA4-AE5B-76104861E7DC", "n": 3}}]}).encode()
    found = candidates_in_request(
        "https://t.example/e",
        headers=[
            ("User-Agent", "Mozilla/5.0 0123456789abcdef0123"),
            ("X-Device-Id", "f00dfeed12345678"),
            ("Cookie", "uid=u-7731999a; lang=en"),
        ],
        body=body,
        content_type="application/json",
    )
    found_keys = {(c.key, c.value, c.kind) for c in found}
    assert ("idfa", "6D92078A-8246-4BA4-AE5B-76104861E7DC", "advertising_id") in found_keys
    assert ("x-device-id", "f00dfeed12345678", "device_id") in found_keys
    assert ("uid", "u-7731999a", "user_id") in found_keys
    assert not any(c.location == "header:user-agent" for c in found)


@pytest.mark.parametrize(
    ("value", "shape"),
    [
        ("1588237200", None),  # seconds since 1970
        ("1588237200123", None),  # milliseconds
        ("1588237200123456", None),  # microseconds
        ("0000000000000", None),
        ("358240051111110", "number"),  # IMEI-like
        ("00000000-0000-0000-0000-000000000000", "uuid"),
        ("deadbeef0badf00d", "hex"),
        ("abcdefabcdefabcd", None),  # hex letters only: a word, not an id
        ("performance_timing_navigation", None),
    ],
)
def test_identifier_shapes(value: str, shape: str | None) -> None:
    assert identifier_shape(value) == shape


# Hand-labelled from three real HARs of the corpus: values a researcher reads as stable
# identifiers (kept) and values that are timestamps or per-request nonces (dropped).
LABELLED = {
    "pagexray__ferguson.har": {
        "ids": {
            "878270908.1643952222": "client_id",  # Google Analytics client id (query cid, _ga cookie)
            "b6dcb56a-8160-492c-9f74-9e38990106d9": "uuid",
            "9e998c6e-857a-11ec-891a-37575b18646c": "uuid",  # SteelHouse guid cookie and query
            "575fb18f-7725-4914-97c7-cda7b8817278": "uuid",  # The Trade Desk TDID
        },
        "not": ["1643952221798", "1643952221767", "1643952221", "1510989951", "1061112812", "182588813"],
    },
    "haralyzer__cnn.har": {
        "ids": {
            "54e949da0a21f60a3c743c062101515b": "hex",  # cookie ug = Adobe prop c47
            "11535FFC2E9D051B-1546D851A97A2D22": "token",  # Adobe s_fid cookie = query fid
            "51b1732a62e509384f18ddc14fb4fdd2": "hex",  # Gravity user_guid = vaguid cookie
        },
        "not": ["1424574942"],
    },
    "pagexray__expressen.har": {
        "ids": {
            "67174557-40f4-4fd4-9b38-1d7740939a77": "uuid",  # Glimr __glmrid cookie and query id
            "fdf075e8-1890-454c-bd64-a8a6ceb8beea": "client_id",  # __couid cookie = query clientId
        },
        "not": ["1515916280021", "1515916265601", "1515916353", "1515916348650", "1585722357", "1515916350"],
    },
}


@pytest.mark.parametrize("name", sorted(LABELLED))
def test_hand_labelled_corpus_identifiers(corpus: Path, name: str) -> None:
    table = discover_identifiers(toolkit.load(corpus / "har" / name).requests)
    kinds = dict(zip(table["value"], table["kind"], strict=True))
    for value, kind in LABELLED[name]["ids"].items():  # type: ignore[attr-defined]
        assert kinds.get(value) == kind, value
    for value in LABELLED[name]["not"]:
        assert value not in kinds, value


@pytest.mark.slow
def test_corpus_reports_no_timestamps_and_no_nonce_names(corpus: Path) -> None:
    checked = 0
    for path in sorted((corpus / "har").glob("*.har")):
        if "malformed" in path.name:
            continue
        try:
            requests = toolkit.load(path).requests
        except toolkit.CaptureError:
            continue
        table = discover_identifiers(requests)
        checked += len(table)
        for value, keys in zip(table["value"], table["keys"], strict=True):
            assert identifier_shape(value) is not None or not value.isdigit(), (path.name, value)
            epoch = [(10**9, 41 * 10**8), (10**12, 41 * 10**11), (10**15, 41 * 10**14)]  # s, ms, µs
            assert not (value.isdigit() and any(lo <= int(value) < hi for lo, hi in epoch)), (path.name, value)
            names = {k.split(":", 1)[-1].lower().lstrip("$_").replace("-", "_") for k in keys}
            assert not names <= NONCE_NAMES, (path.name, value, keys)
    assert checked > 50


def test_a_known_identifier_the_leak_engine_finds_elsewhere_gets_a_row() -> None:
    from toolkit.leaks.detect import find_leaks

    android_id = "9774d56d682e549c"
    urls = [f"https://t.example/v1/devices/dev{android_id}/ping", f"https://t.example/v1/devices/dev{android_id}/ping"]
    requests = _requests(urls, ["normal", "incognito"])
    known = {"ANDROID_ID": android_id}
    assert discover_identifiers(requests, known=known).empty  # a path segment, not a field
    leaks = find_leaks(requests, visited=[], identifiers=known)
    table = discover_identifiers(
        requests, known=known, leaks=leaks, modes={"normal": "normal", "incognito": "incognito"}
    )
    row = table.iloc[0]
    assert (row["value"], row["kind"], row["matches_known"], row["persistence"]) == (
        android_id,
        "android_id",
        "ANDROID_ID",
        "across_modes",
    )
    assert row["keys"] == ["url_path"] and row["linkable"]

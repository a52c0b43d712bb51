"""Data types without knowing the values: the field-name and value-shape recognisers on any host,
their precision (no row a person would call wrong), and the table."""

from __future__ import annotations

import base64
import json

import pandas as pd
import pytest

from tests.paths import DATA
from toolkit.datatypes import FIELD_NAMES, find_datatypes, request_datatypes
from toolkit.schema import TABLES
from toolkit.sdk.vocabulary import DATATYPES

_ADID = "6D92078A-8246-4BA4-AE5B-76104861E7DC"


def _types(url: str, **parts: object) -> set[tuple[str, str, str]]:
    return {(f.datatype, f.value, f.method) for f in request_datatypes(url, **parts)}  # type: ignore[arg-type]


def test_field_names_on_an_unknown_host() -> None:
    body = json.dumps(
        {
            "ids": {"idfa": _ADID, "android_id": "8e5fbce04dc91566", "imei": "490154203237518"},
            "device": {"model": "Pixel 7", "brand": "Google", "os_version": "14", "timezone": "Europe/Berlin"},
            "geo": {"latitude": 52.52437, "longitude": 13.41053, "city": "Berlin"},
            "user": {"email": "peter@example.com", "phone": "+49 30 1234567"},
        }
    ).encode()
    found = _types("https://new-tracker.example/v1/collect", body=body)
    assert {(t, v) for t, v, m in found if m == "field name"} == {
        ("advertising_id", _ADID),
        ("android_id", "8e5fbce04dc91566"),
        ("imei", "490154203237518"),
        ("device_model", "Pixel 7"),
        ("device_manufacturer", "Google"),
        ("os_version", "14"),
        ("timezone", "Europe/Berlin"),
        ("precise_location", "52.52437"),
        ("precise_location", "13.41053"),
        ("coarse_location", "Berlin"),
        ("email", "peter@example.com"),
        ("phone_number", "+49 30 1234567"),
    }
    assert all(f.confidence == 0.7 for f in request_datatypes("https://new-tracker.example/v1/collect", body=body))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("id", _ADID),  # "id" says nothing: not an advertising id
        ("idfa", "00000000-0000-0000-0000-000000000000"),  # zeroed: limited ad tracking, not an id
        ("idfa", "not-a-uuid"),
        ("gaid", ""),
        ("lat", "yes"),  # not a number
        ("lat", "123.456"),  # out of range for a latitude
        ("model", "CLEAR220"),  # outside a device object: a product's model
        ("brand", "Nike"),
        ("account_id", "11016"),  # a publisher's account, not a person's
        ("os", "web"),  # not an operating system's name
        ("mac", "02:00:00:00:00:00"),  # Android's placeholder, not a MAC address
        ("url", "https://cdn.example/pixel.gif"),  # a resource, not a visited page
        ("q", "hiv test"),  # too short a name to know
        ("query", "query { viewer { id } }"),  # GraphQL, not a search
        ("title", "Checkout"),
        # Values a person would not call that data type (review of corpus, lab and built captures):
        ("phone", "1764489600"),  # a time stamp in seconds, not a phone number
        ("telephone", "1764489600123"),  # ... in milliseconds
        ("imei", "1764489600123456"),  # ... in microseconds, not an IMEI
        ("login", "true"),  # a flag, not an account name
        ("price", "asc"),  # a sort order, not purchase data
        ("keywords", "news,sports"),  # a page's or app's keywords, not what the person searched for
        ("uptime", "yes"),
        ("totalmemory", "high"),
        ("icon", "logo@2x.png"),  # a file name shaped like an email address
    ],
)
def test_names_that_say_too_little_or_values_of_the_wrong_shape(name: str, value: str) -> None:
    body = json.dumps({name: value}).encode()
    assert request_datatypes("https://new-tracker.example/c", body=body) == []
    assert request_datatypes(f"https://new-tracker.example/c?{name}={value}") == []


def test_value_shapes_anywhere() -> None:
    found = _types("https://x.example/p?k1=a4:83:e7:12:34:56&k2=peter%40example.com&k3=192.0.2.1")
    assert found == {("mac_address", "a4:83:e7:12:34:56", "value shape"), ("email", "peter@example.com", "value shape")}


def test_headers_and_cookies_read_by_adapters_only() -> None:
    headers = [("Accept-Language", "de-DE"), ("X-Device-Model", "Pixel 7"), ("Cookie", "email=peter@example.com")]
    assert request_datatypes("https://www.example.org/", headers=headers) == []


def test_fields_inside_encodings() -> None:
    inner = base64.b64encode(json.dumps({"advertising_id": _ADID}).encode()).decode()
    (found,) = request_datatypes("https://t.example/e", body=f"a=1&payload={inner}".encode())
    assert (found.field, found.datatype) == ("body > form:payload > base64 > json:advertising_id", "advertising_id")


def test_one_row_per_data_type_and_value_the_most_certain_kept() -> None:
    body = json.dumps([{"gps_adid": _ADID, "advertising_id": _ADID}, {"gps_adid": _ADID}]).encode()
    found = request_datatypes("https://app.adjust.com/event", body=body)
    assert [(f.datatype, f.method) for f in found] == [("advertising_id", "adapter")]


def test_bad_input_gives_no_rows_and_no_error() -> None:
    for body in (b"\xff\xfe\x00garbage", b"{not json", b"[" * 5000 + b"]" * 5000, b"\x1f\x8b\x08" + b"\x00" * 40):
        assert request_datatypes("https://t.example/x", body=body) == []
    assert request_datatypes(None) == [] and request_datatypes("not a url ::") == []


def test_table() -> None:
    requests = TABLES["requests"].frame(
        {
            "url": [f"https://t.example/a?idfa={_ADID}", "https://t.example/b", None],
            "host": ["t.example", "t.example", None],
            "capture": ["c.har"] * 3,
            "session": ["normal"] * 3,
            "organisation": ["Example Inc"] * 3,
            "evidence": ["c.har#entry=0", "c.har#entry=1", "c.har#entry=2"],
        }
    )
    table = find_datatypes(requests)
    TABLES["datatypes"].validate(table)
    assert table[["field", "value", "datatype", "evidence", "organisation"]].values.tolist() == [
        ["query:idfa", _ADID, "advertising_id", "c.har#entry=0", "Example Inc"]
    ]
    assert find_datatypes(TABLES["requests"].empty()).empty


def test_vocabulary_covers_every_name() -> None:
    assert set(FIELD_NAMES.values()) <= set(DATATYPES)


def test_identifier_discovery_takes_the_ids_an_adapter_names() -> None:
    from toolkit.identifiers import candidates_in_request

    uuid = "7d1c2f0e-5b7e-4f4b-9f0a-1c2d3e4f5a6b"
    body = f"android_uuid={uuid}&event_token=abc123&created_at=1588237200".encode()
    adjust = {(c.value, c.kind, c.named) for c in candidates_in_request("https://app.adjust.com/event", body=body)}
    assert adjust == {(uuid, "install_id", True)}
    elsewhere = {(c.value, c.kind, c.named) for c in candidates_in_request("https://t.example/event", body=body)}
    assert elsewhere == {(uuid, "uuid", False)}  # without the adapter: only its shape


def test_short_values_are_read_although_the_leak_search_skips_them() -> None:
    """The leak engine drops texts shorter than its shortest needle; data types need every value."""
    requests = TABLES["requests"].frame(
        {
            "url": ["https://www.google-analytics.com/j/collect?v=1&_v=j96&t=pageview&ul=en"],
            "host": ["www.google-analytics.com"],
            "evidence": ["a.har#entry=0"],
        }
    )
    table = find_datatypes(requests)
    assert ("sdk_version", "j96") in set(zip(table["datatype"], table["value"], strict=True))


def test_repeated_requests_are_searched_once_and_give_the_rows_of_each(monkeypatch: pytest.MonkeyPatch) -> None:
    """A request sent again (same URL, headers, body, content type, cookies) has the rows of the
    first, with its own time and evidence, in the table's order; it is searched once."""
    import toolkit.datatypes as datatypes

    body = json.dumps({"device": {"idfa": _ADID, "os_version": "14"}}).encode()
    first = {"url": "https://t.example/e", "body": body, "request_headers": [("X-Os", "android")]}
    other = {"url": f"https://t.example/a?idfa={_ADID}&lang=de", "body": None, "request_headers": []}
    order = [first, other, first, first, other]
    requests = TABLES["requests"].frame(
        {
            "url": [r["url"] for r in order],
            "body": [r["body"] for r in order],
            "request_headers": [list(r["request_headers"]) for r in order],  # equal lists, not the same
            "ts": [f"2026-01-01T00:00:0{n}Z" for n in range(len(order))],
            "host": ["t.example"] * len(order),
            "evidence": [f"c.pcap#frame={n}" for n in range(len(order))],
        }
    )
    searched = []
    original = datatypes._request_datatypes

    def counting(*parts: object) -> object:
        searched.append(parts[0])
        return original(*parts)  # type: ignore[arg-type]

    monkeypatch.setattr(datatypes, "_request_datatypes", counting)
    table = find_datatypes(requests)
    assert searched == [first["url"], other["url"]]
    one_by_one = [find_datatypes(requests.iloc[[n]].reset_index(drop=True)) for n in range(len(order))]
    assert len(searched) == 2 + len(order)
    expected = pd.concat(one_by_one, ignore_index=True)
    pd.testing.assert_frame_equal(table.astype(object), expected.astype(object))
    assert table["evidence"].tolist() == [
        f"c.pcap#frame={n}" for n in range(len(order)) for _ in range(len(one_by_one[n]))
    ]
    assert len(table) == 3 * len(one_by_one[0]) + 2 * len(one_by_one[1]) and len(one_by_one[1]) >= 2


def test_the_table_built_in_parts_is_the_table_built_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows become table parts every ``_ROWS_PER_PART`` rows (memory, issue 20): same table."""
    import toolkit.datatypes

    requests = toolkit.load(DATA / "lab" / "normal.har").requests
    whole = toolkit.datatypes.find_datatypes(requests)
    monkeypatch.setattr(toolkit.datatypes, "_ROWS_PER_PART", 3)
    parts = toolkit.datatypes.find_datatypes(requests)
    assert len(whole) > 3 * 3
    pd.testing.assert_frame_equal(parts, whole)

"""Each SDK adapter on real requests (the shared corpus, the lab) and on requests built from the
SDK's documented wire format (each adapter's own doctest holds one; here: more and across SDKs)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.paths import DATA
from toolkit.capture import load
from toolkit.datatypes import find_datatypes, request_datatypes
from toolkit.sdk import REGISTRY, Sdk, identify
from toolkit.sdk.vocabulary import DATATYPES

# Sensors Analytics preset properties (sensorsdata/sa-sdk-android, manual.sensorsdata.cn) that the
# lab's SDK sends, with their data type: the table must hold each of them, with the value sent.
_SENSORS_SENT = {
    "distinct_id": "user_id",
    "event": "event",
    "$device_id": "android_id",
    "$model": "device_model",
    "$manufacturer": "device_manufacturer",
    "$os": "os",
    "$os_version": "os_version",
    "$app_version": "app_version",
    "$lib_version": "sdk_version",
    "$screen_width": "screen",
    "$screen_height": "screen",
    "$network_type": "network_type",
    "$wifi": "network_type",
    # The browser's own event properties (the published Mi Browser finding): visited URL, search words.
    "url": "url",
    "search_word": "search_term",
}


def _leaves(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, k)
    else:
        yield key, value


def _as_sent(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@pytest.mark.parametrize("scenario", ["normal", "incognito", "incognito_toggle_off"])
def test_lab_sensors_every_sent_type_found_and_no_wrong_row(scenario: str) -> None:
    truth = json.loads((DATA / "lab" / f"{scenario}.truth.json").read_text())
    table = find_datatypes(load(DATA / "lab" / f"{scenario}.har").requests)
    expected = {
        (_SENSORS_SENT[key], _as_sent(value))
        for post in truth["telemetry"]
        for event in post["events"]
        for key, value in _leaves(event)
        if key in _SENSORS_SENT
    }
    found = set(zip(table["datatype"], table["value"], strict=True))
    assert expected and expected <= found, sorted(expected - found)
    # No row a person would call wrong: every row is a Sensors post, and its value is what the truth
    # says that SDK sent under a key of that data type.
    assert set(table["sdk"]) == {"Sensors Analytics"}
    assert set(table["host"]) == {urlsplit(truth["collector"]).hostname}
    assert found == expected, sorted(found - expected)


def test_lab_pcap_gives_the_same_table_as_the_har() -> None:
    from_har = find_datatypes(load(DATA / "lab" / "normal.har").requests)
    from_pcap = find_datatypes(load(DATA / "lab" / "normal.pcapng").requests)
    columns = ["host", "sdk", "field", "value", "datatype", "method"]
    assert sorted(map(tuple, from_har[columns].values.tolist())) == sorted(
        map(tuple, from_pcap[columns].values.tolist())
    )


def test_corpus_google_analytics_real_requests(corpus: Path) -> None:
    """Real GA requests (pagexray's ferguson.har: GA4 ``/g/collect`` and UA ``/j/collect``)."""
    requests = load(corpus / "har" / "pagexray__ferguson.har").requests
    ga = requests[requests["host"].str.endswith(("google-analytics.com", "analytics.google.com"), na=False)]
    assert len(ga) >= 2
    table = find_datatypes(ga)
    adapter = table[table["method"] == "adapter"]
    assert set(adapter["sdk"]) == {"Google Analytics"}
    for url, rows in adapter.groupby(adapter["evidence"]):
        query = dict(parse_qsl(urlsplit(ga.loc[ga["evidence"] == url, "url"].iloc[0]).query))
        by_field = dict(zip(rows["field"], rows["value"], strict=True))
        for name in ("cid", "dl", "dt", "ul", "sr"):
            if query.get(name):
                assert by_field[f"query:{name}"] == query[name]
    types = set(adapter["datatype"])
    assert {"install_id", "url", "page_title", "language", "screen", "event", "sdk_version"} <= types
    # The same hit sent to DoubleClick when advertising features are on: its client ids are named too.
    doubleclick = requests[requests["host"] == "stats.g.doubleclick.net"]
    named = find_datatypes(doubleclick)
    assert {("install_id", "878270908.1643952222"), ("install_id", "2103176288.1643952222")} <= set(
        zip(named["datatype"], named["value"], strict=True)
    )


def test_corpus_no_identifier_rows_from_hosts_without_adapter(corpus: Path) -> None:
    """Across the corpus's web HARs, no host without an adapter yields a platform id (they carry none)."""
    table = find_datatypes(load(corpus / "har" / "haralyzer__cnn.har").requests)
    generic = table[table["sdk"].isna()]
    assert not set(generic["datatype"]) & {"advertising_id", "android_id", "imei", "vendor_id", "mac_address"}


def _multi_sdk_requests() -> list[tuple[str, dict[str, Any], set[str]]]:
    """Requests of several SDKs, built from their documented wire formats, with the types they carry."""
    adid = "38400000-8cf0-11bd-b23e-10b96e40000d"
    sentry = gzip.compress(
        b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}\n{"type":"event"}\n'
        b'{"contexts":{"device":{"model":"Pixel 7","manufacturer":"Google","free_memory":123456},'
        b'"os":{"name":"Android","version":"14"}},"user":{"email":"peter@example.com"}}'
    )
    return [
        (
            "https://app.adjust.com/event",
            {"body": f"gps_adid={adid}&event_token=abc123&os_name=android".encode()},
            {"advertising_id", "event", "os"},
        ),
        (
            "https://api2.amplitude.com/2/httpapi",
            {
                "body": b'{"events":[{"device_id":"d-77125","event_type":"open",'
                b'"location_lat":48.13743,"location_lng":11.57549}]}'
            },
            {"device_id", "event", "precise_location"},
        ),
        (
            "https://o1.ingest.sentry.io/api/2/envelope/",
            {"body": sentry},
            {"device_model", "device_manufacturer", "memory", "os", "os_version", "email"},
        ),
        (
            "https://api.segment.io/v1/batch",
            {"body": b'{"batch":[{"userId":"user-1","context":{"locale":"de-DE","network":{"carrier":"Telekom"}}}]}'},
            {"user_id", "locale", "carrier"},
        ),
    ]


@pytest.mark.parametrize(("url", "parts", "types"), _multi_sdk_requests())
def test_documented_wire_formats(url: str, parts: dict[str, Any], types: set[str]) -> None:
    found = request_datatypes(url, **parts)
    assert {f.datatype for f in found if f.method == "adapter"} == types
    assert {f.sdk for f in found} == {identify(urlsplit(url).hostname, urlsplit(url).path, "").name}


def test_gzip_body_field_in_chain_notation() -> None:
    body = gzip.compress(json.dumps({"events": [{"device": {"model": "Redmi Note 8"}}]}).encode())
    (found,) = request_datatypes("https://collector.example/v1", body=body)
    assert (found.field, found.value, found.datatype, found.method) == (
        "body > gzip > json:events[0].device.model",
        "Redmi Note 8",
        "device_model",
        "field name",
    )


def test_encrypted_payload_is_said_plainly() -> None:
    problems: list[str] = []
    found = request_datatypes(
        "https://inapps.appsflyersdk.com/api/v6.9/androidevent?app_id=com.example.app&buildnumber=6.9.4",
        body=bytes(range(256)) * 4,
        on_problem=problems.append,
    )
    assert {(f.datatype, f.value) for f in found} == {("app_id", "com.example.app"), ("sdk_version", "6.9.4")}
    assert problems == [
        "AppsFlyer: AppsFlyer SDK 6.x encrypts its event body; only the URL's app_id and buildnumber are readable"
    ]


def test_registry_one_module_per_sdk_with_sources_and_examples() -> None:
    import importlib
    import pkgutil

    import toolkit.sdk as package

    machinery = ("adapter", "registry", "vocabulary")
    modules = [m.name for m in pkgutil.iter_modules(package.__path__) if m.name not in machinery]
    assert len(modules) >= 20
    defined = []
    for name in modules:
        module = importlib.import_module(f"toolkit.sdk.{name}")
        sdks = getattr(module, "SDKS", ()) or (module.SDK,)
        assert all(isinstance(s, Sdk) and s.source and set(s.fields.values()) <= set(DATATYPES) for s in sdks), name
        assert ">>> " in (module.__doc__ or ""), f"{name} has no example"
        defined += sdks
    assert sorted(map(id, defined)) == sorted(map(id, REGISTRY))
    assert len({(sdk.name, sdk.hosts) for sdk in REGISTRY}) == len(REGISTRY)


def test_an_adapter_names_only_vocabulary_types() -> None:
    with pytest.raises(ValueError, match="not in the vocabulary"):
        Sdk("Bad", fields={"x": "favourite_colour"})


def test_one_object_per_sdk_serves_leaks_data_types_and_claims() -> None:
    from toolkit.claims import SDK_FINGERPRINTS
    from toolkit.leaks.adapters import sdk_label

    adjust = identify("app.adjust.com", "/session", "")
    assert adjust is not None and adjust.slug == "adjust"
    assert adjust.label("app.adjust.com", "/session", None, "body", "form:gps_adid") == sdk_label(
        "app.adjust.com", "/session", None, "body", "form:gps_adid"
    )
    description, carries = SDK_FINGERPRINTS["adjust"]
    assert description == "Adjust SDK endpoints"
    assert carries({"url": "https://app.adjust.com/session"}) and not carries({"url": "https://t.example/session"})
    # Two objects of one SDK (Google Analytics: its own hosts and DoubleClick's) are one claim name.
    _, analytics = SDK_FINGERPRINTS["google_analytics"]
    assert analytics({"url": "https://stats.g.doubleclick.net/j/collect?cid=1"})
    assert analytics({"url": "https://www.google-analytics.com/g/collect"})
    assert sorted(SDK_FINGERPRINTS) == sorted({sdk.slug for sdk in REGISTRY})

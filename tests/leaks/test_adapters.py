"""SDK adapters name events and fields (Sensors Analytics, Adjust, AppsFlyer, Measurement Protocol);
detection never depends on them."""

from __future__ import annotations

import base64
import gzip
import json
from urllib.parse import quote

import toolkit
from tests.paths import DATA
from toolkit.leaks.adapters import (
    adjust_label,
    appsflyer_label,
    measurement_protocol_label,
    sensors_events,
    sensors_label,
)
from toolkit.leaks.detect import find_leaks
from toolkit.schema import TABLES


def _body(events: list[dict[str, object]], *, packed: bool = True, field: str = "data_list") -> bytes:
    raw = json.dumps(events if field == "data_list" else events[0]).encode()
    data = base64.b64encode(gzip.compress(raw) if packed else raw).decode()
    return f"crc=1&gzip={int(packed)}&{field}={quote(data, safe='')}".encode()


def test_batches_single_events_and_plain_base64() -> None:
    events = [{"event": "search", "type": "track", "properties": {"search_word": "x"}}, {"type": "profile_set"}]
    assert sensors_events(_body(events)) == events
    assert sensors_events(_body(events, packed=False)) == events
    assert sensors_events(_body(events, field="data")) == events[:1]
    assert sensors_label(_body(events), "form:data_list > urldecode > base64 > gzip > json:[1].x") == (
        "Sensors Analytics event profile_set"
    )
    assert sensors_label(_body(events), "form:data_list > urldecode > base64 > gzip > json:[7].x") is None


def test_not_sensors() -> None:
    assert sensors_events(b"crc=1&data_list=%%%") is None
    assert sensors_events(b"\xff\xfe") is None
    assert sensors_events(b"q=1") is None


def test_lab_telemetry_is_labelled() -> None:
    capture = toolkit.load(DATA / "sample.har")
    body = capture.requests.body.iloc[-1]
    assert [e["event"] for e in sensors_events(body) or []] == ["page_load_event_start", "page_load_event_finish"] * 3


def test_adjust_names_the_package_and_the_parameter() -> None:
    label = adjust_label("app.adjust.com", "/session", "body", "form:gps_adid")
    assert label == "Adjust session package, parameter gps_adid (Google advertising id)"
    assert adjust_label("app.eu.adjust.com", "/event", "query:event_token", "") == (
        "Adjust event package, parameter event_token (event name token)"
    )
    assert adjust_label("app.adjust.com", "/sdk_click", "body", "form:callback_params > json:.page").startswith(
        "Adjust click package, parameter callback_params"
    )
    assert adjust_label("evil-adjust.com", "/session", "body", "form:gps_adid") is None
    assert adjust_label("app.adjust.com", "/session", "header:cookie", "") is None


def test_appsflyer_names_the_event_and_the_field() -> None:
    body = json.dumps({"eventName": "af_purchase", "advertising_id": "38400000-8cf0-11bd-b23e-10b96e40000d"}).encode()
    assert appsflyer_label("t.appsflyer.com", body, "body", "json:.advertising_id") == (
        "AppsFlyer event af_purchase, field advertising_id (Google advertising id)"
    )
    assert appsflyer_label("t.appsflyer.com", b"not json", "body", "json:.x") == "AppsFlyer request, field x"
    assert appsflyer_label("appsflyer.com.evil.example", body, "body", "json:.advertising_id") is None


def test_measurement_protocol_parameters() -> None:
    assert measurement_protocol_label("www.google-analytics.com", "query:dl", "urldecode") == (
        "Google Analytics Measurement Protocol parameter dl (document location (page URL))"
    )
    assert measurement_protocol_label("region1.google-analytics.com", "body", "json:.events[0].params.page") == (
        "Google Analytics Measurement Protocol parameter events"
    )
    assert measurement_protocol_label("example.com", "query:dl", "") is None


def test_find_leaks_labels_an_adjust_session_and_a_measurement_protocol_hit() -> None:
    gaid = "38400000-8cf0-11bd-b23e-10b96e40000d"
    requests = TABLES["requests"].frame(
        {
            "method": ["POST", "GET"],
            "url": [
                "https://app.adjust.com/session",
                "https://www.google-analytics.com/collect?v=1&dl=https%3A%2F%2Fnews.example%2Fa",
            ],
            "host": ["app.adjust.com", "www.google-analytics.com"],
            "path": ["/session", "/collect"],
            "query": ["", "v=1&dl=https%3A%2F%2Fnews.example%2Fa"],
            "content_type": ["application/x-www-form-urlencoded", None],
            "body": [f"app_token=abc&gps_adid={gaid}&os_name=android".encode(), None],
            "evidence": ["t#entry=1", "t#entry=2"],
        }
    )
    leaks = find_leaks(requests, visited=["https://news.example/a"], identifiers=[f"GAID={gaid}"])
    evidence = dict(zip(leaks["host"], leaks["evidence"], strict=True))
    assert "Adjust session package, parameter gps_adid (Google advertising id)" in evidence["app.adjust.com"]
    assert "Measurement Protocol parameter dl (document location (page URL))" in evidence["www.google-analytics.com"]


def test_sensors_label_needs_the_sdks_signature() -> None:
    from toolkit.leaks.adapters import sdk_label

    chain = "form:data > base64 > gzip > json:properties.url"
    event = {"event": "search", "type": "track", "properties": {"url": "https://a.example/x"}}
    packed = base64.b64encode(gzip.compress(json.dumps(event).encode())).decode()
    single = f"data={quote(packed, safe='')}".encode()
    # the SDK's receiver path, or its companion fields (web SDK: ext=crc=...), with a Sensors event type
    assert sdk_label("sa.t.example", "/sa", single, "body", chain) == "Sensors Analytics event search (track)"
    assert sdk_label("t.example", "/x", single + b"&ext=crc%3D12", "body", chain) is not None
    assert sdk_label("logs.t.example", "/sa.gif", single, "body", chain) is not None
    # the case: any data=<base64(gzip(JSON))> form on an unrelated host was labelled
    assert sdk_label("t.example", "/collect", single, "body", chain) is None
    untyped = b"data=" + quote(base64.b64encode(gzip.compress(b'{"u": 1}')).decode(), safe="").encode()
    assert sdk_label("sa.t.example", "/sa", untyped, "body", "form:data > base64 > gzip > json:u") is None
    odd = {"event": "x", "type": "pageview", "properties": {}}  # not one of the SDK's event types
    assert sensors_label(_body([odd]), "form:data_list > urldecode > base64 > gzip > json:[0].x") is None


def test_labels_need_the_sdks_endpoints() -> None:
    from toolkit.leaks.adapters import sdk_label

    assert adjust_label("www.adjust.com", "/session", "query:q", "") is None  # the company's web site
    assert adjust_label("app.adjust.com", "/blog", "body", "form:gps_adid") is None  # not a package path
    assert adjust_label("app.us.adjust.com", "/attribution", "query:gps_adid", "") is not None
    body = json.dumps({"eventName": "af_login", "advertising_id": "x"}).encode()
    assert appsflyer_label("inapps.appsflyersdk.com", body, "body", "json:advertising_id", "/api/v6.9/androidevent")
    assert appsflyer_label("api2.appsflyer.com", body, "body", "json:advertising_id", "/inappevent/com.app")
    assert appsflyer_label("www.appsflyer.com", body, "body", "json:advertising_id", "/blog/") is None
    assert appsflyer_label("inapps.appsflyersdk.com", body, "body", "json:advertising_id", "/index.html") is None
    for path in ("/collect", "/j/collect", "/g/collect", "/mp/collect", "/debug/mp/collect", "/batch"):
        assert measurement_protocol_label("www.google-analytics.com", "query:dl", "", path), path
    assert measurement_protocol_label("www.google-analytics.com", "query:dl", "", "/analytics.js") is None
    upload = "Firebase Analytics upload (app-measurement; its field names are not public)"
    assert sdk_label("app-measurement.com", "/a", b"\x0a\x01x", "body", "pb:1") == upload
    assert sdk_label("app-measurement.com", "/config/app/1:2:android:3", None, "query:app_instance_id", "") is None


def test_find_leaks_names_an_appsflyer_json_field() -> None:
    gaid = "38400000-8cf0-11bd-b23e-10b96e40000d"
    body = json.dumps({"eventName": "af_purchase", "advertising_id": gaid}).encode()
    requests = TABLES["requests"].frame(
        {
            "method": ["POST"],
            "url": ["https://inapps.appsflyersdk.com/api/v6.9/androidevent?app_id=com.x"],
            "host": ["inapps.appsflyersdk.com"],
            "path": ["/api/v6.9/androidevent"],
            "query": ["app_id=com.x"],
            "content_type": ["application/json"],
            "body": [body],
            "evidence": ["t#entry=1"],
        }
    )
    leaks = find_leaks(requests, visited=[], identifiers=[f"GAID={gaid}"])
    assert leaks.chain.tolist() == ["json:advertising_id"]
    label = "; AppsFlyer event af_purchase, field advertising_id (Google advertising id)"
    assert leaks.evidence.iloc[0].endswith(label)

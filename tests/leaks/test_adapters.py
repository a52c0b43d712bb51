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
    requests = TABLES["requests"].frame({
        "method": ["POST", "GET"],
        "url": ["https://app.adjust.com/session", "https://www.google-analytics.com/collect?v=1&dl=https%3A%2F%2Fnews.example%2Fa"],
        "host": ["app.adjust.com", "www.google-analytics.com"],
        "path": ["/session", "/collect"],
        "query": ["", "v=1&dl=https%3A%2F%2Fnews.example%2Fa"],
        "content_type": ["application/x-www-form-urlencoded", None],
        "body": [f"app_token=abc&gps_adid={gaid}&os_name=android".encode(), None],
        "evidence": ["t#entry=1", "t#entry=2"],
    })  # fmt: skip
    leaks = find_leaks(requests, visited=["https://news.example/a"], identifiers=[f"GAID={gaid}"])
    evidence = dict(zip(leaks["host"], leaks["evidence"], strict=True))
    assert "Adjust session package, parameter gps_adid (Google advertising id)" in evidence["app.adjust.com"]
    assert "Measurement Protocol parameter dl (document location (page URL))" in evidence["www.google-analytics.com"]

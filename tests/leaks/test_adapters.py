"""The Sensors Analytics adapter names events; detection never depends on it."""

from __future__ import annotations

import base64
import gzip
import json
from urllib.parse import quote

import toolkit
from tests.paths import DATA
from toolkit.leaks.adapters import sensors_events, sensors_label


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

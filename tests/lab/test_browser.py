"""The browser and its SDK: what a page visit sends, and how."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from toolkit.lab.browser import Browser
from toolkit.lab.scenario import SCENARIOS, VISITS, Device, Visit
from toolkit.lab.session import Session


def _browse(tmp_path: Path, scenario: str, visits: Sequence[Visit] = VISITS[:1]) -> Browser:
    session = Session(seed=8, label=scenario, start_us=SCENARIOS[scenario].start_us, folder=tmp_path)
    browser = Browser(SCENARIOS[scenario], Device.from_seed(8), session)
    browser.browse(visits)
    return browser


def test_resources_carry_the_page_as_referer_and_share_http2_connections(tmp_path: Path) -> None:
    browser = _browse(tmp_path, "normal")
    cdn = [r.exchange for r in browser.records if r.exchange.request.host == "cdn.example-cdn.com"]
    assert [e.stream_id for e in cdn] == [1, 3] and cdn[0].started_us == cdn[1].started_us  # concurrent
    referers = {dict(r.exchange.wire_request_headers).get("referer") for r in browser.records if r.pageref}
    assert referers == {None, VISITS[0].wire_url}  # the page itself has none
    assert [p["id"] for p in browser.pages] == ["page_1"]


def test_sdk_posts_like_httpurlconnection(tmp_path: Path) -> None:
    browser = _browse(tmp_path, "incognito")
    posts = [r for r in browser.records if r.purpose == "telemetry"]
    assert len(posts) == 3  # $AppStart, the page, $AppEnd
    headers = dict(posts[0].exchange.wire_request_headers)
    assert headers["User-Agent"].startswith("Dalvik/2.1.0") and headers["Content-Type"] == (
        "application/x-www-form-urlencoded"
    )
    assert posts[0].exchange.http_version == "HTTP/1.1" and posts[0].pageref is None
    page_events = posts[1].events
    assert [e["event"] for e in page_events] == ["page_load_event_start", "page_load_event_finish"]
    assert page_events[1]["properties"]["load_time"] > 0
    assert page_events[0]["time"] < page_events[1]["time"] <= page_events[1]["_flush_time"]


def test_toggle_stops_page_events_but_not_app_events(tmp_path: Path) -> None:
    browser = _browse(tmp_path, "incognito_toggle_off", VISITS[2:3])
    events = [e["event"] for r in browser.records for e in r.events]
    assert events == ["$AppStart", "$AppEnd"]
    assert sum(r.purpose == "page" for r in browser.records) == 1  # the page still loads

"""Visited URLs inferred from a capture: only real navigations, never the app's own ambient values."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import toolkit
from toolkit.cli import main
from toolkit.errors import CaptureError
from toolkit.leaks import find_leaks
from toolkit.leaks.inference import ambient_values, infer_visited, is_navigation
from toolkit.leaks.needles import is_search_page, meaningful_term, url_needles
from toolkit.schema import TABLES

from ..paths import CORPUS

IDFA = "6D92078A-8246-4BA4-AE5B-76104861E7DC"
APP_UA = "FitApp/5.2.1 (com.example.fitapp; build:5210; iOS 17.1.1) Alamofire/5.8.0"
WEBVIEW_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 FitApp/5.2.1"
)


def _entry(
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    *,
    body: str | None = None,
    mime: str = "application/json",
    answer: str = "application/json",
    status: int = 200,
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "method": method,
        "url": url,
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "queryString": [],
        "headers": [{"name": n, "value": v} for n, v in headers],
        "headersSize": -1,
        "bodySize": -1,
    }
    if body is not None:
        request["postData"] = {"mimeType": mime, "text": body}
    return {
        "startedDateTime": "2026-11-30T10:00:00.000Z",
        "time": 10,
        "request": request,
        "response": {
            "status": status,
            "statusText": "",
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": [],
            "content": {"size": 2, "mimeType": answer, "text": "{}"},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
        },
        "cache": {},
        "timings": {"send": 0, "wait": 10, "receive": 0},
    }


def _fitness_app_entries() -> list[dict[str, Any]]:
    """An iOS app's API and SDK traffic, its name in every User-Agent, plus a WebView tracking pixel:
    the shape of the mitmproxy export in which the old inference found 508 false leaks."""
    app = [("User-Agent", APP_UA), ("Accept", "application/json")]
    web = [("User-Agent", WEBVIEW_UA)]
    adjust = f"app_token=q9x8w7&idfa={IDFA}&bundle_id=com.example.fitapp&app_version=5.2.1&event=FitApp_open"
    return [
        _entry(
            "POST",
            "https://api.fitapp.example/v2/session",
            app,
            body=json.dumps({"app": "FitApp", "bundle": "com.example.fitapp", "idfa": IDFA}),
        ),
        _entry(
            "GET", "https://api.fitapp.example/v2/help?target=FitApp", [*app[:1], ("Accept", "*/*")], answer="text/html"
        ),  # an API answering HTML is not a page
        _entry("POST", "https://app.adjust.com/session", app, body=adjust, mime="application/x-www-form-urlencoded"),
        _entry(
            "POST",
            "https://graph.facebook.com/v17.0/1234567890/activities",
            app,
            body=f"event=MOBILE_APP_INSTALL&advertiser_id={IDFA}&application_package_name=com.example.fitapp"
            "&extinfo=%5B%22i2%22%2C%22com.example.fitapp%22%2C%22FitApp%22%5D",
            mime="application/x-www-form-urlencoded",
        ),
        _entry(
            "POST",
            "https://mobile-collector.newrelic.com/mobile/v3/data",
            app,
            body=json.dumps([["FitApp", "5.2.1", "com.example.fitapp"], {"deviceId": IDFA}]),
        ),
        # the WebView pixel: image Accept, answered with HTML, the app's name in its query
        _entry(
            "GET",
            "https://www.facebook.com/tr?id=1234567890&ev=PageView&target=FitApp&noscript=1",
            [*web, ("Accept", "image/webp,image/png,image/*;q=0.8")],
            answer="text/html",
        ),
        _entry(
            "GET",
            "https://static.fitapp.example/js/bridge.js?app=FitApp",
            [*web, ("Accept", "*/*")],
            answer="text/html",
        ),
        _entry(
            "POST",
            "https://www.google-analytics.com/g/collect?v=2&tid=G-FIT123&en=screen_view&an=FitApp"
            "&aid=com.example.fitapp",
            [*web, ("Sec-Fetch-Dest", "empty"), ("Sec-Fetch-Mode", "no-cors")],
            answer="text/html",
        ),
    ]


def _har(tmp_path: Path, entries: list[dict[str, Any]], name: str = "fitapp.har") -> Path:
    path = tmp_path / name
    log = {"log": {"version": "1.2", "creator": {"name": "mitmproxy", "version": "10.1.5"}, "entries": entries}}
    path.write_text(json.dumps(log))
    return path


def test_app_capture_without_navigation_infers_nothing(tmp_path: Path) -> None:
    capture = toolkit.load(_har(tmp_path, _fitness_app_entries()))
    leaks = find_leaks(capture)
    assert leaks.empty  # no visited URL, no search term: nothing inferred, nothing found
    assert "no top-level navigation" in leaks.attrs["visited"]
    with_id = find_leaks(capture, identifiers=[f"IDFA={IDFA}"])
    assert set(with_id["needle_kind"]) == {"identifier"}
    assert set(with_id["needle_source"]) == {"given"}
    assert set(with_id["host"]) == {
        "api.fitapp.example",
        "app.adjust.com",
        "graph.facebook.com",
        "mobile-collector.newrelic.com",
    }


def test_cli_says_nothing_was_inferred(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(_har(tmp_path, _fitness_app_entries()))]) == 0
    out = capsys.readouterr().out
    assert "no top-level navigation in the capture, so none inferred" in out
    assert "leaks:" not in out


def test_a_real_webview_navigation_is_inferred_and_its_ambient_values_are_not(tmp_path: Path) -> None:
    page = "https://blog.fitapp-partner.example/articles/running-tips-for-beginners?utm_source=FitApp&ref=app"
    search = "https://www.example-search.com/search?q=knee+pain+after+running"
    web = [("User-Agent", WEBVIEW_UA), ("Accept", "text/html,application/xhtml+xml")]
    navigation = [*web, ("Sec-Fetch-Dest", "document"), ("Sec-Fetch-Mode", "navigate")]
    tracker = [("User-Agent", WEBVIEW_UA), ("Sec-Fetch-Dest", "empty"), ("Sec-Fetch-Mode", "cors")]
    events = json.dumps({"events": [{"name": "search", "term": "knee pain after running", "app": "FitApp"}]})
    entries = [
        *_fitness_app_entries(),
        _entry("GET", page, navigation, answer="text/html"),
        _entry(
            "GET",
            "https://www.google-analytics.com/g/collect?v=2&tid=G-BLOG1&dl="
            + page.replace(":", "%3A").replace("/", "%2F").replace("?", "%3F").replace("&", "%26").replace("=", "%3D"),
            tracker,
            answer="text/html",
        ),
        _entry("GET", search, navigation, answer="text/html"),
        _entry(
            "POST",
            "https://collector.example-analytics.net/v1/batch",
            tracker,
            body=base64.b64encode(events.encode()).decode(),
            mime="text/plain",
        ),
    ]
    leaks = find_leaks(toolkit.load(_har(tmp_path, entries)))
    assert set(leaks["needle_source"]) == {"inferred"}
    found = {(r.needle_kind, r.needle, r.host) for r in leaks.itertuples()}
    assert found == {
        ("url", page, "www.google-analytics.com"),
        ("search_term", "knee pain after running", "collector.example-analytics.net"),
    }
    # the app's name and bundle id, in every request, were never needles
    assert not set(leaks["needle"]) & {"FitApp", "com.example.fitapp", "5.2.1"}
    assert "2 inferred" in leaks.attrs["visited"]


def test_navigations_are_documents_not_pixels_scripts_or_calls() -> None:
    rows = [
        ("https://a.example/page", [("Accept", "text/html,*/*")], "text/html", 200, True),
        ("https://a.example/next", [("Sec-Fetch-Dest", "document"), ("Sec-Fetch-Mode", "navigate")], None, 200, True),
        (
            "https://a.example/frame",
            [("Sec-Fetch-Dest", "iframe"), ("Sec-Fetch-Mode", "navigate")],
            "text/html",
            200,
            False,
        ),
        ("https://t.example/px", [("Accept", "image/*")], "text/html", 200, False),
        ("https://t.example/api", [("Sec-Fetch-Dest", "empty"), ("Sec-Fetch-Mode", "cors")], "text/html", 200, False),
        ("https://t.example/x", [("X-Requested-With", "XMLHttpRequest")], "text/html", 200, False),
        ("https://a.example/app.js", [], "text/html", 200, False),
        ("https://a.example/gone", [("Accept", "text/html")], "text/html", 404, False),
        ("https://a.example/old", [], "text/html", 200, True),  # an old HAR without Accept or Referer
        ("https://a.example/linked", [("Referer", "https://a.example/")], "text/html", 200, False),
    ]
    for url, headers, content_type, status, expected in rows:
        lower = {k.lower(): v for k, v in headers}
        assert is_navigation("GET", url, lower, content_type, status) is expected, url
    assert not is_navigation("POST", "https://a.example/form", {"accept": "text/html"}, "text/html", 200)


def test_infer_visited_reads_har_pages_and_keeps_order() -> None:
    requests = TABLES["requests"].frame(
        {
            "url": [
                "https://a.example/page",
                "https://cdn.example/x.js",
                "https://b.example/next",
                "https://t.example/px",
            ],
            "method": ["GET", "GET", "GET", "GET"],
            "request_headers": [
                [],
                [("Referer", "https://a.example/page")],
                [("Sec-Fetch-Dest", "document"), ("Sec-Fetch-Mode", "navigate")],
                [("Sec-Fetch-Dest", "image"), ("Sec-Fetch-Mode", "no-cors")],
            ],
            "response_content_type": ["text/html; charset=utf-8", "text/html", None, "image/gif"],
        }
    )
    assert infer_visited(requests) == ["https://a.example/page", "https://b.example/next"]
    pages = [{"id": "page_1", "title": "https://c.example/"}, {"id": "page_2", "title": "A title, not a URL"}]
    assert infer_visited(requests, pages)[0] == "https://c.example/"


def test_search_terms_of_inferred_urls_come_from_search_pages_only() -> None:
    kinds = {(n.kind, n.value) for n in url_needles("https://news.example/story?s=elections&id=998877", inferred=True)}
    assert not {k for k, _v in kinds} & {"search_term"}
    assert ("url_part", "elections") not in kinds and ("url_part", "998877") not in kinds
    terms = [
        n.value
        for n in url_needles("https://www.bing.com/search?q=divorce+lawyer", inferred=True)
        if n.kind == "search_term"
    ]
    assert terms == ["divorce lawyer"]
    # a given URL keeps every query value: the user said it was visited
    given = {(n.kind, n.value) for n in url_needles("https://news.example/story?s=elections&id=998877")}
    assert ("search_term", "elections") in given and ("url_part", "998877") in given
    assert is_search_page("https://duckduckgo.com/?q=x") and not is_search_page("https://news.example/a?q=x")
    assert [meaningful_term(v) for v in ("knee pain", "zzzz", "b3f1c2d4e5f6a7b8", "FALSE")] == [
        True,
        False,
        False,
        False,
    ]


def test_ambient_values_are_in_user_agents_or_most_requests() -> None:
    requests = TABLES["requests"].frame(
        {
            "url": [
                "https://a.example/x?bundle=com.fit.app",
                "https://b.example/y?b=com.fit.app",
                "https://c.example/z?id=com.fit.app",
                "https://d.example/w?q=rare+term",
            ],
            "request_headers": [[("User-Agent", "FitApp/1.0")], [], [], [("Host", "d.example")]],
        }
    )
    assert ambient_values(requests, ["fitapp", "com.fit.app", "rare term", "d.example"]) == {"fitapp", "com.fit.app"}


def test_claims_do_not_rest_on_inferred_needles_unless_allowed() -> None:
    from toolkit.claims import Claim, check
    from toolkit.study import Session, Study

    from ..paths import DATA

    study = Study([Session("incognito", [DATA / "lab" / "incognito.har"], mode="incognito")], vendors=["Xiaomi"])
    params: dict[str, Any] = {"mode": "incognito", "organisations": ["Xiaomi"]}
    strict = check(study, Claim("p", "Private.", "no_browsing_data", params))
    assert strict.verdict == "inconclusive" and "no browsing log" in strict.reason
    loose = check(study, Claim("p", "Private.", "no_browsing_data", {**params, "inferred_visits": True}))
    assert loose.verdict == "contradicted" and "inferred from the capture" in loose.reason
    assert set(loose.evidence["needle_source"]) == {"inferred"}
    compared = study.compare()
    assert compared["inferred_leaks"].sum() == len(study.leaks[study.leaks["needle_source"] == "inferred"]) > 0


APP_LIKE = [
    "mitmproxy__insomnia.har",
    "mitmproxy__postdata.har",
    "mitmproxy__diff_data.har",
    "mitmproxy__event_stream.har",
    "mitmproxy__successful_log.har",
    "mitmproxy__websocket.har",
    "mswjs__request-parameters.har",
    "mswjs__response-binary.har",
    "mswjs__response-compressed.har",
    "mswjs__response-cookies.har",
    "harviewer__noPages.har",
    "playwright__har-fulfill.har",
    "playwright__har-redirect.har",
]


@pytest.mark.parametrize("name", APP_LIKE)
def test_app_like_corpus_hars_give_no_inferred_finding(name: str) -> None:
    """HARs of API clients, test harnesses and apps: nothing a person browsed, so nothing inferred leaks."""
    path = CORPUS / "har" / name
    if not path.exists():
        pytest.skip("the shared corpus is not beside this checkout")
    try:
        capture = toolkit.load(path)
    except CaptureError:
        pytest.skip("not readable as a whole")
    leaks = find_leaks(capture)
    assert leaks[leaks["needle_source"] == "inferred"].empty


def test_browser_corpus_har_inferred_findings_are_the_page_to_third_parties() -> None:
    """A real browser HAR (sitespeed.io over HTTP/1.1 in Chrome): the page URL reaches Google Analytics
    in the Referer and its host in `utmhn`; nothing else is inferred."""
    path = CORPUS / "har" / "pagexray__http1.1-chrome.har"
    if not path.exists():
        pytest.skip("the shared corpus is not beside this checkout")
    leaks = find_leaks(toolkit.load(path))
    rows = {(r.kind, r.needle, r.host, r.location) for r in leaks.itertuples()}
    assert set(leaks["needle_source"]) == {"inferred"}
    assert ("referer", "https://www.sitespeed.io/", "ssl.google-analytics.com", "header:referer") in rows
    assert ("leak", "www.sitespeed.io", "ssl.google-analytics.com", "query:utmhn") in rows
    assert set(leaks["host"]) == {"ssl.google-analytics.com"}
    assert isinstance(leaks, pd.DataFrame)

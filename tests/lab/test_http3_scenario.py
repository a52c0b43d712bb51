"""The HTTP/3 lab scenario (data/lab/http3.*, recorded by toolkit.lab.http3 with Chromium and aioquic):
what the capture decrypts to equals the servers' own request logs, and the leak search finds the
telemetry sent over HTTP/3 with its chain."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import pandas as pd
import pytest

import toolkit
from tests.paths import DATA
from toolkit.lab.http3 import HTTP3_VISITS, expected_leaks
from toolkit.leaks.detect import find_leaks

LAB = DATA / "lab"


@pytest.fixture(scope="module")
def truth() -> dict[str, Any]:
    return json.loads((LAB / "http3.truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def capture() -> toolkit.Capture:
    return toolkit.load(LAB / "http3.pcap", keylog=LAB / "http3.keylog")


def _requests(rows: pd.DataFrame) -> list[tuple[str, str, str]]:
    bodies = [b.decode("utf-8", "replace") if isinstance(b, bytes) else "" for b in rows["body"]]
    return sorted(zip(rows["method"], rows["url"], bodies, strict=True))


def _logged(truth: dict[str, Any], version: str) -> list[tuple[str, str, str]]:
    return sorted((r["method"], r["url"], r["body"]) for r in truth["requests"] if r["http_version"] == version)


def test_ground_truth_has_telemetry_over_http3(truth: dict[str, Any]) -> None:
    posts = [r for r in truth["requests"] if r["method"] == "POST" and r["host"] == "sa.api.intl.miui.com"]
    assert len(posts) == len(HTTP3_VISITS) and {r["http_version"] for r in posts} == {"HTTP/3"}
    assert {r["http_version"] for r in truth["requests"]} == {"HTTP/3", "HTTP/1.1"}
    assert truth["expected_leaks"] == expected_leaks(truth["requests"])
    kinds = {(leak["kind"], leak["http_version"]) for leak in truth["expected_leaks"]}
    assert {("visited_url", "HTTP/3"), ("search_term", "HTTP/3"), ("android_id", "HTTP/3")} <= kinds


def test_tcp_tls_part_equals_the_server_log(capture: toolkit.Capture, truth: dict[str, Any]) -> None:
    tcp = capture.requests[capture.requests["http_version"] == "HTTP/1.1"]
    assert tcp["decrypted"].all()
    assert _requests(tcp) == _logged(truth, "HTTP/1.1")


def _http3_requests(capture: toolkit.Capture) -> pd.DataFrame:
    http3 = capture.requests[capture.requests["http_version"] == "HTTP/3"]
    assert not http3.empty, "no HTTP/3 request read from data/lab/http3.pcap"
    return http3


def test_http3_requests_equal_the_server_log(capture: toolkit.Capture, truth: dict[str, Any]) -> None:
    http3 = _http3_requests(capture)
    assert _requests(http3) == _logged(truth, "HTTP/3")
    quic = capture.flows[capture.flows["protocol"] == "quic"]
    assert quic["decrypted"].all(), quic[["server_ip", "not_decrypted_reason"]]


def _leaks_in(capture: toolkit.Capture, truth: dict[str, Any], version: str) -> tuple[set[Any], set[Any]]:
    """(found, expected): (host, value, chain) of the leaks in the requests of ``version``."""
    rows = capture.requests[capture.requests["http_version"] == version]
    leaks = find_leaks(capture, visited=truth["visits"], identifiers=dict(truth["identifiers"]))
    evidence = set(rows["evidence"])
    found = {
        (h, unquote(n), " > ".join(([] if loc == "body" else [loc]) + (c.split(" > ") if c else [])))
        for e, h, n, loc, c in zip(leaks.evidence, leaks.host, leaks.needle, leaks.location, leaks.chain, strict=True)
        if e.split("; ")[0] in evidence  # a leak's evidence may add the SDK's label after "; "
    }
    expected = {
        (leak["host"], leak["value"], leak["chain"])
        for leak in truth["expected_leaks"]
        if leak["http_version"] == version
    }
    return found, expected


def test_leak_search_finds_the_ad_beacon_sent_over_tcp(capture: toolkit.Capture, truth: dict[str, Any]) -> None:
    found, expected = _leaks_in(capture, truth, "HTTP/1.1")
    assert expected and expected <= found


def test_leak_search_finds_the_telemetry_sent_over_http3(capture: toolkit.Capture, truth: dict[str, Any]) -> None:
    _http3_requests(capture)
    found, expected = _leaks_in(capture, truth, "HTTP/3")
    assert expected and expected <= found

"""Ground truth: the leaks it lists and the counts it gives, per scenario."""

from __future__ import annotations

from pathlib import Path

from toolkit.lab import VISITS, run_scenario


def test_expected_leaks_follow_the_scenario(tmp_path: Path) -> None:
    normal = run_scenario("normal", seed=5, out=tmp_path, visits=VISITS).truth
    toggle = run_scenario("incognito_toggle_off", seed=5, out=tmp_path, visits=VISITS).truth
    to_collector = {(leak["kind"], leak["value"]) for leak in normal["expected_leaks"] if leak["role"] == "telemetry"}
    assert {v.page_url for v in VISITS} <= {value for kind, value in to_collector if kind == "visited_url"}
    assert ("search_term", "hiv test clinic near me") in to_collector
    assert ("android_id", normal["identifiers"]["android_id"]) in to_collector
    toggle_kinds = {leak["kind"] for leak in toggle["expected_leaks"] if leak["role"] == "telemetry"}
    assert toggle_kinds == {"android_id", "distinct_id"}
    # third parties learn visited pages from Referer and the ad beacon, in every mode
    for truth in (normal, toggle):
        ad = {(leak["chain"], leak["value"]) for leak in truth["expected_leaks"] if leak["role"] == "advertising"}
        assert ("query:dl > urldecode", VISITS[2].wire_url) in ad and ("header:referer", VISITS[2].wire_url) in ad


def test_every_leak_points_at_a_request_to_its_host(tmp_path: Path) -> None:
    truth = run_scenario("incognito", seed=5, out=tmp_path, visits=VISITS).truth
    for leak in truth["expected_leaks"]:
        assert truth["requests"][leak["request"]]["host"] == leak["host"]
    counts = truth["counts"]
    assert counts["requests"] == counts["http1_requests"] + counts["http2_requests"] == len(truth["requests"])
    assert counts["tcp_connections"] == counts["tls12_connections"] + counts["tls13_connections"] == 6

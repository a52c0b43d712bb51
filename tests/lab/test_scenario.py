"""The scenarios' facts: documentation addresses only, every protocol combination, page URLs."""

from __future__ import annotations

import ipaddress

from toolkit.lab.scenario import CLIENT_IPV4, CLIENT_IPV6, COLLECTOR, HOSTS, RESOLVER_IPV4, SCENARIOS, VISITS, Device

RANGES = ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")  # RFC 5737, RFC 3849
DOCUMENTATION = [ipaddress.ip_network(n) for n in RANGES]


def test_every_address_is_a_documentation_address() -> None:
    servers = [address for h in HOSTS.values() for address in (h.ipv4, h.ipv6)]
    addresses = [CLIENT_IPV4, CLIENT_IPV6, RESOLVER_IPV4, *servers]
    assert all(any(ipaddress.ip_address(a) in net for net in DOCUMENTATION) for a in addresses)


def test_hosts_cover_both_tls_versions_with_both_http_versions() -> None:
    assert {(h.tls_version, h.alpn) for h in HOSTS.values()} == {
        ("1.2", "h2"),
        ("1.2", "http/1.1"),
        ("1.3", "h2"),
        ("1.3", "http/1.1"),
    }
    assert COLLECTOR == "https://sa.api.intl.miui.com/sa?project=global_browser_mini&r=ES"
    assert HOSTS["sa.api.intl.miui.com"].role == "telemetry"


def test_visits_cover_the_cases_the_issue_lists() -> None:
    assert any(v.search_word for v in VISITS)
    fragment = next(v for v in VISITS if "#" in v.url)
    assert "#" not in fragment.wire_url and fragment.page_url.endswith("#reviews")
    non_ascii = next(v for v in VISITS if not v.url.isascii())
    assert non_ascii.wire_url.isascii() and "%C3%A4" in non_ascii.wire_url
    assert any(r.kind == "beacon" for v in VISITS for r in v.resources)
    assert any(r.url.startswith("https://cdn.") for v in VISITS for r in v.resources)


def test_scenarios_are_the_three_of_the_record() -> None:
    assert {name: (s.app_version, s.incognito, s.sends_page_events) for name, s in SCENARIOS.items()} == {
        "normal": ("3.4.0", False, True),
        "incognito": ("3.4.0", True, True),
        "incognito_toggle_off": ("3.4.3", True, False),
    }


def test_device_identifiers_look_like_androids() -> None:
    device = Device.from_seed(11)
    int(device.android_id, 16)
    assert len(device.android_id) == 16 and device.distinct_id.count("-") == 4
    assert "MintBrowser/3.4.3" in device.browser_user_agent("3.4.3")
    assert device.sdk_user_agent().startswith("Dalvik/2.1.0")

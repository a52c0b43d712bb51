"""Roles relative to a context, the endpoints table, and classification of real captures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import toolkit
from toolkit.endpoints import (
    ROLES,
    Atlas,
    Classifier,
    Context,
    Owner,
    classify,
    join_endpoints,
    load_disconnect,
    load_duckduckgo,
    load_exodus,
    load_hosts,
)
from toolkit.endpoints.atlas import bundled_atlas
from toolkit.endpoints.classify import host_occurrences
from toolkit.schema import TABLES

MI_BROWSER = Context(sites=("https://www.bbc.co.uk/news",), vendors=("Xiaomi",))


def row(table: pd.DataFrame, host: str) -> pd.Series:
    found = table[table["host"] == host]
    assert len(found) == 1, f"{host} not in {table['host'].tolist()}"
    return found.iloc[0]


def test_xiaomi_collector_is_the_platform_for_a_xiaomi_browser() -> None:
    table = classify(["sa.api.intl.miui.com"], context=MI_BROWSER)
    got = row(table, "sa.api.intl.miui.com")
    assert got["registrable_domain"] == "miui.com"
    assert got["organisation"] == "Xiaomi" and got["country"] == "CN"
    assert got["categories"] == ["telemetry", "analytics"]
    assert got["role"] == "platform"
    assert got["source"] == bundled_atlas().label


def test_the_same_collector_is_a_third_party_elsewhere() -> None:
    got = row(classify(["sa.api.intl.miui.com"], context=Context(vendors=("Mozilla",))), "sa.api.intl.miui.com")
    assert got["role"] == "third_party"


def test_roles_in_a_mi_browser_session() -> None:
    hosts = [
        "www.bbc.co.uk",  # the visited site
        "static.files.bbci.co.uk",  # its own CDN: BBC owns bbci.co.uk (atlas)
        "data.mistat.intl.xiaomi.com",  # the vendor's analytics
        "connect.rom.miui.com",  # the vendor's captive-portal check: infrastructure
        "region1.app-measurement.com",  # Firebase analytics: a tracking third party
        "d3abc.cloudfront.net",  # a CDN: infrastructure
        "dns.google",  # DNS over HTTPS
        "upload.wikimedia.org",  # a known organisation, not tracking
        "no-one-knows.example",  # unknown, listed
        "203.0.113.9",  # an address nobody lists
    ]
    table = classify(hosts, context=MI_BROWSER)
    assert table["host"].tolist() == hosts
    assert table["role"].tolist() == [
        "first_party",
        "first_party",
        "platform",
        "infrastructure",
        "third_party",
        "infrastructure",
        "infrastructure",
        "third_party",
        "unknown",
        "unknown",
    ]
    assert set(table["role"]) <= set(ROLES)
    assert row(table, "www.bbc.co.uk")["source"] == "context"
    assert row(table, "no-one-knows.example")["categories"] == []
    assert pd.isna(row(table, "no-one-knows.example")["source"])


def test_endpoints_table_follows_the_schema() -> None:
    table = classify(["a.example", "A.EXAMPLE.", "a.example:443", None, "", "bad host"])
    assert TABLES["endpoints"].validate(table) is table
    # spellings of one host are one endpoint; missing and empty values are not hosts
    assert table["host"].tolist() == ["a.example", "bad host"]
    assert table["role"].tolist() == ["unknown", "unknown"]
    assert pd.isna(table.loc[1, "registrable_domain"])
    # a plain list of hosts carries no traffic figures
    assert table["requests"].isna().all() and table["flows"].isna().all()


def test_without_vendors_the_platform_is_a_third_party() -> None:
    table = classify(["tracking.miui.com", "time.android.com"])
    assert table["role"].tolist() == ["third_party", "infrastructure"]


def test_first_party_extends_to_what_the_lists_say_the_site_owner_owns(lists: Path) -> None:
    disconnect = load_disconnect(lists / "disconnect__services.json", lists / "disconnect__entities.json")
    # Disconnect's entities.json: Yandex owns yadi.sk (a property) and serves from webvisor.com
    hosts = ["mc.webvisor.com", "yadi.sk", "securepubads.g.doubleclick.net"]
    context = Context(sites=("https://yadi.sk/d/abc",))
    assert Classifier([disconnect]).classify(hosts, context)["role"].tolist() == [
        "first_party",
        "first_party",
        "third_party",
    ]
    narrow = Context(sites=context.sites, expand_first_party=False)
    assert Classifier([disconnect]).classify(hosts, narrow)["role"].tolist() == [
        "third_party",
        "first_party",
        "third_party",
    ]
    # the atlas alone: The New York Times Company owns nyt.com and nytimes.com
    table = classify(["static01.nyt.com", "www.nytimes.com"], context=Context(sites=("www.nytimes.com",)))
    assert table["role"].tolist() == ["first_party", "first_party"]


def test_first_party_entities_given_by_hand() -> None:
    table = classify(["graph.facebook.com"], context=Context(first_party_entities=("Meta Platforms",)))
    assert table["role"].tolist() == ["first_party"]


def test_several_sources_and_who_decided(lists: Path) -> None:
    sources = [
        bundled_atlas(),
        load_duckduckgo(lists / "duckduckgo__extension-tds.json"),
        load_exodus(lists / "exodus__trackers.json"),
        load_hosts(lists / "stevenblack__hosts.txt"),
    ]
    hosts = ["sa.api.intl.miui.com", "cdn.taboola.com", "settings.crashlytics.com"]
    table = classify(hosts, context=MI_BROWSER, sources=sources)
    assert row(table, "sa.api.intl.miui.com")["source"].startswith("atlas@")
    # the hosts file lists this exact host (more specific) but names no one: the atlas decides the
    # organisation, the block list adds its category
    taboola = row(table, "cdn.taboola.com")
    assert taboola["source"].startswith("atlas@") and taboola["organisation"] == "Taboola"
    assert taboola["categories"][0] == "advertising" and "blocklist" in taboola["categories"]
    # a host only a block list knows: a third party of unknown organisation
    blocked = next(h for h in sources[3].hosts if Classifier([bundled_atlas()]).decide(h) is None)
    only_listed = row(classify([blocked], sources=sources), blocked)
    assert only_listed["role"] == "third_party" and pd.isna(only_listed["organisation"])
    assert only_listed["categories"] == ["blocklist"] and only_listed["source"] == "hosts:stevenblack__hosts.txt"


def test_a_more_specific_user_fact_overrides_the_atlas() -> None:
    mine = Atlas("my-notes")
    mine.add(Owner("beacon.miui.com", "Sensors Data", "Sensors Data", "CN", ("analytics",), "my-notes"))
    table = classify(["beacon.miui.com", "www.miui.com"], context=MI_BROWSER, sources=[bundled_atlas(), mine])
    assert table["organisation"].tolist() == ["Sensors Data", "Xiaomi"]
    assert table["source"].tolist() == ["my-notes", bundled_atlas().label]
    assert table["role"].tolist() == ["third_party", "platform"]


def test_tables_give_traffic_counts() -> None:
    requests = TABLES["requests"].frame(
        {
            "host": ["sa.api.intl.miui.com", "SA.API.INTL.MIUI.COM", None, "www.bbc.co.uk"],
            "sni": [None, None, "cdn.example", None],
            "page": ["page_1", "page_1", "page_1", None],
        }
    )
    flows = TABLES["flows"].frame(
        {
            "hostname": ["sa.api.intl.miui.com", None],
            "server_ip": ["198.51.100.1", "203.0.113.5"],
            "bytes_up": [100, 7],
            "bytes_down": [2000, None],
        }
    )
    dns = TABLES["dns"].frame({"qname": ["sa.api.intl.miui.com", "only-resolved.example"]})
    table = classify({"requests": requests, "flows": flows, "dns": dns}, context=MI_BROWSER)
    assert table["host"].tolist() == [
        "sa.api.intl.miui.com",
        "cdn.example",
        "www.bbc.co.uk",
        "203.0.113.5",
        "only-resolved.example",
    ]
    assert table["requests"].tolist() == [2, 1, 1, 0, 0]
    assert table["flows"].tolist() == [1, 0, 0, 1, 0]
    assert table["bytes_up"].tolist()[:1] == [100]
    assert table["bytes_down"].tolist()[0] == 2000
    assert pd.isna(table["bytes_down"].tolist()[3])


def test_context_is_inferred_from_pages_apps_and_user_agents() -> None:
    mi_ua = "Mozilla/5.0 (Linux; Android 10) AppleWebKit/537.36 Chrome/81 Safari/537.36 XiaoMi/MiuiBrowser/12.1.4"
    requests = TABLES["requests"].frame(
        {
            "host": ["www.bbc.co.uk", "sa.api.intl.miui.com", "static.files.bbci.co.uk"],
            "page": ["page_1", None, "page_1"],
            "request_headers": [[("User-Agent", mi_ua)]] * 3,
        }
    )
    context = Context.infer({"requests": requests})
    assert context.sites == ("www.bbc.co.uk",)
    assert context.vendors == ("Xiaomi",)
    assert any("MiuiBrowser" in line for line in context.evidence)
    table = classify({"requests": requests})
    assert table["role"].tolist() == ["first_party", "platform", "first_party"]
    flows = TABLES["flows"].frame({"hostname": ["x.example"], "app": ["com.mi.globalbrowser"]})
    assert Context.infer({"flows": flows}).vendors == ("Xiaomi",)


def test_a_plain_chrome_user_agent_does_not_make_google_the_platform() -> None:
    ua = "Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36"
    requests = TABLES["requests"].frame({"host": ["a.example"], "request_headers": [[("user-agent", ua)]]})
    assert Context.infer({"requests": requests}).vendors == ()


def test_host_occurrences_rejects_what_it_cannot_read() -> None:
    with pytest.raises(TypeError, match="classify takes hosts"):
        host_occurrences(42)
    assert host_occurrences("one.example").tolist() == ["one.example"]


def test_sample_capture_every_host_is_listed() -> None:
    capture = toolkit.load(Path(__file__).resolve().parents[2] / "data" / "sample.har")
    table = classify(capture)
    hosts = {h for h in capture.requests["host"].dropna()}
    assert hosts <= set(table["host"])
    assert table["requests"].sum() == capture.requests["host"].notna().sum()


def test_corpus_every_host_is_classified_or_unknown(corpus: Path) -> None:
    """Every HAR in the corpus: each host gets a row, a role, and the counts add up."""
    classifier = Classifier()
    known = total = 0
    for path in sorted((corpus / "har").glob("*.har")):
        if "malformed" in path.name:
            continue
        try:
            capture = toolkit.load(path)
        except toolkit.CaptureError:
            continue
        table = classifier.classify(capture)
        requests = capture.requests
        expected = {classifier.suffixes.parse(h).host or h for h in requests["host"].dropna() if h}
        assert expected <= set(table["host"]), path.name
        assert table["role"].isin(ROLES).all()
        assert table["requests"].sum() == requests["host"].notna().sum() - (requests["host"] == "").sum()
        known += int(table.loc[table["organisation"].notna(), "requests"].sum())
        total += int(table["requests"].sum())
    assert total > 1000
    assert known / total > 0.3  # the benchmark script reports the exact share


LAB = Path(__file__).resolve().parents[2] / "data" / "lab"
# the lab's ground-truth roles in the toolkit's terms
TRUTH_ROLES = {
    "first_party": "first_party",
    "cdn": "infrastructure",
    "advertising": "third_party",
    "telemetry": "platform",
}
TRUTH_CATEGORIES = {"first_party": "first-party-content", "cdn": "cdn", "advertising": "advertising"}


@pytest.mark.parametrize("name", ["normal.har", "incognito.har", "incognito_toggle_off.har", "normal.pcapng"])
def test_lab_capture_roles_match_the_ground_truth(name: str) -> None:
    """The Mint Browser lab: context inferred from the capture, made-up owners from a user atlas."""
    path = LAB / name
    truth_path = LAB / (name.split(".")[0] + ".truth.json")
    if not path.is_file() or not truth_path.is_file():
        pytest.skip(f"data/lab/{name} is not present")
    truth = __import__("json").loads(truth_path.read_text(encoding="utf-8"))
    mine = Atlas("lab-owners")
    for host in truth["hosts"]:
        if host["role"] in TRUTH_CATEGORIES:  # the collector is left to the bundled atlas
            mine.add(Owner(host["host"], host["owner"], categories=(TRUTH_CATEGORIES[host["role"]],), source="lab"))
    capture = toolkit.load(path)
    context = Context.infer(capture)
    if name.endswith(".pcapng"):  # packets have no pages: the visited sites come from the truth
        context = Context(sites=tuple(v["url"] for v in truth["visits"]), vendors=("Xiaomi",))
    table = classify(capture, context=context, sources=[bundled_atlas(), mine])
    assert "Xiaomi" in context.vendors
    roles = dict(zip(table["host"], table["role"], strict=True))
    for host in truth["hosts"]:
        if host["host"] in roles:
            assert roles[host["host"]] == TRUTH_ROLES[host["role"]], host["host"]
    collector = row(table, "sa.api.intl.miui.com")
    assert collector["organisation"] == "Xiaomi" and collector["role"] == "platform"
    if len(capture.requests):
        assert collector["requests"] == truth["counts"]["telemetry_requests"]
        assert table["requests"].sum() == truth["counts"]["requests"]
    if "flows" in capture.tables:
        assert table["flows"].sum() == len(capture.flows)
        resolver = row(table, "192.0.2.53")  # a made-up address, known only by the DNS it answers
        assert resolver["role"] == "infrastructure" and resolver["categories"] == ["dns"]
        assert resolver["source"] == "traffic"


def test_join_endpoints_aligns_with_the_table() -> None:
    flows = TABLES["flows"].frame({"hostname": ["tracking.miui.com", None, "Tracking.MIUI.com."]})
    flows.index = pd.Index([10, 11, 12])
    endpoints = classify(flows, context=Context(vendors=("Xiaomi",)))
    joined = join_endpoints(flows, endpoints)
    assert joined.index.tolist() == [10, 11, 12]
    assert joined["organisation"].tolist()[0] == joined["organisation"].tolist()[2] == "Xiaomi"
    assert pd.isna(joined.loc[11, "role"])
    with pytest.raises(KeyError, match="no host"):
        join_endpoints(pd.DataFrame({"x": [1]}), endpoints)

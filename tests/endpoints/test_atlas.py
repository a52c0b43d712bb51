"""The bundled atlas and the loaders of Disconnect, DuckDuckGo, Exodus, X-Ray and hosts lists."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from toolkit.endpoints import atlas as atlas_module
from toolkit.endpoints.atlas import (
    BUNDLED_ATLAS,
    CATEGORIES,
    MANIFEST,
    Atlas,
    Owner,
    SourceSet,
    bundled_atlas,
    entity_key,
    file_sha256,
    load_atlas_csv,
    load_disconnect,
    load_duckduckgo,
    load_exodus,
    load_hosts,
    load_sources,
    load_xray,
    manifest,
)
from toolkit.endpoints.domains import parse_host
from toolkit.errors import CaptureError, MalformedCaptureError, UnsupportedFormatError

# ----------------------------------------------------------------------------- bundled data


def test_manifest_hashes_match_the_files() -> None:
    data = manifest()
    assert data["version"] and data["date"]
    for name, entry in data["files"].items():
        path = MANIFEST.parent / name
        assert file_sha256(path) == entry["sha256"], f"{name} changed: update data/manifest.json"
        assert path.stat().st_size == entry["bytes"]


def test_atlas_size_and_shape() -> None:
    rows = list(csv.DictReader(BUNDLED_ATLAS.open(encoding="utf-8")))
    assert len(rows) == manifest()["files"]["atlas.csv"]["rows"]
    registrable = {parse_host(r["domain"]).registrable_domain for r in rows if parse_host(r["domain"]).kind == "name"}
    organisations = {r["organisation"] for r in rows}
    assert len(registrable) >= 600
    assert len(organisations) >= 200
    for row in rows:
        assert parse_host(row["domain"]).host == row["domain"], row
        assert row["source"].strip(), f"{row['domain']}: no source"
        assert row["source"].startswith("http") or "Exodus" in row["source"], row
        assert set(row["categories"].split(";")) <= set(CATEGORIES), row
        assert len(row["country"]) == 2, row
    assert len({r["domain"] for r in rows}) == len(rows), "duplicate domains"


def test_atlas_loads_without_problems() -> None:
    atlas = bundled_atlas()
    assert atlas.problems.empty
    assert atlas.label == f"atlas@{manifest()['version']}"


@pytest.mark.parametrize(
    ("host", "organisation", "category"),
    [
        # platform vendors
        ("www.google.com", "Google", "first-party-content"),
        ("gsp-ssl.ls.apple.com", "Apple", "first-party-content"),
        ("settings-win.data.microsoft.com", "Microsoft", "first-party-content"),
        ("vas.samsungapps.com", "Samsung Electronics", "app-store"),
        ("sa.api.intl.miui.com", "Xiaomi", "telemetry"),
        ("tracking.intl.miui.com", "Xiaomi", "analytics"),
        ("metrics1.data.hicloud.com", "Huawei", "telemetry"),
        ("store.heytapmobile.com", "OPPO", "first-party-content"),
        ("www.realme.com", "realme", "first-party-content"),
        ("oneplus.net", "OnePlus", "first-party-content"),
        ("www.vivo.com.cn", "vivo", "first-party-content"),
        ("device-metrics-us.amazon.com", "Amazon", "telemetry"),
        # analytics and attribution SDKs
        ("region1.app-measurement.com", "Google", "analytics"),
        ("sdk.sensorsdata.cn", "Sensors Data", "analytics"),
        ("alog.umeng.com", "Umeng", "analytics"),
        ("app.adjust.com", "Adjust", "attribution"),
        ("t.appsflyer.com", "AppsFlyer", "attribution"),
        ("api2.branch.io", "Branch Metrics", "attribution"),
        ("control.kochava.com", "Kochava", "attribution"),
        ("sdk-api-v1.singular.net", "Singular Labs", "attribution"),
        ("api.mixpanel.com", "Mixpanel", "analytics"),
        ("api2.amplitude.com", "Amplitude", "analytics"),
        ("api.segment.io", "Segment", "analytics"),
        # advertising, social, crash reporting, push, CDN, cloud, DNS
        ("googleads.g.doubleclick.net", "Google", "advertising"),
        ("graph.facebook.com", "Meta Platforms", "social"),
        ("settings.crashlytics.com", "Google", "crash-reporting"),
        ("o123.ingest.sentry.io", "Functional Software (Sentry)", "crash-reporting"),
        ("api.onesignal.com", "OneSignal", "push"),
        ("d1x.cloudfront.net", "Amazon", "cdn"),
        ("a248.e.akamai.net", "Akamai", "cdn"),
        ("my-app.appspot.com", "Google", "cloud"),
        ("dns.google", "Google", "dns"),
        ("1.1.1.1", "Cloudflare", "dns"),
        ("connectivitycheck.gstatic.com", "Google", "captive-portal"),
        ("2.android.pool.ntp.org", "NTP Pool Project", "ntp"),
    ],
)
def test_atlas_knows_what_phones_meet(host: str, organisation: str, category: str) -> None:
    match = bundled_atlas().lookup(parse_host(host).host or host)
    assert match is not None, host
    assert match.owner.entity == organisation
    assert category in match.owner.categories
    assert match.owner.citation


def test_atlas_matches_on_label_boundaries() -> None:
    atlas = bundled_atlas()
    assert atlas.lookup("notgoogle.com") is None
    assert atlas.lookup("google.com.evil.example") is None


def test_atlas_agrees_with_duckduckgo_on_owners(lists: Path) -> None:
    """Cross-check with an independent source: where both name an owner, they mostly agree."""
    tds = json.loads((lists / "duckduckgo__extension-tds.json").read_text(encoding="utf-8"))
    renamed = {"youtube": "google", "facebook": "meta", "twitter": "x", "hotjar": "contentsquare"}
    checked = agreed = 0
    for row in csv.DictReader(BUNDLED_ATLAS.open(encoding="utf-8")):
        theirs = tds["domains"].get(row["domain"])
        if theirs is None:
            continue
        checked += 1
        theirs_key = entity_key(theirs).split(" ")[0]
        theirs_key = renamed.get(theirs_key, theirs_key)
        ours = {entity_key(row["organisation"]), entity_key(row["parent"] or "-")}
        agreed += any(theirs_key in key for key in ours) or theirs_key in row["source"].lower()
    assert checked >= 300
    assert agreed / checked >= 0.85


def test_user_atlas_csv_is_lenient_with_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text(
        "domain,organisation,parent,country,categories,source\n"
        "tracker.example,Example Ads,,us,advertising,https://example.org\n"
        "not a domain,Broken,,,advertising,x\n"
        "ok.example,Example,,,nonsense-category,x\n",
        encoding="utf-8",
    )
    atlas = load_atlas_csv(path)
    assert list(atlas.domains) == ["tracker.example"]
    assert atlas.domains["tracker.example"].country == "US"
    assert atlas.problems["record"].tolist() == ["line 3", "line 4"]
    with pytest.raises(MalformedCaptureError, match=r"mine\.csv: line 3"):
        load_atlas_csv(path, strict=True)


def test_user_atlas_csv_with_wrong_columns(tmp_path: Path) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("host,owner\na.example,A\n", encoding="utf-8")
    with pytest.raises(UnsupportedFormatError, match=r"wrong\.csv: expected CSV columns"):
        load_atlas_csv(path)


# ----------------------------------------------------------------------------- precedence


def test_most_specific_match_wins_then_source_order() -> None:
    broad = Atlas("broad")
    broad.add(Owner("example.com", "Example Inc.", categories=("first-party-content",), source="broad"))
    narrow = Atlas("narrow")
    narrow.add(Owner("metrics.example.com", "Example, Inc.", country="FR", categories=("telemetry",), source="narrow"))
    other = Atlas("other")
    other.add(Owner("example.com", "Somebody Else", categories=("advertising",), source="other"))

    decision = SourceSet([broad, other, narrow]).decide("a.metrics.example.com")
    assert decision is not None
    assert decision.owner.source == "narrow"  # more specific, although listed last
    assert decision.sources == ("narrow", "broad")  # broad names the same organisation
    assert decision.categories == ("telemetry", "first-party-content")  # not "advertising"
    assert decision.country == "FR"

    tie = SourceSet([other, broad]).decide("www.example.com")
    assert tie is not None and tie.owner.entity == "Somebody Else" and tie.sources == ("other",)


def test_regex_matches_only_when_no_domain_does() -> None:
    exodus = Atlas("exodus")
    exodus.patterns.append((__import__("re").compile("tracker"), Owner("tracker", "Regex Co", source="exodus")))
    domain = Atlas("domains")
    domain.add(Owner("tracker.example", "Domain Co", source="domains"))
    sources = SourceSet([exodus, domain])
    assert sources.decide("x.tracker.example").owner.entity == "Domain Co"  # type: ignore[union-attr]
    assert sources.decide("tracker.other").owner.entity == "Regex Co"  # type: ignore[union-attr]


# ----------------------------------------------------------------------------- loaders, real lists


def test_disconnect_real_lists(lists: Path) -> None:
    atlas = load_disconnect(lists / "disconnect__services.json", lists / "disconnect__entities.json")
    services = json.loads((lists / "disconnect__services.json").read_text(encoding="utf-8"))
    listed = {
        d
        for members in services["categories"].values()
        for member in members
        for homepages in member.values()
        for domains in homepages.values()
        if isinstance(domains, list)
        for d in domains
    }
    assert len(listed) == 4463  # SOURCES.tsv: unique domains
    hosts = {d for d in listed if "/" not in d}
    assert all(d in atlas.domains for d in hosts)
    # URL rules ("yandex.ru/clck/click") are finer than a host: skipped and reported
    skipped = atlas.problems[atlas.problems["kind"] == "unsupported"]
    assert len(skipped) == len(listed - hosts) > 0 and set(skipped["severity"]) == {"warning"}
    doubleclick = atlas.lookup("ad.doubleclick.net")
    assert doubleclick is not None and doubleclick.owner.entity == "Google"
    assert "advertising" in doubleclick.owner.categories
    # flag keys ("dnt", "performance", "session-replay") never become domains
    assert not any(d in ("true", "eff", "w3c") for d in atlas.domains)
    # entities.json: a property of an entity shares the entity's resources
    assert "youtube.com" in atlas.entity_domains[entity_key("Google")]


def test_disconnect_bare_forms(tmp_path: Path) -> None:
    services = tmp_path / "services.json"
    services.write_text(
        json.dumps({"Analytics": [{"Acme": {"https://acme.example/": ["acme-stats.example"], "dnt": "w3c"}}]})
    )
    entities = tmp_path / "entities.json"
    entities.write_text(json.dumps({"Acme": {"properties": ["acme.example"], "resources": ["acme-cdn.example"]}}))
    atlas = load_disconnect(services, entities)
    assert atlas.domains["acme-stats.example"].categories == ("analytics",)
    assert atlas.domains["acme-cdn.example"].entity == "Acme"
    assert atlas.entity_domains["acme"] == {"acme-stats.example", "acme.example", "acme-cdn.example"}
    assert set(load_disconnect(entities=entities).domains) == {"acme.example", "acme-cdn.example"}


def test_duckduckgo_web_tds(lists: Path) -> None:
    atlas = load_duckduckgo(lists / "duckduckgo__extension-tds.json")
    assert atlas.name == "duckduckgo-tds" and atlas.problems.empty
    tds = json.loads((lists / "duckduckgo__extension-tds.json").read_text(encoding="utf-8"))
    assert set(tds["trackers"]) <= set(atlas.domains)
    assert set(tds["domains"]) <= set(atlas.domains)
    match = atlas.lookup("www.google-analytics.com")
    assert match is not None and match.owner.entity == "Google" and "analytics" in match.owner.categories


def test_duckduckgo_android_tds(lists: Path) -> None:
    atlas = load_duckduckgo(lists / "duckduckgo__android-tds.json")
    assert atlas.name == "duckduckgo-android-tds"
    assert len(atlas.domains) == 339  # SOURCES.tsv: tracker domains
    assert len(atlas.packages) == 407  # package names
    blocked = [o for o in atlas.domains.values() if o.categories == ("tracking",)]
    assert len(blocked) == 274  # "block" by default; the 65 "ignore" carry no category
    assert SourceSet([atlas]).package_entity("com.adjust.insights") == "Adjust GmbH"


def test_exodus_signatures(lists: Path) -> None:
    atlas = load_exodus(lists / "exodus__trackers.json")
    assert atlas.problems.empty
    adjust = atlas.lookup("app.adjust.com")
    assert adjust is not None and adjust.owner.entity == "Adjust" and adjust.specificity == 2
    assert atlas.lookup("notadjust.com") is None  # literal domains match on label boundaries
    regex = atlas.lookup("cdn.fidzup.example")  # the signature 'fidzup' stays a regex
    assert regex is not None and regex.specificity == 0 and regex.owner.entity == "FidZup"
    assert len(atlas.domains) > 500 and 0 < len(atlas.patterns) < 20


def test_exodus_bad_regex_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "trackers.json"
    path.write_text(
        json.dumps(
            {
                "trackers": {
                    "1": {"name": "Good", "network_signature": "good\\.example|(?:x", "categories": ["Analytics"]},
                    "2": {"network_signature": "nameless\\.example"},
                    "3": {"name": "CodeOnly", "network_signature": "", "categories": []},
                }
            }
        )
    )
    atlas = load_exodus(path)
    assert list(atlas.domains) == ["good.example"]
    assert atlas.domains["good.example"].categories == ("analytics",)
    assert atlas.problems["record"].tolist() == ["trackers.1", "trackers.2"]
    assert load_exodus(path).problems["capture"].tolist() == ["trackers.json"] * 2


def test_xray_owner_list(lists: Path) -> None:
    atlas = load_xray(lists / "xray__xray-blacklist.json")
    tynt = atlas.lookup("cdn.tynt.com")
    assert tynt is not None and tynt.owner.parent == "33Across" and tynt.owner.country == "US"
    # one real entry is "fwmrm.net'" (a stray quote): skipped and reported, not silently dropped
    assert atlas.problems["message"].str.contains("fwmrm.net'", regex=False).tolist() == [True]


def test_hosts_file(lists: Path) -> None:
    atlas = load_hosts(lists / "stevenblack__hosts.txt")
    assert len(atlas.hosts) == 85643  # SOURCES.tsv: unique blocked domains
    assert not atlas.domains  # hosts-file entries are exact
    assert "localhost" not in atlas.hosts
    some = next(iter(atlas.hosts))
    assert atlas.lookup(some) is not None and atlas.lookup("sub." + some) is None
    assert atlas.lookup(some).owner.categories == ("blocklist",)  # type: ignore[union-attr]


def test_domain_per_line_list(tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_text("# comment\nads.example\n||track.example^\n! adblock comment\nnot a host\n127.0.0.1\n")
    atlas = load_hosts(path)
    assert set(atlas.domains) == {"ads.example", "track.example"}
    assert atlas.lookup("x.ads.example") is not None
    assert atlas.problems["record"].tolist() == ["line 5"]  # "not a host": two words
    assert atlas.name == "hosts:list.txt"


@pytest.mark.parametrize(
    ("loader", "content", "error"),
    [
        (load_duckduckgo, "{not json", MalformedCaptureError),
        (load_duckduckgo, '{"entities": {}}', UnsupportedFormatError),
        (load_exodus, '"a string"', UnsupportedFormatError),
        (load_xray, '{"owner_name": "x"}', UnsupportedFormatError),
        (lambda p: load_disconnect(services=p), '{"categories": {"Ads": "nope"}}', UnsupportedFormatError),
        (lambda p: load_disconnect(entities=p), "[1, 2]", UnsupportedFormatError),
        (load_hosts, b"\x00\x01binary", UnsupportedFormatError),
        (load_duckduckgo, b"\xff\xfe{}", MalformedCaptureError),
    ],
)
def test_bad_list_files_raise_errors_naming_the_file(
    tmp_path: Path, loader: object, content: str | bytes, error: type[CaptureError]
) -> None:
    path = tmp_path / "broken-list.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(error, match=r"^broken-list\.json: "):
        loader(path)  # type: ignore[operator]


def test_load_sources_by_kind(lists: Path) -> None:
    atlases = load_sources(
        {
            "exodus": lists / "exodus__trackers.json",
            "disconnect_services": lists / "disconnect__services.json",
            "disconnect_entities": lists / "disconnect__entities.json",
        }
    )
    assert [a.name for a in atlases] == ["exodus", "disconnect"]
    assert atlases[1].entity_domains  # entities were read together with services
    with pytest.raises(ValueError, match="allowed"):
        load_sources({"ublock": lists / "exodus__trackers.json"})


def test_bundled_atlas_is_read_once() -> None:
    assert bundled_atlas() is bundled_atlas()
    assert atlas_module.BUNDLED_ATLAS.name == "atlas.csv"


def test_tracker_radar_directory(tmp_path: Path) -> None:
    """A Tracker Radar checkout: one file per domain and per entity (synthetic, same shape)."""
    (tmp_path / "domains" / "US").mkdir(parents=True)
    (tmp_path / "entities").mkdir()
    (tmp_path / "domains" / "US" / "stats.acme.example.json").write_text(
        json.dumps(
            {
                "domain": "stats.acme.example",
                "owner": {"name": "Acme Inc.", "displayName": "Acme"},
                "categories": ["Analytics", "Session Replay"],
                "prevalence": 0.01,
            }
        )
    )
    (tmp_path / "entities" / "Acme Inc..json").write_text(
        json.dumps({"name": "Acme Inc.", "displayName": "Acme", "properties": ["acme.example", "acme-cdn.example"]})
    )
    (tmp_path / "entities" / "broken.json").write_text("{")
    atlas = load_duckduckgo(tmp_path)
    assert atlas.name == "duckduckgo-tracker-radar"
    assert atlas.domains["stats.acme.example"].categories == ("analytics", "session-replay")
    assert atlas.domains["acme-cdn.example"].entity == "Acme"
    assert atlas.problems["record"].tolist() == ["entities/broken.json"]
    with pytest.raises(UnsupportedFormatError, match="no JSON files"):
        load_duckduckgo(_empty_dir(tmp_path))


def _empty_dir(tmp_path: Path) -> Path:
    empty = tmp_path / "empty"
    empty.mkdir()
    return empty

"""Claims: the shipped Xiaomi manifest's verdicts on the lab, and each verdict flipping when the data does."""

from __future__ import annotations

import base64
import gzip
import tomllib
from collections.abc import Callable
from urllib.parse import parse_qsl, quote

import pandas as pd
import pytest

from tests.paths import DATA
from toolkit.claims import CHECKS, SCOPES, SDK_FINGERPRINTS, Claim, Verdict, check, evaluate, evidence_table
from toolkit.schema import TABLES
from toolkit.study import Study
from toolkit.verdicts import read_claims

MANIFEST = DATA / "xiaomi-2020.toml"
CLAIMS = read_claims(MANIFEST, root=DATA)
COLLECTOR = "sa.api.intl.miui.com"
ANDROID_ID = "8e5fbce04dc91566"
DISTINCT_ID = "0c47d630-7f55-4377-aafd-ccf9486ae5f3"


@pytest.fixture(scope="module")
def study() -> Study:
    return Study.from_manifest(MANIFEST, root=DATA).run()


def _claim(study: Study, claim_id: str) -> Claim:
    return next(c for c in CLAIMS if c.id == claim_id)


def _verdict(study: Study, claim_id: str) -> Verdict:
    return check(study, _claim(study, claim_id))


def _requests(study: Study, keep: Callable[[pd.DataFrame], pd.Series]) -> pd.DataFrame:
    requests = study.requests
    return requests[keep(requests)].reset_index(drop=True)


def _rewrite_telemetry(body: bytes, replace: Callable[[str], str]) -> bytes:
    """Decode a Sensors Analytics post (crc, gzip, data_list), edit its JSON text, encode it again."""
    fields = dict(parse_qsl(body.decode("ascii")))
    events = gzip.decompress(base64.b64decode(fields["data_list"])).decode()
    data = base64.b64encode(gzip.compress(replace(events).encode(), mtime=0)).decode()
    return f"crc={fields['crc']}&gzip=1&data_list={quote(data, safe='')}".encode()


def _with_bodies(study: Study, replace: Callable[[str, str], str]) -> pd.DataFrame:
    requests = study.requests.copy()
    bodies = [
        _rewrite_telemetry(body, lambda text, s=str(session): replace(text, s)) if host == COLLECTOR else body
        for body, host, session in zip(requests["body"], requests["host"], requests["session"], strict=True)
    ]
    requests["body"] = pd.Series(bodies, index=requests.index, dtype=object)
    return requests


def test_the_manifest_quotes_every_claim_with_its_source() -> None:
    data = tomllib.loads(MANIFEST.read_text())
    assert [c["id"] for c in data["claim"]] == [
        "aggregated",
        "incognito",
        "random-tokens",
        "own-servers",
        "tls",
        "toggle",
    ]
    for claim in data["claim"]:
        assert len(claim["quote"]) > 30 and claim["source"], claim["id"]
        assert claim["check"] in CHECKS


def test_xiaomi_verdicts_on_the_lab(study: Study) -> None:
    claims = evaluate(study, CLAIMS)
    assert dict(zip(claims["claim"], claims["verdict"], strict=True)) == {
        "aggregated": "contradicted",
        "incognito": "contradicted",
        "random-tokens": "contradicted",
        "own-servers": "not_observed",
        "tls": "not_observed",
        "toggle": "not_observed",
    }
    assert claims["reason"].notna().all()
    by_claim = claims.set_index("claim")
    assert by_claim.loc["incognito", "evidence"].startswith("incognito.har#entry=")
    assert by_claim.loc["incognito", "evidence_rows"] == 9
    assert pd.isna(by_claim.loc["own-servers", "evidence"])
    evidence = evidence_table(claims)
    assert set(evidence["claim"]) == {"aggregated", "incognito", "random-tokens", "tls", "toggle"}


# --- incognito: URLs leave the device -------------------------------------------------------


def test_incognito_urls_reach_xiaomi(study: Study) -> None:
    verdict = _verdict(study, "incognito")
    assert verdict.verdict == "contradicted"
    found = verdict.evidence
    assert set(found["session"]) == {"incognito"}  # the toggle session sends none
    assert set(found["host"]) == {COLLECTOR}
    assert "hiv test clinic near me" in set(found["needle"])
    assert "https://shop.example-store.com/cart?item=1234#reviews" in set(found["needle"])  # fragment included
    assert all(chain.startswith("form:data_list") for chain in found["chain"])
    assert found["evidence"].str.startswith("incognito.har#entry=").all()


def test_incognito_claim_holds_without_the_telemetry(study: Study) -> None:
    quiet = study.replace_tables(
        requests=_requests(study, lambda r: ~((r["session"] == "incognito") & (r["host"] == COLLECTOR)))
    )
    verdict = _verdict(quiet, "incognito")
    assert verdict.verdict == "not_observed", verdict.reason
    assert verdict.evidence.empty


def test_incognito_claim_is_inconclusive_without_incognito_requests(study: Study) -> None:
    empty = study.replace_tables(requests=_requests(study, lambda r: r["session"] == "normal"))
    assert _verdict(empty, "incognito").verdict == "inconclusive"


# --- the toggle stops URL collection ---------------------------------------------------------


def test_toggle_stops_url_collection(study: Study) -> None:
    verdict = _verdict(study, "toggle")
    assert verdict.verdict == "not_observed"
    assert "2 requests to Xiaomi still go out" in verdict.reason
    assert set(verdict.evidence["session"]) == {"incognito"}


def test_toggle_claim_fails_when_urls_still_go_out(study: Study) -> None:
    requests = study.requests
    leaked = requests[(requests["session"] == "incognito") & (requests["host"] == COLLECTOR)].copy()
    leaked["session"] = "incognito_toggle_off"
    mixed = TABLES["requests"].frame({c: [*requests[c].tolist(), *leaked[c].tolist()] for c in requests.columns})
    verdict = _verdict(study.replace_tables(requests=mixed), "toggle")
    assert verdict.verdict == "contradicted", verdict.reason
    assert set(verdict.evidence["session"]) == {"incognito_toggle_off"}


def test_toggle_claim_is_inconclusive_with_nothing_to_stop(study: Study) -> None:
    quiet = study.replace_tables(
        requests=_requests(study, lambda r: ~((r["session"] == "incognito") & (r["host"] == COLLECTOR)))
    )
    verdict = _verdict(quiet, "toggle")
    assert verdict.verdict == "inconclusive" and "nothing to stop" in verdict.reason


# --- random tokens: the ids persist across all sessions ---------------------------------------


def test_random_tokens_persist_across_all_sessions(study: Study) -> None:
    verdict = _verdict(study, "random-tokens")
    assert verdict.verdict == "contradicted"
    rows = verdict.evidence.set_index("value")
    assert set(rows.index) == {ANDROID_ID, DISTINCT_ID}
    assert rows.loc[ANDROID_ID, "matches_known"] == "ANDROID_ID"
    assert all(len(s) == 3 for s in rows["sessions"])
    assert rows["linkable"].all()
    assert "linkable" in verdict.reason


def test_random_tokens_claim_holds_when_tokens_change_per_session(study: Study) -> None:
    fresh = {"normal": "1", "incognito": "2", "incognito_toggle_off": "3"}

    def rotate(text: str, session: str) -> str:
        digit = fresh[session]
        return text.replace(DISTINCT_ID, f"{digit * 8}-7f55-4377-aafd-ccf9486ae5f{digit}").replace(
            ANDROID_ID, f"{digit}e5fbce04dc9156{digit}"
        )

    rotated = study.replace_tables(requests=_with_bodies(study, rotate))
    verdict = _verdict(rotated, "random-tokens")
    assert verdict.verdict == "not_observed", verdict.reason
    # the Xiaomi identifiers are now per session: still per-device within a session
    xiaomi = rotated.identifiers[rotated.identifiers["hosts"].map(lambda h: COLLECTOR in h)]
    assert set(xiaomi["persistence"]) == {"session"} and len(xiaomi) == 6


def test_random_tokens_claim_needs_two_sessions(study: Study) -> None:
    claim = Claim("t", "q", "identifiers_do_not_persist", {"sessions": ["normal"]})
    assert check(study, claim).verdict == "inconclusive"


# --- aggregated only --------------------------------------------------------------------------


def test_aggregated_claim_contradicted_by_device_ids(study: Study) -> None:
    verdict = _verdict(study, "aggregated")
    assert verdict.verdict == "contradicted"
    assert "is ANDROID_ID" in verdict.reason


def test_aggregated_claim_holds_without_ids(study: Study) -> None:
    def strip(text: str, session: str) -> str:
        return text.replace(DISTINCT_ID, "anonymous").replace(ANDROID_ID, "unknown")

    verdict = _verdict(study.replace_tables(requests=_with_bodies(study, strip)), "aggregated")
    assert verdict.verdict == "not_observed", verdict.reason


# --- own servers, not Sensors Analytics -------------------------------------------------------


def test_no_data_reaches_sensors_analytics_hosts(study: Study) -> None:
    verdict = _verdict(study, "own-servers")
    assert verdict.verdict == "not_observed"
    assert "14 requests use the Sensors Analytics SDK wire format" in verdict.reason


def test_data_to_a_sensors_host_contradicts(study: Study) -> None:
    requests = study.requests.copy()
    moved = requests["host"] == COLLECTOR
    requests["host"] = requests["host"].where(~moved, "sa.sensorsdata.cn")
    verdict = _verdict(study.replace_tables(requests=requests), "own-servers")
    assert verdict.verdict == "contradicted"
    assert "14 requests" in verdict.reason


def test_payload_format_check(study: Study) -> None:
    by_payload = Claim("sdk", "No Sensors SDK.", "no_data_to", {"sdk": "sensors_analytics", "by": "payload"})
    assert check(study, by_payload).verdict == "contradicted"
    assert SDK_FINGERPRINTS["sensors_analytics"][1]({"url": "https://x.example/", "body": b"a=1&b=2"}) is False


# --- TLS 1.2 or newer everywhere ----------------------------------------------------------------


def test_tls_12_everywhere(study: Study) -> None:
    verdict = _verdict(study, "tls")
    assert verdict.verdict == "not_observed", verdict.reason
    assert set(verdict.evidence["version"]) == {"TLS 1.2", "TLS 1.3"}
    assert len(verdict.evidence) == 18


def test_tls_claim_fails_on_an_old_handshake(study: Study) -> None:
    tls = study.tls.copy()
    versions = tls["version"].astype(object).tolist()
    versions[0] = "TLS 1.0"
    tls["version"] = pd.array(versions, dtype="string").astype("category")
    verdict = _verdict(study.replace_tables(tls=tls), "tls")
    assert verdict.verdict == "contradicted" and "TLS 1.0" in verdict.reason


def test_tls_claim_fails_on_cleartext_http(study: Study) -> None:
    requests = study.requests.copy()
    schemes = requests["scheme"].astype(object).tolist()
    schemes[3] = "http"
    requests["scheme"] = pd.array(schemes, dtype="string").astype("category")
    verdict = _verdict(study.replace_tables(requests=requests), "tls")
    assert verdict.verdict == "contradicted" and "cleartext" in verdict.reason


def test_tls_claim_is_inconclusive_without_handshakes(study: Study) -> None:
    verdict = _verdict(study.replace_tables(tls=TABLES["tls"].empty(), flows=TABLES["flows"].empty()), "tls")
    assert verdict.verdict == "inconclusive" and "pcap" in verdict.reason


# --- claims as data --------------------------------------------------------------------------


def test_claim_from_mapping_rejects_mistakes() -> None:
    with pytest.raises(ValueError, match="unknown check"):
        Claim.from_mapping({"id": "a", "quote": "q", "check": "nope"})
    with pytest.raises(ValueError, match=r"unknown params \['colour'\]"):
        Claim.from_mapping({"id": "a", "quote": "q", "check": "tls_min_version", "params": {"colour": 1}})
    with pytest.raises(ValueError, match="`quote` is missing"):
        Claim.from_mapping({"id": "a", "check": "tls_min_version"})
    with pytest.raises(ValueError, match="unknown sdk"):
        Claim.from_mapping({"id": "a", "quote": "q", "check": "no_data_to", "params": {"sdk": "x"}})


def test_a_claim_about_a_missing_session_is_inconclusive(study: Study) -> None:
    claim = Claim("x", "q", "toggle_stops", {"baseline": ["nope"], "treatment": ["incognito"]})
    verdict = check(study, claim)
    assert verdict.verdict == "inconclusive" and "nope" in verdict.reason


@pytest.mark.parametrize(
    "params",
    [{"min_version": 16}, {"min_version": "TLS nine"}, {"min_version": [1, 2]}],
)
def test_claim_params_of_the_wrong_type_are_refused_when_read(params: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="min_version"):
        Claim.from_mapping({"id": "a", "quote": "q", "check": "tls_min_version", "params": params})


def test_claim_list_and_flag_params_are_checked() -> None:
    with pytest.raises(ValueError, match="`organisations` must be a list"):
        Claim.from_mapping({"id": "a", "quote": "q", "check": "no_browsing_data", "params": {"organisations": "X"}})
    with pytest.raises(ValueError, match="`inferred_visits` must be true or false"):
        Claim.from_mapping({"id": "a", "quote": "q", "check": "no_browsing_data", "params": {"inferred_visits": 1}})


def test_every_verdict_says_what_its_check_can_and_cannot_show(study: Study) -> None:
    claims = evaluate(study, CLAIMS)
    assert list(claims["verdict"].cat.categories) == ["contradicted", "not_observed", "inconclusive"]
    for claim, check_name, scope in zip(claims["claim"], claims["check"], claims["scope"], strict=True):
        assert scope == SCOPES[check_name] and "annot" in scope, claim  # "Cannot see ...", "cannot show ..."
    quiet = claims[claims["verdict"] == "not_observed"]
    assert quiet["reason"].str.contains(r"\d+ requests to \d+ hosts|\d+ TLS handshakes", regex=True).all()


def test_quote_kind_is_verbatim_paraphrase_or_illustrative() -> None:
    entry = {"id": "x", "quote": "We use TLS.", "check": "tls_min_version"}
    assert Claim.from_mapping({**entry, "quote_kind": "illustrative"}).quote_kind == "illustrative"
    with pytest.raises(ValueError, match="quote_kind"):
        Claim.from_mapping({**entry, "quote_kind": "rumour"})

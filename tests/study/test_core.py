"""Studies: labelled sessions from a manifest or from Python, stacked tables, comparison, output."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import toolkit.leaks.detect
from tests.paths import DATA
from toolkit.claims import evaluate
from toolkit.schema import TABLES
from toolkit.study import CaptureSpec, ManifestError, Session, Study, concat_tables
from toolkit.verdicts import read_claims, write_study

LAB = DATA / "lab"
MANIFEST = DATA / "xiaomi-2020.toml"
SESSIONS = ["normal", "incognito", "incognito_toggle_off"]


@pytest.fixture(scope="module")
def study() -> Study:
    return Study.from_manifest(MANIFEST, root=DATA).run()


def _per_session(frame: pd.DataFrame) -> dict[str, int]:
    return {str(k): int(v) for k, v in frame.groupby("session", observed=True).size().items()}


def test_manifest_gives_three_labelled_sessions(study: Study) -> None:
    assert [s.name for s in study.sessions] == SESSIONS
    assert [s.mode for s in study.sessions] == ["normal", "incognito", "incognito"]
    assert study.session("incognito_toggle_off").version == "3.4.3"
    assert study.session("incognito_toggle_off").toggles == {"aggregated_collection_in_incognito": False}
    assert study.vendors == ("Xiaomi",)
    assert study.known_identifiers == {"ANDROID_ID": "8e5fbce04dc91566"}


def test_every_table_carries_its_session(study: Study) -> None:
    counts = {s: json.loads((LAB / f"{s}.truth.json").read_text())["counts"] for s in SESSIONS}
    assert _per_session(study.requests) == {s: counts[s]["requests"] for s in SESSIONS}
    assert _per_session(study.tls) == {s: counts[s]["tcp_connections"] for s in SESSIONS}
    assert _per_session(study.dns) == {s: 2 * counts[s]["dns_queries"] for s in SESSIONS}  # query and answer
    for name in ("requests", "flows", "dns", "tls", "leaks"):
        frame = study.tables[name]
        assert len(frame) and frame["session"].notna().all(), name
        assert TABLES[name].validate(frame) is frame
    # the session's package fills the app column the HAR cannot give
    assert set(study.requests["app"]) == {"com.mi.globalbrowser.mini"}


def test_the_manifest_takes_only_the_named_tables_from_each_capture(study: Study) -> None:
    # requests come from the HARs only (the pcapng's requests would double them once decrypted)
    assert set(study.requests["capture"]) == {f"{s}.har" for s in SESSIONS}
    assert set(study.tls["capture"]) == {f"{s}.pcapng" for s in SESSIONS}


def test_comparison_per_session_and_organisation(study: Study) -> None:
    compared = study.compare()
    xiaomi = compared[compared["organisation"] == "Xiaomi"].set_index("session")
    assert xiaomi["role"].tolist() == ["platform"] * 3
    assert xiaomi["requests"].to_dict() == {"normal": 6, "incognito": 6, "incognito_toggle_off": 2}
    assert xiaomi["leaks_url"].to_dict() == {"normal": 8, "incognito": 8, "incognito_toggle_off": 0}
    assert xiaomi["leaks_search_term"].to_dict() == {"normal": 1, "incognito": 1, "incognito_toggle_off": 0}
    assert xiaomi["leaks_identifier"].to_dict() == {"normal": 11, "incognito": 11, "incognito_toggle_off": 2}
    # the ad tag gets the page URL as Referer and in its `dl` parameter, in every session
    ads = compared[compared["organisation"] == "example-ads.com"].set_index("session")
    assert ads["referer_leaks"].to_dict() == {s: 4 for s in SESSIONS}
    # visited sites are first party (from the browsing log)
    assert set(compared[compared["organisation"] == "example-news.com"]["role"]) == {"first_party"}
    assert compared.groupby("session", observed=True)["requests"].sum().to_dict() == _per_session(study.requests)
    bytes_up = compared.set_index(["session", "organisation"])["bytes_up"]
    assert bytes_up[("incognito_toggle_off", "Xiaomi")] < bytes_up[("incognito", "Xiaomi")]


def test_diff_says_what_the_toggle_removes(study: Study) -> None:
    diff = study.diff("incognito", "incognito_toggle_off")
    changes = {(r.what, r.item): r.change for r in diff.itertuples()}
    assert changes[("leak:url", "url to Xiaomi")] == "disappears"
    assert changes[("leak:search_term", "search_term to Xiaomi")] == "disappears"
    assert changes[("leak:identifier", "identifier to Xiaomi")] == "both"
    assert changes[("identifier", "8e5fbce04dc91566")] == "both"
    assert changes[("destination", "Xiaomi")] == "both"
    assert "appears" not in set(diff["change"])
    # and nothing changes between normal and incognito in 3.4.0
    assert set(study.diff("normal", "incognito")["change"]) == {"both"}


def test_python_study_equals_the_manifest(study: Study) -> None:
    built = Study(
        [Session(s, [LAB / f"{s}.har"], mode="incognito" if "incognito" in s else "normal") for s in SESSIONS],
        vendors=["Xiaomi"],
        known_identifiers={"ANDROID_ID": "8e5fbce04dc91566"},
    )
    assert _per_session(built.requests) == _per_session(study.requests)
    assert sorted(built.identifiers["value"]) == sorted(study.identifiers["value"])
    assert built.tls.empty  # HAR files carry no TLS handshakes


def test_select_by_labels(study: Study) -> None:
    assert [s.name for s in study.select({"mode": "incognito"})] == ["incognito", "incognito_toggle_off"]
    selected = study.select({"toggles.aggregated_collection_in_incognito": False})
    assert [s.name for s in selected] == ["incognito_toggle_off"]
    with pytest.raises(KeyError, match="no session 'private'"):
        study.select(["private"])


def test_pcapng_alone_gives_connections_and_handshakes() -> None:
    alone = Study([Session("normal", [LAB / "normal.pcapng"], mode="normal")]).run()
    assert len(alone.tls) == 6 and set(alone.tls["session"]) == {"normal"}
    assert len(alone.flows) > 0 and alone.flows["session"].notna().all()
    # with decryption (issue 5) the same session also has its 18 requests; without, none
    assert len(alone.requests) in (0, 18)


def test_a_capture_that_cannot_be_loaded_is_reported(tmp_path: Path) -> None:
    broken = tmp_path / "broken.har"
    broken.write_text("{not json")
    study = Study([Session("a", [LAB / "normal.har"]), Session("b", [broken])]).run()
    assert _per_session(study.requests) == {"a": 18}
    problem = study.problems[study.problems["capture"] == "broken.har"]
    assert len(problem) == 1 and "capture not loaded" in problem["message"].iloc[0]
    assert any("broken.har" in note for note in study.notes)


def test_a_failing_leak_engine_is_reported_not_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> pd.DataFrame:
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(toolkit.leaks, "find_leaks", broken)  # where toolkit.analysis.analyze takes it from
    study = Study.from_manifest(MANIFEST, root=DATA).run()
    assert study.leaks.empty
    assert len(study.requests) == 50
    assert sum("leaks not searched (RuntimeError: engine exploded)" in n for n in study.notes) == 3
    claims = evaluate(study, read_claims(MANIFEST, root=DATA))
    verdicts = dict(zip(claims["claim"], claims["verdict"], strict=True))
    assert verdicts["incognito"] == "inconclusive"
    assert verdicts["toggle"] == "inconclusive"


def test_a_failing_classifier_is_reported_not_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    import toolkit.endpoints

    def broken(*args: object, **kwargs: object) -> pd.DataFrame:
        raise RuntimeError("no atlas")

    monkeypatch.setattr(toolkit.endpoints, "classify", broken)
    study = Study([Session("a", [LAB / "normal.har"])]).run()
    assert set(study.endpoints["role"]) == {"unknown"}
    assert any("endpoints not classified" in n for n in study.notes)
    assert len(study.leaks) > 0


def test_write_gives_every_table_with_sessions_and_the_claims(study: Study, tmp_path: Path) -> None:
    written = write_study(study, tmp_path, claims=read_claims(MANIFEST, root=DATA))
    names = sorted(p.name for p in written)
    for name in (
        "requests.csv",
        "flows.csv",
        "dns.csv",
        "tls.csv",
        "leaks.csv",
        "identifiers.csv",
        "claims.csv",
        "claim_evidence.csv",
        "comparison.csv",
        "sessions.csv",
        "endpoints.csv",
        "problems.csv",
        "summary.json",
    ):
        assert name in names, name
    for name in ("requests", "flows", "dns", "tls", "leaks", "comparison", "problems", "claim_evidence"):
        assert "session" in pd.read_csv(tmp_path / f"{name}.csv").columns, name
    requests = pd.read_csv(tmp_path / "requests.csv")
    assert requests.groupby("session").size().to_dict() == {"incognito": 18, "incognito_toggle_off": 14, "normal": 18}
    claims = pd.read_csv(tmp_path / "claims.csv")
    assert claims["claim"].tolist() == ["aggregated", "incognito", "random-tokens", "own-servers", "tls", "toggle"]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["verdicts"]["incognito"] == "contradicted"
    assert summary["rows"]["requests"] == 50
    identifiers = pd.read_csv(tmp_path / "identifiers.csv")
    assert "8e5fbce04dc91566" in identifiers["value"].tolist()


def test_manifest_errors_name_the_file_and_entry(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[study\n")
    with pytest.raises(ManifestError, match=r"bad\.toml: not valid TOML"):
        Study.from_manifest(bad)
    bad.write_text('[[session]]\nname = "a"\ncaptures = ["missing.har"]\n')
    with pytest.raises(ManifestError, match=r"session 1 \(a\): `captures`: capture .*missing.har does not exist"):
        Study.from_manifest(bad)
    bad.write_text(f'[[session]]\nname = "a"\ncaptures = ["{LAB / "normal.har"}"]\ncolour = "red"\n')
    with pytest.raises(ManifestError, match=r"unknown keys \['colour'\]"):
        Study.from_manifest(bad, allow_outside=True)
    bad.write_text(
        f'[[session]]\nname = "a"\ncaptures = ["{LAB / "normal.har"}"]\n'
        '[[claim]]\nid = "x"\nquote = "q"\ncheck = "no_such_check"\n'
    )
    Study.from_manifest(bad, allow_outside=True)  # a Study reads no claims: those are read above it
    with pytest.raises(ManifestError, match="claim 1: unknown check 'no_such_check'"):
        read_claims(bad, allow_outside=True)
    bad.write_text("")
    with pytest.raises(ManifestError, match=r"no \[\[session\]\] entry"):
        Study.from_manifest(bad)


def test_sessions_must_differ() -> None:
    with pytest.raises(ValueError, match="repeated: a"):
        Study([Session("a", []), Session("a", [])])


def test_capture_spec_and_concat() -> None:
    assert CaptureSpec.of("x.har").path == Path("x.har")
    a = TABLES["leaks"].frame({"session": ["one"], "kind": ["leak"]})
    b = TABLES["leaks"].frame({"session": ["two"], "kind": ["referer"]})
    stacked = concat_tables("leaks", [a, b])
    assert stacked["session"].tolist() == ["one", "two"]
    assert isinstance(stacked["session"].dtype, pd.CategoricalDtype)
    assert concat_tables("leaks", []).empty


def test_one_classification_for_every_table_of_the_study(study: Study) -> None:
    """Requests, flows, DNS and leaks take organisation and role from the study's one ``endpoints``
    table (its vendors, its visited sites): the visited sites reached in the pcapng files are first
    party in ``flows`` and ``dns`` too (each capture's own classification left them unknown)."""
    endpoints = study.endpoints
    role = dict(zip(endpoints["host"], endpoints["role"].astype(object), strict=True))
    organisation = dict(zip(endpoints["host"], endpoints["organisation"].astype(object), strict=True))
    for name, column in (("requests", "host"), ("flows", "hostname"), ("dns", "qname"), ("leaks", "host")):
        frame = study.tables[name].dropna(subset=[column])
        assert len(frame), name
        assert frame["role"].astype(object).tolist() == [role[h] for h in frame[column]], name
        got = [o if isinstance(o, str) else None for o in frame["organisation"].astype(object)]
        assert got == [o if isinstance(o, str) else None for o in map(organisation.get, frame[column])], name
    flows = study.flows[(study.flows["hostname"] == "www.example-news.com").fillna(False).to_numpy(dtype=bool)]
    assert len(flows) == 3 and set(flows["role"].astype(object)) == {"first_party"}


def test_the_study_layer_imports_no_claims_and_no_report() -> None:
    """Claims and the report are readings of a study: they import it, never the other way round."""
    import ast

    import toolkit.study

    above = ("toolkit.claims", "toolkit.verdicts", "toolkit.report", "toolkit.cli", "toolkit.plots")
    for path in sorted(Path(toolkit.study.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not [n for n in names if n.startswith(above)], f"{path.name}:{node.lineno} imports {names}"

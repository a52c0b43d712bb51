"""Needles that a server sends back (Set-Cookie, Location) are ``direction = response`` rows, and no
count, ranking, plot or claim about what the device sends takes them (issue 15)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.paths import DATA
from toolkit import plots
from toolkit.claims import check
from toolkit.cli import main
from toolkit.leaks.direction import carried_back, sent_by_device
from toolkit.report.document import Details, Facts, TableBlock, build_report
from toolkit.schema import TABLES
from toolkit.study import Study
from toolkit.verdicts import read_claims

UID = "c3f1b0de6a474b3e"


def _leaks(*directions: str) -> pd.DataFrame:
    count = len(directions)
    return TABLES["leaks"].frame(
        {
            "session": ["s"] * count,
            "kind": ["leak"] * count,
            "needle_kind": ["identifier"] * count,
            "needle": [f"{UID}{i}" for i in range(count)],
            "matched_form": ["UID"] * count,
            "location": ["query:uid" if d == "request" else "set-cookie:uid" for d in directions],
            "chain": [""] * count,
            "host": ["t.example"] * count,
            "organisation": ["T Inc"] * count,
            "severity": ["identifier"] * count,
            "direction": list(directions),
            "evidence": ["t#entry=1"] * count,
        }
    )


def test_sent_by_device_and_carried_back_split_the_table() -> None:
    leaks = _leaks("request", "response", "response")
    assert sent_by_device(leaks).location.tolist() == ["query:uid"]
    assert carried_back(leaks).location.tolist() == ["set-cookie:uid"] * 2
    assert sent_by_device(leaks.drop(columns="direction")).equals(leaks.drop(columns="direction"))


def test_the_report_counts_what_the_device_sent_and_lists_the_rest_apart() -> None:
    report = build_report({"leaks": _leaks("request", "response", "response")}, figures=False)
    summary = next(s for s in report.sections if s.anchor == "summary")
    facts = dict(next(b for b in summary.walk() if isinstance(b, Facts)).items)
    assert facts["leaks"] == "1 leak"
    section = next(s for s in report.sections if s.anchor == "leaks")
    grouped = [b for d in section.blocks if isinstance(d, Details) for b in d.blocks if isinstance(b, TableBlock)]
    back = next(b for b in section.blocks if isinstance(b, TableBlock) and b.caption.startswith("Carried back"))
    assert [t.total_rows for t in grouped] == [1] and back.total_rows == 2
    only_back = build_report({"leaks": _leaks("response")}, figures=False)
    blocks = next(s for s in only_back.sections if s.anchor == "leaks").blocks
    assert any(isinstance(b, TableBlock) and b.caption.startswith("Carried back") for b in blocks)
    facts = dict(next(b for b in only_back.sections[0].walk() if isinstance(b, Facts)).items)
    assert facts["leaks"] == "0"


def test_the_leak_matrix_leaves_out_response_rows() -> None:
    ax = plots.leak_matrix(_leaks("response"))
    assert "no leaks found" in " ".join(t.get_text() for t in ax.texts)
    ax = plots.leak_matrix(_leaks("request", "response"))
    assert any("identifier ×1" in t.get_text() for t in ax.texts)


def _har(path: Path, cookie_value: str) -> Path:
    entry = {
        "startedDateTime": "2024-01-01T00:00:00.000Z",
        "time": 1,
        "request": {
            "method": "GET",
            "url": "https://t.example/init",
            "httpVersion": "HTTP/1.1",
            "headers": [{"name": "Host", "value": "t.example"}],
            "queryString": [],
            "cookies": [],
            "headersSize": -1,
            "bodySize": 0,
        },
        "response": {
            "status": 302,
            "statusText": "Found",
            "httpVersion": "HTTP/1.1",
            "headers": [
                {"name": "Set-Cookie", "value": f"uid={cookie_value}; Path=/"},
                {"name": "Location", "value": f"https://t.example/next?uid={cookie_value}"},
            ],
            "cookies": [],
            "content": {"size": 0, "mimeType": "text/html"},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": 0,
        },
        "cache": {},
        "timings": {"send": 0, "wait": 1, "receive": 0},
    }
    path.write_text(
        json.dumps({"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": [entry]}})
    )
    return path


def test_cli_summary_does_not_count_what_a_server_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    har = _har(tmp_path / "set.har", UID)
    assert main(["analyze", str(har), "--id", f"UID={UID}", "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "\nleaks:" not in printed
    assert "carried back by servers (Set-Cookie/Location, not counted as leaks): 2 findings" in printed
    leaks = pd.read_csv(tmp_path / "out" / "leaks.csv")
    assert sorted(zip(leaks.location, leaks.direction, strict=True)) == [
        ("response_header:location", "response"),
        ("set-cookie:uid", "response"),
    ]


@pytest.fixture(scope="module")
def study() -> Study:
    return Study.from_manifest(DATA / "xiaomi-2020.toml").run()


def test_a_claim_never_rests_on_values_a_server_sent_back(study: Study) -> None:
    """The incognito claim: URLs reach Xiaomi. With the telemetry bodies gone but the visited URLs
    sent back by the collector in Location headers, the claim holds (nothing sent by the device)."""
    requests = study.requests.copy()
    telemetry = (requests["host"] == "sa.api.intl.miui.com").to_numpy()
    visited = "https://www.example-search.com/search?q=hiv+test+clinic+near+me"  # in the browsing log
    requests["body"] = pd.Series(
        [None if t else b for t, b in zip(telemetry, requests["body"], strict=True)], index=requests.index, dtype=object
    )
    requests["response_headers"] = pd.Series(
        [[("Location", visited)] if t else h for t, h in zip(telemetry, requests["response_headers"], strict=True)],
        index=requests.index,
        dtype=object,
    )
    changed = study.replace_tables(requests=requests)
    returned = carried_back(changed.leaks)
    assert set(returned.host) == {"sa.api.intl.miui.com"}
    assert {"url", "search_term"} <= set(returned[returned.session == "incognito"].needle_kind)
    claim = next(c for c in read_claims(DATA / "xiaomi-2020.toml") if c.id == "incognito")
    verdict = check(changed, claim)
    assert verdict.verdict == "not_observed", verdict.reason

"""A capture of several SDKs (AppLovin, Huawei HiAnalytics, Google Mobile Ads, AppsFlyer, Adjust): every
data type their documentation says they send is in the table, no row is wrong, and a payload that is
encrypted is said to be so in ``problems`` (CLI and Study alike).

No capture of these SDKs is in the shared corpus (its doubleclick.net requests are web pages'
conversion pings), so the requests are built from each SDK's documented wire format (see each
adapter's docstring for the source); the encrypted bodies are random bytes, as an encrypted body is.
"""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import toolkit
from toolkit.cli import main
from toolkit.datatypes import find_datatypes, request_datatypes
from toolkit.study import Study

ADID = "38400000-8cf0-11bd-b23e-10b96e40000d"
_ENCRYPTED = bytes(random.Random(18).randrange(256) for _ in range(700))


def _entry(
    url: str,
    *,
    body: bytes | None = None,
    headers: list[tuple[str, str]] | None = None,
    cookies: list[tuple[str, str]] | None = None,
    mime: str = "application/json",
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "method": "POST" if body is not None else "GET",
        "url": url,
        "httpVersion": "HTTP/1.1",
        "headers": [{"name": n, "value": v} for n, v in headers or []],
        "queryString": [],
        "cookies": [{"name": n, "value": v} for n, v in cookies or []],
        "headersSize": -1,
        "bodySize": -1,
    }
    if body is not None:
        request["postData"] = {"mimeType": mime, "text": base64.b64encode(body).decode(), "encoding": "base64"}
    return {
        "startedDateTime": "2026-11-30T10:00:00.000Z",
        "time": 10,
        "request": request,
        "response": {
            "status": 200,
            "statusText": "",
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": [],
            "content": {"size": 2, "mimeType": "application/json", "text": "{}"},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
        },
        "cache": {},
        "timings": {"send": 0, "wait": 10, "receive": 0},
    }


_APPLOVIN = {
    "device_info": {
        "brand": "Xiaomi",
        "brand_name": "Redmi",
        "model": "Redmi Note 8",
        "os": "10",
        "api_level": 29,
        "platform": "android",
        "locale": "de_DE",
        "tz_offset": 1.0,
        "carrier": "Telekom.de",
        "sim": False,
        "idfa": ADID,
        "dnt": False,
        "fs": 21474836480,
        "fm": 1532215296,
        "screen_size_in": 6.3,
        "bt_ms": 1764489600000,
        "network": "wifi",
    },
    "app_info": {"package_name": "com.example.game", "app_version": "1.4.2", "sdk_version": "12.6.0"},
}

#: (request, data types the SDK's documentation says it sends in it, by the adapter).
_SENT: list[tuple[dict[str, Any], set[str]]] = [
    (
        _entry("https://ms.applovin.com/1.0/mediate", body=json.dumps(_APPLOVIN).encode()),
        {
            "device_manufacturer",
            "device_model",
            "os_version",
            "os",
            "locale",
            "timezone",
            "carrier",
            "emulator",
            "advertising_id",
            "tracking_consent",
            "storage",
            "memory",
            "screen",
            "uptime",
            "network_type",
            "app_id",
            "app_version",
            "sdk_version",
        },
    ),
    (
        _entry(
            "https://rt.applovin.com/4.0/pix?event=landing&platform=android&model=Redmi%20Note%208"
            f"&idfa={ADID}&package_name=com.example.game"
        ),
        {"os", "device_model", "advertising_id", "app_id"},
    ),
    (_entry("https://ms.applovin.com/1.0/mediate", body=_ENCRYPTED, mime="application/octet-stream"), set()),
    (
        _entry(
            "https://metrics2.data.hicloud.com:6447/webv4",
            body=_ENCRYPTED,
            mime="application/octet-stream",
            headers=[
                ("App-Id", "102345678"),
                ("App-Ver", "2.1.0"),
                ("Sdk-Name", "hianalytics"),
                ("Sdk-Ver", "6.9.0.302"),
                ("Device-Type", "ELS-NX9"),
                ("servicetag", "_openness_log_tag"),
            ],
        ),
        {"app_id", "app_version", "sdk_version", "device_model"},
    ),
    (
        _entry(
            "https://googleads.g.doubleclick.net/mads/gma?platform=Xiaomi&submodel=Redmi%20Note%208"
            "&sys_name=android&os_version=10&hl=de&net=wi&msid=com.example.game&dtsdk=221310999&vnm=1.4.2"
            f"&rdid={ADID}&is_lat=0",
            cookies=[("IDE", "AHWqTUk3nN2Xc0m5")],
        ),
        {
            "device_manufacturer",
            "device_model",
            "os",
            "os_version",
            "language",
            "network_type",
            "app_id",
            "sdk_version",
            "app_version",
            "advertising_id",
            "tracking_consent",
            "device_id",
        },
    ),
    (
        _entry(
            "https://inapps.appsflyersdk.com/api/v6.9/androidevent?app_id=com.example.game&buildnumber=6.9.4",
            body=_ENCRYPTED,
            mime="application/octet-stream",
        ),
        {"app_id", "sdk_version"},
    ),
    (
        _entry(
            "https://app.adjust.com/session",
            mime="application/x-www-form-urlencoded",
            body=f"gps_adid={ADID}&package_name=com.example.game&os_name=android&device_name=Redmi%20Note%208"
            "&tracking_enabled=1&country=DE".encode(),
        ),
        {"advertising_id", "app_id", "os", "device_model", "tracking_consent", "locale"},
    ),
]


def _har(folder: Path) -> Path:
    path = folder / "several-sdks.har"
    entries = [entry for entry, _types in _SENT]
    path.write_text(
        json.dumps({"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": entries}})
    )
    return path


@pytest.fixture(scope="module")
def har(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _har(tmp_path_factory.mktemp("sdks"))


def test_every_documented_type_found_and_no_wrong_row(har: Path) -> None:
    table = find_datatypes(toolkit.load(har).requests)
    for index, (entry, types) in enumerate(_SENT):
        rows = table[table["evidence"].str.endswith(f"entry={index}")]
        adapter = rows[rows["method"] == "adapter"]
        assert set(adapter["datatype"]) == types, (entry["request"]["url"], set(adapter["datatype"]) ^ types)
    # No row a person would call wrong: every value is one the request carried under a name of that type.
    by_type = {(t, v) for t, v in zip(table["datatype"], table["value"], strict=True)}
    assert ("advertising_id", ADID) in by_type and ("device_model", "Redmi Note 8") in by_type
    assert ("uptime", "1764489600000") in by_type and ("phone_number", "1764489600000") not in by_type
    assert not table[table["datatype"].isin(["phone_number", "email", "precise_location", "name"])].size
    assert set(table.loc[table["datatype"] == "advertising_id", "value"]) == {ADID}


def test_encrypted_payloads_are_said_plainly_in_problems(har: Path, tmp_path: Path) -> None:
    assert main(["analyze", str(har), "--out", str(tmp_path / "out")]) == 0
    problems = pd.read_csv(tmp_path / "out" / "problems.csv")
    encrypted = problems[problems["kind"] == "encrypted"]
    said = sorted(m.split(":", 1)[0] for m in encrypted["message"])
    assert said == ["AppLovin", "AppsFlyer", "Huawei HiAnalytics"]  # the readable AppLovin post is not one
    assert all("(1 request, first several-sdks.har#entry=" in m for m in encrypted["message"])
    assert set(encrypted["severity"]) == {"warning"} and set(encrypted["capture"]) == {"several-sdks.har"}
    datatypes = pd.read_csv(tmp_path / "out" / "datatypes.csv")
    assert {"AppLovin", "Huawei HiAnalytics", "Google Mobile Ads"} <= set(datatypes["sdk"])


def test_study_says_it_too(har: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "study.toml"
    manifest.write_text(f'[study]\nname = "sdks"\n\n[[session]]\nname = "s"\ncaptures = ["{har}"]\n')
    study = Study.from_manifest(manifest, allow_outside=True).run()
    assert not (study.problems["kind"] == "encrypted").any()  # not before the data types are read
    assert len(study.datatypes) and (study.problems["kind"] == "encrypted").sum() == 3
    again = study.replace_tables(requests=study.requests.copy())  # read anew: said once, not twice
    assert len(again.datatypes) == len(study.datatypes) and (again.problems["kind"] == "encrypted").sum() == 3
    # Identifier discovery takes what an adapter names an id: DoubleClick's IDE cookie (Google Mobile
    # Ads) is known by no generic name; ``rdid`` is the advertising id by Ad Manager's documentation.
    kinds = dict(zip(study.identifiers["value"], study.identifiers["kind"], strict=True))
    assert kinds["AHWqTUk3nN2Xc0m5"] == "device_id" and kinds[ADID] == "advertising_id"
    keys = study.identifiers.set_index("value").loc[ADID, "keys"]
    assert "query:rdid" in keys


def test_gma_leaves_web_conversion_pings_alone() -> None:
    url = "https://googleads.g.doubleclick.net/pagead/viewthroughconversion/925133270/?value=1.00&guid=ON&script=0"
    assert {f.sdk for f in request_datatypes(url)} <= {None}

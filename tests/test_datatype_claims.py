"""Data types in a Study: stacked per session, the ``no_datatype_to`` claim check (its verdict
flipping when the data does) and the data types x organisations plot."""

from __future__ import annotations

import base64
import gzip
from urllib.parse import parse_qsl, quote

import matplotlib
import pandas as pd
import pytest

from tests.paths import DATA
from toolkit.claims import CHECKS, Claim, check
from toolkit.plots import datatype_matrix
from toolkit.schema import TABLES
from toolkit.study import Study

matplotlib.use("Agg")

MANIFEST = DATA / "xiaomi-2020.toml"
ANDROID_ID = "8e5fbce04dc91566"


@pytest.fixture(scope="module")
def study() -> Study:
    return Study.from_manifest(MANIFEST).run()


def _claim(**params: object) -> Claim:
    return Claim("t", "We do not send the device's ids to anyone.", "no_datatype_to", dict(params))


def test_study_datatypes_stacked_per_session(study: Study) -> None:
    table = study.datatypes
    TABLES["datatypes"].validate(table)
    assert set(table["session"]) == {s.name for s in study.sessions}
    assert set(table["organisation"]) == {"Xiaomi"}
    per_session = table[table["datatype"] == "android_id"].groupby("session", observed=True)["value"].unique()
    assert {s: list(v) for s, v in per_session.items()} == {s.name: [ANDROID_ID] for s in study.sessions}
    assert study.datatypes is table  # found once, then kept


def test_no_datatype_to_contradicted_with_evidence(study: Study) -> None:
    verdict = check(study, _claim(datatypes=["android_id"], organisations=["Xiaomi"], mode="incognito"))
    assert verdict.verdict == "contradicted"
    assert set(verdict.evidence["value"]) == {ANDROID_ID}
    assert set(verdict.evidence["session"]) == {"incognito", "incognito_toggle_off"} & {s.name for s in study.sessions}
    assert "android_id 8e5fbce04dc91566 to sa.api.intl.miui.com" in verdict.reason


def test_no_datatype_to_not_observed_and_inconclusive(study: Study) -> None:
    assert check(study, _claim(datatypes=["advertising_id"], organisations=["Xiaomi"])).verdict == "not_observed"
    # The collector is Xiaomi's own (the vendor's platform), not a third party: the default target.
    assert check(study, _claim(datatypes=["android_id"])).verdict == "not_observed"
    assert check(study, _claim(datatypes=["favourite_colour"])).verdict == "inconclusive"
    assert check(study, _claim(datatypes=["android_id"], sessions=["nope"])).verdict == "inconclusive"
    assert "no_datatype_to" in CHECKS


def test_no_datatype_to_flips_when_the_sdk_stops_sending_it(study: Study) -> None:
    def without_device_id(body: object, host: object) -> object:
        if host != "sa.api.intl.miui.com" or not isinstance(body, bytes):
            return body
        fields = dict(parse_qsl(body.decode("ascii")))
        events = gzip.decompress(base64.b64decode(fields["data_list"])).decode().replace(ANDROID_ID, "")
        data = base64.b64encode(gzip.compress(events.encode(), mtime=0)).decode()
        return f"crc={fields['crc']}&gzip=1&data_list={quote(data, safe='')}".encode()

    requests = study.requests.copy()
    requests["body"] = pd.Series(
        [without_device_id(b, h) for b, h in zip(requests["body"], requests["host"], strict=True)],
        index=requests.index,
        dtype=object,
    )
    changed = study.replace_tables(requests=requests)
    claim = _claim(datatypes=["android_id"], organisations=["Xiaomi"])
    assert check(study, claim).verdict == "contradicted"
    assert check(changed, claim).verdict == "not_observed"


def test_datatype_matrix(study: Study) -> None:
    ax = datatype_matrix(study.datatypes)
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert rows[0] == "android_id" and "device_model" in rows and "search_term" in rows
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Xiaomi"]
    cells = {t.get_text() for t in ax.texts}
    assert "1" in cells  # one ANDROID_ID value in every session
    ax.figure.clf()
    empty = datatype_matrix(TABLES["datatypes"].empty())
    assert [t.get_text() for t in empty.texts] == ["no data types found"]

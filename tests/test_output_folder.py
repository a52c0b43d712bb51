"""Output folders: one run's fresh tables, written whole, never through a link, stale ones removed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.paths import DATA
from toolkit.cli import main
from toolkit.export import write_table
from toolkit.output_folder import FreshFolder, is_toolkit_file, replace_file
from toolkit.schema import TABLES

PCAPNG = DATA / "lab" / "normal.pcapng"
HAR = DATA / "sample.har"


def test_a_har_run_after_a_pcapng_run_leaves_only_its_own_tables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["analyze", str(PCAPNG), "--out", str(out)]) == 0
    first = {p.name for p in out.iterdir()}
    assert {"flows.csv", "dns.csv", "tls.csv", "coverage.csv", "requests.csv"} <= first
    (out / "notes.txt").write_text("mine")  # the user's own files stay
    (out / "my-flows.csv").write_text("mine")
    capsys.readouterr()
    assert main(["analyze", str(HAR), "--out", str(out)]) == 0
    second = {p.name for p in out.iterdir()}
    assert second == {
        "datatypes.csv",
        "endpoints.csv",
        "leaks.csv",
        "problems.csv",
        "requests.csv",
        "requests.parquet",
        "summary.json",
        "notes.txt",
        "my-flows.csv",
    }
    said = capsys.readouterr().out
    stale = sorted(first - second)
    assert stale and all(name in said for name in stale) and "earlier run" in said
    assert pd.read_csv(out / "requests.csv")["capture"].unique().tolist() == ["sample.har"]


def test_a_report_run_then_a_plain_run_removes_the_old_report(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["analyze", str(HAR), "--out", str(out), "--report", "--mask"]) == 0  # masked copies in tables/
    assert (out / "report.html").exists() and any((out / "tables").iterdir())
    assert main(["analyze", str(HAR), "--out", str(out), "--format", "parquet"]) == 0
    assert not (out / "report.html").exists() and not (out / "requests.csv").exists()
    assert not list((out / "tables").iterdir())
    assert (out / "requests.parquet").exists()


def test_a_link_in_the_folder_is_replaced_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "requests.csv").symlink_to(victim)
    (out / "summary.json").symlink_to(victim)
    (out / "flows.csv").symlink_to(victim)  # stale and a link: the link goes, not its target
    assert main(["analyze", str(HAR), "--out", str(out)]) == 0
    assert victim.read_text() == "precious"
    assert not (out / "requests.csv").is_symlink() and "sample.har" in (out / "requests.csv").read_text()
    assert not (out / "summary.json").is_symlink()
    assert not (out / "flows.csv").exists() and not (out / "flows.csv").is_symlink()


@pytest.mark.parametrize("subfolder", ["tables", "report_figures"])
def test_a_linked_subfolder_is_refused(tmp_path: Path, subfolder: str, capsys: pytest.CaptureFixture[str]) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / subfolder).symlink_to(elsewhere, target_is_directory=True)
    assert main(["analyze", str(HAR), "--out", str(out), "--report"]) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert not list(elsewhere.iterdir())


def test_an_interrupted_write_leaves_the_old_table_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    frame = TABLES["problems"].frame({"message": ["first run"]})
    path = write_table(frame, tmp_path / "problems", "csv")
    before = path.read_bytes()

    def interrupted(self: pd.DataFrame, target: Any, **_: object) -> None:
        target.write("capture,rec")  # half a table (written to the open file), then the run stops
        target.flush()
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_table(TABLES["problems"].frame({"message": ["second run"] * 1000}), tmp_path / "problems", "csv")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["problems.csv"]  # no temporary file left


def test_a_temporary_file_of_a_killed_run_is_removed_by_the_next(tmp_path: Path) -> None:
    (tmp_path / ".requests.csv.1a2b3c4d.partial").write_text("capture,rec")
    (tmp_path / ".notes.txt.1a2b3c4d.partial").write_text("not ours")
    with FreshFolder(tmp_path) as folder:
        replace_file(tmp_path / "requests.csv", lambda p: Path(p).write_text("x"))
    assert folder.removed == [".requests.csv.1a2b3c4d.partial"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".notes.txt.1a2b3c4d.partial", "requests.csv"]


def test_a_run_that_fails_before_writing_leaves_the_folder_as_it_was(tmp_path: Path) -> None:
    (tmp_path / "flows.csv").write_text("earlier")
    with pytest.raises(RuntimeError), FreshFolder(tmp_path) as folder:
        raise RuntimeError("the analysis failed")
    assert folder.removed == [] and (tmp_path / "flows.csv").read_text() == "earlier"


def test_only_the_toolkit_s_file_names_are_its_own() -> None:
    ours = [
        "requests.csv",
        "flows.parquet",
        "leaks.json",
        "summary.json",
        "report.html",
        "claim_evidence.csv",
        "tables/claims_rows.csv",
        "report_figures/timeline-2.png",
        "coverage.csv",
    ]
    theirs = [
        "notes.txt",
        "requests.xlsx",
        "my-flows.csv",
        "tables/notes.csv",
        "data/requests.csv",
        "report_figures/Photo 1.PNG",
        "requests.csv.bak",
        "../requests.csv",
        "captures/index.json",
    ]
    assert [is_toolkit_file(n) for n in ours] == [True] * len(ours)
    assert [is_toolkit_file(n) for n in theirs] == [False] * len(theirs)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_with_a_table_s_name_is_not_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "requests.csv")  # os.replace swaps the name; nothing waits on the FIFO
    assert main(["analyze", str(HAR), "--out", str(tmp_path)]) == 0
    assert (tmp_path / "requests.csv").is_file()


def test_a_study_run_refuses_a_linked_store_and_replaces_a_capture_run_s_tables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "sample.har").write_bytes(HAR.read_bytes())
    manifest = tmp_path / "study.toml"
    manifest.write_text('[[session]]\nname = "a"\ncaptures = ["sample.har"]\n')
    out = tmp_path / "out"
    assert main(["analyze", str(PCAPNG), "--out", str(out)]) == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / "captures").symlink_to(elsewhere, target_is_directory=True)
    assert main(["analyze", str(manifest), "--workers", "1", "--out", str(out)]) == 2
    assert "captures is a symbolic link" in capsys.readouterr().err and not list(elsewhere.iterdir())
    assert (out / "coverage.csv").exists()  # a refused run leaves the folder as it was
    (out / "captures").unlink()
    assert main(["analyze", str(manifest), "--workers", "1", "--out", str(out)]) == 0
    assert "coverage.csv" in capsys.readouterr().out and not (out / "coverage.csv").exists()
    assert pd.read_csv(out / "flows.csv").empty or set(pd.read_csv(out / "flows.csv")["session"]) == {"a"}

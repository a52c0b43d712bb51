"""The errors a newcomer meets first name what is wrong: the missing file, the option, the record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import toolkit
from tests.paths import DATA
from toolkit.cli import main
from toolkit.errors import CaptureError


def test_a_missing_capture_is_a_file_not_found_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pcap"
    with pytest.raises(FileNotFoundError, match=r"nope\.pcap") as error:
        toolkit.load(missing)
    assert isinstance(error.value, CaptureError)  # callers catching CaptureError still do
    assert error.value.filename == str(missing)


def test_a_missing_folder_on_the_way_is_a_file_not_found_error_too(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        toolkit.load(tmp_path / "no-such-folder" / "nope.har")


def test_a_folder_given_as_capture_is_not_a_file_not_found_error(tmp_path: Path) -> None:
    with pytest.raises(CaptureError) as error:
        toolkit.load(tmp_path)
    assert not isinstance(error.value, FileNotFoundError)


def test_a_missing_browsing_log_names_the_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(DATA / "sample.har"), "--visited", str(tmp_path / "nope.txt")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --visited ") and "nope.txt" in err and err.count("\n") == 1


def test_under_strict_the_message_does_not_say_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads((DATA / "sample.har").read_text(encoding="utf-8"))
    del doc["log"]["entries"][1]["request"]["url"]  # lenient: "request.url is missing ...; skipped"
    path = tmp_path / "damaged.har"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert main(["analyze", str(path)]) == 0
    assert "skipped" in capsys.readouterr().out  # the lenient run says what it left out
    assert main(["analyze", str(path), "--strict"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: damaged.har: entry 1: ") and not err.endswith("skipped"), err


def test_lab_without_its_extra_says_which_package_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m toolkit lab` on an install without the `lab` extra: one line, no traceback."""
    import importlib.abc
    import sys

    class NoH2(importlib.abc.MetaPathFinder):
        def find_spec(self, name: str, path: object = None, target: object = None) -> None:
            if name == "h2" or name.startswith("h2."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    for name in [name for name in sys.modules if name.startswith(("toolkit.lab", "h2"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [NoH2(), *sys.meta_path])
    assert main(["lab", "--help"]) == 2
    err = capsys.readouterr().err
    assert "'h2'" in err and "[lab]" in err and err.count("\n") == 1

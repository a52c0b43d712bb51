"""Progress bars (tqdm) on the long steps: shown when asked, or on a terminal; never in logs; the
tables are the same with and without them."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

import toolkit
from tests.paths import DATA, ROOT
from toolkit.cli import main
from toolkit.datatypes import find_datatypes
from toolkit.leaks import find_leaks
from toolkit.progress import QUIET_BELOW, counted, wanted

LAB = DATA / "lab"
ANDROID_ID = "ANDROID_ID=8e5fbce04dc91566"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_reading_and_decrypting_show_progress_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    shown = toolkit.load(LAB / "normal.pcap", keylog=LAB / "normal.keylog", progress=True)
    err = capsys.readouterr().err
    assert "reading and decrypting normal.pcap: 100%" in err
    quiet = toolkit.load(LAB / "normal.pcap", keylog=LAB / "normal.keylog", progress=False)
    assert capsys.readouterr().err == ""
    for name, frame in quiet.tables.items():
        pd.testing.assert_frame_equal(shown.tables[name], frame)


def test_loading_is_quiet_when_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    toolkit.load(LAB / "normal.pcapng")
    toolkit.load(LAB / "normal.har", progress=None)
    assert capsys.readouterr().err == ""


def test_leak_search_and_data_types_count_requests_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    capture = toolkit.load(LAB / "normal.har")
    rows = len(capture.requests)
    quiet_leaks = find_leaks(capture, identifiers=[ANDROID_ID])
    quiet_types = find_datatypes(capture.requests)
    assert capsys.readouterr().err == ""
    leaks = find_leaks(capture, identifiers=[ANDROID_ID], progress=True)
    types = find_datatypes(capture.requests, progress=True)
    err = capsys.readouterr().err
    assert "leak search: 100%" in err and "data types: 100%" in err
    assert err.count(f"{rows}/{rows}") >= 2
    assert len(quiet_leaks) > 0
    pd.testing.assert_frame_equal(leaks, quiet_leaks)
    pd.testing.assert_frame_equal(types, quiet_types)


def test_on_a_terminal_only_long_steps_show_a_bar() -> None:
    terminal, log = _Terminal(), io.StringIO()
    assert wanted(None, terminal) and not wanted(None, log)
    assert wanted(True, log) and not wanted(False, terminal)
    assert list(counted(range(3), 3, "short", enabled=None, file=terminal)) == [0, 1, 2]
    assert terminal.getvalue() == ""  # a few steps: no bar flashing by
    list(counted(range(QUIET_BELOW), QUIET_BELOW, "long", enabled=None, file=terminal))
    assert "long: 100%" in terminal.getvalue()
    list(counted(range(QUIET_BELOW), QUIET_BELOW, "long", enabled=None, file=log))
    assert log.getvalue() == ""


def test_the_command_line_shows_progress_only_when_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    common = [str(LAB / "normal.pcap"), "--keylog", str(LAB / "normal.keylog"), "--id", ANDROID_ID]
    assert main(["analyze", *common, "--out", str(tmp_path / "quiet")]) == 0
    assert capsys.readouterr().err == ""  # stderr is not a terminal here
    assert main(["analyze", *common, "--out", str(tmp_path / "shown"), "--progress"]) == 0
    err = capsys.readouterr().err
    assert "reading and decrypting normal.pcap: 100%" in err and "leak search: 100%" in err
    assert "data types: 100%" in err and f"writing to {tmp_path / 'shown'}: 100%" in err
    written = sorted(p.name for p in (tmp_path / "quiet").iterdir())
    assert written == sorted(p.name for p in (tmp_path / "shown").iterdir()) and "leaks.csv" in written
    for name in written:
        if name.endswith(".csv"):
            assert (tmp_path / "quiet" / name).read_bytes() == (tmp_path / "shown" / name).read_bytes(), name


def test_progress_in_a_jupyter_kernel(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    from tests.test_notebooks import execute

    source = (
        f"import sys\nsys.path.insert(0, {str(ROOT)!r})  # this checkout's toolkit\n"
        "import toolkit\nfrom toolkit.leaks import find_leaks\n"
        f"capture = toolkit.load({str(LAB / 'normal.pcap')!r}, keylog={str(LAB / 'normal.keylog')!r}, progress=True)\n"
        f"leaks = find_leaks(capture, identifiers=[{ANDROID_ID!r}], progress=True)\n"
        "print(len(capture.requests), len(leaks) > 0)"
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    [cell] = execute(notebook, tmp_path, "progress")
    shown = "".join(o.get("text", "") + str(o.get("data", {})) for o in cell.outputs)
    assert "18 True" in shown
    # a text bar on the kernel's stderr, or a widget when ipywidgets is installed
    assert ("leak search: 100%" in shown and "reading and decrypting normal.pcap: 100%" in shown) or (
        "application/vnd.jupyter.widget-view+json" in shown
    )

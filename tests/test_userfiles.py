"""Files named by the user: FIFOs and devices are refused at once, browsing logs are bounded, and a
file that is not a capture is described, never quoted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import toolkit
from tests.blocking import error_within
from tests.paths import DATA
from toolkit.cli import main
from toolkit.errors import CaptureError
from toolkit.leaks import needles
from toolkit.leaks.needles import read_visited
from toolkit.userfiles import UserFileError, read_user_bytes

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
needs_dev_zero = pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")


@needs_dev_zero
def test_dev_zero_as_a_browsing_log_is_refused() -> None:
    with pytest.raises(ValueError, match=r"/dev/zero: not a regular file \(a character device\)"):
        read_visited("/dev/zero")


@needs_fifo
def test_a_fifo_as_a_browsing_log_or_a_capture_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    error = error_within(20, lambda: read_visited(fifo))
    assert isinstance(error, ValueError) and "not a regular file (a FIFO" in str(error)
    error = error_within(20, lambda: toolkit.load(fifo))
    assert isinstance(error, CaptureError) and "pipe: not a regular file (a FIFO" in str(error)


def test_a_browsing_log_larger_than_the_bound_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "visited.txt"
    log.write_text("https://a.example/\n" * 100)
    monkeypatch.setattr(needles, "MAX_VISITED_BYTES", 1000)
    with pytest.raises(ValueError, match=r"visited.txt: 1,900 bytes, more than the 1,000 allowed"):
        read_visited(log)
    monkeypatch.setattr(needles, "MAX_VISITED_BYTES", 1900)
    assert len(read_visited(log)) == 100


def test_a_browsing_log_that_is_not_text_is_an_error_naming_it(tmp_path: Path) -> None:
    log = tmp_path / "visited.txt"
    log.write_bytes(b"https://a.example/\n\xff\xfe\x00")
    with pytest.raises(ValueError, match=r"visited.txt: not UTF-8 text \(byte 19\)"):
        read_visited(log)


@needs_dev_zero
def test_the_command_line_refuses_devices_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    sample = str(DATA / "sample.har")
    assert main(["analyze", sample, "--visited", "/dev/zero"]) == 2
    assert "/dev/zero: not a regular file" in capsys.readouterr().err
    assert main(["analyze", "/dev/zero"]) == 2
    assert "zero: not a regular file (a character device)" in capsys.readouterr().err


def test_read_user_bytes_refuses_a_folder(tmp_path: Path) -> None:
    with pytest.raises(UserFileError, match=r"not a regular file \(a folder\)"):
        read_user_bytes(tmp_path, limit=10)


@pytest.mark.parametrize(
    ("content", "described"),
    [
        (b"root:$6$S3CRETSALT$hash:19000:0:99999:7:::\n", "it looks like text"),
        (b"PK\x03\x04S3CRET-in-a-zip", "it looks like a ZIP archive"),
        (b"\x00\x01\x02S3CRET\xff\xfe", "it looks like binary data"),
    ],
)
def test_a_file_that_is_not_a_capture_is_described_not_quoted(tmp_path: Path, content: bytes, described: str) -> None:
    path = tmp_path / "shadow"
    path.write_bytes(content)
    with pytest.raises(CaptureError) as caught:
        toolkit.load(path)
    message = str(caught.value)
    assert described in message
    assert "S3CRET" not in message and content[:4].hex() not in message and content[:4].hex(" ") not in message


@needs_dev_zero
def test_a_device_or_fifo_as_a_key_log_is_refused(tmp_path: Path) -> None:
    pcapng = DATA / "lab" / "normal.pcapng"
    with pytest.raises(CaptureError, match=r"zero: not a regular file \(a character device\)"):
        toolkit.load(pcapng, keylog="/dev/zero")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "keys")
        error = error_within(20, lambda: toolkit.load(pcapng, keylog=tmp_path / "keys"))
        assert isinstance(error, CaptureError) and "keys: not a regular file (a FIFO" in str(error)


def test_a_key_log_larger_than_the_bound_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from toolkit.io import keylog

    keys = tmp_path / "big.keylog"
    keys.write_text("# nothing but comments\n" * 100)
    monkeypatch.setattr(keylog, "MAX_KEYLOG_BYTES", 1000)
    with pytest.raises(CaptureError, match=r"big.keylog: 2,300 bytes, more than the 1,000 allowed"):
        toolkit.load(DATA / "lab" / "normal.pcapng", keylog=keys)

"""Study manifests from careless or hostile hands: every key's kind is checked against the declared
schema, files stay inside the study folder, special files are refused."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.blocking import error_within
from tests.paths import DATA, ROOT
from toolkit.study import ManifestError, Study
from toolkit.study.manifest import KINDS, MANIFEST_KEYS, ManifestKey, manifest_reference, read_manifest

#: A value of the wrong kind for each kind of value (a number where text is due, and so on).
WRONG: dict[str, Any] = {
    "text": 5,
    "boolean": "yes",
    "text list": 5,
    "table": 5,
    "settings": {"x": [1]},
    "identifiers": {"ANDROID_ID": 5},
    "path": 5,
    "captures": 5,
    "visited": 5,
    "tables": ["requests", "nope"],
    "session list": 5,
    "claim list": 5,
}


def _toml(value: Any) -> str:
    """A TOML inline value (JSON's string escapes are TOML's for the strings used here)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"


def _manifest(folder: Path, *, study=None, identifiers=None, session=None, capture=None, claim=None, top=None) -> Path:  # type: ignore[no-untyped-def]
    """A valid manifest in ``folder`` (its capture copied in), with some tables' keys replaced."""
    shutil.copy(DATA / "sample.har", folder / "sample.har")
    (folder / "visited.txt").write_text("https://www.example.com/\n")
    tables: dict[str, dict[str, Any]] = {
        "study": {"name": "s", "vendors": ["X"], **(study or {})},
        "identifiers": {"ANDROID_ID": "8e5fbce04dc91566", **(identifiers or {})},
        "session": {
            "name": "a",
            "mode": "normal",
            "visited": "visited.txt",
            "captures": [{"path": "sample.har", "tables": ["requests"], **(capture or {})}],
            **(session or {}),
        },
        "claim": {"id": "tls", "quote": "q", "check": "tls_min_version", **(claim or {})},
    }
    lines = [f"{k} = {_toml(v)}" for k, v in (top or {}).items()]
    for name, keys in tables.items():
        header = f"[[{name}]]" if name in ("session", "claim") else f"[{name}]"
        if name in (top or {}):
            continue
        lines += ["", header] + [f"{k} = {_toml(v)}" for k, v in keys.items()]
    path = folder / "study.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_valid_manifest_reads(tmp_path: Path) -> None:
    manifest = read_manifest(_manifest(tmp_path))
    assert [s.name for s in manifest.sessions] == ["a"]
    assert manifest.sessions[0].specs[0].path == tmp_path / "sample.har"
    assert manifest.sessions[0].visited == tmp_path / "visited.txt"


#: How an error names the entry of each table ("session 1 (a)" once the session has a good name).
ENTRY = {"study": "[study]", "session": "session 1", "capture": "capture 1", "claim": "claim 1"}


@pytest.mark.parametrize("key", MANIFEST_KEYS, ids=lambda k: f"{k.table}.{k.name}")
def test_every_key_of_the_wrong_kind_names_file_entry_and_key(tmp_path: Path, key: ManifestKey) -> None:
    wrong = WRONG[key.kind]
    assert not KINDS[key.kind][1](wrong)
    if key.table == "identifiers":
        path = _manifest(tmp_path, identifiers={key.name.strip("<>"): wrong})
        name, entry = "identifiers", ""
    elif key.table == "top":
        path = _manifest(tmp_path, top={key.name: wrong})
        name, entry = key.name, ""
    else:
        path = _manifest(tmp_path, **{key.table: {key.name: wrong}})
        name, entry = key.name, ENTRY[key.table]
    with pytest.raises(ManifestError) as caught:
        Study.from_manifest(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert f"`{name}` must be {KINDS['identifiers' if key.table == 'identifiers' else key.kind][0]}" in message
    if entry:
        assert any(part.startswith(entry) for part in message.split(": ")), message


@pytest.mark.parametrize(
    ("session", "expected"),
    [
        ({"keylog": 5}, r"`keylog` is not a key of a session; a capture's key log goes in its capture table"),
        ({"mode": ["x"]}, r"session 1 \(a\): `mode` must be text, not a list \['x'\]"),
        ({"name": 7}, r"session 1: `name` must be text, not an integer 7"),
        ({"colour": "red"}, r"unknown keys \['colour'\]"),
    ],
)
def test_the_issue_s_cases(tmp_path: Path, session: dict[str, Any], expected: str) -> None:
    with pytest.raises(ManifestError, match=expected):
        Study.from_manifest(_manifest(tmp_path, session=session))


def test_a_wrong_kind_on_the_command_line_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = _manifest(tmp_path, capture={"keylog": 5})
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", "analyze", str(path)], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "study.toml: session 1 (a): capture 1: `keylog` must be a path" in done.stderr


# --- files outside the study folder ------------------------------------------------------------


@pytest.mark.parametrize(
    ("place", "value"),
    [
        ("capture", {"path": "../../../../../../../../etc/passwd"}),
        ("capture", {"path": "/etc/shadow"}),
        ("capture", {"keylog": "../../../../../../../../etc/hostname"}),
        ("session", {"visited": "/etc/passwd"}),
        ("session", {"captures": ["../outside.har"]}),
    ],
)
def test_files_outside_the_study_folder_are_refused(tmp_path: Path, place: str, value: dict[str, Any]) -> None:
    folder = tmp_path / "study"
    folder.mkdir()
    shutil.copy(DATA / "sample.har", tmp_path / "outside.har")
    path = _manifest(folder, **{place: value})
    with pytest.raises(ManifestError, match=r"lies outside the study folder .*allow_outside=True"):
        Study.from_manifest(path)


def test_a_link_inside_the_folder_to_a_file_outside_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "study"
    folder.mkdir()
    shutil.copy(DATA / "sample.har", tmp_path / "outside.har")
    (folder / "inside.har").symlink_to(tmp_path / "outside.har")
    path = _manifest(folder, capture={"path": "inside.har"})
    with pytest.raises(ManifestError, match=r"capture 1: `path`: capture 'inside.har' lies outside"):
        Study.from_manifest(path)
    assert Study.from_manifest(path, allow_outside=True).sessions[0].specs[0].path == folder / "inside.har"


def test_files_outside_are_read_when_allowed(tmp_path: Path) -> None:
    folder = tmp_path / "study"
    folder.mkdir()
    shutil.copy(DATA / "sample.har", tmp_path / "outside.har")
    path = _manifest(folder, capture={"path": "../outside.har"})
    assert Study.from_manifest(path, allow_outside=True).sessions[0].specs[0].path.resolve() == (
        tmp_path / "outside.har"
    )
    assert Study.from_manifest(path, root=tmp_path).sessions[0].specs[0].path.resolve() == tmp_path / "outside.har"
    with pytest.raises(ManifestError, match="lies outside"):
        Study.from_manifest(path, root=folder / "sub")


def test_the_command_line_option_allows_outside_paths(tmp_path: Path) -> None:
    folder = tmp_path / "study"
    folder.mkdir()
    shutil.copy(DATA / "sample.har", tmp_path / "outside.har")
    path = _manifest(folder, capture={"path": "../outside.har"})
    base = [sys.executable, "-m", "toolkit", "analyze", str(path), "--workers", "1"]
    refused = subprocess.run(base, capture_output=True, text=True, cwd=ROOT, check=False)
    assert refused.returncode == 2 and "lies outside the study folder" in refused.stderr
    allowed = subprocess.run([*base, "--allow-outside-paths"], capture_output=True, text=True, cwd=ROOT, check=False)
    assert allowed.returncode == 0, allowed.stderr


# --- special files ------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("place", ["captures", "keylog", "visited"])
def test_a_fifo_in_the_folder_is_refused(tmp_path: Path, place: str) -> None:
    os.mkfifo(tmp_path / "pipe")
    shutil.copy(DATA / "sample.har", tmp_path / "sample.har")
    if place == "captures":
        path = _manifest(tmp_path, session={"captures": ["pipe"]})
    elif place == "keylog":
        path = _manifest(tmp_path, capture={"keylog": "pipe"})
    else:
        path = _manifest(tmp_path, session={"visited": "pipe"})
    error = error_within(20, lambda: Study.from_manifest(path))
    assert isinstance(error, ManifestError) and "pipe: not a regular file (a FIFO" in str(error), error


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_a_device_is_refused_even_when_outside_paths_are_allowed(tmp_path: Path) -> None:
    path = _manifest(tmp_path, session={"visited": "/dev/zero"})
    with pytest.raises(ManifestError, match=r"`visited`: browsing log /dev/zero: not a regular file \(a character"):
        Study.from_manifest(path, allow_outside=True)
    path = _manifest(tmp_path, session={"captures": ["/dev/zero"]})
    with pytest.raises(ManifestError, match=r"/dev/zero: not a regular file"):
        Study.from_manifest(path, allow_outside=True)


def test_a_nul_in_a_path_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    path = _manifest(tmp_path, capture={"path": "a\u0000b.har"})
    with pytest.raises(ManifestError, match="NUL character"):
        Study.from_manifest(path)


def test_a_file_that_is_not_a_capture_is_described_not_quoted(tmp_path: Path) -> None:
    """A manifest that names a secret file (allowed outside, or inside by mistake) never puts the
    file's bytes into the problems table, the notes or the summary."""
    secret = "root:$6$S3CRETSALT$hash:19000:0:99999:7:::\n"
    (tmp_path / "shadow.har").write_text(secret)
    path = _manifest(tmp_path, session={"captures": ["shadow.har"]})
    study = Study.from_manifest(path).run(workers=1)
    problems = study.problems
    text = " ".join(str(v) for v in problems.astype(object).to_numpy().ravel()) + " ".join(study.notes)
    assert "looks like text" in text
    for fragment in ("S3CRET", "root:", secret.encode()[:8].hex(" "), secret.encode()[:4].hex()):
        assert fragment not in text


def test_the_reference_documents_every_key() -> None:
    reference = manifest_reference()
    for key in MANIFEST_KEYS:
        assert f"`{key.name}`" in reference
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", "schema", "--manifest"], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout == reference


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_manifest_that_is_a_fifo_or_not_text_is_an_error(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "study.toml")
    error = error_within(20, lambda: Study.from_manifest(tmp_path / "study.toml"))
    assert isinstance(error, ManifestError) and "study.toml: not a regular file (a FIFO" in str(error)
    (tmp_path / "bad.toml").write_bytes(b'[study]\nname = "\xff"\n')
    with pytest.raises(ManifestError, match=r"bad.toml: not UTF-8 text \(byte 16\)"):
        Study.from_manifest(tmp_path / "bad.toml")

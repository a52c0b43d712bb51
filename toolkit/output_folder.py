"""Output folders (``--out``): each run leaves one fresh, whole set of tables, and writes only inside.

Three rules, so that what a reader opens is what the last run found:

- **Whole files.** :func:`replace_file` writes a new temporary file in the same folder and renames
  it over the target (``os.replace``): an interrupted run leaves the old file or the new one,
  never half a table. A symbolic link at the target is replaced by the file, never followed.
- **No stale tables.** :class:`FreshFolder` notes the toolkit's files already in the folder when a
  run starts; when it ends, those the run did not write again are removed (and named in
  :attr:`FreshFolder.removed`): a pcapng run then a HAR run does not leave the pcapng's
  ``flows.csv`` beside the HAR's ``requests.csv``. They are removed rather than refused because
  writing a run again into the same folder is the ordinary way to work (``demo`` always does).
  Only names the toolkit writes are touched (tables of :data:`toolkit.schema.TABLES` and the
  study's, ``summary.json``, ``report.html``/``.md``, their ``tables/`` and ``report_figures/``),
  never the user's other files.
- **Inside the folder.** A subfolder the toolkit writes into (``tables/``, ``report_figures/``,
  ``captures/``) that is a symbolic link is refused.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as out:
...     _ = (Path(out) / "flows.csv").write_text("old run")
...     _ = (Path(out) / "notes.txt").write_text("mine")
...     with FreshFolder(out) as folder:
...         _ = replace_file(Path(out) / "requests.csv", lambda p: Path(p).write_text("new run"))
...     sorted(p.name for p in Path(out).iterdir()), folder.removed
(['notes.txt', 'requests.csv'], ['flows.csv'])
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

__all__ = ["KNOWN_SUBFOLDERS", "FreshFolder", "is_toolkit_file", "refuse_linked_subfolders", "replace_file"]

_TEMPORARY_SUFFIX = ".partial"
_FORMATS = r"(?:csv|parquet|json)"
# Tables the toolkit writes: schema.TABLES, the coverage of a capture, and a study's extra tables.
_EXTRA_TABLES = ("coverage", "sessions", "comparison", "claims", "claim_evidence")
#: Subfolders the toolkit writes into, with the file names it writes there.
KNOWN_SUBFOLDERS = ("tables", "report_figures", "captures")


def _table_names() -> str:
    from toolkit.schema import TABLES

    return "|".join(re.escape(n) for n in (*TABLES, *_EXTRA_TABLES))


def _patterns() -> dict[str, re.Pattern[str]]:
    tables = _table_names()
    return {
        "": re.compile(rf"(?:(?:{tables})\.{_FORMATS}|summary\.json|report\.html|report\.md)"),
        # report tables, and columns of nested tables written as tables of their own (<table>_<column>)
        "tables": re.compile(rf"(?:{tables})(?:_[a-z0-9_]+)?\.{_FORMATS}"),
        "report_figures": re.compile(r"[a-z]+(?:-[a-z]+)*(?:-[0-9]+)?\.png"),
    }


def is_toolkit_file(relative: str | os.PathLike[str]) -> bool:
    """Whether a path inside an output folder is one the toolkit writes (and may remove).

    >>> is_toolkit_file("flows.csv"), is_toolkit_file("tables/leaks.parquet"), is_toolkit_file("notes.csv")
    (True, True, False)
    """
    parts = Path(relative).parts
    folder, name = ("", parts[0]) if len(parts) == 1 else (parts[0], parts[1]) if len(parts) == 2 else ("?", "")
    pattern = _patterns().get(folder)
    if pattern is None:
        return False
    if name.startswith(".") and name.endswith(_TEMPORARY_SUFFIX):  # left by an interrupted run
        name = name[1:].rsplit(".", 2)[0]
    return bool(pattern.fullmatch(name))


def replace_file(target: str | os.PathLike[str], write: Callable[[str], object]) -> Path:
    """Make ``target`` the file that ``write`` writes to the path it is given, all at once.

    ``write`` fills a new temporary file beside ``target``; the temporary file then replaces
    ``target`` (a link there is replaced, not followed). If ``write`` fails, ``target`` is as it
    was and the temporary file is removed.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as out:
    ...     os.symlink("/etc/hostname", Path(out) / "summary.json")
    ...     _ = replace_file(Path(out) / "summary.json", lambda p: Path(p).write_text("{}"))
    ...     (Path(out) / "summary.json").is_symlink(), (Path(out) / "summary.json").read_text()
    (False, '{}')
    """
    target = Path(target)
    while True:  # a new file of our own (O_EXCL), with the permissions of any file the user makes
        temporary = str(target.parent / f".{target.name}.{secrets.token_hex(4)}{_TEMPORARY_SUFFIX}")
        try:
            os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            break
        except FileExistsError:
            continue
    try:
        write(temporary)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def refuse_linked_subfolders(folder: str | os.PathLike[str]) -> None:
    """Make ``folder`` if missing; raise OSError if a subfolder the toolkit writes into is a link.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as out:
    ...     os.symlink("/tmp", Path(out) / "tables")
    ...     refuse_linked_subfolders(out)
    Traceback (most recent call last):
    ...
    OSError: .../tables is a symbolic link; the toolkit writes only inside ...: remove the link
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in KNOWN_SUBFOLDERS:
        sub = folder / name
        if sub.is_symlink():
            raise OSError(f"{sub} is a symbolic link; the toolkit writes only inside {folder}: remove the link")


_Identity = tuple[int, int]


class FreshFolder:
    """A run's output folder: made if missing; on leaving, the toolkit's files that the run did
    not write are removed (see the module's description).

    Every toolkit writer replaces its files (:func:`replace_file`), so a file written by the run
    is a new file: a file still the same file (device and inode) as when the run started is stale.
    When the run fails before writing anything, the folder is left as it was.

    Raises:
        OSError: the folder cannot be made, or a subfolder the toolkit writes into is a symbolic link.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.removed: list[str] = []
        """The stale files removed, relative to the folder."""
        self._before: dict[str, _Identity] = {}

    def __enter__(self) -> FreshFolder:
        refuse_linked_subfolders(self.folder)
        self._before = self._toolkit_files()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        after = self._toolkit_files()
        wrote = any(after.get(name) != identity for name, identity in self._before.items()) or bool(
            set(after) - set(self._before)
        )
        if kind is not None and not wrote:
            return
        for name, identity in self._before.items():
            if after.get(name) == identity:
                (self.folder / name).unlink(missing_ok=True)  # a link is removed, not followed
                self.removed.append(name)

    def written(self) -> list[str]:
        """The toolkit's files this run has written so far, relative to the folder, sorted.

        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as out:
        ...     _ = (Path(out) / "flows.csv").write_text("old run")
        ...     with FreshFolder(out) as folder:
        ...         _ = replace_file(Path(out) / "requests.csv", lambda p: Path(p).write_text("new run"))
        ...         folder.written()
        ['requests.csv']
        """
        now = self._toolkit_files()
        return sorted(name for name, identity in now.items() if self._before.get(name) != identity)

    def _toolkit_files(self) -> dict[str, _Identity]:
        found: dict[str, _Identity] = {}
        folders = [("", self.folder)] + [(n, self.folder / n) for n in ("tables", "report_figures")]
        for prefix, folder in folders:
            if folder.is_symlink() or not folder.is_dir():
                continue
            for entry in os.scandir(folder):
                relative = f"{prefix}/{entry.name}" if prefix else entry.name
                if not is_toolkit_file(relative):
                    continue
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode):
                    found[relative] = (info.st_dev, info.st_ino)
        return found

"""What a study is made of: labelled :class:`Session` objects, each of one or more :class:`CaptureSpec`
captures, built in Python or read from a TOML manifest.

A manifest is checked against :data:`MANIFEST_KEYS`, declared once here (key, kind of value,
meaning; :func:`manifest_reference` prints it, ``python -m toolkit schema --manifest``): a value of
the wrong kind, an unknown key or a missing one is a :class:`ManifestError` naming the file, the
entry and the key. A manifest may come from a stranger, so the files it names (captures, key logs,
browsing logs) must lie inside its folder, symbolic links resolved, unless the reader allows
others (``allow_outside=True``, or a wider ``root``), and must be regular files (not a FIFO or a
device).

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as folder:
...     manifest = Path(folder) / "study.toml"
...     _ = manifest.write_text('[[session]]\\nname = "a"\\ncaptures = ["a.har"]\\nmode = ["x"]\\n')
...     try:
...         read_manifest(manifest)
...     except ManifestError as exc:
...         print(str(exc).replace(folder, "<folder>"))
<folder>/study.toml: session 1 (a): `mode` must be text, not a list ['x']
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.identifiers import PRIVATE_MODES
from toolkit.userfiles import UserFileError, check_regular_file, read_user_bytes

__all__ = [
    "CAPTURE_TABLES",
    "MANIFEST_KEYS",
    "MAX_MANIFEST_BYTES",
    "CaptureSpec",
    "Manifest",
    "ManifestError",
    "ManifestKey",
    "Session",
    "manifest_reference",
    "read_manifest",
]

#: Tables a capture can give, stacked per session by a Study.
CAPTURE_TABLES = ("requests", "flows", "dns", "tls")
#: A manifest larger than this is refused (the bundled one has 7 KB).
MAX_MANIFEST_BYTES = 16 * 1024 * 1024


class ManifestError(ValueError):
    """A study manifest cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class CaptureSpec:
    """One capture file of a session, with its key log and the tables to take from it."""

    path: Path
    keylog: Path | None = None
    """NSS key log for the capture's TLS (pcapng files may carry their keys inside)."""
    tables: tuple[str, ...] | None = None
    """Tables to take (``("flows", "dns", "tls")`` when a HAR of the same session gives the requests);
    ``None`` takes all."""

    @classmethod
    def of(cls, item: CaptureSpec | str | os.PathLike[str]) -> CaptureSpec:
        """A spec from a spec or a path."""
        return item if isinstance(item, CaptureSpec) else cls(Path(item))


@dataclass(frozen=True)
class Session:
    """A labelled session: its captures, and what was true while it was recorded.

    >>> Session("incognito", ["data/lab/incognito.har"], mode="incognito").private
    True
    """

    name: str
    captures: Sequence[CaptureSpec | str | os.PathLike[str]]
    mode: str | None = None
    """``normal``, ``incognito`` ... ; sessions in one mode are compared with sessions in another."""
    toggles: Mapping[str, Any] = field(default_factory=dict)
    """Settings that matter to a claim, e.g. ``{"incognito_data_collection": False}``."""
    app: str | None = None
    package: str | None = None
    """Android package, used for the ``app`` column when the capture does not say."""
    version: str | None = None
    device: str | None = None
    visited: Sequence[str] | str | os.PathLike[str] | None = None
    """Visited URLs, or a browsing-log file; ``None`` lets the leak engine infer them."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "captures", tuple(CaptureSpec.of(c) for c in self.captures))
        if not self.name:
            raise ValueError("a session needs a name")

    @property
    def specs(self) -> tuple[CaptureSpec, ...]:
        """The captures as :class:`CaptureSpec` objects."""
        return tuple(CaptureSpec.of(c) for c in self.captures)

    @property
    def private(self) -> bool:
        """The user expected not to be recognised (incognito or private mode)."""
        return (self.mode or "").lower() in PRIVATE_MODES

    def labels(self) -> dict[str, Any]:
        """The labels as one flat mapping (``mode``, ``app`` ..., ``toggles.<name>``)."""
        out: dict[str, Any] = {
            "session": self.name,
            "mode": self.mode,
            "app": self.app,
            "package": self.package,
            "version": self.version,
            "device": self.device,
        }
        out.update({f"toggles.{k}": v for k, v in self.toggles.items()})
        return out


# --- the manifest's schema ------------------------------------------------------------------


@dataclass(frozen=True)
class ManifestKey:
    """One key of a manifest table: where it goes, the kind of value it takes, what it means."""

    table: str
    """``study``, ``identifiers``, ``session``, ``capture`` (a table in a session's ``captures``) or ``claim``."""
    name: str
    kind: str
    """A key of :data:`KINDS`."""
    meaning: str
    required: bool = False


def _text_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _scalar(value: Any) -> bool:
    return isinstance(value, str | bool | int | float)


def _capture_item(value: Any) -> bool:
    return isinstance(value, str | Mapping)


#: Kinds of values: what the error message calls them, and the test a value must pass.
KINDS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "text": ("text", lambda v: isinstance(v, str)),
    "boolean": ("true or false", lambda v: isinstance(v, bool)),
    "text list": ("a list of text", _text_list),
    "table": ("a table", lambda v: isinstance(v, Mapping)),
    "settings": (
        "a table of true/false, number or text values",
        lambda v: isinstance(v, Mapping) and all(_scalar(x) for x in v.values()),
    ),
    "identifiers": (
        "a table of names and text values",
        lambda v: isinstance(v, Mapping) and all(isinstance(x, str) for x in v.values()),
    ),
    "path": ("a path relative to the manifest's folder (text)", lambda v: isinstance(v, str) and bool(v)),
    "captures": (
        "a path, a table with `path`, or a list of them",
        lambda v: _capture_item(v) or (isinstance(v, list) and all(_capture_item(x) for x in v)),
    ),
    "visited": ("a path to a browsing log, or a list of URLs", lambda v: isinstance(v, str) or _text_list(v)),
    "tables": ("a list of some of requests, flows, dns, tls", lambda v: _text_list(v) and set(v) <= {*CAPTURE_TABLES}),
    "session list": ("a list of tables: [[session]]", lambda v: isinstance(v, list)),
    "claim list": ("a list of tables: [[claim]]", lambda v: isinstance(v, list)),
}

#: Every key a manifest may hold, declared once: checked by :func:`read_manifest`, documented by
#: :func:`manifest_reference`.
MANIFEST_KEYS: tuple[ManifestKey, ...] = (
    ManifestKey("top", "study", "table", "what the study is: `[study]`"),
    ManifestKey("top", "identifiers", "identifiers", "identifiers the researcher knows: `[identifiers]`"),
    ManifestKey("top", "session", "session list", "the sessions: `[[session]]`, one or more", required=True),
    ManifestKey("top", "claim", "claim list", "claims to check: `[[claim]]`"),
    ManifestKey("study", "name", "text", "the study's name (default: the manifest's file name)"),
    ManifestKey("study", "description", "text", "what the study is about"),
    ManifestKey("study", "scope", "text", "what the verdicts apply to (e.g. a lab's captures), shown in the report"),
    ManifestKey("study", "vendors", "text list", "organisations that make the software under study (role `platform`)"),
    ManifestKey("study", "sites", "text list", "extra first-party sites (visited URLs and HAR pages are added)"),
    ManifestKey("study", "mask_identifiers", "boolean", "shorten identifier values in the identifiers table"),
    ManifestKey("identifiers", "<NAME>", "text", 'a known identifier, e.g. `ANDROID_ID = "8e5fbce04dc91566"`'),
    ManifestKey("session", "name", "text", "the session's name, unique in the study", required=True),
    ManifestKey("session", "captures", "captures", "the session's capture files", required=True),
    ManifestKey("session", "mode", "text", "`normal`, `incognito` ...: sessions are compared by mode"),
    ManifestKey("session", "toggles", "settings", "settings that matter to a claim, e.g. `{ x = false }`"),
    ManifestKey("session", "app", "text", "the app or browser under study"),
    ManifestKey("session", "package", "text", "Android package, for the `app` column when the capture does not say"),
    ManifestKey("session", "version", "text", "the app's version"),
    ManifestKey("session", "device", "text", "the device the session was recorded on"),
    ManifestKey("session", "visited", "visited", "visited URLs (or their browsing log); absent: inferred"),
    ManifestKey("capture", "path", "path", "the capture file (HAR, pcap, pcapng, optionally gzip)", required=True),
    ManifestKey("capture", "keylog", "path", "NSS key log (SSLKEYLOGFILE) for the capture's TLS"),
    ManifestKey("capture", "tables", "tables", "tables to take from the capture (default: all)"),
    ManifestKey("claim", "id", "text", "the claim's short name", required=True),
    ManifestKey("claim", "quote", "text", "what was claimed, quoted", required=True),
    ManifestKey("claim", "check", "text", "the check that decides it (see toolkit.claims.CHECKS)", required=True),
    ManifestKey("claim", "params", "table", "the check's parameters"),
    ManifestKey("claim", "source", "text", "where the quote comes from"),
    ManifestKey("claim", "quote_kind", "text", "`verbatim` (default), `paraphrase` or `illustrative` (no source)"),
)

_TABLE_TITLES = {
    "top": "Top level",
    "study": "`[study]`",
    "identifiers": "`[identifiers]`",
    "session": "`[[session]]`",
    "capture": "a capture table in `captures`",
    "claim": "`[[claim]]`",
}


def manifest_reference() -> str:
    """The manifest's keys as Markdown, one table per manifest table.

    >>> print(manifest_reference().splitlines()[0])
    # Study manifest (TOML)
    """
    lines = [
        "# Study manifest (TOML)",
        "",
        "Paths are relative to the manifest's folder and must stay inside it (symbolic links resolved)",
        "unless the reader allows others: `Study.from_manifest(path, allow_outside=True)` or a wider `root=`;",
        "on the command line `--allow-outside-paths` or `--study-root DIR`.",
    ]
    for table, title in _TABLE_TITLES.items():
        lines += ["", f"## {title}", "", "| key | value | meaning |", "|---|---|---|"]
        for key in MANIFEST_KEYS:
            if key.table == table:
                need = " (required)" if key.required else ""
                lines.append(f"| `{key.name}`{need} | {KINDS[key.kind][0]} | {key.meaning} |")
    return "\n".join(lines) + "\n"


def _toml_kind(value: Any) -> str:
    names = ((bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "text"), (list, "a list"))
    if isinstance(value, Mapping):
        return "a table"
    return next((name for kind, name in names if isinstance(value, kind)), "a date or time")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_keys(entry: Any, table: str, where: str, *, hint: Mapping[str, str] | None = None) -> None:
    """Raise ManifestError for an unknown key, a missing required key or a value of the wrong kind."""
    if not isinstance(entry, Mapping):
        raise ManifestError(f"{where}: must be a table, not {_toml_kind(entry)}")
    keys = {k.name: k for k in MANIFEST_KEYS if k.table == table}
    for name, value in entry.items():
        if name not in keys:
            if hint and name in hint:
                raise ManifestError(f"{where}: `{name}` is not a key of {hint['']}; {hint[name]}")
            raise ManifestError(f"{where}: unknown keys [{name!r}]; allowed: {sorted(keys)}")
        label, test = KINDS[keys[name].kind]
        if not test(value):
            raise ManifestError(f"{where}: `{name}` must be {label}, not {_toml_kind(value)} {_shown(value)}")
    for key in keys.values():
        if key.required and key.name not in entry:
            raise ManifestError(f"{where}: `{key.name}` is missing")


_SESSION_HINTS = {
    "": "a session",
    "keylog": 'a capture\'s key log goes in its capture table: { path = "...", keylog = "..." }',
    "tables": 'the tables to take go in a capture table: { path = "...", tables = [...] }',
    "path": "a session lists its files in `captures`",
}


# --- reading a manifest ---------------------------------------------------------------------


@dataclass(frozen=True)
class Manifest:
    """A checked manifest: its sessions (paths resolved and confined) and its other tables as written."""

    path: Path
    sessions: list[Session]
    study: dict[str, Any]
    identifiers: dict[str, str]
    claims: list[dict[str, Any]]


def read_manifest(
    path: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None, allow_outside: bool = False
) -> Manifest:
    """Read and check a TOML study manifest.

    Args:
        path: the manifest.
        root: the folder the files it names must lie in (default: the manifest's folder).
        allow_outside: let it name files anywhere (a manifest you wrote or trust).

    Raises:
        ManifestError: the file is not TOML, a key is unknown, missing or of the wrong kind, or a
            file it names is missing, outside ``root`` or not a regular file (names the file, the
            entry and the key).
    """
    path = Path(path)
    try:
        data = tomllib.loads(read_user_bytes(path, limit=MAX_MANIFEST_BYTES).decode("utf-8"))
    except UserFileError as exc:
        raise ManifestError(str(exc)) from None
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:  # tomllib parses nested arrays and tables recursively
        raise ManifestError(f"{path}: not valid TOML: arrays or tables nested too deeply") from None
    if not data.get("session"):
        raise ManifestError(f"{path}: no [[session]] entry")
    _check_keys(data, "top", str(path))
    places = _Places(path.parent, Path(root) if root is not None else path.parent, allow_outside)
    study = data.get("study", {})
    _check_keys(study, "study", f"{path}: [study]")
    sessions = [_session_of(entry, places, f"{path}: session {i + 1}") for i, entry in enumerate(data["session"])]
    claims = []
    for i, entry in enumerate(data.get("claim", [])):
        _check_keys(entry, "claim", f"{path}: claim {i + 1}")
        claims.append(dict(entry))
    return Manifest(path, sessions, dict(study), dict(data.get("identifiers", {})), claims)


@dataclass(frozen=True)
class _Places:
    """Where a manifest's paths start (its folder) and where they must stay (``root``)."""

    base: Path
    root: Path
    allow_outside: bool

    def file(self, raw: str, what: str, key: str, where: str) -> Path:
        """The regular file a manifest names as ``what`` (``capture``, ``key log`` ...) under ``key``."""
        where = f"{where}: `{key}`"
        if "\x00" in raw:
            raise ManifestError(f"{where}: {what} {raw!r} has a NUL character in its name")
        path = self.base / raw
        if not self.allow_outside:
            real, root = path.resolve(), self.root.resolve()
            if not real.is_relative_to(root):
                raise ManifestError(
                    f"{where}: {what} {raw!r} lies outside the study folder {self.root} (it is {real}); "
                    "files outside are read only when allowed: allow_outside=True "
                    "(command line: --allow-outside-paths) or a wider root (--study-root DIR)"
                )
        if not path.exists():
            raise ManifestError(f"{where}: {what} {path} does not exist")
        try:
            check_regular_file(path)
        except UserFileError as exc:
            raise ManifestError(f"{where}: {what} {exc}") from None
        return path


def _session_of(entry: Any, places: _Places, where: str) -> Session:
    if isinstance(entry, Mapping) and isinstance(entry.get("name"), str) and entry["name"]:
        where = f"{where} ({entry['name']})"
    _check_keys(entry, "session", where, hint=_SESSION_HINTS)
    name = entry["name"]
    if not name:
        raise ManifestError(f"{where}: `name` is empty")
    raw = entry["captures"]
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise ManifestError(f"{where}: `captures` is empty")
    specs = []
    for number, item in enumerate(items, start=1):
        if isinstance(item, str):
            specs.append(CaptureSpec(places.file(item, "capture", "captures", where)))
            continue
        inner = f"{where}: capture {number}"
        _check_keys(item, "capture", inner)
        keylog = item.get("keylog")
        tables = item.get("tables")
        specs.append(
            CaptureSpec(
                places.file(item["path"], "capture", "path", inner),
                places.file(keylog, "key log", "keylog", inner) if keylog is not None else None,
                tuple(tables) if tables else None,
            )
        )
    visited = entry.get("visited")
    if isinstance(visited, str):
        visited = places.file(visited, "browsing log", "visited", where)
    return Session(
        name,
        specs,
        mode=entry.get("mode"),
        toggles=dict(entry.get("toggles", {})),
        app=entry.get("app"),
        package=entry.get("package"),
        version=entry.get("version"),
        device=entry.get("device"),
        visited=visited,
    )

"""What a study is made of: labelled :class:`Session` objects, each of one or more :class:`CaptureSpec`
captures, built in Python or read from the ``[[session]]`` entries of a TOML manifest (an entry that
cannot be used is a :class:`ManifestError` naming it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.identifiers import PRIVATE_MODES

__all__ = ["CAPTURE_TABLES", "CaptureSpec", "ManifestError", "Session"]

#: Tables a capture can give, stacked per session by a Study.
CAPTURE_TABLES = ("requests", "flows", "dns", "tls")


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
            "session": self.name, "mode": self.mode, "app": self.app, "package": self.package,
            "version": self.version, "device": self.device,
        }  # fmt: skip
        out.update({f"toggles.{k}": v for k, v in self.toggles.items()})
        return out


def _session_of(entry: Any, base: Path, where: str) -> Session:
    if not isinstance(entry, Mapping):
        raise ManifestError(f"{where}: must be a table")
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise ManifestError(f"{where}: `name` is missing")
    where = f"{where} ({name})"
    raw = entry.get("captures", [])
    if isinstance(raw, str | Mapping):
        raw = [raw]
    if not raw:
        raise ManifestError(f"{where}: `captures` is empty")
    specs = []
    for item in raw:
        if isinstance(item, str):
            specs.append(CaptureSpec(base / item))
        elif isinstance(item, Mapping) and isinstance(item.get("path"), str):
            keylog = item.get("keylog")
            tables = item.get("tables")
            if tables is not None and (not isinstance(tables, list) or set(tables) - set(CAPTURE_TABLES)):
                raise ManifestError(f"{where}: `tables` must list some of {', '.join(CAPTURE_TABLES)}")
            specs.append(
                CaptureSpec(base / item["path"], base / keylog if keylog else None, tuple(tables) if tables else None)
            )
        else:
            raise ManifestError(f"{where}: a capture is a path or a table with `path`")
    for spec in specs:
        if not spec.path.exists():
            raise ManifestError(f"{where}: capture {spec.path} does not exist")
    visited = entry.get("visited")
    if isinstance(visited, str):
        visited = base / visited
        if not visited.exists():
            raise ManifestError(f"{where}: browsing log {visited} does not exist")
    toggles = entry.get("toggles", {})
    if not isinstance(toggles, Mapping):
        raise ManifestError(f"{where}: `toggles` must be a table")
    known = {"name", "captures", "mode", "toggles", "app", "package", "version", "device", "visited"}
    unknown = set(entry) - known
    if unknown:
        raise ManifestError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(known)}")
    return Session(
        name, specs, mode=entry.get("mode"), toggles=dict(toggles), app=entry.get("app"),
        package=entry.get("package"), version=entry.get("version"), device=entry.get("device"), visited=visited,
    )  # fmt: skip

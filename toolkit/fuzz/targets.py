"""The fuzz targets, one per reader: their seeds, how an input becomes files, and the outcome rule.

An input is a tuple of :class:`Part` objects. A file target's parts are files (``capture.pcap``,
``capture.keylog`` ...), a conversation target's parts are the flights of one TCP connection,
written into ``capture.pcap`` (through real TLS for ``h2``). Parts whose ``fmt`` is ``None`` stay
as they are (the capture of the ``keylog`` target, the captures a manifest names).

The outcome rule (:func:`check_folder`): ``toolkit.load`` and ``find_leaks`` (or, for a manifest,
``Study.from_manifest`` and its tables) end in a :class:`~toolkit.errors.CaptureError` (or
``ManifestError``) whose message names one of the input's files, or in tables that pass the schema;
anything else is a crash.

>>> sorted(TARGETS)
['h2', 'har', 'http1', 'keylog', 'manifest', 'pcap', 'pcapng', 'tls']
>>> import tempfile
>>> with tempfile.TemporaryDirectory() as folder:
...     TARGETS["http1"].build(TARGETS["http1"].seeds()[0], Path(folder))
...     outcome = check_folder(folder)
>>> outcome["status"], outcome["tables"]["requests"]
('ok', 1)
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from toolkit.fuzz import seeds
from toolkit.fuzz.mutate import mutate

__all__ = ["TARGETS", "Input", "Part", "Target", "check_folder", "main_file"]

ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass(frozen=True)
class Part:
    """One file, or one flight of a conversation (``name`` is ``client`` or ``server``)."""

    name: str
    data: bytes
    fmt: str | None
    """Mutation format (see :data:`toolkit.fuzz.mutate.FORMATS`); ``None``: never mutated."""


Input = tuple[Part, ...]


@dataclass(frozen=True)
class Target:
    """A reader under fuzzing."""

    name: str
    description: str
    make_seeds: Callable[[], list[Input]]
    wrap: str = "files"
    """``files``, ``tcp`` (flights over plain TCP, port 80), ``tls`` (flights are TLS wire bytes,
    port 443, with ``capture.keylog``) or ``h2`` (flights encrypted now, TLS 1.3 with ALPN h2)."""

    def seeds(self) -> list[Input]:
        return _seeds(self.name)

    def mutate(self, value: Input, rng: random.Random, donors: list[bytes]) -> Input:
        """One mutated input: edits inside one part, or (conversations) flights dropped or repeated."""
        parts = list(value)
        mutable = [i for i, part in enumerate(parts) if part.fmt is not None]
        if self.wrap != "files" and len(parts) > 1 and rng.random() < 0.15:
            i = rng.randrange(len(parts))
            choice = rng.randrange(3)
            if choice == 0:
                del parts[i]
            elif choice == 1:
                parts.insert(i, parts[i])
            else:
                j = rng.randrange(len(parts))
                parts[i], parts[j] = parts[j], parts[i]
            return tuple(parts)
        i = rng.choice(mutable)
        part = parts[i]
        parts[i] = replace(part, data=mutate(part.data, part.fmt or "", rng, donors))
        return tuple(parts)

    def build(self, value: Input, folder: Path) -> None:
        """Write ``value`` as the files ``toolkit.load`` (or ``Study.from_manifest``) reads."""
        if self.wrap == "files":
            for part in value:
                (folder / part.name).write_bytes(part.data)
            return
        flights = [(part.name == "client", part.data) for part in value]
        if self.wrap == "tcp":
            (folder / "capture.pcap").write_bytes(seeds.pcap_bytes(seeds.frames_of([(flights, 80)])))
            return
        if self.wrap == "h2":
            flights, keys = seeds.tls_wrap(flights, "1.3", "h2")
        else:
            keys = list(self.keylog_of(value))
        (folder / "capture.pcap").write_bytes(seeds.pcap_bytes(seeds.frames_of([(flights, 443)])))
        (folder / "capture.keylog").write_text("".join(line + "\n" for line in keys))

    def keylog_of(self, value: Input) -> tuple[str, ...]:
        """The key log that decrypts a ``tls`` input: the lines of every seed conversation (a
        line names its connection by the client random, so extra lines do no harm)."""
        return tuple(line for _, keys in seeds.tls_conversations() for line in keys)


def _flights(flights: seeds.Flights, fmt: str) -> Input:
    return tuple(Part("client" if from_client else "server", data, fmt) for from_client, data in flights)


def _files(*parts: tuple[str, bytes | None, str | None]) -> Input:
    return tuple(Part(name, data, fmt) for name, data, fmt in parts if data is not None)


def _data(name: str) -> bytes | None:
    return seeds.data_file(ROOT, name)


def _small_tls_capture() -> tuple[bytes, bytes]:
    conversations = seeds.tls_conversations()
    frames = seeds.frames_of([(wire, 443) for wire, _ in conversations])
    keys = "".join(line + "\n" for _, keylog in conversations for line in keylog)
    return seeds.pcap_bytes(frames), keys.encode()


def _har_seeds() -> list[Input]:
    found = [_files(("capture.har", seeds.small_har(), "json"))]
    for name in ("sample.har", "lab/incognito_toggle_off.har"):
        found.append(_files(("capture.har", _data(name), "json")))
    return [value for value in found if value]


def _pcap_seeds() -> list[Input]:
    pcap, keys = _small_tls_capture()
    plain = seeds.pcap_bytes(seeds.frames_of([(flights, 80) for flights in seeds.http1_conversations()]))
    found = [
        _files(("capture.pcap", pcap, "pcap"), ("capture.keylog", keys, None)),
        _files(("capture.pcap", plain, "pcap")),
    ]
    lab = _data("lab/incognito_toggle_off.pcap")
    if lab is not None:
        found.append(
            _files(("capture.pcap", lab, "pcap"), ("capture.keylog", _data("lab/incognito_toggle_off.keylog"), None))
        )
    return found


def _pcapng_seeds() -> list[Input]:
    conversations = seeds.tls_conversations()
    frames = seeds.frames_of([(wire, 443) for wire, _ in conversations])
    keys = [line for _, keylog in conversations for line in keylog]
    found = [_files(("capture.pcapng", seeds.pcapng_bytes(frames, keys), "pcapng"))]
    lab = _data("lab/incognito_toggle_off.pcapng")
    if lab is not None:
        found.append(_files(("capture.pcapng", lab, "pcapng")))
    return found


def _keylog_seeds() -> list[Input]:
    pcap, keys = _small_tls_capture()
    return [_files(("capture.pcap", pcap, None), ("capture.keylog", keys, "keylog"))]


_MANIFEST = b"""# a fuzz seed: two sessions over small captures
[study]
name = "fuzz"
description = "seed"
vendors = ["Xiaomi"]
sites = ["www.example-news.com"]
mask_identifiers = false

[identifiers]
ANDROID_ID = "8e5fbce04dc91566"

[[session]]
name = "normal"
mode = "normal"
app = "Browser"
package = "com.example.browser"
version = "1.0"
visited = "visited.txt"
toggles = { collection = true }
captures = [
  { path = "capture.har", tables = ["requests"] },
  { path = "capture.pcap", keylog = "capture.keylog", tables = ["flows", "dns", "tls"] },
]

[[session]]
name = "incognito"
mode = "incognito"
captures = ["capture.pcap"]

[[claim]]
id = "incognito"
quote = "Browsing data is not sent in incognito mode."
source = "fuzz"
check = "no_browsing_data"
params = { mode = "incognito" }

[[claim]]
id = "tls"
quote = "TLS 1.2 at least."
source = "fuzz"
check = "tls_min_version"
params = { min_version = "1.2" }
"""


def _http1_seeds() -> list[Input]:
    return [_flights(flights, "http1") for flights in seeds.http1_conversations()]


def _h2_seeds() -> list[Input]:
    return [_flights(flights, "h2") for flights in seeds.h2_conversations()]


def _tls_seeds() -> list[Input]:
    return [_flights(wire, "tls") for wire, _ in seeds.tls_conversations()]


def _manifest_seeds() -> list[Input]:
    pcap, keys = _small_tls_capture()
    return [
        _files(
            ("study.toml", _MANIFEST, "toml"),
            ("capture.har", seeds.small_har(), None),
            ("capture.pcap", pcap, None),
            ("capture.keylog", keys, None),
            ("visited.txt", b"https://www.example-news.com/article?id=42\n", None),
        )
    ]


@cache
def _seeds(name: str) -> list[Input]:
    return TARGETS[name].make_seeds()


TARGETS: dict[str, Target] = {
    target.name: target
    for target in (
        Target("har", "HAR (JSON numbers, strings, nesting, bodies)", _har_seeds),
        Target("pcap", "pcap records and the IP/UDP lengths of their frames", _pcap_seeds),
        Target("pcapng", "pcapng blocks, options and the Decryption Secrets Block", _pcapng_seeds),
        Target("keylog", "an NSS key log beside a TLS capture", _keylog_seeds),
        Target("manifest", "a study manifest (TOML) over small captures", _manifest_seeds),
        Target("http1", "HTTP/1.x streams (Content-Length, chunks) over TCP", _http1_seeds, wrap="tcp"),
        Target("h2", "HTTP/2 frames and HPACK inside decrypted TLS 1.3", _h2_seeds, wrap="h2"),
        Target("tls", "TLS records of a capture with its keys (1.3 + h2, 1.2 + HTTP/1.1)", _tls_seeds, wrap="tls"),
    )
}


# --- the outcome rule (runs in the sandbox's child) ----------------------------------------------


def main_file(folder: str | os.PathLike[str]) -> Path:
    """The file a check opens: ``study.toml``, else the ``capture.*`` that is not a key log."""
    folder = Path(folder)
    if (folder / "study.toml").exists():
        return folder / "study.toml"
    found = sorted(p for p in folder.glob("capture.*") if p.suffix != ".keylog")
    if not found:
        raise FileNotFoundError(f"{folder}: no capture.* or study.toml")
    return found[0]


def check_folder(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """Read the input in ``folder`` as a user would, and judge the outcome (see the module doc)."""
    import toolkit
    from toolkit.claims import evaluate
    from toolkit.leaks import find_leaks
    from toolkit.schema import TABLES
    from toolkit.study import ManifestError, Study
    from toolkit.verdicts import read_claims

    path = main_file(folder)
    names = {p.name for p in Path(folder).iterdir()}
    try:
        if path.name == "study.toml":
            study = Study.from_manifest(path)
            claims = read_claims(path)
            study.workers, study.progress = 1, False
            tables = dict(study.tables)
            evaluate(study, claims)
        else:
            capture = toolkit.load(path, progress=False)
            tables = dict(capture.tables)
            tables["leaks"] = find_leaks(capture)
    except (toolkit.CaptureError, ManifestError) as exc:
        message = str(exc)
        if not any(name in message for name in names):
            return {
                "status": "crash",
                "kind": "bad-error",
                "exception": type(exc).__name__,
                "message": message[:500],
                "where": "message names no input file",
            }
        return {"status": "rejected", "exception": type(exc).__name__, "message": message[:500]}
    for name, table in tables.items():
        if name in TABLES:
            TABLES[name].validate(table)
    return {"status": "ok", "tables": {name: len(table) for name, table in tables.items()}}

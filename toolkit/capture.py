"""One capture file, loaded: its tables and where they came from.

>>> import toolkit
>>> capture = toolkit.load("data/sample.har")
>>> capture.provenance.format, capture.provenance.tool
('har', 'toolkit.lab 0.1.0')
>>> capture.requests[["method", "host", "status"]].head(2).values.tolist()
[['GET', 'www.example-news.com', 200], ['GET', 'cdn.example-news.com', 200]]
>>> capture.problems.empty
True
"""

from __future__ import annotations

import gzip
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import IO, Any

import pandas as pd

from toolkit.endpoints import Context, with_endpoints
from toolkit.endpoints import classify as classify_endpoints
from toolkit.errors import CaptureError, MalformedCaptureError, UnsupportedFormatError
from toolkit.io.har import read_har
from toolkit.io.keylog import KeyLog
from toolkit.io.pcap import read_pcap
from toolkit.io.sniff import sniff
from toolkit.problems import ProblemLog
from toolkit.progress import ReadProgress
from toolkit.schema import TABLES
from toolkit.userfiles import UserFileError, size_and_sha256
from toolkit.version import toolkit_version

__all__ = ["Capture", "Provenance", "load", "toolkit_version"]


@dataclass(frozen=True)
class Provenance:
    """Where a capture came from: enough to cite it and to check it was not altered."""

    path: str
    """The file as given."""
    size: int
    """Bytes on disk."""
    sha256: str
    """SHA-256 of the file on disk, hex."""
    format: str
    """``har``, ``pcap`` or ``pcapng``."""
    compression: str | None
    """``gzip`` when the file is compressed."""
    tool: str | None
    """The program that wrote the file, when the file says (HAR ``log.creator``, pcapng SHB)."""
    toolkit_version: str
    """Version of the toolkit that read it."""
    keylogs: tuple[tuple[str, str], ...] = ()
    """Key log files used to decrypt TLS: (path, sha256). pcapng secrets are counted in ``meta``."""

    @property
    def capture_id(self) -> str:
        """The id used in the ``capture`` column and in evidence: the file name."""
        return os.path.basename(self.path)

    def record(self) -> dict[str, Any]:
        """The provenance as plain values (JSON-ready: key logs as lists), for stores and reports.

        >>> Provenance("a.har", 1, "00", "har", None, None, "0.1", (("a.keylog", "11"),)).record()["keylogs"]
        [['a.keylog', '11']]
        """
        record = asdict(self)
        record["keylogs"] = [list(pair) for pair in self.keylogs]
        return record


@dataclass
class Capture:
    """The tables read from one capture file.

    Tables the format cannot provide (``flows`` for a HAR) are absent from :attr:`tables`; the
    properties below still return them, empty, with the right columns.
    """

    provenance: Provenance
    tables: dict[str, pd.DataFrame]
    meta: dict[str, Any] = field(default_factory=dict)
    """Format-specific facts: HAR version, browser and pages; pcapng interfaces ..."""

    def table(self, name: str) -> pd.DataFrame:
        """The table ``name`` (one of :data:`toolkit.schema.TABLES`), empty if not available."""
        if name not in TABLES:
            raise KeyError(f"no table {name!r}; tables are {', '.join(TABLES)}")
        found = self.tables.get(name)
        return found if found is not None else TABLES[name].empty()

    @property
    def requests(self) -> pd.DataFrame:
        return self.table("requests")

    @property
    def flows(self) -> pd.DataFrame:
        return self.table("flows")

    @property
    def dns(self) -> pd.DataFrame:
        return self.table("dns")

    @property
    def tls(self) -> pd.DataFrame:
        return self.table("tls")

    @property
    def endpoints(self) -> pd.DataFrame:
        """Every host with its owner, category and role (empty when loaded with ``classify=False``)."""
        return self.table("endpoints")

    @property
    def problems(self) -> pd.DataFrame:
        return self.table("problems")

    def summary(self) -> dict[str, Any]:
        """Provenance and row counts, ready for ``json.dumps``."""
        return {
            "provenance": asdict(self.provenance),
            "rows": {name: len(frame) for name, frame in self.tables.items()},
            "meta": {k: v for k, v in self.meta.items() if k != "pages"},
        }

    def __repr__(self) -> str:
        rows = ", ".join(f"{name}={len(frame)}" for name, frame in self.tables.items())
        return f"<Capture {self.provenance.capture_id} ({self.provenance.format}): {rows}>"


#: Names a key log beside a capture may have: ``session.pcapng`` → ``session.keylog`` ...
KEYLOG_SUFFIXES = (".keylog", ".keys", ".sslkeylog", ".txt")


def load(
    path: str | os.PathLike[str],
    *,
    keylog: str | os.PathLike[str] | KeyLog | None = None,
    strict: bool = False,
    classify: bool = True,
    context: Context | None = None,
    progress: bool | None = None,
) -> Capture:
    """Read a capture file into tables, detecting its format from its content.

    Args:
        path: a HAR (optionally JSONP-wrapped), pcap or pcapng file, optionally gzip-compressed.
        keylog: an NSS key log (SSLKEYLOGFILE) to decrypt TLS with. When not given, a key log with
            the capture's base name beside it (``.keylog``, ``.keys``, ``.sslkeylog``, ``.txt``) is
            used; pcapng Decryption Secrets Blocks are always used. Provenance lists what was used.
        strict: raise on the first damaged record instead of listing it in ``problems``.
        classify: add the ``endpoints`` table and fill the endpoint columns (registrable domain,
            organisation, role) of ``requests``, ``flows`` and ``dns``.
        context: the context of the roles (sites visited, vendor under study); inferred if None.
        progress: show the progress of reading (and decrypting) on stderr, with ``tqdm`` (a widget
            in Jupyter); ``None`` shows it for large files when stderr is a terminal.

    Raises:
        CaptureError: the file cannot be read at all (or, with ``strict``, has a damaged record);
            a missing file raises :class:`~toolkit.errors.CaptureNotFoundError`, a ``FileNotFoundError``.
    """
    path = os.fspath(path)
    sniffed = sniff(path)
    if sniffed.format == "keylog":
        raise UnsupportedFormatError(path, None, "this is a TLS key log, not a capture; give it with its capture")
    problems = ProblemLog(path, strict=strict)
    meta: dict[str, Any] = {}
    keys, keylogs = _key_log(path, keylog, problems) if sniffed.format != "har" else (None, ())
    with ThreadPoolExecutor(1) as hashing:  # hashlib releases the GIL: hash while reading
        digest_future = hashing.submit(size_and_sha256, path)
        with _open(path, sniffed.compression, progress, decrypting=keys is not None) as raw:
            if sniffed.format == "har":
                har = read_har(path, raw, problems)
                tables = {"requests": har.requests}
                tool = har.tool
                meta = {"har_version": har.version, "browser": har.browser, "pages": har.pages}
            else:
                packets = read_pcap(path, raw, problems, keys)
                tables = {"flows": packets.flows, "dns": packets.dns, "tls": packets.tls, "requests": packets.requests}
                tool = packets.tool
                meta = packets.meta
            if classify:
                if isinstance(raw, ReadProgress):
                    raw.step("classifying the hosts")
                _classify(tables, context)
        size, digest = digest_future.result()
    tables["problems"] = problems.frame()
    provenance = Provenance(
        path=path,
        size=size,
        sha256=digest,
        format=sniffed.format,
        compression=sniffed.compression,
        tool=tool,
        toolkit_version=toolkit_version(),
        keylogs=keylogs,
    )
    return Capture(provenance, tables, meta)


def _key_log(
    path: str, given: str | os.PathLike[str] | KeyLog | None, problems: ProblemLog
) -> tuple[KeyLog | None, tuple[tuple[str, str], ...]]:
    """The key log to use and, for provenance, the files it came from with their SHA-256."""
    if isinstance(given, KeyLog):
        return given, tuple((source, "") for source in given.sources)
    if given is not None:
        candidates = [os.fspath(given)]
        if not os.path.exists(candidates[0]):  # a FIFO or a device is refused by KeyLog.read
            raise UnsupportedFormatError(candidates[0], None, "key log file not found")
    else:
        stem = os.path.splitext(path[:-3] if path.endswith(".gz") else path)[0]
        candidates = [stem + suffix for suffix in KEYLOG_SUFFIXES if os.path.isfile(stem + suffix)]
        if candidates and candidates[0].endswith(".txt") and sniff(candidates[0]).format != "keylog":
            candidates = []
    if not candidates:
        return None, ()
    keylog_path = candidates[0]
    try:
        keys = KeyLog.read(keylog_path)
    except UserFileError as exc:  # a FIFO or device, or too large
        raise UnsupportedFormatError(keylog_path, None, str(exc).removeprefix(f"{keylog_path}: ")) from None
    name = os.path.basename(keylog_path)
    for number, reason in keys.bad_lines:
        problems.add(f"{name} line {number}", "malformed", f"key log line skipped: {reason}", "warning")
    return keys, ((keylog_path, size_and_sha256(keylog_path)[1]),)


def _classify(tables: dict[str, pd.DataFrame], context: Context | None) -> None:
    """Add ``endpoints`` and fill the endpoint columns of the other tables, in place."""
    endpoints = classify_endpoints(tables, context)
    tables.update(with_endpoints(tables, endpoints))
    tables["endpoints"] = endpoints


#: Files from this size on show their reading progress on a terminal (``load(progress=None)``).
PROGRESS_FROM_BYTES = 20_000_000


def _open(path: str, compression: str | None, progress: bool | None, *, decrypting: bool = False) -> IO[bytes]:
    raw: IO[bytes] = open(path, "rb")  # noqa: SIM115 (closed by the caller's `with`)
    size = os.fstat(raw.fileno()).st_size
    if progress or (progress is None and size >= PROGRESS_FROM_BYTES):
        label = ("and decrypting " if decrypting else "") + os.path.basename(path)
        raw = ReadProgress(raw, size, label, enabled=progress)  # type: ignore[assignment]
    if compression == "gzip":
        return _GzipErrors(path, raw)  # type: ignore[return-value]
    return raw


class _GzipErrors(gzip.GzipFile):
    """A gzip reader whose damage surfaces as :class:`CaptureError` naming the file."""

    def __init__(self, path: str, raw: IO[bytes]) -> None:
        super().__init__(fileobj=raw, mode="rb")
        self._path = path
        self._raw = raw

    def close(self) -> None:
        super().close()
        self._raw.close()

    def read(self, size: int | None = -1) -> bytes:
        try:
            return super().read(size)
        except (OSError, EOFError) as exc:
            if isinstance(exc, CaptureError):
                raise
            raise MalformedCaptureError(self._path, None, f"gzip data is damaged: {exc}") from None

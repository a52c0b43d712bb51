"""HAR 1.2 and the dialects real browsers and proxies write, into the ``requests`` table.

Why one module: the dialects are quirks of one format filling one row layout; the handling of each is
only clear with the others in view.

The file is walked incrementally (:mod:`toolkit.io.jsonstream`): each entry is decoded, turned into
one row and dropped. Rows are gathered in chunks: every :data:`CHUNK_ROWS` rows the text, number and
time columns become compact pandas (Arrow) arrays and the Python values are freed, and the (name,
value) pairs of headers and cookies are shared between rows of a chunk, so memory is bounded by the
output table plus one chunk, whatever the file's size. Dialects handled:

* Chrome/Edge, Safari, Firefox (empty or odd ``httpVersion``), Firebug, IE11, Charles, Fiddler,
  Insomnia, Proxyman, WebPageTest, chrome-har(-capturer), Playwright, mitmproxy;
* a UTF-8 byte order mark, a HARP/JSONP wrapper (``onInputData({...});``), gzip-compressed files;
* base64 response bodies (``content.encoding``), ``postData.text`` and ``postData.params``,
  Playwright's external bodies (``content._file`` / ``postData._file`` beside the HAR),
  ``data:`` URLs, WebSocket entries (``_webSocketMessages``, status 101), missing pages.

Entries that cannot be read are skipped and listed in ``problems``; entries read in part (a corrupt
base64 body, a bad timestamp) are kept and listed as warnings.

>>> import io, json
>>> har = {"log": {"version": "1.2", "creator": {"name": "demo", "version": "1"}, "entries": [
...     {"startedDateTime": "2020-04-30T10:00:00.000+02:00",
...      "request": {"method": "post", "url": "https://sa.api.intl.miui.com/sa?r=ES",
...                  "httpVersion": "h2", "headers": [], "cookies": [],
...                  "postData": {"mimeType": "application/x-www-form-urlencoded",
...                               "params": [{"name": "gzip", "value": "1"}]}},
...      "response": {"status": 200, "headers": [], "content": {"size": 0}}}]}}
>>> problems = ProblemLog("demo.har")
>>> result = read_har("demo.har", io.BytesIO(json.dumps(har).encode()), problems)
>>> row = result.requests.iloc[0]
>>> row.method, row.host, row.query, row.http_version, row.body, str(row.ts)
('POST', 'sa.api.intl.miui.com', 'r=ES', 'HTTP/2', b'gzip=1', '2020-04-30 08:00:00+00:00')
>>> result.tool, problems.frame()["message"].tolist()
('demo 1', ['entry lacks HAR 1.2 field(s) cache, time, timings; read anyway'])
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import SplitResult, urlencode, urlsplit

import pandas as pd
import pyarrow as pa
from pandas.api.types import union_categoricals

from toolkit.errors import MalformedCaptureError, TruncatedCaptureError
from toolkit.io.budget import Budget
from toolkit.io.content_encoding import (
    MAX_DECODED_PER_CAPTURE,
    MAX_DECODED_SIZE,
    ContentDecodingError,
    DecodedTooLarge,
    decode_within,
)
from toolkit.io.jsonstream import JsonStream, JsonSyntaxError
from toolkit.problems import ProblemKind, ProblemLog
from toolkit.schema import TABLES
from toolkit.userfiles import UserFileError, open_user_file

__all__ = ["CHUNK_ROWS", "HarContents", "read_har"]

#: Rows gathered as Python values before they become pandas arrays (the reader's fixed buffer).
CHUNK_ROWS = 8192

_JSONP_HEAD = re.compile(r"[ \t\r\n]*[A-Za-z_$][\w$.]*[ \t\r\n]*\(")
_JSONP_TAIL = re.compile(r"[ \t\r\n]*\)[ \t\r\n]*;?[ \t\r\n]*")
_BLANK = re.compile(r"[ \t\r\n]*")
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}
# Magic bytes of an encoded body: a body that lacks them was stored decoded, as HAR 1.2 asks.
_MAGIC = {"gzip": b"\x1f\x8b", "x-gzip": b"\x1f\x8b", "zstd": b"\x28\xb5\x2f\xfd"}

# Fields HAR 1.2 requires of every entry (startedDateTime and request are checked on their own).
_REQUIRED = frozenset({"time", "response", "cache", "timings"})

_HTTP_VERSIONS = {
    "http/0.9": "HTTP/0.9",
    "http/1.0": "HTTP/1.0",
    "1.0": "HTTP/1.0",
    "http/1.1": "HTTP/1.1",
    "1.1": "HTTP/1.1",
    "http/2": "HTTP/2",
    "http/2.0": "HTTP/2",
    "h2": "HTTP/2",
    "h2c": "HTTP/2",
    "2": "HTTP/2",
    "2.0": "HTTP/2",
    "http/3": "HTTP/3",
    "http/3.0": "HTTP/3",
    "h3": "HTTP/3",
    "spdy/3": "SPDY/3",
    "spdy/3.1": "SPDY/3.1",
}

_COLUMNS = [
    "ts",
    "capture",
    "server_ip",
    "server_port",
    "scheme",
    "host",
    "method",
    "url",
    "path",
    "query",
    "http_version",
    "request_headers",
    "cookies",
    "body",
    "content_type",
    "status",
    "response_headers",
    "response_body",
    "response_content_type",
    "websocket",
    "page",
    "decrypted",
    "evidence",
]
_TEXT_COLUMNS = frozenset(c.name for c in TABLES["requests"].columns if c.dtype == "string")
_CATEGORY_COLUMNS = [c.name for c in TABLES["requests"].columns if c.dtype == "category"]


@dataclass
class HarContents:
    """What a HAR file holds: the requests and the file's own description of itself."""

    requests: pd.DataFrame
    version: str | None = None
    tool: str | None = None
    """The program that wrote the file (``log.creator``), e.g. ``"Firefox 111.0.1"``."""
    browser: str | None = None
    pages: list[dict[str, Any]] = field(default_factory=list)
    """``log.pages`` as given: id, title, startedDateTime."""


def read_har(path: str | os.PathLike[str], raw: IO[bytes], problems: ProblemLog) -> HarContents:
    """Read the HAR in the binary stream ``raw`` (named ``path`` in messages and evidence).

    Raises:
        MalformedCaptureError: not JSON, or JSON without a top-level ``log`` object.
        TruncatedCaptureError: the file ends before the ``log`` object begins.
    """
    path = os.fspath(path)
    reader = _EntryReader(path, problems)
    stream = JsonStream(raw)
    meta: dict[str, Any] = {}
    top_keys: list[str] = []
    saw_log = False
    where: str | None = None
    try:
        jsonp = stream.skip_prefix(_JSONP_HEAD)
        first = stream.peek()
        if first != "{":
            shown = repr(first) if first else "nothing"
            raise MalformedCaptureError(path, None, f"not a HAR: expected a JSON object, found {shown}")
        for key in stream.object_keys():
            if key != "log":
                top_keys.append(key)
                stream.read_value()
                continue
            saw_log = True
            if stream.peek() != "{":
                raise MalformedCaptureError(path, "log", "not a HAR: `log` is not an object")
            for log_key in stream.object_keys():
                if log_key != "entries":
                    where = f"log.{log_key}"
                    meta[log_key] = stream.read_value()
                    continue
                meta["entries"] = True
                if stream.peek() != "[":
                    raise MalformedCaptureError(path, "log.entries", "not a HAR: entries is not a list")
                where = "entry 0"
                for index, entry in enumerate(stream.array_items(resync=True)):
                    if isinstance(entry, JsonSyntaxError):  # one broken entry: the next ones are still read
                        problems.add(f"entry {index}", "malformed", f"invalid JSON: {entry}; entry skipped")
                    else:
                        reader.add(index, entry)
                    where = f"entry {index + 1}"
                where = None
        tail = _JSONP_TAIL if jsonp else _BLANK
        if not stream.rest_is(tail):
            problems.add(None, "malformed", "unexpected data after the HAR object; ignored", "warning")
    except JsonSyntaxError as exc:
        kind: ProblemKind = "truncated" if exc.truncated else "malformed"
        if not saw_log:
            error = TruncatedCaptureError if exc.truncated else MalformedCaptureError
            raise error(path, None, f"not valid JSON: {exc}") from None
        problems.add(
            where, kind, f"{'file ends' if exc.truncated else 'invalid JSON'}: {exc}; the rest of the file is not read"
        )
    if not saw_log:
        keys = ", ".join(top_keys[:8]) or "none"
        raise MalformedCaptureError(path, None, f"not a HAR: no top-level `log` object (keys: {keys})")
    if "entries" not in meta:
        problems.add("log", "missing", "log has no `entries` list; no requests read")
    if stream.replaced_bytes:
        problems.add(None, "decode", "invalid UTF-8 replaced by U+FFFD", "warning")
    if stream.replaced_surrogates:
        problems.add(None, "decode", "escaped lone UTF-16 surrogates (\\ud800 ...) replaced by U+FFFD", "warning")
    if stream.long_integers:
        problems.add(None, "malformed", "numbers too long for an integer were read as approximate floats", "warning")
    pages = meta.get("pages")
    return HarContents(
        requests=reader.frame(),
        version=_text(meta.get("version")),
        tool=_software(meta.get("creator")),
        browser=_software(meta.get("browser")),
        pages=[p for p in pages if isinstance(p, dict)] if isinstance(pages, list) else [],
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _software(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    name, version = _text(value.get("name")), _text(value.get("version"))
    return " ".join(p for p in (name, version) if p) or None


_Pair = tuple[str, str]


def _pairs(
    value: Any, record: str, what: str, problems: ProblemLog, shared: dict[_Pair, _Pair] | None = None
) -> list[_Pair]:
    """HAR ``[{"name": .., "value": ..}]`` lists as (name, value) tuples.

    With ``shared``, a pair met before is taken from it instead of kept twice: browsers send the
    same User-Agent, Accept ... with every request, and a tuple of two strings costs 150 bytes.

    >>> shared = {}
    >>> first = _pairs([{"name": "Accept", "value": "*/*"}], "entry 0", "headers", ProblemLog("x"), shared)
    >>> second = _pairs([{"name": "Accept", "value": "*/*"}], "entry 1", "headers", ProblemLog("x"), shared)
    >>> first == second == [("Accept", "*/*")], first[0] is second[0]
    (True, True)
    """
    if value is None:
        return []
    if isinstance(value, dict):  # IE11's exporter writes a lone cookie as an object
        value = [value]
    if not isinstance(value, list):
        problems.add(record, "malformed", f"{what} is not a list; ignored", "warning")
        return []
    pairs = []
    for item in value:
        if isinstance(item, dict) and "name" in item:
            name, text = item["name"], item.get("value")
            pair = (name if type(name) is str else _text(name) or "", text if type(text) is str else _text(text) or "")
            pairs.append(pair if shared is None else shared.setdefault(pair, pair))
        else:
            problems.add(record, "malformed", f"{what} has an item without a name; ignored", "warning")
    return pairs[:]  # a copy is allocated to its exact length; the list grown by append is not


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def normalize_http_version(value: Any) -> str | None:
    """``"h2"``, ``"http/2.0"``, ``"HTTP/2"`` → ``"HTTP/2"``; unknown or empty → None.

    >>> normalize_http_version("http/2.0"), normalize_http_version("1.1"), normalize_http_version("ori")
    ('HTTP/2', 'HTTP/1.1', None)
    """
    if not isinstance(value, str):
        return None
    return _HTTP_VERSIONS.get(value.strip().lower())


class _EntryReader:
    """Turns HAR entries into the ``requests`` table, one entry at a time.

    Rows wait as Python values in ``columns``; every :data:`CHUNK_ROWS` rows they become a table
    of their own (text in Arrow arrays) in ``frames`` and the Python values are freed (see
    :meth:`_flush`), so the Python strings, ints and lists of at most one chunk are alive at once.
    """

    def __init__(self, path: str, problems: ProblemLog) -> None:
        self.path = path
        self.capture = os.path.basename(path)
        self.base_dir = Path(path).resolve().parent
        self.problems = problems
        self.columns: dict[str, list[Any]] = {name: [] for name in _COLUMNS}
        self._append: dict[str, Callable[[Any], None]] = {name: values.append for name, values in self.columns.items()}
        self.frames: list[pd.DataFrame] = []
        self._pending = self.columns["evidence"]  # rows not yet in frames
        # (name, value) pairs of this chunk's headers and cookies, each kept once (see _pairs).
        self._shared_pairs: dict[_Pair, _Pair] = {}
        self.decoding = Budget(MAX_DECODED_PER_CAPTURE)
        """What decoding bodies may make in the whole file."""
        self.entry_decoding = Budget(MAX_DECODED_SIZE)
        """What decoding may make for the entry being read (its two bodies together)."""

    def add(self, index: int, entry: Any) -> None:
        record = f"entry {index}"
        self.entry_decoding = Budget(MAX_DECODED_SIZE)
        checked = self._checked(record, entry)
        if checked is None:
            return
        request, response, url = checked
        put = self._append
        started = entry.get("startedDateTime")
        if not isinstance(started, str):
            self.problems.add(record, "missing", "startedDateTime is missing; ts left empty", "warning")
            started = None
        put["ts"](started)
        put["capture"](self.capture)
        request_headers = self._put_request(record, request, url)
        status = self._put_response(record, response)
        upgrade = (_header(request_headers, "upgrade") or "").lower() == "websocket"
        put["websocket"](bool(upgrade or "_webSocketMessages" in entry or status == 101))
        ip = entry.get("serverIPAddress")
        put["server_ip"](ip.strip("[]") if isinstance(ip, str) and ip.strip("[]") else None)
        put["page"](_text(entry.get("pageref")))
        put["decrypted"](False)
        put["evidence"](f"{self.capture}#entry={index}")
        if len(self._pending) >= CHUNK_ROWS:
            self._flush()

    def _checked(self, record: str, entry: Any) -> tuple[dict[str, Any], dict[str, Any], str] | None:
        """The request, response (``{}`` when absent) and URL of an entry, or ``None`` for an entry
        skipped as malformed (with its problem row)."""
        problems = self.problems
        if not isinstance(entry, dict):
            problems.add(record, "malformed", f"entry is a {type(entry).__name__}, not an object; skipped")
            return None
        request = entry.get("request")
        if not isinstance(request, dict):
            problems.add(record, "malformed", "entry has no `request` object; skipped")
            return None
        url = request.get("url")
        if not isinstance(url, str) or not url:
            problems.add(record, "malformed", "request.url is missing or not a string; skipped")
            return None
        if not entry.keys() >= _REQUIRED:
            absent = ", ".join(sorted(_REQUIRED - entry.keys()))
            problems.add(record, "missing", f"entry lacks HAR 1.2 field(s) {absent}; read anyway", "warning")
        response = entry.get("response")
        if not isinstance(response, dict):
            if "response" in entry:
                problems.add(record, "malformed", "response is not an object; ignored", "warning")
            response = {}
        return request, response, url

    def _put_request(self, record: str, request: dict[str, Any], url: str) -> list[tuple[str, str]]:
        """Append the request's columns of one row; its headers are returned."""
        problems = self.problems
        put = self._append
        parts = _split_url(url)
        if parts is None:
            problems.add(record, "malformed", f"request.url cannot be parsed: {url[:200]!r}", "warning")
        scheme = parts.scheme.lower() if parts else None
        host, port = _host_port(parts)
        put["scheme"](scheme or None)
        put["host"](host)
        put["server_port"](port if port is not None else _DEFAULT_PORTS.get(scheme or ""))
        put["url"](url)
        put["path"](parts.path if parts else None)
        put["query"](parts.query if parts else None)
        method = request.get("method")
        if (not isinstance(method, str) or not method) and scheme != "data":
            problems.add(record, "missing", "request.method is missing", "warning")
            method = None
        put["method"](method.upper() if method else None)

        shared = self._shared_pairs
        request_headers = _pairs(request.get("headers"), record, "request.headers", problems, shared)
        put["request_headers"](request_headers)
        put["cookies"](_pairs(request.get("cookies"), record, "request.cookies", problems, shared))
        version = normalize_http_version(request.get("httpVersion"))
        if version is None and request_headers and request_headers[0][0].startswith(":"):
            version = "HTTP/2"  # pseudo-headers only exist in HTTP/2 and HTTP/3
        put["http_version"](version)
        body, body_type = self._request_body(request.get("postData"), request_headers, record)
        put["body"](body)
        put["content_type"](body_type or _header(request_headers, "content-type"))
        return request_headers

    def _put_response(self, record: str, response: dict[str, Any]) -> Any:
        """Append the response's columns of one row; its status (as the HAR gives it) is returned."""
        problems = self.problems
        put = self._append
        shared = self._shared_pairs
        status = response.get("status")
        if isinstance(status, str) and status.strip().isascii() and status.strip().isdigit():
            status = int(status) if len(status.strip()) <= 9 else 1000
        if isinstance(status, int) and not 0 <= status < 1000:
            problems.add(
                record, "malformed", f"response.status {str(status)[:30]} is not an HTTP status; left empty", "warning"
            )
        put["status"](status if isinstance(status, int) and 0 < status < 1000 else None)
        response_headers = _pairs(response.get("headers"), record, "response.headers", problems, shared)
        put["response_headers"](response_headers)
        content = response.get("content")
        response_body, response_type = self._response_body(content, response_headers, record)
        put["response_body"](response_body)
        put["response_content_type"](response_type or _header(response_headers, "content-type"))
        return status

    def _request_body(self, post: Any, headers: list[tuple[str, str]], record: str) -> tuple[bytes | None, str | None]:
        if not isinstance(post, dict):
            return None, None
        mime = _text(post.get("mimeType")) or None
        text = post.get("text")
        body: bytes | None = None
        if isinstance(text, str):
            if post.get("encoding") == "base64":
                body = self._base64(text, record, "postData.text")
            else:
                body = text.encode("utf-8", "surrogatepass")
        elif "_file" in post:
            body = self._external(post["_file"], record, "postData._file")
        elif isinstance(post.get("params"), list):
            pairs = _pairs(post["params"], record, "postData.params", self.problems)
            body = urlencode(pairs).encode() if pairs else None
        if body:
            body = self._content_decoded(body, _header(headers, "content-encoding"), record, "request")
        return body or None, mime

    def _response_body(
        self, content: Any, headers: list[tuple[str, str]], record: str
    ) -> tuple[bytes | None, str | None]:
        if not isinstance(content, dict):
            return None, None
        mime = _text(content.get("mimeType")) or None
        text = content.get("text")
        if isinstance(text, str):
            if content.get("encoding") == "base64":
                body = self._base64(text, record, "response.content.text")
                if body is None:
                    return None, mime
                coding = _header(headers, "content-encoding")
                return self._content_decoded(body, coding, record, "response"), mime
            return text.encode("utf-8", "surrogatepass") or None, mime
        if "_file" in content:
            return self._external(content["_file"], record, "response.content._file"), mime
        return None, mime

    def _base64(self, text: str, record: str, what: str) -> bytes | None:
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            try:  # MIME line breaks and missing padding are common; anything else is corrupt
                return base64.b64decode("".join(text.split()) + "==", validate=True)
            except (binascii.Error, ValueError):
                self.problems.add(record, "decode", f"{what} is not valid base64; body left empty", "warning")
                return None

    def _content_decoded(self, body: bytes, coding: str | None, record: str, what: str) -> bytes:
        """Undo a Content-Encoding the tool left on the body; HAR bodies are normally decoded."""
        if not coding or not body:
            return body
        last = coding.split(",")[-1].strip().lower()
        magic = _MAGIC.get(last)
        if magic is not None and not body.startswith(magic):
            return body  # stored decoded, as HAR 1.2 asks
        try:
            return decode_within(body, coding, self.decoding, self.entry_decoding)
        except ContentDecodingError as exc:
            if magic is None and not isinstance(exc, DecodedTooLarge):
                return body  # br/deflate carry no magic: take the body as already decoded
            self.problems.add(
                record, "decode", f"{what} body declared {coding} does not decode ({exc}); kept as stored", "warning"
            )
            return body

    def _external(self, name: Any, record: str, what: str) -> bytes | None:
        """A body stored beside the HAR (Playwright); never a file outside the HAR's folder."""
        if not isinstance(name, str) or not name:
            self.problems.add(record, "malformed", f"{what} is not a file name", "warning")
            return None
        shown = repr(name[:200])
        try:
            target = (self.base_dir / name).resolve()
        except (ValueError, OSError) as exc:  # a NUL or an unencodable character in the name
            self.problems.add(
                record, "malformed", f"{what} {shown} is not a usable file name ({exc}); not read", "warning"
            )
            return None
        if not target.is_relative_to(self.base_dir):
            self.problems.add(
                record, "malformed", f"{what} {shown} points outside the HAR's folder; not read", "warning"
            )
            return None
        try:
            with open_user_file(target) as raw:  # a FIFO or a device is refused, a huge file read in part
                data = raw.read(MAX_DECODED_SIZE + 1)
        except (UserFileError, OSError) as exc:
            reason = str(exc).removeprefix(f"{target}: ") if isinstance(exc, UserFileError) else exc.strerror or exc
            self.problems.add(
                record, "missing", f"{what} {shown} cannot be read ({reason}); body left empty", "warning"
            )
            return None
        body, cut = data[:MAX_DECODED_SIZE], len(data) > MAX_DECODED_SIZE
        if cut:
            self.problems.add(
                record,
                "truncated",
                f"{what} {shown} is larger than {MAX_DECODED_SIZE} bytes; only its start was read",
                "warning",
            )
        return body

    def _flush(self) -> None:
        """Make the waiting rows a table in ``frames`` and free their Python values."""
        columns = self.columns
        raw_ts = columns["ts"]
        ts = pd.to_datetime(pd.Series(raw_ts, dtype=object), utc=True, format="ISO8601", errors="coerce")
        for position in (ts.isna() & pd.Series([t is not None for t in raw_ts], dtype=bool)).to_numpy().nonzero()[0]:
            record = columns["evidence"][position].rsplit("=", 1)[-1]
            self.problems.add(
                f"entry {record}",
                "malformed",
                f"startedDateTime {raw_ts[position]!r} is not a date; ts left empty",
                "warning",
            )
        data = {name: _text_array(values) if name in _TEXT_COLUMNS else values for name, values in columns.items()}
        table = TABLES["requests"]
        self.frames.append(table.validate(table.frame(data | {"ts": ts})))
        for values in columns.values():
            values.clear()  # in place: self._append holds the lists' append methods
        self._shared_pairs.clear()

    def frame(self) -> pd.DataFrame:
        """The table of all rows read: the chunks' tables joined (their Arrow text is not copied)."""
        if self._pending or not self.frames:
            self._flush()
        frames, self.frames = self.frames, []
        if len(frames) == 1:
            return frames[0]
        # Each chunk has its own categories: joined apart, with the sorted union Table.frame gives.
        categorical = {
            name: union_categoricals([f[name] for f in frames], sort_categories=True) for name in _CATEGORY_COLUMNS
        }
        joined = pd.concat([f.drop(columns=_CATEGORY_COLUMNS) for f in frames], ignore_index=True)
        del frames
        table = TABLES["requests"]
        for position, name in enumerate(table.names):
            if name in categorical:
                joined.insert(position, name, categorical.pop(name))
        return table.validate(joined)


def _text_array(values: list[str | None]) -> pd.api.extensions.ExtensionArray:
    """Text (``str`` or None) as the Arrow-backed ``string`` array that ``Table.frame`` makes of it.

    Its buffers come from the C allocator: Arrow's default pool (mimalloc) keeps much of what the
    chunk-by-chunk building frees, which showed as resident memory growing with the file.

    >>> _text_array(["a", None]).tolist(), str(_text_array([]).dtype)
    (['a', <NA>], 'string')
    """
    array = pa.array(values, type=pa.large_string(), memory_pool=pa.system_memory_pool())
    return pd.arrays.ArrowStringArray(array)


def _split_url(url: str) -> SplitResult | None:
    try:
        return urlsplit(url)
    except ValueError:
        return None


def _host_port(parts: SplitResult | None) -> tuple[str | None, int | None]:
    if parts is None:
        return None, None
    try:
        host = parts.hostname
        port = parts.port
    except ValueError:
        return parts.hostname if _safe_hostname(parts) else None, None
    return host or None, port


def _safe_hostname(parts: SplitResult) -> bool:
    try:
        return parts.hostname is not None
    except ValueError:
        return False

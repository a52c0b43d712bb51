"""The tables of the toolkit: their columns, dtypes and meaning, in one place.

Every reader builds its tables with :meth:`Table.frame` and every table leaves a reader through
:meth:`Table.validate`, so a column cannot drift between the HAR reader, the pcap reader and the
leak engine. The README's table reference is generated from this module (``make docs``).

>>> from toolkit.schema import TABLES
>>> requests = TABLES["requests"]
>>> frame = requests.frame({"method": ["GET"], "url": ["https://example.org/"]})
>>> frame.loc[0, "method"], len(frame.columns) == len(requests.columns)
('GET', True)
>>> str(frame["status"].dtype)
'Int64'
>>> requests.validate(frame) is frame
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = [
    "LATER_COLUMNS",
    "ROLES",
    "ROLE_DTYPE",
    "SEVERITIES",
    "SEVERITY_DTYPE",
    "TABLES",
    "Column",
    "SchemaError",
    "Table",
    "markdown_reference",
]

#: Every value of a ``role`` column (toolkit.endpoints decides them), in this order in tables and figures.
ROLES = ("first_party", "platform", "third_party", "infrastructure", "unknown")
#: ``role`` as an ordered category.
ROLE_DTYPE = pd.CategoricalDtype(ROLES, ordered=True)
#: Every value of ``leaks.severity``, worst first: the order of reports and figures.
SEVERITIES = ("full_url", "identifier", "path", "search_term", "domain")
#: ``severity`` as an ordered category (worst first).
SEVERITY_DTYPE = pd.CategoricalDtype(SEVERITIES, ordered=True)

#: Columns filled after reading: by classification (toolkit.endpoints) and by a Study (session).
LATER_COLUMNS = frozenset({"session", "registrable_domain", "organisation", "role"})

#: pandas dtype names used by the tables, with what they hold.
DTYPES: dict[str, str] = {
    "string": "text, missing is <NA>",
    "category": "repeated text (method, scheme, kinds), missing is NaN",
    "Int64": "nullable integer",
    "Float64": "nullable float",
    "boolean": "nullable boolean",
    "datetime64[ns, UTC]": "timestamp in UTC",
    "object": "Python objects: bytes for bodies, lists of (name, value) pairs for headers",
}


class SchemaError(ValueError):
    """A table does not match its declared columns or dtypes (a bug in a reader, not bad input)."""


@dataclass(frozen=True)
class Column:
    """One column of a table."""

    name: str
    """Column name."""
    dtype: str
    """pandas dtype name, one of :data:`DTYPES`."""
    doc: str
    """What the column means, for the README and for people reading a CSV export."""


@dataclass(frozen=True)
class Table:
    """A named table with its ordered columns."""

    name: str
    doc: str
    columns: tuple[Column, ...]

    @property
    def names(self) -> list[str]:
        """Column names in order."""
        return [c.name for c in self.columns]

    @property
    def reader_names(self) -> list[str]:
        """Columns a capture reader fills; the others (:data:`LATER_COLUMNS`) come from later stages.

        >>> "session" in TABLES["requests"].reader_names, "url" in TABLES["requests"].reader_names
        (False, True)
        """
        return [c.name for c in self.columns if c.name not in LATER_COLUMNS]

    def empty(self) -> pd.DataFrame:
        """A table with no rows and the right dtypes.

        >>> TABLES["problems"].empty().shape
        (0, 5)
        """
        return self.frame({})

    def frame(self, data: Mapping[str, Sequence[Any]]) -> pd.DataFrame:
        """Build a table from column lists; absent columns are filled with missing values.

        Raises:
            SchemaError: a column is not part of the table or the lists differ in length.
        """
        unknown = set(data) - set(self.names)
        if unknown:
            raise SchemaError(f"{self.name}: unknown columns {sorted(unknown)}")
        lengths = {len(v) for v in data.values()}
        if len(lengths) > 1:
            raise SchemaError(f"{self.name}: columns differ in length {sorted(lengths)}")
        n = lengths.pop() if lengths else 0
        cols = {c.name: _coerce(data.get(c.name), c.dtype, n) for c in self.columns}
        return pd.DataFrame(cols, index=pd.RangeIndex(n))

    def concat(self, parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
        """Parts of this table one after the other, with the schema's dtypes (a category column whose
        parts differ in their categories is made again, as :meth:`frame` makes it).

        >>> problems = TABLES["problems"]
        >>> both = problems.concat([problems.frame({"kind": ["decode"]}), problems.frame({"kind": ["missing"]})])
        >>> both["kind"].tolist(), str(both["kind"].dtype)
        (['decode', 'missing'], 'category')
        """
        if len(parts) == 1:
            return parts[0]
        frame = pd.concat(parts, ignore_index=True)
        for column in self.columns:
            if column.dtype == "category" and not isinstance(frame[column.name].dtype, pd.CategoricalDtype):
                frame[column.name] = frame[column.name].astype("string").astype("category")
        return frame

    def validate(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Check that ``frame`` has exactly this table's columns, in order, with their dtypes.

        Returns the frame unchanged so that readers can ``return TABLE.validate(df)``.
        """
        if list(frame.columns) != self.names:
            missing = [n for n in self.names if n not in frame.columns]
            extra = [n for n in frame.columns if n not in self.names]
            raise SchemaError(f"{self.name}: columns differ from schema (missing {missing}, extra {extra})")
        for column in self.columns:
            actual = frame[column.name].dtype
            if not _dtype_matches(actual, column.dtype):
                raise SchemaError(f"{self.name}.{column.name}: dtype {actual} instead of {column.dtype}")
        return frame


def _dtype_matches(actual: Any, declared: str) -> bool:
    if declared == "category":
        return isinstance(actual, pd.CategoricalDtype)
    if declared == "string":
        return isinstance(actual, pd.StringDtype) and actual.na_value is pd.NA
    return str(actual) == declared


def _coerce(values: Sequence[Any] | None, dtype: str, n: int) -> Any:
    if values is None:
        values = [None] * n
    if dtype == "category":
        return pd.array(list(values), dtype="string").astype("category")
    if dtype == "object":
        series = pd.Series(index=pd.RangeIndex(n), dtype=object)
        series[:] = list(values) if n else []
        return series
    if dtype == "datetime64[ns, UTC]":
        series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
        return pd.to_datetime(series, utc=True).astype(dtype).array
    return pd.array(values, dtype=dtype)


def _table(name: str, doc: str, *columns: tuple[str, str, str]) -> Table:
    return Table(name, doc, tuple(Column(*c) for c in columns))


# Columns shared by the tables that a capture produces.
_CAPTURE = ("capture", "category", "capture id: the file name the row came from")
_SESSION = ("session", "category", "session label given by a Study (normal, incognito ...)")
_APP = ("app", "category", "app (Android package) that sent the traffic, when the capture says")
_EVIDENCE = (
    "evidence",
    "string",
    "where to look: `file#entry=N` for HAR, `file#frames=N,M` for packet captures",
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        _table(
            "requests",
            "One row per HTTP request (HAR entry, or request reconstructed from packets).",
            ("ts", "datetime64[ns, UTC]", "when the request started"),
            _CAPTURE,
            _SESSION,
            _APP,
            ("flow_id", "Int64", "connection in `flows` that carried it (packet captures)"),
            ("client", "string", "client IP address, when known"),
            ("server_ip", "string", "server IP address, when known (HAR `serverIPAddress`)"),
            ("server_port", "Int64", "server port (explicit in the URL or the scheme default)"),
            ("scheme", "category", "URL scheme: http, https, ws, wss, data ..."),
            ("host", "string", "host name from the URL, lower case, no port"),
            ("registrable_domain", "string", "eTLD+1 of the host (filled by classification)"),
            ("organisation", "string", "organisation behind the host (filled by classification)"),
            ("role", "category", "role of the host: first_party, platform, third_party, infrastructure, unknown"),
            ("sni", "string", "TLS server name of the connection, when seen"),
            ("method", "category", "HTTP method, upper case"),
            ("url", "string", "full URL as requested"),
            ("path", "string", "URL path"),
            ("query", "string", "URL query string without the `?`"),
            ("http_version", "category", "HTTP/1.0, HTTP/1.1, HTTP/2, HTTP/3, SPDY/3.1; <NA> if unknown"),
            ("request_headers", "object", "list of (name, value) pairs in wire order"),
            ("cookies", "object", "request cookies as a list of (name, value) pairs"),
            ("body", "object", "request body as bytes, content-decoded; None when there is none"),
            ("content_type", "string", "request Content-Type (or HAR postData.mimeType)"),
            ("status", "Int64", "response status code; <NA> when no response was seen"),
            ("response_headers", "object", "list of (name, value) pairs"),
            ("response_body", "object", "response body as bytes, content-decoded; None if absent"),
            ("response_content_type", "string", "response Content-Type (or HAR mimeType)"),
            ("websocket", "boolean", "the request opened a WebSocket"),
            ("page", "string", "page (HAR pageref) the request belongs to"),
            ("decrypted", "boolean", "recovered by the toolkit decrypting TLS (false for HAR)"),
            _EVIDENCE,
        ),
        _table(
            "flows",
            "One row per TCP connection or UDP conversation in a packet capture.",
            ("flow_id", "Int64", "flow number within the capture, from 0"),
            _CAPTURE,
            _SESSION,
            _APP,
            ("uid", "Int64", "Android UID of the app, when the capture says"),
            ("transport", "category", "tcp or udp"),
            ("client", "string", "IP address that opened the flow"),
            ("client_port", "Int64", "client port"),
            ("server_ip", "string", "IP address of the other end"),
            ("server_port", "Int64", "server port"),
            ("ts_start", "datetime64[ns, UTC]", "first packet"),
            ("ts_end", "datetime64[ns, UTC]", "last packet"),
            ("packets_up", "Int64", "packets client to server"),
            ("packets_down", "Int64", "packets server to client"),
            ("bytes_up", "Int64", "payload bytes client to server"),
            ("bytes_down", "Int64", "payload bytes server to client"),
            ("handshake", "boolean", "TCP three-way handshake seen"),
            ("closed", "category", "how a TCP flow ended: fin, rst, or <NA> if still open"),
            ("hostname", "string", "server name of the flow"),
            ("hostname_source", "category", "where hostname came from: sni, quic_sni, dns, http_host"),
            ("registrable_domain", "string", "eTLD+1 of the hostname (filled by classification)"),
            ("organisation", "string", "organisation behind the host (filled by classification)"),
            ("role", "category", "role of the hostname: first_party, platform, third_party, infrastructure, unknown"),
            ("protocol", "category", "dns, tls, quic, http or other"),
            ("tls_version", "category", "negotiated TLS version"),
            ("alpn", "category", "negotiated ALPN protocol"),
            ("decrypted", "boolean", "the toolkit decrypted the flow's TLS"),
            ("not_decrypted_reason", "category", "why not: no key, QUIC, unsupported cipher ..."),
            _EVIDENCE,
        ),
        _table(
            "dns",
            "One row per DNS, mDNS or LLMNR message with its question and answers.",
            ("ts", "datetime64[ns, UTC]", "when the message was seen"),
            _CAPTURE,
            _SESSION,
            _APP,
            ("flow_id", "Int64", "flow that carried it"),
            ("client", "string", "address of the asking host"),
            ("server", "string", "address of the resolver"),
            ("kind", "category", "dns, mdns or llmnr"),
            ("response", "boolean", "true for an answer, false for a query"),
            ("qname", "string", "question name, lower case, no trailing dot"),
            ("registrable_domain", "string", "eTLD+1 of the name asked (filled by classification)"),
            ("organisation", "string", "organisation behind the host (filled by classification)"),
            ("role", "category", "role of the name asked: first_party, platform, third_party, infrastructure, unknown"),
            ("qtype", "category", "question type: A, AAAA, HTTPS, CNAME ..."),
            ("rcode", "category", "response code: NOERROR, NXDOMAIN ...; <NA> for queries"),
            ("answers", "object", "list of answer values (addresses, CNAME targets, SVCB names)"),
            ("cnames", "object", "CNAME chain from qname to the final name"),
            _EVIDENCE,
        ),
        _table(
            "tls",
            "One row per TLS (or QUIC) handshake: what the client offered, what the server chose.",
            ("ts", "datetime64[ns, UTC]", "time of the ClientHello"),
            _CAPTURE,
            _SESSION,
            _APP,
            ("flow_id", "Int64", "flow of the handshake"),
            ("sni", "string", "server_name extension"),
            ("versions_offered", "object", "list of offered versions (incl. supported_versions)"),
            ("version", "category", "version chosen by the server"),
            ("cipher", "category", "cipher suite chosen by the server"),
            ("alpn_offered", "object", "list of ALPN protocols offered"),
            ("alpn", "category", "ALPN protocol chosen"),
            ("ech", "boolean", "Encrypted ClientHello (or ESNI) was used"),
            _EVIDENCE,
        ),
        _table(
            "problems",
            "One row per record the reader skipped or read only in part. Never empty by accident.",
            ("capture", "category", "file the problem is in"),
            ("record", "string", "record inside the file: `entry 12`, `frame 7`, or <NA>"),
            ("kind", "category", "malformed, truncated, unsupported, missing, decode, encrypted (SDK payload)"),
            ("message", "string", "what is wrong and what was done about it"),
            ("severity", "category", "error (record skipped) or warning (record kept in part)"),
        ),
        _table(
            "endpoints",
            "One row per host: who runs it, what it is for, and how much traffic it got.",
            ("host", "string", "host name (or IP literal) as seen"),
            ("registrable_domain", "string", "eTLD+1 from the bundled Public Suffix List"),
            ("organisation", "string", "organisation that owns the domain; <NA> when unknown"),
            ("parent", "string", "parent organisation"),
            ("country", "string", "country of the organisation, when known"),
            ("categories", "object", "list of categories (advertising, analytics, cdn ...)"),
            ("role", "category", "first_party, platform, third_party, infrastructure or unknown"),
            ("source", "string", "the reference list that decided (bundled atlas, Disconnect ...)"),
            ("requests", "Int64", "HTTP requests to the host"),
            ("flows", "Int64", "connections to the host"),
            ("bytes_up", "Int64", "bytes sent to the host"),
            ("bytes_down", "Int64", "bytes received from the host"),
        ),
        _table(
            "leaks",
            "One row per needle (URL, search term, identifier) found in outgoing traffic.",
            ("ts", "datetime64[ns, UTC]", "time of the request"),
            _CAPTURE,
            _SESSION,
            ("kind", "category", "leak, or referer for a Referer header sent to a third party"),
            ("needle_kind", "category", "url, url_part, search_term, host, identifier ..."),
            ("needle", "string", "the value looked for"),
            ("matched_form", "string", "the form that matched, e.g. `sha256(url)`, `query_value`"),
            ("location", "string", "url_path, query:<name>, header:<name>, cookie:<name>, body"),
            ("chain", "string", "decoding chain, e.g. `form:data_list > base64 > gzip > json:[0].properties.url`"),
            ("host", "string", "destination host"),
            ("organisation", "string", "destination organisation"),
            ("role", "category", "destination role"),
            ("severity", "category", " > ".join(SEVERITIES)),
            ("direction", "category", "request (sent by the device), or response (sent back: Set-Cookie, Location)"),
            ("needle_source", "category", "given (browsing log, --id) or inferred (from the capture itself)"),
            _EVIDENCE,
        ),
        _table(
            "datatypes",
            "One row per (request, data type, value): what an SDK sent, recognised without knowing the values. "
            "An SDK payload that cannot be read (encrypted) has no rows here but a `problems` row (kind encrypted).",
            ("ts", "datetime64[ns, UTC]", "time of the request"),
            _CAPTURE,
            _SESSION,
            ("host", "string", "destination host"),
            ("organisation", "string", "destination organisation (filled by classification)"),
            ("role", "category", "destination role"),
            ("sdk", "string", "SDK or endpoint family whose adapter matched the request (toolkit.sdk); <NA> if none"),
            ("field", "string", "where the value is, in chain notation: `body > gzip > json:events[0].device.model`"),
            ("value", "string", "the value as sent"),
            ("datatype", "category", "data type from toolkit.sdk.vocabulary (advertising_id, device_model ...)"),
            ("method", "category", "how it was recognised: adapter, field name, value shape"),
            ("confidence", "Float64", "0.95 adapter, 0.7 field name, 0.5 value shape"),
            _EVIDENCE,
        ),
        _table(
            "identifiers",
            "One row per identifier value seen in a Study, with how far it persists.",
            ("value", "string", "the identifier (masked when the Study asks for it)"),
            ("kind", "category", "known kind (android_id, advertising_id ...) or shape (uuid, hex, token ...)"),
            ("keys", "object", "names under which it travelled (distinct_id, $device_id, query:cid ...)"),
            ("hosts", "object", "hosts that received it"),
            ("organisations", "object", "organisations that received it (hosts nobody knows are left out)"),
            ("sessions", "object", "sessions it appeared in"),
            ("modes", "object", "modes of those sessions (normal, incognito ...)"),
            ("requests", "Int64", "requests that carried it"),
            ("first_seen", "datetime64[ns, UTC]", "first request carrying it"),
            ("last_seen", "datetime64[ns, UTC]", "last request carrying it"),
            ("persistence", "category", "request, session, across_sessions, across_modes"),
            ("matches_known", "string", "the user-given identifier it is, e.g. `ANDROID_ID` or `sha256(ANDROID_ID)`"),
            ("linkable", "boolean", "seen in a private (incognito) session and in a session of another mode"),
            ("evidence", "string", "the first request carrying it (`file#entry=N` ...)"),
        ),
    ]
}


def markdown_reference() -> str:
    """The table reference of the README, generated from :data:`TABLES`.

    >>> markdown_reference().splitlines()[0]
    '### `requests`'
    """
    parts: list[str] = []
    for table in TABLES.values():
        parts.append(f"### `{table.name}`\n\n{table.doc}\n")
        parts.append("| column | dtype | meaning |\n| --- | --- | --- |")
        parts.extend(f"| `{c.name}` | {c.dtype} | {c.doc.replace('|', '/')} |" for c in table.columns)
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"

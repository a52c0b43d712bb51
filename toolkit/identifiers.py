"""Identifiers found without being told the values: what links requests, sessions and modes.

Why one module: finding candidates in a request and judging them across requests and sessions are two
halves of one rule (what counts as an identifier), kept side by side so they stay consistent.

Every request is unwrapped by the leak engine (:func:`toolkit.leaks.unwrap.unwrap_request`) into
located texts: query values, JSON and form fields (also inside base64 and gzip), cookies and
headers. A value is a candidate when it looks like an identifier (a UUID, long hex, a long
base64-like token, a long number that is not a timestamp) or travels under a name that says it is
one (``distinct_id``, ``device_id``, ``android_id``, ``gaid``, ``idfa``, ``imei`` ...). Values that
change on every request are dropped: names of timestamps, nonces and signatures, and any name
whose value differs in each of three or more requests.

>>> import pandas as pd
>>> from toolkit.schema import TABLES
>>> requests = TABLES["requests"].frame({
...     "url": ["https://t.example/c?device_id=3f2a9c1e77b04d18&ts=1588237200", "https://t.example/c?device_id=3f2a9c1e77b04d18&ts=1588237260"],
...     "host": ["t.example", "t.example"],
...     "session": ["normal", "incognito"],
...     "evidence": ["a.har#entry=0", "b.har#entry=0"],
... })
>>> table = discover_identifiers(requests, modes={"normal": "normal", "incognito": "incognito"})
>>> table[["value", "kind", "persistence", "linkable"]].values.tolist()
[['3f2a9c1e77b04d18', 'device_id', 'across_modes', True]]

A value the user knows (the phone's ANDROID_ID) is recognised also when hashed or encoded, by the
leak engine's needle expansion (``matches_known``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import pandas as pd

from toolkit.schema import TABLES

__all__ = [
    "KNOWN_NAMES",
    "NONCE_NAMES",
    "PRIVATE_MODES",
    "Candidate",
    "candidates_in_request",
    "discover_identifiers",
    "identifier_shape",
    "mask",
    "request_candidates",
]

#: Field names (lower case, without leading ``$``/``_``, ``-`` as ``_``) that name an identifier,
#: and the kind they stand for.
KNOWN_NAMES: dict[str, str] = {
    "distinct_id": "distinct_id",
    "anonymous_id": "anonymous_id",
    "anon_id": "anonymous_id",
    "device_id": "device_id",
    "deviceid": "device_id",
    "did": "device_id",
    "udid": "device_id",
    "android_id": "android_id",
    "androidid": "android_id",
    "ssaid": "android_id",
    "gaid": "advertising_id",
    "aaid": "advertising_id",
    "adid": "advertising_id",
    "advertising_id": "advertising_id",
    "advertisingid": "advertising_id",
    "idfa": "advertising_id",
    "oaid": "advertising_id",
    "idfv": "vendor_id",
    "imei": "imei",
    "meid": "imei",
    "imsi": "imsi",
    "mac": "mac_address",
    "mac_address": "mac_address",
    "serial": "serial_number",
    "uuid": "uuid",
    "uid": "user_id",
    "user_id": "user_id",
    "userid": "user_id",
    "client_id": "client_id",
    "clientid": "client_id",
    "cid": "client_id",
    "install_id": "install_id",
    "installation_id": "install_id",
    "instance_id": "install_id",
    "visitor_id": "visitor_id",
    "vid": "visitor_id",
    "guid": "uuid",
    "login_id": "user_id",
    "first_id": "anonymous_id",
    "original_id": "anonymous_id",
}

#: Field names whose values change by design: timestamps, nonces, signatures, checksums.
NONCE_NAMES = frozenset(
    {
        "t",
        "ts",
        "time",
        "timestamp",
        "time_stamp",
        "_",
        "nonce",
        "sign",
        "signature",
        "sig",
        "crc",
        "checksum",
        "hash",
        "rnd",
        "rand",
        "random",
        "r",
        "cb",
        "cachebuster",
        "z",
        "v",
        "ver",
        "version",
        "expires",
        "exp",
        "iat",
        "nbf",
        "date",
        "seq",
        "sequence",
        "event_time",
        "request_id",
        "requestid",
        "req_id",
        "trace_id",
        "traceid",
        "span_id",
        "x_request_id",
        "x_b3_traceid",
        "x_b3_spanid",
        "traceparent",
        "etag",
        "track_id",
        "_track_id",
        "flush_time",
        "event_id",
        "message_id",
        "msg_id",
        "correlation_id",
        "x_correlation_id",
        "csrf",
        "csrftoken",
        "x_csrf_token",
        "state",
        "code_challenge",
    }
)

#: Headers that never carry an identifier of their own (or carry credentials, left alone).
_PLAIN_HEADERS = frozenset(
    {
        "user-agent",
        "accept",
        "accept-language",
        "accept-encoding",
        "accept-charset",
        "content-type",
        "content-length",
        "content-encoding",
        "host",
        "referer",
        "origin",
        "cache-control",
        "pragma",
        "connection",
        "upgrade-insecure-requests",
        "dnt",
        "te",
        "range",
        "x-requested-with",
        "authorization",
        "proxy-authorization",
        "if-none-match",
        "if-modified-since",
        "if-match",
        "if-range",
        "if-unmodified-since",
        "keep-alive",
        "priority",
        "purpose",
        "save-data",
        "via",
        "upgrade",
        "sec-websocket-key",
        "sec-websocket-extensions",
        "sec-websocket-version",
        "x-client-data",
        "date",
        "expect",
        "transfer-encoding",
        "link",
        "last-modified",
    }
)

#: Session modes in which the user expects not to be recognised.
PRIVATE_MODES = frozenset({"incognito", "private", "privacy"})

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX = re.compile(r"(?:[0-9a-f]{16,64}|[0-9A-F]{16,64})")
_NUMBER = re.compile(r"\d{10,20}")
_TOKEN = re.compile(r"[A-Za-z0-9+/_-]{20,200}={0,2}")
_WORDISH = re.compile(r"[A-Za-z]{8,}")
_STRUCTURAL = ("json:", "form:", "multipart:", "xml:", "pb:")
# Epoch times from 2001 to 2100 in seconds, milliseconds, microseconds and nanoseconds.
_EPOCH_RANGES = [(10**9 * f, int(4.1 * 10**9) * f) for f in (1, 10**3, 10**6, 10**9)]


def mask(value: str) -> str:
    """A value shortened for publication: enough to recognise, not enough to reuse.

    >>> mask("0c47d630-7f55-4377-aafd-ccf9486ae5f3")
    '0c47…e5f3'
    >>> mask("12345")
    '1…5'
    """
    keep = 4 if len(value) >= 12 else 1
    return f"{value[:keep]}…{value[-keep:]}"


def _normal_name(name: str) -> str:
    """``$device_id`` → ``device_id``; ``X-Device-Id`` → ``device_id``."""
    normal = name.strip().lower().lstrip("$_").replace("-", "_")
    return normal[2:] if normal.startswith("x_") and len(normal) > 2 else normal


def _is_timestamp(text: str) -> bool:
    if not text.isdigit():
        return False
    number = int(text)
    return any(low <= number < high for low, high in _EPOCH_RANGES)


def identifier_shape(value: str) -> str | None:
    """The shape that makes ``value`` look like an identifier, or ``None``.

    >>> [identifier_shape(v) for v in ["0c47d630-7f55-4377-aafd-ccf9486ae5f3", "8e5fbce04dc91566",
    ...  "1588237200", "1588237200123", "358240051111110", "hello", "AbCdEf0123456789xyzQ"]]
    ['uuid', 'hex', None, None, 'number', None, 'token']
    """
    if _UUID.fullmatch(value):
        return "uuid"
    if _HEX.fullmatch(value) and any(c.isdigit() for c in value) and any(not c.isdigit() for c in value):
        return "hex"
    if _NUMBER.fullmatch(value):
        return None if _is_timestamp(value) or len(set(value)) < 3 else "number"
    if _TOKEN.fullmatch(value):
        classes = (any(c.isupper() for c in value), any(c.islower() for c in value), any(c.isdigit() for c in value))
        if sum(classes) >= 2 and classes[2] and not _WORDISH.search(value):
            return "token"
    return None


@dataclass(frozen=True)
class Candidate:
    """One identifier-like value at one place of one request."""

    value: str
    key: str
    """The name it travelled under: a JSON key, form or query name, cookie or header name."""
    location: str
    """``query:cid``, ``cookie:_ga``, ``header:x-device-id``, ``body``, ``url_path``."""
    chain: str
    """How it was reached from the location (``form:data_list > base64 > gzip > json:[0].distinct_id``)."""
    kind: str
    """Kind from the name (:data:`KNOWN_NAMES`) or the shape (uuid, hex, number, token)."""
    named: bool = field(default=False)
    """The name says it is an identifier."""


def _key_of(location: str, chain: tuple[str, ...]) -> str:
    for step in reversed(chain):
        if step.startswith(_STRUCTURAL):
            label = step.split(":", 1)[1]
            if step.startswith("json:"):
                names = [p.rstrip("]").strip('"') for p in re.split(r"[.\[]", label)]
                label = next((n for n in reversed(names) if n and not n.isdigit()), "json")
            elif step.startswith("pb:"):
                label = "pb:" + label
            return label[:64]
    return (location.split(":", 1)[1] if ":" in location else location)[:64]


def _text(data: bytes) -> str | None:
    if len(data) > 512 or not data:
        return None
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None
    if "%" in text:
        text = unquote(text)
    return text if text and text.isprintable() else None


def _judge(value: str, key: str, location: str) -> tuple[str, bool] | None:
    name = _normal_name(key)
    if name in NONCE_NAMES or _is_timestamp(value):
        return None
    if location.startswith("header:") and location[7:] in _PLAIN_HEADERS:
        return None
    if location == "url_path":
        return ("uuid", False) if _UUID.fullmatch(value) else None
    shape = identifier_shape(value)
    known = KNOWN_NAMES.get(name)
    if known is not None:
        plausible = len(value) >= 6 and any(c.isdigit() for c in value) and " " not in value
        if plausible and len(set(value)) > 2 and len(value) <= 200:
            return known, True
        return None
    return (shape, False) if shape else None


def candidates_in_request(
    url: str | None,
    headers: Any = None,
    body: bytes | None = None,
    content_type: str | None = None,
    cookies: Any = None,
) -> list[Candidate]:
    """Identifier-like values of one request, each once per place.

    >>> [(c.key, c.value, c.kind) for c in candidates_in_request("https://a.example/p?gaid=38400000-8cf0-11bd-b23e-10b96e40000d&page=2")]
    [('gaid', '38400000-8cf0-11bd-b23e-10b96e40000d', 'advertising_id')]
    """
    from toolkit.datatypes import adapter_datatype
    from toolkit.leaks.unwrap import Limits, unwrap_request
    from toolkit.sdk import identify
    from toolkit.sdk.vocabulary import IDENTIFIER_TYPES

    try:
        parts = urlsplit(url or "")
        sdk = identify(parts.hostname, parts.path, parts.query)
    except ValueError:
        sdk = None
    limits = Limits(max_layers=4, max_decoded_bytes=8 * 1024 * 1024, max_texts=4000)
    out: dict[tuple[str, str, str], Candidate] = {}

    def consider(location: str, chain: tuple[str, ...], data: bytes) -> None:
        if location == "query_name" or (chain and chain[-1].endswith("{key}")):
            return
        text = _text(data)
        if text is None:
            return
        key = _key_of(location, chain)
        judged = _judge(text, key, location)
        known_name = _normal_name(key) in KNOWN_NAMES  # judged by its name already
        if sdk is not None and not known_name and (judged is None or not judged[1]):  # an SDK's documented id field
            named_as = adapter_datatype(sdk, location, chain, text)
            if named_as in IDENTIFIER_TYPES and not _is_timestamp(text):
                judged = (str(named_as), True)
        if judged is None:
            return
        steps = " > ".join(chain)
        out.setdefault((text, location, steps), Candidate(text, key, location, steps, judged[0], judged[1]))

    def leaves(texts: Iterable[Any]) -> Iterator[tuple[str, tuple[str, ...], bytes]]:
        for text in texts:  # lazy JSON steps (``json:@3``) are resolved into their JSON paths
            if text.parts is not None:
                for part in text.parts():
                    yield part.location, tuple(text.resolve(step) for step in part.chain), part.data
            elif text.location != "url_path" or text.chain:
                yield text.location, tuple(text.resolve(step) for step in text.chain), text.data

    texts = unwrap_request(
        url=url,
        headers=headers,
        body=body,
        content_type=content_type,
        cookies=cookies,
        limits=limits,
        on_problem=lambda message: None,
    )
    for location, chain, data in leaves(texts):
        consider(location, chain, data)
    return list(out.values())


#: Columns of a ``requests`` row that :func:`candidates_in_request` unwraps.
_REQUEST_PARTS = ("url", "request_headers", "body", "content_type", "cookies")
#: Columns of a ``requests`` row that :func:`discover_identifiers` reads besides the candidates.
_ROW_FACTS = ("session", "capture", "host", "evidence", "ts")


def _records(requests: pd.DataFrame, names: Sequence[str]) -> list[dict[str, Any]]:
    """The rows of ``requests`` as dicts of only the columns ``names`` that it has."""
    present = [name for name in names if name in requests.columns]
    if not present:
        return [{} for _ in range(len(requests))]
    return requests[present].to_dict("records")


def request_candidates(requests: pd.DataFrame) -> list[list[Candidate]]:
    """The candidates of every row of a ``requests`` table, in row order.

    This is the per-request half of :func:`discover_identifiers` (it unwraps every request, and
    takes most of the time); a Study runs it per capture in its worker processes and passes the
    lists on (``candidates=``).

    >>> from toolkit.schema import TABLES
    >>> requests = TABLES["requests"].frame({"url": ["https://t.example/c?device_id=3f2a9c1e77b04d18", "https://t.example/"]})
    >>> [[(c.key, c.value) for c in found] for found in request_candidates(requests)]
    [[('device_id', '3f2a9c1e77b04d18')], []]
    """
    return [
        candidates_in_request(*(_value(row, name) for name in _REQUEST_PARTS))
        for row in _records(requests, _REQUEST_PARTS)
    ]


def _value(row: Mapping[str, Any], name: str) -> Any:
    value = row.get(name)
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return value


def _known_matcher(known: Mapping[str, str]) -> Any:
    """The leak engine's needle index over the known identifiers (hashes, encodings included)."""
    if not known:
        return None
    from toolkit.leaks.detect import NeedleIndex
    from toolkit.leaks.needles import identifier_needles

    needles = [n for name, value in known.items() for n in identifier_needles(name, value)]
    return NeedleIndex(needles)


def _persistence(requests: int, sessions: set[str], modes: set[str]) -> str:
    if len(modes) >= 2:
        return "across_modes"
    if len(sessions) >= 2:
        return "across_sessions"
    return "session" if requests >= 2 else "request"


def discover_identifiers(
    requests: pd.DataFrame,
    *,
    known: Mapping[str, str] | None = None,
    modes: Mapping[str, str] | None = None,
    organisations: Mapping[str, str] | None = None,
    masked: bool = False,
    min_requests: int = 2,
    leaks: pd.DataFrame | None = None,
    candidates: Sequence[Sequence[Candidate]] | None = None,
) -> pd.DataFrame:
    """The ``identifiers`` table of a ``requests`` table (one capture, or a Study's sessions).

    Args:
        requests: a ``requests`` table; its ``session`` column groups requests into sessions.
        known: identifiers the user knows, ``{"ANDROID_ID": "8e5f..."}``, matched also hashed or
            encoded (the leak engine's needle forms).
        modes: session name → mode (``normal``, ``incognito``); a session without one counts
            towards persistence across sessions, not across modes.
        organisations: host → organisation, for the ``organisations`` column.
        masked: shorten values with :func:`mask` (for publication).
        min_requests: a value seen in fewer requests is kept only when its name says it is an
            identifier, it is a UUID, or it matches a known identifier.
        leaks: the ``leaks`` table of the same requests: a known identifier the leak engine found
            where discovery did not look (inside free text, a URL path) gets a row of its own.
        candidates: the candidates of each request, in row order, as :func:`request_candidates`
            gives them (a Study finds them per capture, in parallel); ``None`` finds them here.

    Raises:
        ValueError: ``candidates`` does not have one entry per request.
    """
    if candidates is None:
        candidates = request_candidates(requests)
    elif len(candidates) != len(requests):
        raise ValueError(f"candidates for {len(candidates)} requests, but the table has {len(requests)} rows")
    modes = dict(modes or {})
    organisations = dict(organisations or {})
    matcher = _known_matcher(dict(known or {}))
    found, by_name = _gather(requests, candidates)
    nonce_names = _nonce_names(by_name)
    columns: dict[str, list[Any]] = {name: [] for name in TABLES["identifiers"].names}
    for value, entry in found.items():
        names = {_normal_name(k.split(":", 1)[-1]) for k in entry["keys"]}
        if names and names <= nonce_names:
            continue
        match = _match_known(matcher, value)
        kind = match[1] if match else _main_kind(entry["kinds"])
        if len(entry["rows"]) < min_requests and not (entry["named"] or kind == "uuid" or match):
            continue
        _append_identifier(columns, value, entry, kind, match, modes, organisations, masked)
    if leaks is not None and len(leaks):
        _add_known_from_leaks(columns, leaks, modes, organisations, masked)
    table = TABLES["identifiers"].frame(columns)
    table = table.sort_values("requests", ascending=False, kind="stable").reset_index(drop=True)
    return TABLES["identifiers"].validate(table)


def _gather(
    requests: pd.DataFrame, candidates: Sequence[Sequence[Candidate]]
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, list[str]]]]:
    """Each candidate value with where it was seen (kinds, keys, hosts, sessions, request rows,
    times, first evidence), and the values of each normalised name, by session."""
    found: dict[str, dict[str, Any]] = {}
    by_name: dict[str, dict[str, list[str]]] = {}
    for position, (row, in_request) in enumerate(zip(_records(requests, _ROW_FACTS), candidates, strict=True)):
        session = str(_value(row, "session") or _value(row, "capture") or "capture")
        host = _value(row, "host")
        evidence = _value(row, "evidence") or f"requests#row={position}"
        seen_here: set[str] = set()
        for candidate in in_request:
            name = _normal_name(candidate.key)
            by_name.setdefault(name, {}).setdefault(session, []).append(candidate.value)
            entry = found.setdefault(
                candidate.value,
                {
                    "kinds": [],
                    "named": False,
                    "keys": [],
                    "hosts": [],
                    "sessions": [],
                    "rows": set(),
                    "ts": [],
                    "evidence": evidence,
                },
            )
            entry["kinds"].append(candidate.kind)
            entry["named"] |= candidate.named
            key_label = candidate.location if not candidate.chain and ":" in candidate.location else candidate.key
            if key_label not in entry["keys"]:
                entry["keys"].append(key_label)
            if host and host not in entry["hosts"]:
                entry["hosts"].append(host)
            if session not in entry["sessions"]:
                entry["sessions"].append(session)
            if candidate.value not in seen_here:
                seen_here.add(candidate.value)
                entry["rows"].add(position)
                ts = _value(row, "ts")
                if ts is not None:
                    entry["ts"].append(ts)
    return found, by_name


def _nonce_names(by_name: Mapping[str, Mapping[str, list[str]]]) -> set[str]:
    """Names (not known identifier names) that carry a new value in every request of a session
    with three or more: nonces, not identifiers."""
    return {
        name
        for name, per_session in by_name.items()
        if name not in KNOWN_NAMES
        and any(len(values) >= 3 and len(set(values)) == len(values) for values in per_session.values())
    }


def _append_identifier(
    columns: dict[str, list[Any]],
    value: str,
    entry: Mapping[str, Any],
    kind: str,
    match: tuple[str, str] | None,
    modes: Mapping[str, str],
    organisations: Mapping[str, str],
    masked: bool,
) -> None:
    """Append one row of the ``identifiers`` table for ``value``, seen as ``entry`` says."""
    requests_count = len(entry["rows"])
    sessions = entry["sessions"]
    session_modes = [modes[s] for s in sessions if modes.get(s)]
    mode_set = set(session_modes)
    private = {m for m in mode_set if m in PRIVATE_MODES}
    columns["value"].append(mask(value) if masked else value)
    columns["kind"].append(kind)
    columns["keys"].append(entry["keys"])
    columns["hosts"].append(entry["hosts"])
    columns["organisations"].append(list(dict.fromkeys(o for h in entry["hosts"] if (o := organisations.get(h)))))
    columns["sessions"].append(sessions)
    columns["modes"].append(list(dict.fromkeys(session_modes)))
    columns["requests"].append(requests_count)
    columns["first_seen"].append(min(entry["ts"]) if entry["ts"] else None)
    columns["last_seen"].append(max(entry["ts"]) if entry["ts"] else None)
    columns["persistence"].append(_persistence(requests_count, set(sessions), mode_set))
    columns["matches_known"].append(match[0] if match else None)
    columns["linkable"].append(bool(private) and len(mode_set - private) > 0)
    columns["evidence"].append(entry["evidence"])


def _add_known_from_leaks(
    columns: dict[str, list[Any]],
    leaks: pd.DataFrame,
    modes: Mapping[str, str],
    organisations: Mapping[str, str],
    masked: bool,
) -> None:
    """Rows for known identifiers found by the leak engine but not by discovery."""
    from toolkit.leaks.direction import sent_by_device

    covered = {re.sub(r"^.*\(|\).*$", "", str(m)) for m in columns["matches_known"] if m}
    leaks = sent_by_device(leaks)  # an identifier a server sets is not one the device sends
    found = leaks[leaks["needle_kind"].astype(object) == "identifier"]
    for needle, group in found.groupby("needle", sort=False):
        forms = list(dict.fromkeys(group["matched_form"].astype(object)))
        names = {re.sub(r"^.*\(|\).*$", "", str(f)) for f in forms}
        if names & covered:
            continue
        sessions = list(dict.fromkeys(str(s) for s in group["session"].astype(object) if isinstance(s, str)))
        session_modes = [modes[s] for s in sessions if modes.get(s)]
        mode_set = set(session_modes)
        private = {m for m in mode_set if m in PRIVATE_MODES}
        hosts = list(dict.fromkeys(h for h in group["host"].astype(object) if isinstance(h, str)))
        times = [t for t in group["ts"] if t is not None and t is not pd.NA and t == t]
        count = group["evidence"].nunique()
        columns["value"].append(mask(str(needle)) if masked else str(needle))
        columns["kind"].append(sorted(names)[0].lower())
        columns["keys"].append(list(dict.fromkeys(group["location"].astype(object))))
        columns["hosts"].append(hosts)
        columns["organisations"].append(list(dict.fromkeys(o for h in hosts if (o := organisations.get(h)))))
        columns["sessions"].append(sessions)
        columns["modes"].append(list(dict.fromkeys(session_modes)))
        columns["requests"].append(int(count))
        columns["first_seen"].append(min(times) if times else None)
        columns["last_seen"].append(max(times) if times else None)
        columns["persistence"].append(_persistence(int(count), set(sessions), mode_set))
        columns["matches_known"].append(forms[0])
        columns["linkable"].append(bool(private) and len(mode_set - private) > 0)
        columns["evidence"].append(group["evidence"].iloc[0])


def _main_kind(kinds: list[str]) -> str:
    named = [k for k in kinds if k not in ("uuid", "hex", "number", "token")]
    return max(set(named or kinds), key=(named or kinds).count)


def _match_known(matcher: Any, value: str) -> tuple[str, str] | None:
    """``(matched form, kind)`` when ``value`` is, or contains, a known identifier in some form."""
    if matcher is None:
        return None
    patterns = matcher.find(value.encode("utf-8"))
    if not patterns:
        return None
    best = min(patterns, key=lambda p: len(p.transforms))
    return best.matched_form, best.needle.form.lower()

"""The ground truth of a lab session: what its capture must show, as plain JSON-ready data.

Later features test against it: the visited URLs (as typed, as requested, as the SDK reports them),
every request with its host's role and its connection, every telemetry post with its decoded
events, the identifiers, the hosts, connections and DNS queries, counts, and the leaks a detector
should report. Nothing in it depends on TLS randomness, so it is the same for every run with the
same seed.

>>> from toolkit.lab.exchange import Exchange, Request
>>> beacon = Exchange(Request("GET", "tag.example-ads.com", "/collect?v=1&cid=555.1588237200"), 200, [], b"",
...                   "HTTP/1.1", [("Referer", "https://a.example/")], 0, 0, 0, "203.0.113.30")
>>> [(leak["kind"], leak["chain"]) for leak in expected_leaks([RequestRecord(beacon, "beacon", "page_1")], [])]
[('visited_url', 'header:referer'), ('ad_tag_client_id', 'query:cid')]
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlsplit

from toolkit.lab.browser import RequestRecord
from toolkit.lab.scenario import (
    AD_TAG_CLIENT_ID,
    CLIENT_IPV4,
    CLIENT_IPV6,
    COLLECTOR,
    HOSTS,
    RESOLVER_IPV4,
    Device,
    Scenario,
    Visit,
)
from toolkit.lab.session import Session

__all__ = ["expected_leaks", "ground_truth"]


def _utc(ts_us: int) -> str:
    return datetime.fromtimestamp(ts_us / 1_000_000, tz=UTC).isoformat(timespec="microseconds")


def expected_leaks(records: list[RequestRecord], visits: Sequence[Visit]) -> list[dict[str, Any]]:
    """What a leak detector should find: each needle (visited URL, search term, identifier), the
    request (index into ``requests``) and host it went to, and where in the request (its chain)."""
    leaks: list[dict[str, Any]] = []
    for index, record in enumerate(records):
        if record.purpose == "telemetry":
            for position, event in enumerate(record.events):
                properties = event["properties"]
                base = f"{_field('form', 'data_list', _form_value(record.exchange.request.body, 'data_list'))}"
                base += f" > base64 > gzip > json:[{position}]"
                found = [
                    ("visited_url", properties.get("url"), f"{base}.properties.url"),
                    ("search_term", properties.get("search_word"), f"{base}.properties.search_word"),
                    ("android_id", properties.get("$device_id"), f"{base}.properties.$device_id"),
                    ("distinct_id", event.get("distinct_id"), f"{base}.distinct_id"),
                ]
                leaks += [
                    {
                        "request": index,
                        "kind": kind,
                        "value": value,
                        "host": record.exchange.request.host,
                        "role": "telemetry",
                        "chain": chain,
                    }
                    for kind, value, chain in found
                    if value is not None
                ]
            continue
        request = record.exchange.request
        host = HOSTS[request.host]
        if host.role == "first_party":
            continue
        referer = next((v for n, v in record.exchange.wire_request_headers if n.lower() == "referer"), None)
        if referer:
            leaks.append(
                {
                    "request": index,
                    "kind": "visited_url",
                    "value": referer,
                    "host": request.host,
                    "role": host.role,
                    "chain": "header:referer",
                }
            )
        for visit in visits:
            if "dl=" in request.path and visit.wire_url in _query_values(request.path):
                leaks.append(
                    {
                        "request": index,
                        "kind": "visited_url",
                        "value": visit.wire_url,
                        "host": request.host,
                        "role": host.role,
                        "chain": _field("query", "dl", _raw_query_value(request.path, "dl")),
                    }
                )
        if AD_TAG_CLIENT_ID in _query_values(request.path):
            leaks.append(
                {
                    "request": index,
                    "kind": "ad_tag_client_id",
                    "value": AD_TAG_CLIENT_ID,
                    "host": request.host,
                    "role": host.role,
                    "chain": _field("query", "cid", _raw_query_value(request.path, "cid")),
                }
            )
    return leaks


def _field(kind: str, name: str, raw: str | None) -> str:
    """``form:name`` or ``query:name``, with ``> urldecode`` when the value as sent is percent-encoded
    (the leak engine names that step, as issue 7's chains do).

    >>> _field("query", "dl", "https%3A%2F%2Fa.example%2F"), _field("query", "cid", "555.1")
    ('query:dl > urldecode', 'query:cid')
    """
    encoded = raw is not None and unquote_plus(raw) != raw
    return f"{kind}:{name}" + (" > urldecode" if encoded else "")


def _raw_query_value(path: str, name: str) -> str | None:
    for part in urlsplit(path).query.split("&"):
        key, _, value = part.partition("=")
        if key == name:
            return value
    return None


def _form_value(body: bytes, name: str) -> str | None:
    for part in body.decode("ascii", "replace").split("&"):
        key, _, value = part.partition("=")
        if key == name:
            return value
    return None


def _query_values(path: str) -> list[str]:
    return [value for _name, value in parse_qsl(urlsplit(path).query)]


def ground_truth(
    scenario: Scenario,
    seed: int,
    device: Device,
    session: Session,
    records: list[RequestRecord],
    visits: Sequence[Visit],
    generator: str,
) -> dict[str, Any]:
    """Everything the capture must show, independent of TLS randomness (see the module docstring)."""
    requests = _requests_truth(records)
    telemetry = _telemetry_truth(records)
    return {
        "scenario": scenario.name,
        "description": scenario.description,
        "seed": seed,
        "generator": generator,
        "command": f"python -m toolkit lab --out data/lab --scenario {scenario.name} --seed {seed}",
        "app": {
            "name": "Mint Browser",
            "package": "com.mi.globalbrowser.mini",
            "version": scenario.app_version,
            "incognito": scenario.incognito,
            "sends_page_events": scenario.sends_page_events,
        },
        "start": _utc(scenario.start_us),
        "device": {
            "manufacturer": device.manufacturer,
            "model": device.model,
            "android": device.os_version,
            "client_ip": CLIENT_IPV4,
            "client_ipv6": CLIENT_IPV6,
            "resolver_ip": RESOLVER_IPV4,
        },
        "identifiers": {
            "android_id": device.android_id,
            "distinct_id": device.distinct_id,
            "ad_tag_client_id": AD_TAG_CLIENT_ID,
            "note": "android_id and distinct_id derive from the seed only: the same in every scenario run with "
            "this seed, as on a real phone where ANDROID_ID survives clearing app data and the SDK's id "
            "never rotated; ad_tag_client_id is fixed and goes to tag.example-ads.com as `cid`",
        },
        "collector": COLLECTOR,
        "hosts": _hosts_truth(session),
        "visits": [
            {
                "page": f"page_{n}",
                "url": v.url,
                "wire_url": v.wire_url,
                "reported_url": v.page_url,
                "fragment": urlsplit(v.url).fragment or None,
                "title": v.title,
                "search_word": v.search_word,
            }
            for n, v in enumerate(visits, start=1)
        ],
        "requests": requests,
        "telemetry": telemetry,
        "expected_leaks": expected_leaks(records, visits),
        "connections": _connections_truth(session),
        "dns": [
            {"name": q.name, "qtype": q.qtype, "answers": q.answers, "ts": _utc(q.ts_us)} for q in session.dns_queries
        ],
        "counts": _counts(records, session, telemetry),
    }


def _requests_truth(records: list[RequestRecord]) -> list[dict[str, Any]]:
    """Each request as the lab sent it (its wire URL, HTTP version, connection, sizes)."""
    requests = []
    for index, record in enumerate(records):
        exchange = record.exchange
        referer = next((v for n, v in exchange.wire_request_headers if n.lower() == "referer"), None)
        requests.append(
            {
                "index": index,
                "ts": _utc(exchange.started_us),
                "method": exchange.request.method,
                "url": exchange.request.url,
                "host": exchange.request.host,
                "role": HOSTS[exchange.request.host].role,
                "purpose": record.purpose,
                "page": record.pageref,
                "http_version": exchange.http_version,
                "connection": exchange.connection,
                "stream_id": exchange.stream_id,
                "referer": referer,
                "status": exchange.response_status,
                "request_body_size": len(exchange.request.body),
                "response_body_size": len(exchange.response_body),
            }
        )
    return requests


def _telemetry_truth(records: list[RequestRecord]) -> list[dict[str, Any]]:
    """Each telemetry request with its body and the events it carries."""
    return [
        {
            "request": index,
            "ts": _utc(r.exchange.started_us),
            "url": r.exchange.request.url,
            "body": r.exchange.request.body.decode("ascii"),
            "events": r.events,
        }
        for index, r in enumerate(records)
        if r.purpose == "telemetry"
    ]


def _hosts_truth(session: Session) -> list[dict[str, Any]]:
    """Each host the session contacted, in the order of :data:`HOSTS`."""
    contacted = sorted({c.host for c in session.connections}, key=list(HOSTS).index)
    return [
        {
            "host": h.name,
            "ipv4": h.ipv4,
            "ipv6": h.ipv6,
            "connected_to": h.address,
            "role": h.role,
            "owner": h.owner,
            "tls_version": f"TLSv{h.tls_version}",
            "alpn": h.alpn,
        }
        for h in (HOSTS[name] for name in contacted)
    ]


def _connections_truth(session: Session) -> list[dict[str, Any]]:
    """Each TCP/TLS connection of the session."""
    return [
        {
            "index": c.index,
            "host": c.host,
            "sni": c.host,
            "server_ip": c.server_ip,
            "server_port": 443,
            "client_ip": c.client_ip,
            "client_port": c.client_port,
            "tls_version": c.tls_version,
            "alpn": c.alpn,
            "cipher": c.cipher,
            "requests": c.requests,
        }
        for c in session.connections
    ]


def _counts(records: list[RequestRecord], session: Session, telemetry: list[dict[str, Any]]) -> dict[str, int]:
    """The totals a reader of the capture must find."""
    by_version = {v: sum(r.exchange.http_version == v for r in records) for v in ("HTTP/1.1", "HTTP/2")}
    events = [event for record in records for event in record.events]
    return {
        "requests": len(records),
        "http1_requests": by_version["HTTP/1.1"],
        "http2_requests": by_version["HTTP/2"],
        "tcp_connections": len(session.connections),
        "tls12_connections": sum(c.tls_version == "TLSv1.2" for c in session.connections),
        "tls13_connections": sum(c.tls_version == "TLSv1.3" for c in session.connections),
        "dns_queries": len(session.dns_queries),
        "telemetry_requests": len(telemetry),
        "telemetry_events": len(events),
        "page_events": sum(e["event"].startswith("page_load") for e in events),
        "search_events": sum(e["event"] == "search" for e in events),
    }

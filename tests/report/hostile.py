"""Tables whose every captured field is an attack on the report: HTML, script, links, Markdown."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from toolkit.capture import Provenance
from toolkit.schema import TABLES

#: Values a hostile page, app or server can put in a URL, a header, a body or a host name.
PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "javascript:alert(3)",
    "[click](http://evil.example/phish)",
    "a|b|c",
    "`code` **bold** <b>x</b>",
    "' onmouseover='alert(4)",
    "<style>body{background:url(http://evil.example/t.png)}</style>",
    "&lt;entity&gt;",
    "$\\frac{1}{2}$",
]
#: Strings that must never appear inside a tag or an attribute of the rendered report.
MARKERS = ["alert(", "evil.example", "onerror", "onmouseover", "javascript:", "<script", "<style>body"]

ANDROID_ID = "8e5fbce04dc91566"
DISTINCT_ID = "0c47d630-7f55-4377-aafd-ccf9486ae5f3"


def _cycle(n: int, offset: int = 0) -> list[str]:
    return [PAYLOADS[(i + offset) % len(PAYLOADS)] for i in range(n)]


def hostile_tables() -> dict[str, pd.DataFrame]:
    n = len(PAYLOADS)
    ts = pd.date_range("2020-04-30T09:00:00Z", periods=n, freq="s")
    sessions = ["normal" if i % 2 else "<b>incognito</b>" for i in range(n)]
    requests = TABLES["requests"].frame(
        {
            "ts": ts,
            "session": sessions,
            "capture": ["x.har"] * n,
            "host": [f"h{i}.example" if i % 3 else p for i, p in enumerate(_cycle(n))],
            "method": ["GET"] * n,
            "url": [f"https://t.example/c?aid={ANDROID_ID}&v={p}" for p in _cycle(n)],
            "request_headers": [[("Referer", p), ("X-Id", DISTINCT_ID)] for p in _cycle(n, 1)],
            "body": [p.encode() for p in _cycle(n, 2)],
            "status": [200] * n,
            "evidence": [f"x.har#entry={i}" for i in range(n)],
        }
    )
    leaks = TABLES["leaks"].frame(
        {
            "ts": ts,
            "session": sessions,
            "capture": ["x.har"] * n,
            "kind": ["leak" if i % 4 else "referer" for i in range(n)],
            "needle_kind": ["identifier" if i % 5 == 0 else "url" for i in range(n)],
            "needle": [ANDROID_ID if i % 5 == 0 else f"https://site.example/?q={p}" for i, p in enumerate(_cycle(n))],
            "matched_form": _cycle(n, 3),
            "location": [f"header:{p}" for p in _cycle(n, 4)],
            "chain": [f"form:{p} > base64 > gzip" for p in _cycle(n, 5)],
            "host": _cycle(n, 6),
            "organisation": _cycle(n, 7),
            "role": ["third_party"] * n,
            "severity": ["identifier" if i % 5 == 0 else "full_url" for i in range(n)],
            "evidence": [f"x.har#entry={i}; {p}" for i, p in enumerate(_cycle(n, 8))],
        }
    )
    endpoints = TABLES["endpoints"].frame(
        {
            "host": _cycle(n),
            "registrable_domain": _cycle(n, 1),
            "organisation": _cycle(n, 2),
            "categories": [[p, "analytics"] for p in _cycle(n, 3)],
            "role": ["third_party"] * n,
            "source": _cycle(n, 4),
            "requests": list(range(n)),
            "bytes_up": [100 * (i + 1) for i in range(n)],
            "bytes_down": [50 * (i + 1) for i in range(n)],
        }
    )
    identifiers = TABLES["identifiers"].frame(
        {
            "value": [ANDROID_ID, DISTINCT_ID],
            "kind": ["android_id", "distinct_id"],
            "keys": [["$device_id", PAYLOADS[0]], ["distinct_id"]],
            "hosts": [[PAYLOADS[1]], ["sa.api.intl.miui.com"]],
            "sessions": [["normal", "<b>incognito</b>"], ["normal"]],
            "persistence": ["across_modes", "session"],
        }
    )
    flows = TABLES["flows"].frame(
        {
            "app": [PAYLOADS[0], "com.mi.globalbrowser.mini"],
            "hostname": [PAYLOADS[1], "sa.api.intl.miui.com"],
            "protocol": ["tls", "tls"],
            "decrypted": [False, True],
            "not_decrypted_reason": [PAYLOADS[2], None],
            "bytes_up": [10, 20],
            "bytes_down": [30, 40],
        }
    )
    problems = TABLES["problems"].frame(
        {
            "capture": ["x.har"],
            "record": [PAYLOADS[3]],
            "kind": ["malformed"],
            "message": [PAYLOADS[1]],
            "severity": ["error"],
        }
    )
    claims = pd.DataFrame(
        {
            "claim": PAYLOADS[:3],
            "quote": PAYLOADS[3:6],
            "verdict": ["false", "true", "unverified"],
            "reason": PAYLOADS[6:9],
            "evidence": [[p] for p in PAYLOADS[:3]],
        }
    )
    return {
        "requests": requests,
        "leaks": leaks,
        "endpoints": endpoints,
        "identifiers": identifiers,
        "flows": flows,
        "problems": problems,
        "claims": claims,
    }


def hostile_provenance() -> list[Provenance]:
    base = Provenance(
        path="/data/x.har",
        size=10,
        sha256="ab" * 32,
        format="har",
        compression=None,
        tool=PAYLOADS[0],
        toolkit_version="0.1.0",
    )
    return [base, replace(base, path=f"/data/{PAYLOADS[1]}.har", tool=PAYLOADS[3])]

"""Benchmark: ``toolkit.load`` of a large HAR against plain ``json.load`` of the same file (issue 2).

Run ``.venv/bin/python bench/bench_har.py`` (or ``make bench``); about a minute. It writes a
deterministic, Chrome-like HAR (20,000 entries, about 64 MB, a few MB of text and base64 bodies)
into ``bench/out/`` once, reusing it while the generator is unchanged, then measures four jobs,
each run in a fresh subprocess so that its peak memory is its own, interleaved and repeated:

* ``json.load``: the reference, the plainest way to get at the data at all;
* ``json.load, gc off``: the same without the cyclic garbage collector (for the record: the floor);
* ``json.load + DataFrame``: ``json.load``, one tuple per entry, ``pandas.DataFrame`` (the reader
  one would write by hand: a second reference);
* ``toolkit.load``: the toolkit's streaming HAR reader, producing the full ``requests`` table.

Seconds are wall-clock (CPU seconds are reported beside them: the machine is shared). Peak memory
is ``ru_maxrss`` after the job minus ``ru_maxrss`` after the imports, both in the job's process;
the raw value is kept too. Medians go to the terminal and to ``bench/out/har.json``. The goal of
issue 2 is ``toolkit.load / json.load`` of at most 2 in both time and peak memory.

With ``--gb 1`` it measures instead ``toolkit.load``'s peak memory on a HAR of about 1 GB (issue 10:
memory bounded by the output tables plus a fixed buffer): the benchmark HAR's pages and entries are
repeated, each copy later in time by the file's span and with its own page ids, into
``bench/out/`` (deleted afterwards); ``toolkit.load`` reads the base file and the big one, each in
a fresh process, which reports its peak memory above its baseline beside the size of the tables it
returned; the same again with ``classify=False`` (the HAR reader alone, without the endpoint
classification that ``load`` runs by default). Figures go to ``bench/out/har_memory.json``.
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import math
import os
import platform
import random
import re
import resource
import statistics
import subprocess
import sys
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
# Bump when the generator changes, so a stale file is not reused.
GENERATOR_VERSION = 1
ENTRIES = 20_000
SEED = 2020_04_30

JOBS = ("json.load", "json.load, gc off", "json.load + DataFrame", "toolkit.load")


# -- the HAR ---------------------------------------------------------------------------------------

_UA = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"
_SITES = [
    "www.example-news.com",
    "www.example-shop.de",
    "search.example.org",
    "video.example.net",
    "blog.example.io",
    "mail.example.com",
    "www.example-bank.fr",
    "maps.example.org",
]
_THIRD_PARTIES = [
    ("www.google-analytics.com", "/g/collect"),
    ("stats.g.doubleclick.net", "/j/collect"),
    ("connect.facebook.net", "/signals/config/123456789"),
    ("sa.api.intl.miui.com", "/sa"),
    ("bat.bing.com", "/action/0"),
    ("px.ads.linkedin.com", "/collect"),
    ("securepubads.g.doubleclick.net", "/gampad/ads"),
    ("tracking.example-cdp.com", "/v1/track"),
]
_CDNS = ["cdn.jsdelivr.net", "fonts.gstatic.com", "static.example-cdn.net", "img.example-cdn.net"]
_WORDS = [
    "privacy",
    "browser",
    "incognito",
    "mode",
    "url",
    "telemetry",
    "analytics",
    "collector",
    "identifier",
    "session",
    "device",
    "android",
    "vendor",
    "report",
    "cookie",
    "consent",
    "tracker",
    "pixel",
    "beacon",
    "request",
    "response",
]


def _token(rng: random.Random, n: int) -> str:
    return "".join(rng.choices("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", k=n))


def _text(rng: random.Random, n_words: int) -> str:
    return " ".join(rng.choices(_WORDS, k=n_words))


def _pairs(items: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in items]


class _Session:
    """A made-up browsing session: its cookies, identifiers and clock; makes one entry at a time."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.client_id = f"{rng.randrange(10**9)}.{rng.randrange(10**9)}"
        self.device_id = _token(rng, 32)
        self.cookies = {
            site: [(f"c_{_token(rng, 4)}", _token(rng, rng.choice((8, 24, 48)))) for _ in range(rng.randint(1, 5))]
            for site in _SITES + [t[0] for t in _THIRD_PARTIES]
        }
        self.start = datetime(2024, 3, 14, 9, 0, tzinfo=UTC)

    def entry(self, index: int, page: int, site: str) -> dict[str, Any]:
        rng = self.rng
        kind = rng.choices(
            ["document", "script", "stylesheet", "image", "xhr", "fetch", "font", "ping", "other"],
            [3, 18, 6, 35, 16, 10, 3, 6, 3],
        )[0]
        scheme = "https" if rng.random() > 0.03 else "http"
        method = "GET"
        path = f"/{'/'.join(rng.choices(_WORDS, k=rng.randint(1, 4)))}"
        query: list[tuple[str, str]] = []
        post: dict[str, Any] | None = None
        if kind == "document":
            host = site
            query = [("q", _text(rng, 3)), ("ref", "home")] if rng.random() < 0.3 else []
        elif kind in ("script", "stylesheet", "font", "image"):
            host = rng.choice([*_CDNS, site])
            ext = {
                "script": ".js",
                "stylesheet": ".css",
                "font": ".woff2",
                "image": rng.choice([".png", ".jpg", ".webp", ".gif", ".svg"]),
            }[kind]
            path += f"-{_token(rng, 8)}{ext}"
            if rng.random() < 0.4:
                query = [("v", _token(rng, 10))]
        elif kind == "ping":
            host, path = rng.choice(_THIRD_PARTIES)
            method = "POST"
            query = [
                ("v", "2"),
                ("tid", "G-" + _token(rng, 10)),
                ("cid", self.client_id),
                ("dl", f"https://{site}{path}"),
                ("dt", _text(rng, 5)),
                ("sr", "393x851"),
                ("_p", str(rng.randrange(10**12))),
                ("en", rng.choice(["page_view", "scroll", "click"])),
            ]
            event = {
                "distinct_id": self.device_id,
                "event": "$pageview",
                "time": index,
                "properties": {
                    "$url": f"https://{site}{path}",
                    "$title": _text(rng, 6),
                    "$screen_width": 393,
                    "$os": "Android",
                    "$model": "M2004J19G",
                },
            }
            data = json.dumps(event).encode()
            if rng.random() < 0.5:
                text = "data_list=" + base64.b64encode(zlib.compress(data)).decode() + "&gzip=1"
                post = {
                    "mimeType": "application/x-www-form-urlencoded",
                    "text": text,
                    "params": [{"name": "data_list", "value": text[10:-7]}, {"name": "gzip", "value": "1"}],
                }
            else:
                post = {"mimeType": "text/plain;charset=UTF-8", "text": data.decode()}
        else:  # xhr, fetch, other
            host = rng.choice([site, site, f"api.{site.split('.', 1)[1]}", rng.choice(_THIRD_PARTIES)[0]])
            path = "/api" + path
            query = [(w, _token(rng, rng.randint(2, 16))) for w in rng.sample(_WORDS, rng.randint(0, 5))]
            if rng.random() < 0.3:
                method = "POST"
                body = {"session": self.device_id, "items": [_text(rng, 4) for _ in range(rng.randint(1, 30))]}
                post = {"mimeType": "application/json", "text": json.dumps(body)}
        url = f"{scheme}://{host}{path}"
        if query:
            url += "?" + "&".join(f"{k}={v.replace(' ', '%20')}" for k, v in query)
        cookies = self.cookies.get(host, [])[: rng.randint(1, 4)] if rng.random() < 0.3 else []
        h2 = scheme == "https" and rng.random() < 0.85
        headers: list[tuple[str, str]] = []
        if h2:
            headers += [
                (":authority", host),
                (":method", method),
                (":path", url.split(host, 1)[1]),
                (":scheme", scheme),
            ]
        else:
            headers += [("Host", host), ("Connection", "keep-alive")]
        headers += [
            ("accept", "text/html,application/xhtml+xml,*/*;q=0.8" if kind == "document" else "*/*"),
            ("user-agent", _UA),
        ]
        if rng.random() < 0.6:
            headers.append(("referer", f"https://{site}/"))
        if kind in ("document", "fetch"):
            headers += [
                ("sec-fetch-dest", "document" if kind == "document" else "empty"),
                ("sec-fetch-mode", "navigate" if kind == "document" else "cors"),
                ("sec-fetch-site", "same-origin" if host == site else "cross-site"),
            ]
        if kind == "document":
            headers += [
                ("accept-encoding", "gzip, deflate, br, zstd"),
                ("sec-ch-ua", '"Not_A Brand";v="8", "Chromium";v="120", "Google Chrome";v="120"'),
                ("sec-ch-ua-mobile", "?1"),
                ("sec-ch-ua-platform", '"Android"'),
            ]
        if cookies:
            headers.append(("cookie", "; ".join(f"{k}={v}" for k, v in cookies)))
        if post is not None:
            headers += [("content-type", post["mimeType"]), ("content-length", str(len(post["text"])))]
        request: dict[str, Any] = {
            "method": method,
            "url": url,
            "httpVersion": "h2" if h2 else "http/1.1",
            "headers": _pairs(headers),
            "queryString": _pairs(query),
            "cookies": [
                {
                    "name": k,
                    "value": v,
                    "path": "/",
                    "domain": "." + host,
                    "expires": "2025-03-14T09:00:00.000Z",
                    "httpOnly": False,
                    "secure": True,
                }
                for k, v in cookies
            ],
            "headersSize": -1 if h2 else sum(len(k) + len(v) + 4 for k, v in headers),
            "bodySize": len(post["text"]) if post else 0,
        }
        if post is not None:
            request["postData"] = post
        status = rng.choices([200, 204, 301, 302, 304, 404, 0], [80, 5, 2, 3, 7, 2, 1])[0]
        mime, content = self._content(kind, status)
        response_headers = [
            ("content-type", mime),
            ("server", rng.choice(["nginx", "cloudflare", "ESF", "AmazonS3", "gws"])),
        ]
        if rng.random() < 0.5:
            response_headers += [
                ("cache-control", rng.choice(["max-age=31536000, immutable", "no-store", "private, max-age=0"])),
                ("date", "Thu, 14 Mar 2024 09:00:00 GMT"),
            ]
        if rng.random() < 0.3:
            response_headers += [("x-request-id", _token(rng, 32)), ("vary", "Accept-Encoding")]
        if content.get("text") and kind in ("script", "stylesheet", "xhr", "fetch", "document"):
            response_headers.append(("content-encoding", rng.choice(["gzip", "br"])))
        if rng.random() < 0.1:
            response_headers.append(("set-cookie", f"sid={_token(rng, 40)}; Path=/; Secure; HttpOnly; SameSite=Lax"))
        started = self.start + timedelta(milliseconds=index * 150 + rng.randrange(100))
        timings = {
            "blocked": round(rng.random() * 5, 2),
            "dns": -1,
            "ssl": -1,
            "connect": -1,
            "send": round(rng.random(), 2),
            "wait": round(rng.random() * 300, 2),
            "receive": round(rng.random() * 30, 2),
            "_blocked_queueing": round(rng.random() * 3, 2),
        }
        initiator: dict[str, Any] = {"type": "other"}
        if kind in ("xhr", "fetch", "ping") and rng.random() < 0.5:
            initiator = {
                "type": "script",
                "stack": {
                    "callFrames": [
                        {
                            "functionName": rng.choice(["send", "track", "n", "fetchData", ""]),
                            "scriptId": str(rng.randrange(900)),
                            "url": f"https://{site}/static/app-{_token(rng, 8)}.js",
                            "lineNumber": rng.randrange(4000),
                            "columnNumber": rng.randrange(90000),
                        }
                        for _ in range(rng.randint(1, 2))
                    ]
                },
            }
        return {
            "_initiator": initiator,
            "_priority": rng.choice(["VeryHigh", "High", "Medium", "Low"]),
            "_resourceType": kind,
            "cache": {},
            "connection": str(rng.randrange(1000, 9999)),
            "pageref": f"page_{page}",
            "request": request,
            "response": {
                "status": status,
                "statusText": "",
                "httpVersion": request["httpVersion"],
                "headers": _pairs(response_headers),
                "cookies": [],
                "content": content,
                "redirectURL": f"https://{site}/" if status in (301, 302) else "",
                "headersSize": -1,
                "bodySize": content["size"],
                "_transferSize": content["size"] + 400,
                "_error": None if status else "net::ERR_BLOCKED_BY_CLIENT",
            },
            "serverIPAddress": f"[2001:db8::{rng.randrange(1, 0xFFFF):x}]"
            if rng.random() < 0.3
            else f"203.0.113.{rng.randrange(1, 255)}",
            "startedDateTime": started.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "time": round(sum(v for v in timings.values() if v > 0), 3),
            "timings": timings,
        }

    def _content(self, kind: str, status: int) -> tuple[str, dict[str, Any]]:
        """Response content; bodies are saved for a share of entries, as in a real export."""
        rng = self.rng
        mime = {
            "document": "text/html",
            "script": "application/javascript",
            "stylesheet": "text/css",
            "image": "image/png",
            "font": "font/woff2",
            "ping": "text/plain",
            "xhr": "application/json",
            "fetch": "application/json",
            "other": "application/octet-stream",
        }[kind]
        size = rng.randrange(20, 60_000)
        content: dict[str, Any] = {"size": size, "mimeType": mime}
        if status not in (200, 404) or rng.random() > 0.16:
            return mime, content  # Chrome leaves out bodies it no longer holds
        if kind in ("image", "font"):
            if rng.random() < 0.4:
                raw = rng.randbytes(rng.randrange(100, 3000))
                content.update(size=len(raw), text=base64.b64encode(raw).decode(), encoding="base64")
        elif kind in ("xhr", "fetch"):
            text = json.dumps(
                {"ok": True, "data": [{"id": i, "title": _text(rng, 5)} for i in range(rng.randint(1, 20))]}
            )
            content.update(size=len(text), text=text)
        elif kind in ("script", "stylesheet", "document"):
            text = "\n".join(
                f"/* {_text(rng, 8)} */ var {_token(rng, 6)} = {rng.randrange(10**6)};"
                for _ in range(rng.randint(5, 50))
            )
            content.update(size=len(text), text=text)
        return mime, content


def generate(path: Path, entries: int = ENTRIES) -> None:
    """Write the benchmark HAR (deterministic for a given generator version)."""
    rng = random.Random(SEED)
    session = _Session(rng)
    pages, items = [], []
    page = -1
    for index in range(entries):
        if index % 100 == 0:
            page += 1
            site = rng.choice(_SITES)
            pages.append(
                {
                    "startedDateTime": (session.start + timedelta(milliseconds=index * 150)).isoformat(),
                    "id": f"page_{page}",
                    "title": f"https://{site}/ – {_text(rng, 3)}",
                    "pageTimings": {"onContentLoad": 812.5, "onLoad": 1650.25},
                }
            )
        items.append(session.entry(index, page, site))
    har = {
        "log": {
            "version": "1.2",
            "creator": {"name": "WebInspector", "version": "537.36"},
            "pages": pages,
            "entries": items,
        }
    }
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        json.dump(har, out, indent=2, ensure_ascii=False)  # Chrome's "Save all as HAR" indents by 2
    tmp.replace(path)


# -- the jobs (each run in its own subprocess) ------------------------------------------------------


def _job_json_load(path: str) -> int:
    with open(path, "rb") as raw:
        har = json.load(raw)
    return len(har["log"]["entries"])


def _job_json_load_gc_off(path: str) -> int:
    """``json.load`` without the cyclic garbage collector, which otherwise takes about half its time
    here (it re-scans the growing document): a floor no reader that builds the objects can beat."""
    gc.disable()
    try:
        return _job_json_load(path)
    finally:
        gc.enable()


def _job_json_dataframe(path: str) -> int:
    """The hand-written reader: json.load, one tuple per entry, pandas.DataFrame."""
    import pandas as pd

    with open(path, "rb") as raw:
        har = json.load(raw)
    rows = []
    for e in har["log"]["entries"]:
        request, response = e["request"], e.get("response") or {}
        content = response.get("content") or {}
        post = request.get("postData") or {}
        rows.append(
            (
                e.get("startedDateTime"),
                request.get("method"),
                request.get("url"),
                request.get("httpVersion"),
                [(h["name"], h["value"]) for h in request.get("headers", [])],
                [(c["name"], c["value"]) for c in request.get("cookies", [])],
                post.get("text"),
                post.get("mimeType"),
                response.get("status"),
                [(h["name"], h["value"]) for h in response.get("headers", [])],
                content.get("text"),
                content.get("mimeType"),
                e.get("serverIPAddress"),
                e.get("pageref"),
            )
        )
    del har
    frame = pd.DataFrame(
        rows,
        columns=[
            "ts",
            "method",
            "url",
            "http_version",
            "request_headers",
            "cookies",
            "body",
            "content_type",
            "status",
            "response_headers",
            "response_body",
            "response_content_type",
            "server_ip",
            "page",
        ],
    )
    return len(frame)


def _job_toolkit(path: str) -> int:
    import toolkit

    capture = toolkit.load(path)
    if not capture.problems.empty:  # the generated file is clean: a problem is a reader bug
        raise SystemExit(f"toolkit.load reported problems:\n{capture.problems.head()}")
    return len(capture.requests)


# -- a HAR of about 1 GB, and toolkit.load's memory on it (issue 10) ---------------------------------

_INDENT = " " * 6  # pages and entries sit at this depth in a 2-space-indented HAR
_MARK = re.compile(r'"@@(TS|PAGE)@@"')


def _shift(text: str, delta: timedelta) -> str:
    """An ISO 8601 time ``delta`` later, in the same style (``...Z`` with milliseconds, or ``+00:00``)."""
    moved = datetime.fromisoformat(text) + delta
    if text.endswith("Z"):
        return moved.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return moved.isoformat()


def _template(item: dict[str, Any], page_key: str) -> list[str]:
    """``item`` as indented JSON split around its time and its page id (odd parts are the markers)."""
    marked = dict(item, startedDateTime="@@TS@@")
    if page_key in marked:
        marked[page_key] = "@@PAGE@@"
    text = _INDENT + json.dumps(marked, indent=2, ensure_ascii=False).replace("\n", "\n" + _INDENT)
    return _MARK.split(text)


def _fill(parts: list[str], started: str, page: str | None, delta: timedelta, page_offset: int) -> str:
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            out.append(part)
        elif part == "TS":
            out.append(json.dumps(_shift(started, delta)))
        else:
            number = int(str(page).rsplit("_", 1)[1]) + page_offset
            out.append(json.dumps(f"page_{number}"))
    return "".join(out)


def tile(base: Path, target: Path, size: int) -> int:
    """Write ``target``: the HAR ``base`` repeated until about ``size`` bytes; the number of copies.

    Each copy's pages and entries are shifted later in time by the base's span (plus a minute) and
    its page ids follow the previous copy's, so the big file is one long session, not duplicates.
    """
    with open(base, "rb") as raw:
        har = json.load(raw)
    log = har["log"]
    pages, entries = log.pop("pages"), log.pop("entries")
    copies = max(1, math.ceil(size / base.stat().st_size))
    times = [datetime.fromisoformat(e["startedDateTime"]) for e in entries]
    span = max(times) - min(times) + timedelta(minutes=1)
    page_templates = [(_template(p, "id"), p["startedDateTime"], p["id"]) for p in pages]
    entry_templates = [(_template(e, "pageref"), e["startedDateTime"], e.get("pageref")) for e in entries]
    del har, pages, entries
    skeleton = json.dumps(
        {"log": dict(log, pages=["@@PAGES@@"], entries=["@@ENTRIES@@"])}, indent=2, ensure_ascii=False
    )
    head, rest = skeleton.split(_INDENT + '"@@PAGES@@"')
    middle, tail = rest.split(_INDENT + '"@@ENTRIES@@"')
    separator = ",\n"
    tmp = target.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        for templates, before in ((page_templates, head), (entry_templates, middle)):
            out.write(before)
            for copy in range(copies):
                chunk = separator.join(
                    _fill(parts, started, page, span * copy, copy * len(page_templates))
                    for parts, started, page in templates
                )
                out.write((separator if copy else "") + chunk)
        out.write(tail + "\n")
    tmp.replace(target)
    return copies


def _table_bytes(frame: Any) -> tuple[int, int]:
    """Two sizes of a DataFrame in bytes: pandas' ``memory_usage(deep=True)`` (which counts a cell's
    list but not the tuples and strings inside it) and the same with every object inside a cell
    counted once (``sys.getsizeof``, recursively through lists, tuples and dicts)."""
    shallow = int(frame.memory_usage(deep=True, index=True).sum())
    seen: set[int] = set()
    extra = 0
    stack: list[Any] = []
    for column in frame.columns:
        if frame[column].dtype == object:
            stack.extend(v for v in frame[column].tolist() if isinstance(v, list | tuple | dict))
    while stack:
        value = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        extra += sys.getsizeof(value)
        items = value.values() if isinstance(value, dict) else value
        stack.extend(items)
    counted = sum(
        sys.getsizeof(v)
        for column in frame.columns
        if frame[column].dtype == object
        for v in frame[column].tolist()
        if isinstance(v, list | tuple | dict)
    )
    return shallow, shallow - counted + extra


def _run_memory_job(path: str, classify: bool = True) -> dict[str, Any]:
    """``toolkit.load(path)`` in this (fresh) process: time, peak memory, and the tables' sizes."""
    import pandas  # noqa: F401

    import toolkit

    before = _max_rss()
    start, cpu_start = time.perf_counter(), time.process_time()
    capture = toolkit.load(path, classify=classify)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    peak = _max_rss()
    after = _current_rss()
    tables = {name: _table_bytes(frame) for name, frame in capture.tables.items()}
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_bytes": peak - before,
        "raw_peak_bytes": peak,
        "baseline_bytes": before,
        "rss_after_bytes": after,
        "problems": len(capture.problems),
        "rows": {name: len(frame) for name, frame in capture.tables.items()},
        "table_bytes": {name: size[0] for name, size in tables.items()},
        "table_bytes_with_contents": {name: size[1] for name, size in tables.items()},
    }


def _current_rss() -> int:
    """Resident memory of this process now, in bytes (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def memory(base: Path, gigabytes: float) -> None:
    """Peak memory of ``toolkit.load`` on the base HAR and on a ~``gigabytes`` GB tiling of it."""
    big = OUT / f"memory-{gigabytes:g}gb.har"
    try:
        start = time.perf_counter()
        command = [sys.executable, __file__, "--tile", str(base), str(big), str(int(gigabytes * 1e9))]
        copies = int(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
        size = big.stat().st_size
        print(
            f"built {big.name}: {size / 1e9:.2f} GB ({copies} shifted copies of {base.name}) "
            f"in {time.perf_counter() - start:.0f} s"
        )
        figures: dict[str, Any] = {}
        runs = [
            (f"{name}{suffix}", path, flag)
            for suffix, flag in (("", "classify"), (" read", "read"))
            for name, path in (("base", base), ("big", big))
        ]
        for name, path, flag in runs:
            command = [sys.executable, __file__, "--memory-job", str(path), flag]
            result = subprocess.run(command, capture_output=True, text=True, cwd=HERE.parent)
            if result.returncode:
                raise SystemExit(f"toolkit.load of {path.name} failed:\n{result.stderr[-3000:]}")
            figures[name] = json.loads(result.stdout) | {"file_bytes": path.stat().st_size}
    finally:
        big.unlink(missing_ok=True)
        big.with_suffix(".tmp").unlink(missing_ok=True)
    print(
        f"\n{'file':<11}{'file MB':>9}{'requests':>10}{'load s':>8}{'cpu s':>7}{'peak MB':>9}"
        f"{'after MB':>9}{'tables MB':>10}{'+contents':>10}{'peak - tables':>14}"
    )
    for name, f in figures.items():
        tables, contents = sum(f["table_bytes"].values()), sum(f["table_bytes_with_contents"].values())
        f["tables_bytes"], f["tables_bytes_with_contents"] = tables, contents
        after = f["rss_after_bytes"] - f["baseline_bytes"]
        print(
            f"{name:<11}{f['file_bytes'] / 1e6:>9.0f}{f['rows']['requests']:>10}{f['seconds']:>8.1f}"
            f"{f['cpu_seconds']:>7.1f}{f['peak_bytes'] / 1e6:>9.0f}{after / 1e6:>9.0f}"
            f"{tables / 1e6:>10.0f}{contents / 1e6:>10.0f}{(f['peak_bytes'] - contents) / 1e6:>14.0f}"
        )
        if f["problems"]:
            raise SystemExit(f"toolkit.load reported {f['problems']} problems on {name}: a reader bug")
    print(
        f"(peak: above the process's baseline of {figures['big']['baseline_bytes'] / 1e6:.0f} MB after imports; "
        "tables: pandas memory_usage(deep=True); +contents: with the tuples and strings in list cells;\n"
        " read: toolkit.load(classify=False), the HAR reader without the endpoint classification)"
    )
    for suffix, what in (("", "toolkit.load"), (" read", "the reader alone")):
        base_over, big_over = (
            f["peak_bytes"] - f["tables_bytes_with_contents"]
            for f in (figures["base" + suffix], figures["big" + suffix])
        )
        print(
            f"peak - tables, {what}: {base_over / 1e6:.0f} MB for the base file, {big_over / 1e6:.0f} MB for "
            f"{copies} copies (grows by {(big_over - base_over) / 1e6:.0f} MB)"
        )
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "copies": copies,
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "files": figures,
    }
    (OUT / "har_memory.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"figures written to {(OUT / 'har_memory.json').relative_to(HERE.parent)}")


def _max_rss() -> int:
    """Peak resident memory of this process so far, in bytes."""
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss is bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def _run_job(job: str, path: str) -> dict[str, Any]:
    """Measure one job in this process (called in a fresh subprocess)."""
    import pandas  # noqa: F401  (every job pays the same imports before the baseline)

    import toolkit  # noqa: F401

    work = {
        "json.load": _job_json_load,
        "json.load, gc off": _job_json_load_gc_off,
        "json.load + DataFrame": _job_json_dataframe,
        "toolkit.load": _job_toolkit,
    }[job]
    before = _max_rss()
    start, cpu_start = time.perf_counter(), time.process_time()
    rows = work(path)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    peak = _max_rss()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_bytes": peak - before,
        "raw_peak_bytes": peak,
        "baseline_bytes": before,
        "rows": rows,
    }


def _measure(job: str, path: Path) -> dict[str, Any]:
    """Run one job in a fresh interpreter and return its figures."""
    command = [sys.executable, __file__, "--job", job, str(path)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=HERE.parent)
    if result.returncode:
        raise SystemExit(f"{job} failed (exit status {result.returncode}):\n{result.stderr}")
    figures: dict[str, Any] = json.loads(result.stdout)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each job (median reported)")
    parser.add_argument("--entries", type=int, default=ENTRIES, help="HAR entries to generate")
    parser.add_argument("--gb", type=float, help="measure toolkit.load's peak memory on a HAR of this size instead")
    parser.add_argument("--job", nargs=2, metavar=("JOB", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--memory-job", nargs=2, metavar=("PATH", "MODE"), help=argparse.SUPPRESS)
    parser.add_argument("--tile", nargs=3, metavar=("BASE", "TARGET", "BYTES"), help=argparse.SUPPRESS)
    parser.add_argument("--generate", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.job or args.memory_job:
        sys.path.insert(0, str(HERE.parent))
        if args.job:
            print(json.dumps(_run_job(*args.job)))
        else:
            print(json.dumps(_run_memory_job(args.memory_job[0], classify=args.memory_job[1] == "classify")))
        return
    if args.tile:
        print(tile(Path(args.tile[0]), Path(args.tile[1]), int(args.tile[2])))
        return
    if args.generate:
        generate(Path(args.generate), args.entries)
        return

    OUT.mkdir(exist_ok=True)
    path = OUT / f"bench-v{GENERATOR_VERSION}-{args.entries}.har"
    if not path.exists():
        # In a subprocess too: on Linux a child's ru_maxrss starts at its parent's RSS at fork
        # time, so this process must stay small for the children's figures to be their own.
        start = time.perf_counter()
        command = [sys.executable, __file__, "--generate", str(path), "--entries", str(args.entries)]
        subprocess.run(command, check=True)
        print(f"generated {path.relative_to(HERE.parent)} in {time.perf_counter() - start:.1f} s")
    if args.gb:
        memory(path, args.gb)
        return
    size = path.stat().st_size
    print(f"{path.name}: {size / 1e6:.1f} MB, {args.entries} entries; {args.repeat} runs per job\n")

    runs: dict[str, list[dict[str, Any]]] = {job: [] for job in JOBS}
    for _ in range(args.repeat):  # interleaved, so that machine noise hits every job alike
        for job in JOBS:
            runs[job].append(_measure(job, path))
    figures: dict[str, dict[str, Any]] = {}
    for job, results in runs.items():
        rows = {r["rows"] for r in results}
        if rows != {args.entries}:
            raise SystemExit(f"{job} read {rows} rows, expected {args.entries}")
        figures[job] = {
            "seconds": statistics.median(r["seconds"] for r in results),
            "cpu_seconds": statistics.median(r["cpu_seconds"] for r in results),
            "peak_mb": statistics.median(r["peak_bytes"] for r in results) / 1e6,
            "raw_peak_mb": statistics.median(r["raw_peak_bytes"] for r in results) / 1e6,
            "baseline_mb": statistics.median(r["baseline_bytes"] for r in results) / 1e6,
            "runs_seconds": [round(r["seconds"], 3) for r in results],
        }
    parent_rss = _max_rss()
    lowest_baseline = min(r["baseline_bytes"] for results in runs.values() for r in results)
    if parent_rss >= lowest_baseline:
        print(
            f"warning: this process ({parent_rss / 1e6:.0f} MB) is larger than a job's baseline "
            f"({lowest_baseline / 1e6:.0f} MB); the peak figures are understated"
        )
    reference = figures["json.load"]
    for entry in figures.values():
        entry["time_ratio"] = entry["seconds"] / reference["seconds"]
        entry["cpu_ratio"] = entry["cpu_seconds"] / reference["cpu_seconds"]
        entry["memory_ratio"] = entry["peak_mb"] / reference["peak_mb"]

    print(f"{'job':<23}{'seconds':>8}{'cpu s':>7}{'peak MB':>9}{'raw MB':>8}{'time x':>8}{'cpu x':>7}{'memory x':>10}")
    for job, f in figures.items():
        print(
            f"{job:<23}{f['seconds']:>8.2f}{f['cpu_seconds']:>7.2f}{f['peak_mb']:>9.0f}{f['raw_peak_mb']:>8.0f}"
            f"{f['time_ratio']:>8.2f}{f['cpu_ratio']:>7.2f}{f['memory_ratio']:>10.2f}"
        )
    ours = figures["toolkit.load"]
    met = ours["time_ratio"] <= 2 and ours["memory_ratio"] <= 2
    print(f"\ngoal (toolkit.load <= 2x json.load in time and peak memory): {'met' if met else 'NOT met'}")

    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "file": {"name": path.name, "bytes": size, "entries": args.entries},
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "repeat": args.repeat,
        "reference": "json.load",
        "jobs": figures,
        "goal_met": met,
    }
    (OUT / "har.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"figures written to {(OUT / 'har.json').relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()

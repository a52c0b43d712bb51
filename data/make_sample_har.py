"""Write ``data/sample.har``: a small, deterministic HAR of a browsing session with telemetry.

The session is modelled on the published Mint Browser case: pages are loaded from a news site and
a CDN, and the browser's Sensors Analytics SDK posts every visited URL to its collector as
``data_list=base64(gzip(JSON events))``. Every value is made up; no real person or device.

Run ``python data/make_sample_har.py`` to regenerate it (the output is byte-for-byte stable).
"""

from __future__ import annotations

import base64
import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

START = datetime(2020, 4, 30, 9, 0, 0, tzinfo=UTC)
ANDROID_ID = "9774d56d682e549c"  # fictional
DISTINCT_ID = "c3f1b0de-6a47-4b3e-9d52-5f0e1a2b3c4d"  # fictional
USER_AGENT = "Mozilla/5.0 (Linux; U; Android 10; en-us; Redmi Note 8 Build/QKQ1) MintBrowser/3.4.0"

PAGES = [
    "https://www.example-news.com/world/2020/04/30/story.html",
    "https://shop.example-store.com/cart?item=1234#reviews",
    "https://www.example-search.com/search?q=hiv+test+clinic+near+me",
]


def _java_string_hash(text: str) -> int:
    """Java's String.hashCode (the SDK's `crc` field), as a signed 32-bit int."""
    value = 0
    for char in text:
        value = (31 * value + ord(char)) & 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def _sensors_body(events: list[dict[str, object]]) -> str:
    packed = gzip.compress(json.dumps(events, separators=(",", ":")).encode(), mtime=0)
    data = base64.b64encode(packed).decode()
    return urlencode({"crc": _java_string_hash(data), "gzip": "1", "data_list": data}, quote_via=quote)


def _entry(
    ts: datetime,
    method: str,
    url: str,
    *,
    headers: list[tuple[str, str]],
    post: dict[str, str] | None = None,
    mime: str = "text/html",
    text: str = "",
    ip: str = "192.0.2.10",
) -> dict[str, object]:
    request: dict[str, object] = {
        "method": method,
        "url": url,
        "httpVersion": "HTTP/2.0",
        "cookies": [],
        "headers": [{"name": n, "value": v} for n, v in headers],
        "queryString": [],
        "headersSize": -1,
        "bodySize": len(post["text"]) if post else 0,
    }
    if post:
        request["postData"] = post
    return {
        "pageref": "page_1",
        "startedDateTime": ts.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "time": 42.0,
        "request": request,
        "response": {
            "status": 200,
            "statusText": "OK",
            "httpVersion": "HTTP/2.0",
            "cookies": [],
            "headers": [{"name": "content-type", "value": mime}],
            "content": {"size": len(text), "mimeType": mime, "text": text},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": len(text),
        },
        "cache": {},
        "timings": {"send": 1, "wait": 40, "receive": 1},
        "serverIPAddress": ip,
    }


def build() -> dict[str, object]:
    entries = []
    events = []
    ts = START
    base_headers = [("user-agent", USER_AGENT), ("accept-language", "en-US")]
    for index, page in enumerate(PAGES):
        entries.append(_entry(ts, "GET", page, headers=base_headers, text="<html>…</html>"))
        ts += timedelta(milliseconds=300)
        if index == 0:
            entries.append(
                _entry(ts, "GET", "https://cdn.example-news.com/static/app.js",
                       headers=[*base_headers, ("referer", page)], mime="application/javascript",
                       text="console.log(1)", ip="192.0.2.20")
            )
        for event in ("page_load_event_start", "page_load_event_finish"):
            events.append({
                "distinct_id": DISTINCT_ID,
                "time": int(ts.timestamp() * 1000),
                "type": "track",
                "event": event,
                "lib": {"$lib": "Android", "$lib_version": "3.2.10"},
                "properties": {"$device_id": ANDROID_ID, "$model": "Redmi Note 8",
                               "$manufacturer": "Xiaomi", "$os_version": "10", "url": page},
            })
        ts += timedelta(seconds=5)
    entries.append(
        _entry(ts, "POST", "https://sa.api.intl.miui.com/sa?project=global_browser_mini&r=ES",
               headers=[*base_headers, ("content-type", "application/x-www-form-urlencoded")],
               post={"mimeType": "application/x-www-form-urlencoded", "text": _sensors_body(events)},
               mime="application/json", text='{"code":0}', ip="192.0.2.30")
    )
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "toolkit.lab", "version": "0.1.0"},
            "pages": [{"id": "page_1", "title": "sample session",
                       "startedDateTime": entries[0]["startedDateTime"], "pageTimings": {}}],
            "entries": entries,
        }
    }


if __name__ == "__main__":
    out = Path(__file__).with_name("sample.har")
    out.write_text(json.dumps(build(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}")

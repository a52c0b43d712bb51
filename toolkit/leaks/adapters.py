"""Adapters that name the fields of known SDK wire formats; detection never depends on them.

The generic unwrapping already finds a needle inside a Sensors Analytics batch; an adapter adds
what the SDK calls it: which event (``page_load_event_start``, ``search``) carried the value.
Sensors Analytics (sensorsdata/sa-sdk-android, ``AnalyticsMessages.sendHttpRequest``) posts
``crc=<hash>&gzip=1&data_list=<Uri.encode(base64(gzip(JSON array of events)))>``; a single event
goes as ``data=`` instead, and ``gzip=0`` means plain base64 of the JSON.

>>> import base64, gzip, json
>>> from urllib.parse import quote
>>> events = [{"event": "page_load_event_start", "type": "track", "properties": {"url": "https://a.example/"}}]
>>> body = ("crc=1&gzip=1&data_list=" + quote(base64.b64encode(gzip.compress(json.dumps(events).encode())).decode(),
...         safe="")).encode()
>>> [e["event"] for e in sensors_events(body)]
['page_load_event_start']
>>> sensors_label(body, "form:data_list > urldecode > base64 > gzip > json:[0].properties.url")
'Sensors Analytics event page_load_event_start (track)'
>>> sensors_label(b"a=1", "form:a") is None
True
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any
from urllib.parse import parse_qsl

from toolkit.compression import gunzip
from toolkit.leaks.transforms import b64decode_loose

__all__ = ["sensors_events", "sensors_label"]

_MAX_BATCH = 32 * 1024 * 1024


@functools.lru_cache(maxsize=8)
def sensors_events(body: bytes) -> list[dict[str, Any]] | None:
    """The events of a Sensors Analytics post, or ``None`` when ``body`` is not one."""
    try:
        fields = dict(parse_qsl(body.decode("ascii"), keep_blank_values=True))
    except UnicodeDecodeError:
        return None
    packed = fields.get("data_list", fields.get("data"))
    if packed is None:
        return None
    try:
        raw = b64decode_loose(packed.encode())
        if fields.get("gzip", "0") == "1" or raw.startswith(b"\x1f\x8b"):
            raw = gunzip(raw, _MAX_BATCH)
        value = json.loads(raw)
    except ValueError:
        return None
    events = value if isinstance(value, list) else [value]
    return [e for e in events if isinstance(e, dict)] if events else None


def sensors_label(body: bytes, chain: str) -> str | None:
    """What the SDK calls the place of a finding whose chain starts in a Sensors batch."""
    if not chain.startswith(("form:data_list", "form:data ")) and chain != "form:data":
        return None
    events = sensors_events(body)
    if not events:
        return None
    index = 0
    if chain.startswith("form:data_list"):
        match = re.search(r"json:\[(\d+)\]", chain)
        if not match or int(match.group(1)) >= len(events):
            return None
        index = int(match.group(1))
    event = events[index]
    name = event.get("event") or event.get("type") or "?"
    kind = event.get("type")
    return f"Sensors Analytics event {name}" + (f" ({kind})" if kind and kind != name else "")

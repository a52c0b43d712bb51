"""The Sensors Analytics Android SDK on the wire: how a batch of events becomes a POST body.

The SDK (sensorsdata/sa-sdk-android, ``AnalyticsMessages.sendHttpRequest``, v3.x to v4.0) gzips the
JSON array of queued events, base64-encodes it, and posts a form built with Android's
``Uri.Builder.appendQueryParameter``: ``crc`` (Java ``String.hashCode`` of the base64 text),
``gzip=1`` and ``data_list``. ``Uri.encode`` keeps only letters, digits and ``_-!.~'()*``, so the
base64 ``+``, ``/`` and ``=`` travel as ``%2B``, ``%2F`` and ``%3D``.

>>> body = encode_batch([{"event": "search", "properties": {"search_word": "hiv test"}}])
>>> body.startswith("crc=") and "&gzip=1&data_list=" in body
True
>>> decode_batch(body)[0]["properties"]["search_word"]
'hiv test'
>>> java_string_hash("hello")
99162322
"""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any
from urllib.parse import parse_qs, quote

__all__ = ["ANDROID_URI_SAFE", "decode_batch", "encode_batch", "event_json", "java_string_hash"]

#: Characters Android's ``Uri.encode`` leaves alone besides letters and digits.
ANDROID_URI_SAFE = "_-!.~'()*"


def java_string_hash(text: str) -> int:
    """Java's ``String.hashCode``: ``s[0]*31^(n-1) + ... + s[n-1]`` over UTF-16 units, signed 32-bit.

    >>> java_string_hash(""), java_string_hash("a"), java_string_hash("polygenelubricants")
    (0, 97, -2147483648)
    """
    value = 0
    units = text.encode("utf-16-be")
    for i in range(0, len(units), 2):
        value = (31 * value + (units[i] << 8 | units[i + 1])) & 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def event_json(events: list[dict[str, Any]]) -> str:
    """The JSON text of a batch as the SDK's ``JSONArray.toString()`` writes it: compact, ``\\/`` escaped.

    >>> event_json([{"url": "https://a.example/b"}])
    '[{"url":"https:\\\\/\\\\/a.example\\\\/b"}]'
    """
    return json.dumps(events, separators=(",", ":"), ensure_ascii=False).replace("/", "\\/")


def encode_batch(events: list[dict[str, Any]]) -> str:
    """The form body the SDK posts for ``events`` (deterministic: the gzip header has mtime 0)."""
    packed = gzip.compress(event_json(events).encode("utf-8"), mtime=0)
    data = base64.b64encode(packed).decode("ascii")
    crc = java_string_hash(data)
    return f"crc={crc}&gzip=1&data_list={quote(data, safe=ANDROID_URI_SAFE)}"


def decode_batch(body: str | bytes) -> list[dict[str, Any]]:
    """Undo :func:`encode_batch`: form-decode, base64, gunzip (when ``gzip=1``), JSON.

    Raises:
        ValueError: the body is not a Sensors Analytics batch or its ``crc`` does not match.
    """
    text = body.decode("ascii") if isinstance(body, bytes) else body
    fields = parse_qs(text, keep_blank_values=True)
    if "data_list" not in fields:
        raise ValueError("not a Sensors Analytics batch: no data_list field")
    data = fields["data_list"][0]
    crc = fields.get("crc", [None])[0]
    if crc is not None and crc != str(java_string_hash(data)):
        raise ValueError(f"crc {crc!r} does not match the data_list text (hash {java_string_hash(data)})")
    raw = base64.b64decode(data, validate=True)
    if fields.get("gzip", ["0"])[0] == "1":
        raw = gzip.decompress(raw)
    events = json.loads(raw.decode("utf-8"))
    if not isinstance(events, list):
        raise ValueError("data_list does not hold a JSON array")
    return events

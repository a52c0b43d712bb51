"""Sensors Analytics (神策数据): self-hosted analytics; any host, path ``/sa`` with ``?project=``.

The Android SDK posts ``crc=..&gzip=1&data_list=<urlencoded base64(gzip(JSON array of events))>``
(``data=`` for one event); each event carries preset properties (``$os``, ``$model`` ...).
Sources: sensorsdata/sa-sdk-android (``AnalyticsMessages.sendHttpRequest``, preset properties in
``SensorsDataAPI``/``SensorsDataUtils``: ``$device_id`` is the ANDROID_ID) and the preset-property
list of manual.sensorsdata.cn ("预置属性"). The lab (``data/lab``) re-creates its wire format.

>>> import base64, gzip, json
>>> from urllib.parse import quote
>>> events = [{"event": "$AppStart", "type": "track", "distinct_id": "0c47d630-7f55-4377-aafd-ccf9486ae5f3",
...            "properties": {"$model": "Redmi Note 8", "$os_version": "10", "$device_id": "8e5fbce04dc91566"}}]
>>> packed = quote(base64.b64encode(gzip.compress(json.dumps(events).encode())).decode(), safe="")
>>> from toolkit.datatypes import request_datatypes
>>> found = request_datatypes("https://sa.example.com/sa?project=p", body=f"crc=1&gzip=1&data_list={packed}".encode())
>>> sorted((f.datatype, f.value) for f in found)  # doctest: +NORMALIZE_WHITESPACE
[('android_id', '8e5fbce04dc91566'), ('device_model', 'Redmi Note 8'), ('event', '$AppStart'),
 ('os_version', '10'), ('user_id', '0c47d630-7f55-4377-aafd-ccf9486ae5f3')]

The leak engine's label names the event that carried a finding; it needs the SDK's signature
(its ``/sa`` path or companion fields, and event types of the SDK), not the ``?project=`` query:

>>> SDK.label("sa.example.com", "/sa", f"crc=1&gzip=1&data_list={packed}".encode(), "body",
...           "form:data_list > urldecode > base64 > gzip > json:[0].properties.$model")
'Sensors Analytics event $AppStart (track)'
"""

import functools
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from toolkit.compression import gunzip
from toolkit.sdk.adapter import Sdk

_MAX_BATCH = 32 * 1024 * 1024


@functools.lru_cache(maxsize=8)
def sensors_events(body: bytes) -> list[dict[str, Any]] | None:
    """The events of a Sensors Analytics post (``data_list``: a batch; ``data``: one event; ``gzip=0``:
    plain base64 of the JSON), or ``None`` when ``body`` is not one (sa-sdk-android,
    ``AnalyticsMessages.sendHttpRequest``)."""
    # Imported here: the leak engine imports the SDK registry, so this module may not import it first.
    from toolkit.leaks.transforms import b64decode_loose

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


# The SDK's signature (its receiver is the customer's own host, so no host family): the events travel
# in ``data_list`` (a batch: Android/iOS add ``crc`` and ``gzip``) or ``data`` (one event: the web SDK
# adds ``ext=crc=...``), posted to the receiver's ``/sa`` path (``/sa.gif`` for the web SDK's image
# requests), and every event's ``type`` is one of the SDK's EventType values (sa-sdk-android,
# EventType.java; sa-sdk-javascript ``encodeTrackData`` for ``data``/``ext``).
_TYPES = frozenset(
    {
        "track",
        "track_signup",
        "track_id_bind",
        "track_id_unbind",
        "profile_set",
        "profile_set_once",
        "profile_unset",
        "profile_increment",
        "profile_append",
        "profile_delete",
        "item_set",
        "item_delete",
    }
)
_COMPANIONS = ("crc", "gzip", "ext")
_RECEIVER_PATH = re.compile(r"(?:^|/)sa(?:\.gif)?/?$", re.IGNORECASE)


def _signature(body: bytes, path: str | None, events: list[dict[str, Any]]) -> bool:
    """The request is the SDK's post: its receiver's path or its companion fields, and its event types."""
    if not all(event.get("type") in _TYPES for event in events):
        return False
    if path is not None and _RECEIVER_PATH.search(path.split("?", 1)[0]):
        return True
    try:
        names = {name for name, _ in parse_qsl(body.decode("ascii"), keep_blank_values=True)}
    except UnicodeDecodeError:
        return False
    return any(name in names for name in _COMPANIONS)


def sensors_label(body: bytes, chain: str, path: str | None = None) -> str | None:
    """What the SDK calls the place of a finding whose chain starts in a Sensors batch, when the
    request carries the SDK's signature (see :func:`_signature`).

    >>> import base64, json
    >>> event = base64.b64encode(json.dumps({"event": "x", "properties": {}}).encode()).decode()
    >>> sensors_label(("data=" + event).encode(), "form:data > base64 > json:properties.u", "/sa") is None  # no type
    True
    """
    if not chain.startswith(("form:data_list", "form:data ")) and chain != "form:data":
        return None
    events = sensors_events(body)
    if not events or not _signature(body, path, events):
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


def carries_payload(row: Mapping[str, Any]) -> bool:
    """A request that posts the SDK's fields (Android/iOS: ``crc`` and ``data_list``; web:
    ``data`` and ``ext=crc=...``, sa-sdk-javascript) or goes to a receiver's ``/sa?project=``.

    >>> carries_payload({"url": "https://x.example/", "body": b"crc=1&gzip=1&data_list=H4sI"})
    True
    """
    body = row.get("body")
    text = body.decode("latin-1") if isinstance(body, bytes | bytearray) else ""
    fields = {part.split("=", 1)[0] for part in text.split("&") if "=" in part}
    if {"data_list", "crc"} <= fields or ({"data", "ext"} <= fields and "crc%3D" in text):
        return True
    url = str(row.get("url") or "")
    return bool(re.search(r"/sa(?:\.gif)?\?(?:[^#]*&)?project=", url))


def _label(host: str | None, path: str | None, body: bytes | None, location: str, chain: str) -> str | None:
    return sensors_label(body, chain, path) if location == "body" and body is not None and chain else None


SDK = Sdk(
    "Sensors Analytics",
    labeller=_label,
    payload=carries_payload,
    path=r"/sa(\.gif)?$",
    query=r"(^|&)project=",
    source="github.com/sensorsdata/sa-sdk-android; manual.sensorsdata.cn preset properties",
    fields={
        "distinct_id": "user_id",
        "login_id": "user_id",
        "anonymous_id": "install_id",
        "$device_id": "android_id",
        "$identity_android_id": "android_id",
        "$identity_android_uuid": "install_id",
        "$oaid": "advertising_id",
        "$gaid": "advertising_id",
        "$idfa": "advertising_id",
        "$idfv": "vendor_id",
        "event": "event",
        "$os": "os",
        "$os_version": "os_version",
        "$model": "device_model",
        "$manufacturer": "device_manufacturer",
        "$brand": "device_manufacturer",
        "$screen_width": "screen",
        "$screen_height": "screen",
        "$screen_orientation": "screen",
        "$wifi": "network_type",
        "$network_type": "network_type",
        "$carrier": "carrier",
        "$app_version": "app_version",
        "$app_id": "app_id",
        "$lib_version": "sdk_version",
        "$timezone_offset": "timezone",
        "$latitude": "precise_location",
        "$longitude": "precise_location",
        "$ip": "ip_address",
        "$city": "coarse_location",
        "$province": "coarse_location",
        "$country": "coarse_location",
        "$url": "url",
        "$title": "page_title",
        "$referrer": "referrer",
        "$screen_name": "url",
        "$utm_source": "referrer",
        "$utm_campaign": "referrer",
    },
)

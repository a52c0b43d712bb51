"""Adapters that name the fields of known SDK wire formats; detection never depends on them.

:func:`sdk_label` asks each adapter in turn: Sensors Analytics (below), Adjust, AppsFlyer, Google's
Measurement Protocol (Google Analytics, and Firebase apps through it) and Firebase's own
``app-measurement.com`` uploads (whose field names are not public: only the upload is named).

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
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from toolkit.compression import gunzip
from toolkit.leaks.transforms import b64decode_loose

__all__ = [
    "adjust_label",
    "appsflyer_label",
    "measurement_protocol_label",
    "sdk_label",
    "sensors_events",
    "sensors_label",
]

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


# The SDK's signature (its receiver is the customer's own host, so no host family): the events travel
# in ``data_list`` (a batch: Android/iOS add ``crc`` and ``gzip``) or ``data`` (one event: the web SDK
# adds ``ext=crc=...``), posted to the receiver's ``/sa`` path (``/sa.gif`` for the web SDK's image
# requests), and every event's ``type`` is one of the SDK's EventType values (sa-sdk-android,
# EventType.java; sa-sdk-javascript ``encodeTrackData`` for ``data``/``ext``).
_SENSORS_TYPES = frozenset(
    {"track", "track_signup", "track_id_bind", "track_id_unbind", "profile_set", "profile_set_once",
     "profile_unset", "profile_increment", "profile_append", "profile_delete", "item_set", "item_delete"}
)  # fmt: skip
_SENSORS_COMPANIONS = ("crc", "gzip", "ext")
_SENSORS_PATH = re.compile(r"(?:^|/)sa(?:\.gif)?/?$", re.IGNORECASE)


def _sensors_signature(body: bytes, path: str | None, events: list[dict[str, Any]]) -> bool:
    """The request is the SDK's post: its receiver's path or its companion fields, and its event types."""
    if not all(event.get("type") in _SENSORS_TYPES for event in events):
        return False
    if path is not None and _SENSORS_PATH.search(path.split("?", 1)[0]):
        return True
    try:
        names = {name for name, _ in parse_qsl(body.decode("ascii"), keep_blank_values=True)}
    except UnicodeDecodeError:
        return False
    return any(name in names for name in _SENSORS_COMPANIONS)


def sensors_label(body: bytes, chain: str, path: str | None = None) -> str | None:
    """What the SDK calls the place of a finding whose chain starts in a Sensors batch, when the
    request carries the SDK's signature (see :func:`_sensors_signature`).

    >>> import base64, json
    >>> event = base64.b64encode(json.dumps({"event": "x", "properties": {}}).encode()).decode()
    >>> sensors_label(("data=" + event).encode(), "form:data > base64 > json:properties.u", "/sa") is None  # no type
    True
    """
    if not chain.startswith(("form:data_list", "form:data ")) and chain != "form:data":
        return None
    events = sensors_events(body)
    if not events or not _sensors_signature(body, path, events):
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


# -- Adjust --------------------------------------------------------------------------------------
# Facts from Adjust's open-source Android SDK (github.com/adjust/android_sdk, PackageBuilder.java and
# ActivityKind.java): each activity is posted form-encoded to its path on app.adjust.com (regional
# hosts: adjust.world, adjust.net.in, adjust.cn); identifiers travel as named parameters;
# callback_params and partner_params are JSON objects of the app's own values.
# The SDK's endpoints are the app., gdpr. and subscription. hosts of these domains and of their
# data-residency subdomains (eu., tr., us.): adjust/smart_banner_sdk url-strategy/endpoints.ts and the
# SDKs' UrlStrategy; a request elsewhere on them (the company's web site) is not an SDK package.
_ADJUST_HOSTS = ("adjust.com", "adjust.world", "adjust.net.in", "adjust.cn", "adjust.io")
_ADJUST_ENDPOINT_HOSTS = ("app", "gdpr", "subscription")
_ADJUST_ACTIVITIES = {
    "session": "session",
    "event": "event",
    "sdk_click": "click",
    "sdk_info": "info",
    "attribution": "attribution",
    "gdpr_forget_device": "GDPR forget-device",
    "third_party_sharing": "third-party sharing",
    "measurement_consent": "measurement consent",
    "ad_revenue": "ad revenue",
    "v2/purchase": "subscription",
    "verify": "purchase verification",
}
_ADJUST_PARAMETERS = {
    "android_uuid": "Adjust's install id",
    "gps_adid": "Google advertising id",
    "fire_adid": "Amazon Fire advertising id",
    "google_app_set_id": "Google app set id",
    "android_id": "ANDROID_ID",
    "imei": "IMEI",
    "meid": "MEID",
    "oaid": "open advertising id",
    "push_token": "push token",
    "fb_id": "Facebook attribution id",
    "external_device_id": "the app's own device id",
    "event_token": "event name token",
    "deeplink": "deep link",
    "referrer": "install referrer",
    "raw_referrer": "install referrer",
    "callback_params": "app's callback parameters",
    "partner_params": "app's partner parameters",
}

# -- AppsFlyer ----------------------------------------------------------------------------------
# Field names of AppsFlyer's public server-to-server events API (dev.appsflyer.com, "S2S events
# API"): the SDK reports the same facts under these names to *.appsflyer.com.
# Where those names travel: the S2S API's endpoint (api2.appsflyer.com, path /inappevent/<app id>, from
# its published OpenAPI description) and the SDK's versioned API on appsflyersdk.com hosts
# (launches., inapps., conversions. ... ``/api/v<version>/...``); not AppsFlyer's web site.
_APPSFLYER_HOSTS = ("appsflyer.com", "appsflyersdk.com")
_APPSFLYER_S2S = re.compile(r"^/inappevent/[^/]+/?$")
_APPSFLYER_SDK_PATH = re.compile(r"^/api/v[0-9][0-9.]*/")
_APPSFLYER_FIELDS = {
    "appsflyer_id": "AppsFlyer's install id",
    "advertising_id": "Google advertising id",
    "advertiserId": "Google advertising id",
    "oaid": "open advertising id",
    "amazon_aid": "Amazon advertising id",
    "imei": "IMEI",
    "android_id": "ANDROID_ID",
    "idfa": "Apple advertising id",
    "idfv": "Apple vendor id",
    "customer_user_id": "the app's own user id",
    "ip": "device IP address",
    "eventName": "event name",
    "eventValue": "event values",
}

# -- Google Analytics / Firebase Measurement Protocol -------------------------------------------
# Parameter names of Google's public Measurement Protocol references (developers.google.com:
# Universal Analytics "Measurement Protocol Parameter Reference"; GA4 "Measurement Protocol"
# for gtag and Firebase apps: client_id / app_instance_id, user_id, events[].name and params).
_GA_HOSTS = ("google-analytics.com", "analytics.google.com")
# Hit paths: /collect, /batch and /debug/collect (Universal Analytics MP reference), /mp/collect and
# /debug/mp/collect (GA4 MP), and the libraries' /<transport>/collect (j/, r/, g/: the pattern
# ``^/(\w+/)?collect`` by which Google's workbox-google-analytics recognises hits).
_GA_PATH = re.compile(r"^/(?:debug/)?(?:\w+/)?collect/?$|^/batch/?$")
_GA_PARAMETERS = {
    "cid": "client id",
    "uid": "user id",
    "tid": "property id",
    "dl": "document location (page URL)",
    "dr": "document referrer",
    "dh": "document host",
    "dp": "document path",
    "dt": "document title",
    "client_id": "client id",
    "app_instance_id": "Firebase app instance id",
    "user_id": "user id",
}


def _host_under(host: str | None, domains: tuple[str, ...]) -> bool:
    host = (host or "").lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in domains)


def _first_name(location: str, chain: str) -> str | None:
    """The parameter that holds a finding: ``query:NAME`` or a body chain's ``form:NAME`` / ``json:.NAME``."""
    if location.startswith("query:"):
        return location[len("query:") :]
    first = chain.split(" > ", 1)[0] if chain else ""
    if first.startswith("form:"):
        return first[len("form:") :]
    if first.startswith("json:"):  # ``json:events[0].x`` (as unwrap writes it) or ``json:.events``
        return re.split(r"[.\[]", first[len("json:") :].lstrip("."), maxsplit=1)[0] or None
    return None


def _parameter(host: str | None, domains: tuple[str, ...], location: str, chain: str) -> str | None:
    """The parameter's name when ``host`` is one of the SDK's ``domains``, else None."""
    return _first_name(location, chain) if _host_under(host, domains) else None


def _described(name: str, meanings: Mapping[str, str]) -> str:
    """``name (what it is)`` where the SDK's documentation says, else ``name``."""
    meaning = meanings.get(name)
    return f"{name} ({meaning})" if meaning else name


def adjust_label(host: str | None, path: str | None, location: str, chain: str) -> str | None:
    """``Adjust session package, parameter gps_adid (Google advertising id)``, or None."""
    name = _parameter(host, _ADJUST_HOSTS, location, chain)
    if name is None or (host or "").lower().split(".", 1)[0] not in _ADJUST_ENDPOINT_HOSTS:
        return None
    activity = _ADJUST_ACTIVITIES.get((path or "").split("?", 1)[0].strip("/"))
    if activity is None:  # not one of the SDK's package paths
        return None
    return f"Adjust {activity} package, parameter {_described(name, _ADJUST_PARAMETERS)}"


def _appsflyer_endpoint(host: str | None, path: str | None) -> bool:
    """The S2S events API or the SDK's API; ``path`` ``None`` (not known) is let through."""
    if path is None:
        return True
    path = path.split("?", 1)[0]
    if _host_under(host, ("appsflyersdk.com",)):
        return _APPSFLYER_SDK_PATH.match(path) is not None
    return (host or "").lower().rstrip(".") == "api2.appsflyer.com" and _APPSFLYER_S2S.match(path) is not None


def appsflyer_label(
    host: str | None, body: bytes | None, location: str, chain: str, path: str | None = None
) -> str | None:
    """``AppsFlyer event af_purchase, field advertising_id (Google advertising id)``, or None."""
    name = _parameter(host, _APPSFLYER_HOSTS, location, chain)
    if name is None or not _appsflyer_endpoint(host, path):
        return None
    event = None
    if location == "body" and body:
        try:
            value = json.loads(body[:_MAX_BATCH])
        except ValueError:
            value = None
        if isinstance(value, dict) and isinstance(value.get("eventName"), str):
            event = value["eventName"]
    head = f"AppsFlyer event {event}" if event else "AppsFlyer request"
    return f"{head}, field {_described(name, _APPSFLYER_FIELDS)}"


def measurement_protocol_label(host: str | None, location: str, chain: str, path: str | None = None) -> str | None:
    """``Google Analytics Measurement Protocol parameter dl (document location (page URL))``, or None.

    ``path`` (when known) must be one of the protocol's hit paths."""
    name = _parameter(host, _GA_HOSTS, location, chain)
    if name is None or (path is not None and not _GA_PATH.match(path.split("?", 1)[0])):
        return None
    return f"Google Analytics Measurement Protocol parameter {_described(name, _GA_PARAMETERS)}"


_FIREBASE_UPLOAD_HOSTS = ("app-measurement.com",)
# The Firebase Analytics SDK uploads its event bundles by POST to app-measurement.com/a (the
# ``measurement.upload.url`` default of the SDK, and the host Firebase's docs list for Analytics);
# its other paths there (/config/app/...) fetch configuration and carry no events.
_FIREBASE_UPLOAD_PATH = "/a"


def _firebase_upload(host: str | None, path: str | None, location: str) -> bool:
    return (
        _host_under(host, _FIREBASE_UPLOAD_HOSTS)
        and location == "body"
        and (path is None or path.split("?", 1)[0].rstrip("/") == _FIREBASE_UPLOAD_PATH)
    )


def sdk_label(host: str | None, path: str | None, body: bytes | None, location: str, chain: str) -> str | None:
    """What an SDK calls the place of a finding: the first adapter that knows the request's format.

    >>> sdk_label("app.adjust.com", "/session", b"gps_adid=x", "body", "form:gps_adid")
    'Adjust session package, parameter gps_adid (Google advertising id)'
    >>> sdk_label("app-measurement.com", "/a", b"...", "body", "protobuf:1.2")
    'Firebase Analytics upload (app-measurement; its field names are not public)'
    >>> sdk_label("example.org", "/", None, "query:q", "") is None
    True
    """
    if location == "body" and isinstance(body, bytes) and chain:
        label = sensors_label(body, chain, path)
        if label:
            return label
    return (
        adjust_label(host, path, location, chain)
        or appsflyer_label(host, body if isinstance(body, bytes) else None, location, chain, path)
        or measurement_protocol_label(host, location, chain, path)
        or (
            "Firebase Analytics upload (app-measurement; its field names are not public)"
            if _firebase_upload(host, path, location)
            else None
        )
    )

"""What each request tells about the device and the person, without knowing the values first.

Why one module: the recognisers (value shapes, field names, SDK adapters) and the walk that applies them
to each leaf share one vocabulary of data types; apart, each would import the other's tables.

Every request is unwrapped by the leak engine (:func:`toolkit.leaks.unwrap.unwrap_request`), so
fields are reached inside form fields, base64, gzip, JSON inside JSON and protobuf. Each field
(a *leaf*: a query value, a header, a JSON or form value, a protobuf string) is named by three
recognisers, the first that knows it wins:

1. ``adapter`` (confidence 0.95): the SDK of the request (:mod:`toolkit.sdk`) documents the field.
2. ``field name`` (0.7): a name that says what it holds (``idfa``, ``os_version``, ``latitude``),
   on any host, only when the value has the shape that name promises (a UUID for ``idfa``).
3. ``value shape`` (0.5): a value that can be nothing else (a MAC address, an email address).

Precision matters more than recall: a name like ``id`` or ``q`` says nothing and is not used, a
zeroed advertising id is not an advertising id, and headers and cookies are read by adapters only.

>>> body = (b'{"device":{"idfa":"6D92078A-8246-4BA4-AE5B-76104861E7DC","model":"iPhone14,2",'
...         b'"mac":"a4:83:e7:12:34:56","id":"6D92078A-8246-4BA4-AE5B-76104861E7DC"}}')
>>> found = request_datatypes("https://t.example/v1/e", body=body)
>>> [(f.datatype, f.field, f.method) for f in found]  # doctest: +NORMALIZE_WHITESPACE
[('advertising_id', 'body > json:device.idfa', 'field name'), ('mac_address', 'body > json:device.mac', 'field name'),
 ('device_model', 'body > json:device.model', 'field name')]
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any
from urllib.parse import unquote_plus, urlsplit

import pandas as pd

from toolkit.leaks.unwrap import Limits, Located, json_path, unwrap_request
from toolkit.progress import counted
from toolkit.request_key import hashable_part
from toolkit.schema import TABLES
from toolkit.sdk import Sdk, identify
from toolkit.sdk.adapter import key_path
from toolkit.sdk.vocabulary import DATATYPES

__all__ = [
    "CONFIDENCE",
    "FIELD_NAMES",
    "Found",
    "adapter_datatype",
    "find_datatypes",
    "problem_rows",
    "request_datatypes",
    "unreadable",
]

#: Confidence of each way of recognising a data type.
CONFIDENCE: dict[str, float] = {"adapter": 0.95, "field name": 0.7, "value shape": 0.5}

_LIMITS = Limits(max_layers=4, max_decoded_bytes=8 * 1024 * 1024, max_texts=4000, shortest_text=1)  # every value
_MAX_VALUE = 2048
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HASH = re.compile(r"[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}|[0-9A-F]{32}|[0-9A-F]{40}|[0-9A-F]{64}")
_MAC = re.compile(r"[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}")
_VERSION = re.compile(r"[vV]?\d{1,6}(?:[._]\d{1,6}){0,4}(?:[-+ ._(][\w.() -]{0,40})?")
_APP_ID = re.compile(r"[A-Za-z][\w-]*(?:\.[A-Za-z0-9_-]+)+")
_LANGUAGE = re.compile(r"[a-zA-Z]{2,3}(?:[-_][a-zA-Z0-9]{2,8}){0,2}")
_TIMEZONE = re.compile(
    r"[A-Za-z]+(?:/[A-Za-z0-9_+-]+){1,2}|[+-]?\d{1,5}(?:\.\d+)?|(?:GMT|UTC)?[+-]\d{1,2}(?::?\d{2})?|[A-Z]{2,5}"
)
_NUMBER = re.compile(r"[+-]?\d{1,3}(?:\.(\d+))?")
_PHONE = re.compile(r"\+?[\d][\d ()-]{6,18}\d")
_EMPTY = frozenset({"", "null", "none", "undefined", "nil", "unknown", "n/a", "[]", "{}"})
_OS_NAMES = frozenset(
    {"android", "ios", "ipados", "harmonyos", "tvos", "watchos", "macos", "windows", "linux", "fireos"}
)


def _zeroed(value: str) -> bool:
    return set(value) <= set("0-")


def _identifier(value: str) -> bool:
    """An id, not a placeholder (``anonymous``, ``unknown``, ``0``): a digit, no space, not one repeated sign."""
    return (
        4 <= len(value) <= 256
        and any(c.isdigit() for c in value)
        and not any(c.isspace() for c in value)
        and len(set(value)) > 2
        and not _zeroed(value)
    )


def _ad_id(value: str) -> bool:
    return bool(_UUID.fullmatch(value) or re.fullmatch(r"[0-9a-f]{16}|[0-9a-f]{64}", value)) and not _zeroed(value)


#: Epoch times from 2001 to 2036 in seconds, milliseconds and microseconds: a digit string in these
#: ranges is a time stamp, not a phone number or an IMEI (no phone plan gives numbers starting so).
_EPOCHS = ((10**9, 21 * 10**8), (10**12, 21 * 10**11), (10**15, 21 * 10**14))
_NOT_EMAIL = frozenset({"png", "jpg", "jpeg", "gif", "webp", "svg", "ico", "js", "css", "json", "html", "htm", "mp4"})
_FLAGS = frozenset({"true", "false", "0", "1", "yes", "no", "on", "off"})


def _timestamp(value: str) -> bool:
    """``1764489600`` (seconds), ``1764489600123`` (milliseconds) ...

    >>> _timestamp("1764489600"), _timestamp("13812345678"), _timestamp("+491511234567")
    (True, False, False)
    """
    return value.isdigit() and any(low <= int(value) < high for low, high in _EPOCHS)


def _email(value: str) -> bool:
    """An email address, not a file name of the ``icon@2x.png`` kind."""
    return bool(_EMAIL.fullmatch(value)) and value.rsplit(".", 1)[-1].lower() not in _NOT_EMAIL


def _ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _mac(value: str) -> bool:
    if _MAC.fullmatch(value):
        bare = re.sub(r"[:-]", "", value).lower()
        return bare not in ("000000000000", "ffffffffffff", "020000000000")
    return bool(_HASH.fullmatch(value) or re.fullmatch(r"[0-9a-fA-F]{12}", value))


def _page_url(value: str) -> bool:
    """An http(s) URL with a host, or a path, that is not a script, style or image."""
    if value.startswith("/"):
        return not _RESOURCE.search(value.split("?", 1)[0])
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    host = parts.hostname or ""
    return (
        parts.scheme in ("http", "https")
        and bool(re.fullmatch(r"[\w-]+(?:\.[\w-]+)+", host))
        and not _RESOURCE.search(parts.path)
    )


def _any(value: str) -> bool:
    return True


#: What a value must look like to be taken as each data type (by any recogniser).
_VALID: dict[str, Callable[[str], bool]] = {
    "advertising_id": _ad_id,
    "vendor_id": lambda v: bool(_UUID.fullmatch(v)) and not _zeroed(v),
    "android_id": lambda v: bool(re.fullmatch(r"[0-9a-fA-F]{12,16}", v)) and not _zeroed(v),
    "imei": lambda v: (
        bool(re.fullmatch(r"\d{14,16}|[0-9A-Fa-f]{14}", v) or _HASH.fullmatch(v))
        and not _zeroed(v)
        and not _timestamp(v)
    ),
    "mac_address": _mac,
    "serial_number": lambda v: bool(re.fullmatch(r"[A-Za-z0-9]{5,24}", v)) and v.lower() != "unknown",
    "install_id": _identifier,
    "device_id": _identifier,
    "user_id": _identifier,
    "session_id": _identifier,
    "email": lambda v: bool(_email(v) or _HASH.fullmatch(v)),
    "phone_number": lambda v: bool((_PHONE.fullmatch(v) and not _timestamp(v)) or _HASH.fullmatch(v)),
    "ip_address": _ip,
    "url": lambda v: _page_url(v),
}

#: Stricter shapes for the ``field name`` recogniser, which does not know the SDK.
_NAMED_VALID: dict[str, Callable[[str], bool]] = {
    "device_model": lambda v: any(c.isalpha() for c in v) and len(v) <= 64,
    "device_manufacturer": lambda v: v.replace(" ", "").isalpha() and len(v) <= 32,
    "os": lambda v: v.lower().replace(" ", "") in _OS_NAMES,
    "os_version": lambda v: bool(_VERSION.fullmatch(v)),
    "app_version": lambda v: bool(_VERSION.fullmatch(v)),
    "sdk_version": lambda v: bool(re.fullmatch(r"[\w.-]{0,40}\d[\w.+-]{0,40}", v)),
    "app_id": lambda v: bool(_APP_ID.fullmatch(v)) and "://" not in v,
    "language": lambda v: bool(_LANGUAGE.fullmatch(v)),
    "locale": lambda v: bool(_LANGUAGE.fullmatch(v)),
    "timezone": lambda v: bool(_TIMEZONE.fullmatch(v)),
    "carrier": lambda v: len(v) <= 64 and any(c.isalnum() for c in v),
    "screen": lambda v: bool(re.fullmatch(r"\d{2,5}(?:\.\d+)?(?:\s*[x*X]\s*\d{2,5})?", v)),
    "event": lambda v: len(v) <= 80,
    "search_term": lambda v: len(v) <= 256 and any(c.isalnum() for c in v),
    "rooted": lambda v: v.lower() in ("true", "false", "0", "1", "yes", "no"),
    "emulator": lambda v: v.lower() in ("true", "false", "0", "1", "yes", "no"),
    "coarse_location": lambda v: len(v) <= 64,
    "account": lambda v: len(v) >= 2 and v.lower() not in _FLAGS,
    "purchase": lambda v: any(c.isdigit() for c in v) or bool(re.fullmatch(r"[A-Z]{3}", v)),
    "uptime": lambda v: any(c.isdigit() for c in v),
    "memory": lambda v: any(c.isdigit() for c in v),
    "storage": lambda v: any(c.isdigit() for c in v),
}


def _names(*pairs: tuple[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for datatype, names in pairs:
        for name in names.split():
            out[name] = datatype
    return out


#: Field names (lower case, without ``$``, ``_``, ``-``) that say which data type they hold.
#: Names that say too little (``id``, ``uid``, ``q``, ``name``, ``title``, ``lat`` for consent) are absent.
FIELD_NAMES: dict[str, str] = _names(
    (
        "advertising_id",
        "idfa gaid aaid adid advertisingid advertisingidentifier advertiserid gpsadid googleadid "
        "googleadvertisingid oaid iosifa androidadid advid fireadid amazonaid",
    ),
    ("vendor_id", "idfv vendorid identifierforvendor appsetid googleappsetid"),
    ("android_id", "androidid ssaid"),
    ("imei", "imei meid"),
    ("mac_address", "mac macaddress macaddr wifimac bluetoothmac"),
    ("serial_number", "serial serialno serialnumber buildserial"),
    (
        "install_id",
        "installid installationid installuuid installationuuid appinstanceid anonymousid firebaseinstallationid",
    ),
    ("device_id", "deviceid deviceuuid udid"),
    ("user_id", "userid distinctid customeruserid externaluserid"),
    ("session_id", "sessionid sessionuuid"),
    ("email", "email emailaddress mail useremail"),
    ("phone_number", "phone phonenumber msisdn mobilenumber telephone"),
    ("name", "firstname lastname fullname surname"),
    ("account", "username accountname login"),
    ("coarse_location", "city postalcode zipcode countrycode"),
    ("ip_address", "ip ipaddress ipaddr localip clientip deviceip"),
    ("device_model", "devicemodel phonemodel hardwaremodel"),
    ("device_manufacturer", "manufacturer devicemanufacturer devicebrand devicemake"),
    ("os", "os osname platform systemname ostype"),
    ("os_version", "osversion osv systemversion androidversion osvers apilevel sdkint"),
    ("app_id", "packagename bundleid bundleidentifier appid applicationid appnamespace apppackage"),
    ("app_version", "appversion appversionname versionname appversioncode appbuild"),
    ("sdk_version", "sdkversion libversion libraryversion"),
    ("language", "language lang languagecode"),
    ("locale", "locale"),
    ("timezone", "timezone tz timezoneid timezoneoffset tzoffset timezonename"),
    ("carrier", "carrier carriername networkoperator operatorname simoperator"),
    ("network_type", "networktype connectiontype connectivitytype nettype conntype"),
    (
        "screen",
        "screensize screenresolution resolution screenwidth screenheight displaywidth displayheight screendensity dpi",
    ),
    ("battery", "battery batterylevel batterystate charging ischarging"),
    ("storage", "freestorage diskspace freediskspace totaldiskspace storagesize freespace"),
    ("memory", "totalmemory freememory memorysize availablememory ramsize totalram"),
    ("uptime", "uptime boottime elapsedrealtime"),
    ("rooted", "rooted isrooted jailbroken isjailbroken jailbreak"),
    ("emulator", "emulator isemulator simulator issimulator isemu"),
    (
        "tracking_consent",
        "limitadtracking islimitadtrackingenabled adtrackingenabled trackingenabled attstatus "
        "trackingauthorizationstatus limitedadtracking",
    ),
    ("installed_apps", "installedapps installedpackages applist"),
    ("url", "url pageurl currenturl"),
    ("page_title", "pagetitle documenttitle"),
    ("search_term", "searchterm searchword searchquery searchkeyword searchstring keyword"),
    ("event", "eventname eventtype"),
    ("purchase", "revenue price currency transactionid orderid"),
    ("referrer", "referrer referer installreferrer"),
)

#: Names that say what they hold only inside a device object (``device.model``, ``deviceInfo.brand``):
#: elsewhere ``model`` may be a product's and ``brand`` a shop's.
_DEVICE_PARENTS = frozenset({"device", "deviceinfo", "devinfo", "hardware", "phone", "devicedata"})
_UNDER_DEVICE: dict[str, str] = {
    "model": "device_model",
    "brand": "device_manufacturer",
    "make": "device_manufacturer",
    "oem": "device_manufacturer",
}
_RESOURCE = re.compile(r"\.(?:gif|png|jpe?g|webp|svg|ico|js|css|json|woff2?|ttf|mp4|m3u8)$", re.I)

_LATITUDE = frozenset({"lat", "latitude", "locationlat", "geolat"})
_LONGITUDE = frozenset({"lon", "lng", "long", "longitude", "locationlng", "locationlon", "geolng", "geolon"})


@dataclass(frozen=True)
class Found:
    """One data type recognised in one request."""

    sdk: str | None
    field: str
    value: str
    datatype: str
    method: str
    confidence: float


def _normal(name: str) -> str:
    return re.sub(r"[-_$.\s]", "", name).lower()


def _text(data: bytes, form: bool) -> str | None:
    if not data or len(data) > _MAX_VALUE * 3:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if form:
        text = unquote_plus(text)
    text = text.strip()
    if not text or len(text) > _MAX_VALUE or text.lower() in _EMPTY or not text.isprintable():
        return None
    if text[0] in "{[" and text[-1] in "}]":  # a structure: its own leaves are read
        return None
    return text


def _location_type(keys: Sequence[str], value: str) -> str | None:
    """``precise_location`` or ``coarse_location`` for a latitude/longitude named so, else None."""
    match = _NUMBER.fullmatch(value)
    if not match or not keys:
        return None
    limit = 90 if _normal(keys[-1]) in _LATITUDE else 180
    if abs(float(value)) > limit:
        return None
    decimals = len(match.group(1) or "")
    return "precise_location" if decimals >= 3 else "coarse_location"


def _json_leaves(document: Any) -> Iterator[tuple[str, Any]]:
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        here, item = stack.pop()
        if isinstance(item, dict):
            stack.extend((json_path(here, str(k)), v) for k, v in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend((json_path(here, i), v) for i, v in reversed(list(enumerate(item))))
        else:
            yield here, item


def _json_text(leaf: Any) -> bytes:
    if isinstance(leaf, str):
        return leaf.encode("utf-8", "surrogatepass")
    return b"" if leaf is None else json.dumps(leaf).encode()


def _json_documents(data: bytes) -> list[tuple[tuple[str, ...], Any]]:
    """The JSON document of ``data``, or the documents of its lines (``line:N``: a Sentry envelope)."""
    try:
        return [((), json.loads(data))]
    except (ValueError, RecursionError):
        pass
    out: list[tuple[tuple[str, ...], Any]] = []
    for number, line in enumerate(data.split(b"\n")):
        if line.strip():
            try:
                out.append(((f"line:{number}",), json.loads(line)))
            except (ValueError, RecursionError):
                return []
    return out if len(out) >= 2 else []


def _leaves(texts: Iterator[Located]) -> Iterator[tuple[str, tuple[str, ...], str]]:
    """(location, resolved chain, value) of every leaf of a request."""
    for text in texts:
        if text.where is not None:  # JSON: walked here, so that true/false and null are seen too
            chain = tuple(text.resolve(step) for step in text.chain)
            for steps, document in _json_documents(text.data):
                for path, leaf in _json_leaves(document):
                    value = _text(_json_text(leaf), False)
                    if value is not None:
                        yield text.location, (*chain, *steps, f"json:{path}"), value
        elif text.parts is not None:
            if text.location == "url_path" and not text.chain:
                continue
            for part in text.parts():
                chain = tuple(text.resolve(step) for step in part.chain)
                if not chain or chain[-1].endswith("{key}"):
                    continue
                value = _text(part.data, chain[-1].startswith("form:"))
                if value is not None:
                    yield part.location, chain, value
        elif not text.chain and text.location.startswith(("query:", "header:", "cookie:")):
            value = _text(text.data, text.location.startswith("query:"))
            if value is not None:
                yield text.location, (), value
        elif text.chain and text.chain[-1].startswith("pb:"):
            value = _text(text.data, False)
            if value is not None:
                yield text.location, tuple(text.resolve(step) for step in text.chain), value


def adapter_datatype(sdk: Sdk, location: str, chain: tuple[str, ...], value: str) -> str | None:
    """The data type ``sdk``'s adapter gives the field at ``location`` / ``chain``, when ``value`` has
    its shape (used by identifier discovery: a value an adapter names as an id is an identifier).

    >>> from toolkit.sdk import identify
    >>> adapter_datatype(identify("app.adjust.com", "/session", ""), "body", ("form:android_uuid",),
    ...                  "7d1c2f0e-5b7e-4f4b-9f0a-1c2d3e4f5a6b")
    'install_id'
    """
    datatype = sdk.datatype_of(key_path(location, chain))
    return datatype if datatype is not None and _VALID.get(datatype, _any)(value) else None


def _recognise(sdk: Sdk | None, location: str, chain: tuple[str, ...], value: str) -> tuple[str, str] | None:
    """(data type, method) of one leaf, or None."""
    keys = key_path(location, chain)
    named = [k for k in keys if not k.startswith("[")]
    if sdk is not None:
        datatype = sdk.datatype_of(keys)
        if datatype in ("precise_location", "coarse_location"):
            datatype = _location_type(named, value) if _NUMBER.fullmatch(value) else "coarse_location"
        if datatype is not None and _VALID.get(datatype, _any)(value):
            return datatype, "adapter"
    if location.startswith(("header:", "cookie:")) or not named:
        return None
    name = _normal(named[-1])
    if name in _LATITUDE or name in _LONGITUDE:
        located = _location_type(named, value)
        return (located, "field name") if located else None
    datatype = FIELD_NAMES.get(name)
    if datatype is None and len(named) >= 2 and _normal(named[-2]) in _DEVICE_PARENTS:
        datatype = _UNDER_DEVICE.get(name)
    if datatype is not None:
        if _VALID.get(datatype, _any)(value) and _NAMED_VALID.get(datatype, _any)(value):
            return datatype, "field name"
        return None
    if _MAC.fullmatch(value) and _mac(value):
        return "mac_address", "value shape"
    if _email(value):
        return "email", "value shape"
    return None


def request_datatypes(
    url: str | None,
    headers: Sequence[tuple[str, str]] | None = None,
    body: bytes | None = None,
    content_type: str | None = None,
    cookies: Sequence[tuple[str, str]] | None = None,
    on_problem: Callable[[str], None] | None = None,
) -> list[Found]:
    """The data types of one request, each (data type, value) once, the most certain first found.

    ``on_problem`` hears the decoding problems and, for an SDK whose payloads can be encrypted,
    that this body could not be read (see :func:`unreadable`).

    >>> [(f.sdk, f.datatype, f.value) for f in request_datatypes("https://app.adjust.com/session?gps_adid=00000000-0000-0000-0000-000000000000")]
    []
    """
    found, notice = _request_datatypes(url, headers, body, content_type, cookies, on_problem)
    if notice is not None and on_problem is not None:
        on_problem(notice)
    return found


def unreadable(sdk: Sdk | None, body: bytes | None, body_leaves: int) -> str | None:
    """``SDK: what cannot be read`` when ``sdk`` may encrypt its payload and its non-empty ``body``
    gave no field (``body_leaves`` 0), else None.

    >>> from toolkit.sdk import identify
    >>> unreadable(identify("ulogs.umeng.com", "/unify_logs", ""), bytes(range(9)), 0)
    "Umeng: Umeng's analytics envelope (UMEnvelope) is encrypted; its fields cannot be read"
    >>> unreadable(identify("ulogs.umeng.com", "/unify_logs", ""), b"{}", 1) is None
    True
    """
    if sdk is None or not sdk.encrypted or not body or body_leaves:
        return None
    return f"{sdk.name}: {sdk.encrypted}"


def _request_datatypes(
    url: str | None,
    headers: Sequence[tuple[str, str]] | None,
    body: bytes | None,
    content_type: str | None,
    cookies: Sequence[tuple[str, str]] | None,
    on_problem: Callable[[str], None] | None,
) -> tuple[list[Found], str | None]:
    """The data types of one request, and the notice of :func:`unreadable` (or None)."""
    parts = urlsplit(url or "")
    sdk = identify(parts.hostname, parts.path, parts.query)
    found: dict[tuple[str, str], Found] = {}
    texts = unwrap_request(
        url=url,
        headers=headers,
        body=body,
        content_type=content_type,
        cookies=cookies,
        limits=_LIMITS,
        on_problem=on_problem or (lambda message: None),
    )
    body_leaves = 0
    for location, chain, value in _leaves(texts):
        body_leaves += location == "body"
        recognised = _recognise(sdk, location, chain, value)
        if recognised is None:
            continue
        datatype, method = recognised
        field = " > ".join((location, *chain))
        candidate = Found(sdk.name if sdk else None, field, value, datatype, method, CONFIDENCE[method])
        known = found.get((datatype, value))
        if known is None or known.confidence < candidate.confidence:
            found[(datatype, value)] = candidate
    order = list(DATATYPES)
    rows = sorted(found.values(), key=lambda f: (order.index(f.datatype), f.field, f.value))
    return rows, unreadable(sdk, body, body_leaves)


_REQUEST_PARTS = ("url", "request_headers", "body", "content_type", "cookies")
_ROW_FACTS = ("ts", "capture", "session", "host", "organisation", "role", "evidence")
_FOUND_FACTS = ("sdk", "field", "value", "datatype", "method", "confidence")
#: Rows gathered as Python lists before they become a part of the table (then concatenated once).
_ROWS_PER_PART = 50_000


def _cell(row: Mapping[str, Any], name: str) -> Any:
    value = row.get(name)
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return value


def _records(frame: pd.DataFrame, at_once: int = 5000) -> Iterator[dict[str, Any]]:
    """The rows of ``frame`` as dicts, made a slice at a time (not all at once for a large table)."""
    for start in range(0, len(frame), at_once):
        yield from frame.iloc[start : start + at_once].to_dict("records")


#: Distinct requests whose data types are kept for their repeats (the oldest forgotten beyond it).
_REPEATS_KEPT = 50_000


class _Repeats:
    """The data types of the requests read so far, by what the search reads of them (URL, headers,
    body, content type, cookies): a request sent again (a retry, a beacon, a capture that repeats a
    session) is searched once and its rows given again. At most :data:`_REPEATS_KEPT` are kept.

    >>> repeats = _Repeats()
    >>> first = repeats.datatypes("https://a.example/?os_version=14.2", [("X", "1")], None, None, None)
    >>> first is repeats.datatypes("https://a.example/?os_version=14.2", [("X", "1")], None, None, None)
    True
    """

    def __init__(self, kept: int = _REPEATS_KEPT) -> None:
        self.kept = kept
        self.known: dict[Any, tuple[list[Found], str | None]] = {}

    def datatypes(
        self,
        url: str | None,
        headers: Sequence[tuple[str, str]] | None,
        body: bytes | None,
        content_type: str | None,
        cookies: Sequence[tuple[str, str]] | None,
    ) -> tuple[list[Found], str | None]:
        """:func:`_request_datatypes` of the request (without problems), searched once."""
        try:
            key: Any = hashable_part((url, headers, body, content_type, cookies))
            result = self.known.get(key)
        except TypeError:  # a part with no hashable form: searched on its own
            key, result = None, None
        if result is None:
            result = _request_datatypes(url, headers, body, content_type, cookies, None)
            if key is not None:
                if len(self.known) >= self.kept:
                    del self.known[next(iter(self.known))]
                self.known[key] = result
        return result


def find_datatypes(
    requests: pd.DataFrame, problems: list[tuple[str, str, str]] | None = None, *, progress: bool | None = None
) -> pd.DataFrame:
    """The ``datatypes`` table of a ``requests`` table: one row per (request, data type, value).

    ``problems`` receives ``(capture, "encrypted", message)`` once per capture and SDK whose payloads
    could not be read (encrypted): the table cannot show what they hold, and says so in the
    ``problems`` table instead of showing nothing. ``progress`` shows a bar of the requests read
    (:func:`toolkit.progress.counted`).

    >>> requests = TABLES["requests"].frame({"url": ["https://api.example/p?os_version=14.2&lat=52.52437&q=x"],
    ...     "host": ["api.example"], "evidence": ["a.har#entry=0"]})
    >>> find_datatypes(requests)[["field", "value", "datatype", "method"]].values.tolist()
    ... # doctest: +NORMALIZE_WHITESPACE
    [['query:lat', '52.52437', 'precise_location', 'field name'],
     ['query:os_version', '14.2', 'os_version', 'field name']]
    >>> umeng = TABLES["requests"].frame({"url": ["https://ulogs.umeng.com/unify_logs"] * 2, "capture": ["a.pcap"] * 2,
    ...     "body": [bytes(range(99))] * 2, "evidence": ["a.pcap#frame=4", "a.pcap#frame=9"]})
    >>> problems = []
    >>> find_datatypes(umeng, problems).empty, problems  # doctest: +NORMALIZE_WHITESPACE
    (True, [('a.pcap', 'encrypted', "Umeng: Umeng's analytics envelope (UMEnvelope) is encrypted; its fields
      cannot be read (2 requests, first a.pcap#frame=4)")])
    """
    present = [n for n in (*_REQUEST_PARTS, *_ROW_FACTS) if n in requests.columns]
    table = TABLES["datatypes"]
    columns: dict[str, list[Any]] = {name: [] for name in table.names}
    parts: list[pd.DataFrame] = []  # the rows as table parts: lists of Python objects cost more (issue 20)
    unread: dict[tuple[str, str], list[Any]] = {}  # (capture, notice) -> [requests, first evidence]
    rows = _records(requests[present]) if present else iter(())
    repeats = _Repeats()
    fields: dict[str, str] = {}  # each distinct field path once: a long capture repeats them (issue 20)
    for row in counted(rows, len(requests) if present else 0, "data types", "request", progress):
        url, headers, body, content_type, cookies = (_cell(row, n) for n in _REQUEST_PARTS)
        body = bytes(body) if isinstance(body, (bytes, bytearray, memoryview)) else None
        found, notice = repeats.datatypes(url, headers, body, content_type, cookies)
        if notice is not None:
            where = _cell(row, "evidence") or _cell(row, "url") or "request"
            seen = unread.setdefault((str(_cell(row, "capture") or ""), notice), [0, where])
            seen[0] += 1
        if found:
            for name in _ROW_FACTS:  # the request's facts, on each of its rows
                columns[name].extend(repeat(_cell(row, name), len(found)))
            for name in _FOUND_FACTS:
                if name == "field":
                    columns[name].extend(fields.setdefault(item.field, item.field) for item in found)
                else:
                    columns[name].extend(getattr(item, name) for item in found)
            if len(columns["sdk"]) >= _ROWS_PER_PART:
                parts.append(table.frame(columns))
                columns = {name: [] for name in table.names}
    if problems is not None:
        for (capture, notice), (count, first) in unread.items():
            plural = "request" if count == 1 else "requests"
            message = f"{notice} ({count} {plural}, first {first})"
            problems.append((capture, "encrypted", message))
    parts.append(table.frame(columns))
    return table.validate(table.concat(parts))


def problem_rows(problems: Sequence[tuple[str, str, str]]) -> pd.DataFrame:
    """``problems`` table rows (severity ``warning``) for the notices of :func:`find_datatypes`.

    >>> problem_rows([("a.pcap", "encrypted", "Umeng: ...")])[["capture", "kind", "severity"]].values.tolist()
    [['a.pcap', 'encrypted', 'warning']]
    """
    return TABLES["problems"].frame(
        {
            "capture": [c for c, _k, _m in problems],
            "kind": [k for _c, k, _m in problems],
            "message": [m for _c, _k, m in problems],
            "severity": ["warning"] * len(problems),
        }
    )

"""AppsFlyer: attribution SDK posting to ``*.appsflyer.com`` / ``*.appsflyersdk.com``.

Recent Android and iOS SDKs (6.x) encrypt the event body: only the query string (``app_id``,
``buildnumber``) is readable, and the table says nothing of what the body holds. Older SDKs and
the server-to-server API post JSON with the field names below.

Sources: AppsFlyer's server-to-server events API (dev.appsflyer.com, "S2S events API": field names
``appsflyer_id``, ``advertising_id``, ``idfa``, ``customer_user_id``, ``eventName`` ...). Example
built from that documentation (not captured):

>>> from toolkit.datatypes import request_datatypes
>>> body = (b'{"appsflyer_id":"1588237200000-1234567","advertising_id":"38400000-8cf0-11bd-b23e-10b96e40000d",'
...         b'"eventName":"af_purchase"}')
>>> sorted((f.datatype, f.value) for f in request_datatypes(
...     "https://api2.appsflyer.com/inappevent/com.example.app", body=body) if f.method == "adapter")
... # doctest: +NORMALIZE_WHITESPACE
[('advertising_id', '38400000-8cf0-11bd-b23e-10b96e40000d'), ('event', 'af_purchase'),
 ('install_id', '1588237200000-1234567')]
"""

import json
import re

from toolkit.sdk.adapter import Sdk, described, host_under, leak_parameter

_HOSTS = ("appsflyer.com", "appsflyersdk.com")
# Where the S2S field names travel: the S2S API's endpoint (api2.appsflyer.com, path /inappevent/<app
# id>, from its published OpenAPI description) and the SDK's versioned API on appsflyersdk.com hosts
# (launches., inapps., conversions. ... ``/api/v<version>/...``); not AppsFlyer's web site.
_S2S_PATH = re.compile(r"^/inappevent/[^/]+/?$")
_SDK_PATH = re.compile(r"^/api/v[0-9][0-9.]*/")
_MAX_BODY = 32 * 1024 * 1024
_PARAMETERS = {
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


def _endpoint(host: str | None, path: str | None) -> bool:
    """The S2S events API or the SDK's API; ``path`` ``None`` (not known) is let through."""
    if path is None:
        return True
    path = path.split("?", 1)[0]
    if host_under(host, ("appsflyersdk.com",)):
        return _SDK_PATH.match(path) is not None
    return (host or "").lower().rstrip(".") == "api2.appsflyer.com" and _S2S_PATH.match(path) is not None


def appsflyer_label(
    host: str | None, body: bytes | None, location: str, chain: str, path: str | None = None
) -> str | None:
    """``AppsFlyer event af_purchase, field advertising_id (Google advertising id)``, or None.

    >>> appsflyer_label("api2.appsflyer.com", b'{"eventName":"af_login"}', "body", "json:advertising_id",
    ...                 "/inappevent/com.example.app")
    'AppsFlyer event af_login, field advertising_id (Google advertising id)'
    """
    name = leak_parameter(location, chain) if host_under(host, _HOSTS) else None
    if name is None or not _endpoint(host, path):
        return None
    event = None
    if location == "body" and body:
        try:
            value = json.loads(body[:_MAX_BODY])
        except ValueError:
            value = None
        if isinstance(value, dict) and isinstance(value.get("eventName"), str):
            event = value["eventName"]
    head = f"AppsFlyer event {event}" if event else "AppsFlyer request"
    return f"{head}, field {described(name, _PARAMETERS)}"


def _label(host: str | None, path: str | None, body: bytes | None, location: str, chain: str) -> str | None:
    return appsflyer_label(host, body, location, chain, path)


SDK = Sdk(
    "AppsFlyer",
    hosts=_HOSTS,
    labeller=_label,
    source="dev.appsflyer.com S2S events API field names",
    encrypted="AppsFlyer SDK 6.x encrypts its event body; only the URL's app_id and buildnumber are readable",
    fields={
        "appsflyer_id": "install_id",
        "uid": "install_id",
        "advertising_id": "advertising_id",
        "advertiserId": "advertising_id",
        "idfa": "advertising_id",
        "oaid": "advertising_id",
        "amazon_aid": "advertising_id",
        "idfv": "vendor_id",
        "android_id": "android_id",
        "androidId": "android_id",
        "imei": "imei",
        "customer_user_id": "user_id",
        "ip": "ip_address",
        "eventName": "event",
        "eventCurrency": "purchase",
        "af_revenue": "purchase",
        "app_id": "app_id",
        "buildnumber": "sdk_version",
        "app_version_name": "app_version",
        "brand": "device_manufacturer",
        "model": "device_model",
        "lang": "language",
        "lang_code": "language",
        "country": "locale",
        "operator": "carrier",
        "carrier": "carrier",
        "network": "network_type",
        "advertiserIdEnabled": "tracking_consent",
        "referrer": "referrer",
    },
)

"""Adjust: attribution SDK; each activity is a form post to its path on ``app.adjust.com``.

Sources: Adjust's open-source Android SDK (github.com/adjust/android_sdk, ``PackageBuilder.java``:
the parameters of session, event, sdk_click, attribution packages), Adjust's server-to-server
documentation (help.adjust.com "Server-to-server sessions", "Device identifiers"), and the field
map of TrackHAR's Adjust adapter (github.com/tweaselORG/TrackHAR, ``src/adapters/adjust.ts``).
Wire-format example built from those docs (not captured):

>>> from toolkit.datatypes import request_datatypes
>>> body = (b"gps_adid=38400000-8cf0-11bd-b23e-10b96e40000d&android_uuid=7d1c2f0e-5b7e-4f4b-9f0a-1c2d3e4f5a6b"
...         b"&package_name=com.example.app&os_version=10&device_name=Redmi%20Note%208&tracking_enabled=1")
>>> sorted((f.datatype, f.value) for f in request_datatypes("https://app.adjust.com/session", body=body)
...        if f.method == "adapter")  # doctest: +NORMALIZE_WHITESPACE
[('advertising_id', '38400000-8cf0-11bd-b23e-10b96e40000d'), ('app_id', 'com.example.app'),
 ('device_model', 'Redmi Note 8'), ('install_id', '7d1c2f0e-5b7e-4f4b-9f0a-1c2d3e4f5a6b'),
 ('os_version', '10'), ('tracking_consent', '1')]
"""

from toolkit.sdk.adapter import Sdk, described, host_under, leak_parameter

_HOSTS = ("adjust.com", "adjust.world", "adjust.net.in", "adjust.cn", "adjust.io")
# The SDK's endpoints are the app., gdpr. and subscription. hosts of these domains and of their
# data-residency subdomains (eu., tr., us.): adjust/smart_banner_sdk url-strategy/endpoints.ts and the
# SDKs' UrlStrategy; a request elsewhere on them (the company's web site) is not an SDK package.
_ENDPOINT_HOSTS = ("app", "gdpr", "subscription")
# Each activity is posted form-encoded to its path (android_sdk PackageBuilder.java, ActivityKind.java).
_ACTIVITIES = {
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
# What the parameters are, for leak labels; callback_params and partner_params are JSON objects of the
# app's own values.
_PARAMETERS = {
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


def adjust_label(host: str | None, path: str | None, location: str, chain: str) -> str | None:
    """``Adjust session package, parameter gps_adid (Google advertising id)``, or None.

    >>> adjust_label("app.eu.adjust.com", "/event", "query:event_token", "")
    'Adjust event package, parameter event_token (event name token)'
    """
    name = leak_parameter(location, chain) if host_under(host, _HOSTS) else None
    if name is None or (host or "").lower().split(".", 1)[0] not in _ENDPOINT_HOSTS:
        return None
    activity = _ACTIVITIES.get((path or "").split("?", 1)[0].strip("/"))
    if activity is None:  # not one of the SDK's package paths
        return None
    return f"Adjust {activity} package, parameter {described(name, _PARAMETERS)}"


def _label(host: str | None, path: str | None, body: bytes | None, location: str, chain: str) -> str | None:
    return adjust_label(host, path, location, chain)


SDK = Sdk(
    "Adjust",
    hosts=_HOSTS,
    labeller=_label,
    source="github.com/adjust/android_sdk PackageBuilder.java; help.adjust.com S2S docs; TrackHAR adjust.ts",
    fields={
        "gps_adid": "advertising_id",
        "idfa": "advertising_id",
        "oaid": "advertising_id",
        "fire_adid": "advertising_id",
        "google_app_set_id": "vendor_id",
        "idfv": "vendor_id",
        "android_id": "android_id",
        "imei": "imei",
        "meid": "imei",
        "mac_sha1": "mac_address",
        "mac_md5": "mac_address",
        "android_uuid": "install_id",
        "ios_uuid": "install_id",
        "persistent_ios_uuid": "install_id",
        "web_uuid": "install_id",
        "fb_anon_id": "install_id",
        "external_device_id": "device_id",
        "package_name": "app_id",
        "bundle_id": "app_id",
        "app_version": "app_version",
        "app_version_short": "app_version",
        "client_sdk": "sdk_version",
        "language": "language",
        "country": "locale",
        "device_name": "device_model",
        "hardware_name": "device_model",
        "device_manufacturer": "device_manufacturer",
        "os_name": "os",
        "os_version": "os_version",
        "os_build": "os_version",
        "api_level": "os_version",
        "display_width": "screen",
        "display_height": "screen",
        "screen_size": "screen",
        "screen_density": "screen",
        "screen_format": "screen",
        "mcc": "carrier",
        "mnc": "carrier",
        "connectivity_type": "network_type",
        "network_type": "network_type",
        "tracking_enabled": "tracking_consent",
        "att_status": "tracking_consent",
        "event_token": "event",
        "revenue": "purchase",
        "currency": "purchase",
        "referrer": "referrer",
        "raw_referrer": "referrer",
        "deeplink": "referrer",
        "install_begin_time": "referrer",
    },
)

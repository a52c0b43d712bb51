"""Branch: deep linking and attribution, JSON posts to ``api2.branch.io`` (``/v1/install``,
``/v1/open``, ``/v2/event/standard|custom``).

Sources: BranchMetrics/android-branch-deep-linking-attribution (``Defines.Jsonkey``: the JSON keys
below) and help.branch.io "Events API" (``user_data`` fields). Example built from them (not
captured):

>>> from toolkit.datatypes import request_datatypes
>>> body = (b'{"name":"PURCHASE","user_data":{"aaid":"38400000-8cf0-11bd-b23e-10b96e40000d","os":"Android",'
...         b'"os_version":29,"model":"Redmi Note 8","brand":"Xiaomi","limit_ad_tracking":0,'
...         b'"developer_identity":"user-8812"},"event_data":{"revenue":4.99,"currency":"EUR"}}')
>>> found = request_datatypes("https://api2.branch.io/v2/event/standard", body=body)
>>> sorted({f.datatype for f in found if f.method == "adapter"})  # doctest: +NORMALIZE_WHITESPACE
['advertising_id', 'device_manufacturer', 'device_model', 'event', 'os', 'os_version', 'purchase',
 'tracking_consent', 'user_id']
"""

from toolkit.sdk.adapter import Sdk

SDK = Sdk(
    "Branch",
    hosts=("branch.io", "app.link"),
    source="github.com/BranchMetrics/android-branch-deep-linking-attribution Defines.java; help.branch.io Events API",
    fields={
        "aaid": "advertising_id",
        "google_advertising_id": "advertising_id",
        "idfa": "advertising_id",
        "oaid": "advertising_id",
        "idfv": "vendor_id",
        "hardware_id": "android_id",
        "android_id": "android_id",
        "randomized_device_token": "device_id",
        "device_fingerprint_id": "device_id",
        "randomized_bundle_token": "install_id",
        "identity_id": "user_id",
        "developer_identity": "user_id",
        "identity": "user_id",
        "session_id": "session_id",
        "brand": "device_manufacturer",
        "model": "device_model",
        "os": "os",
        "os_version": "os_version",
        "screen_dpi": "screen",
        "screen_height": "screen",
        "screen_width": "screen",
        "wifi": "network_type",
        "connection_type": "network_type",
        "carrier": "carrier",
        "local_ip": "ip_address",
        "country": "locale",
        "language": "language",
        "locale": "locale",
        "limit_ad_tracking": "tracking_consent",
        "lat_val": "tracking_consent",
        "app_version": "app_version",
        "sdk": "sdk_version",
        "sdk_version": "sdk_version",
        "cd.pn": "app_id",
        "package_name": "app_id",
        "name": "event",
        "revenue": "purchase",
        "currency": "purchase",
        "transaction_id": "purchase",
        "link_identifier": "referrer",
        "install_referrer_extras": "referrer",
        "external_intent_uri": "referrer",
    },
)

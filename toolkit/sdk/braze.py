"""Braze (formerly Appboy): ``sdk.<cluster>.braze.com/api/v3/data`` JSON batches.

Sources: braze-inc/braze-android-sdk (``Device`` JSON keys ``android_version``, ``carrier``,
``brand``, ``model``, ``resolution``, ``locale``, ``time_zone``, ``google_ad_id``,
``ad_tracking_enabled``; request keys ``device_id``, ``sdk_version``, ``app_version``; ``events``
with ``name``) and braze.com/docs "User attributes object" (``email``, ``first_name``, ``phone``).
Example built from them (not captured):

>>> from toolkit.datatypes import request_datatypes
>>> body = (b'{"api_key":"k","device_id":"2f7c1a9e-0b3d-4e5f-8a6b-7c8d9e0f1a2b","sdk_version":"24.1.0",'
...         b'"device":{"android_version":"10","model":"Redmi Note 8","brand":"Xiaomi","time_zone":"Europe/Berlin",'
...         b'"google_ad_id":"38400000-8cf0-11bd-b23e-10b96e40000d","ad_tracking_enabled":true},'
...         b'"events":[{"name":"lr","data":{}}]}')
>>> found = request_datatypes("https://sdk.iad-01.braze.com/api/v3/data", body=body)
>>> sorted({f.datatype for f in found if f.method == "adapter"})  # doctest: +NORMALIZE_WHITESPACE
['advertising_id', 'device_id', 'device_manufacturer', 'device_model', 'event', 'os_version', 'sdk_version',
 'timezone', 'tracking_consent']
"""

from toolkit.sdk.adapter import Sdk

SDK = Sdk(
    "Braze",
    hosts=("braze.com", "braze.eu", "appboy.com"),
    source="github.com/braze-inc/braze-android-sdk Device JSON keys; braze.com/docs user attributes object",
    fields={
        "device_id": "device_id",
        "sdk_version": "sdk_version",
        "app_version": "app_version",
        "device.android_version": "os_version",
        "device.os_version": "os_version",
        "device.carrier": "carrier",
        "device.brand": "device_manufacturer",
        "device.model": "device_model",
        "device.resolution": "screen",
        "device.locale": "locale",
        "device.time_zone": "timezone",
        "device.google_ad_id": "advertising_id",
        "device.ios_idfa": "advertising_id",
        "device.ios_idfv": "vendor_id",
        "device.ad_tracking_enabled": "tracking_consent",
        "events.name": "event",
        "user_id": "user_id",
        "external_id": "user_id",
        "email": "email",
        "first_name": "name",
        "last_name": "name",
        "phone": "phone_number",
        "session_id": "session_id",
    },
)

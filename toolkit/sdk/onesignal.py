"""OneSignal: push notifications; JSON to ``api.onesignal.com`` / ``onesignal.com/api/v1/players``
(player model) and ``/apps/<id>/users`` (user model, SDK 5).

Sources: documentation.onesignal.com "Add a device" (players: ``ad_id``, ``device_model``,
``device_os``, ``language``, ``timezone``, ``game_version``, ``net_type``, ``carrier``, ``rooted``,
``lat``/``long``, ``external_user_id``) and "Create user" (``subscriptions[]``, ``identity``,
``properties``); TrackHAR onesignal.ts. Example built from them (not captured):

>>> from toolkit.datatypes import request_datatypes
>>> body = (b'{"app_id":"5eb5a37e-b458-11e3-ac11-000c2940e62c","device_type":1,'
...         b'"ad_id":"38400000-8cf0-11bd-b23e-10b96e40000d","device_model":"Redmi Note 8",'
...         b'"device_os":"10","language":"en","timezone":3600,"rooted":false,'
...         b'"net_type":0,"carrier":"Vodafone","game_version":"42","sdk":"040805"}')
>>> found = request_datatypes("https://onesignal.com/api/v1/players", body=body)
>>> sorted({f.datatype for f in found if f.method == "adapter"})  # doctest: +NORMALIZE_WHITESPACE
['advertising_id', 'app_version', 'carrier', 'device_model', 'language', 'network_type', 'os_version',
 'rooted', 'sdk_version', 'timezone']
"""

from toolkit.sdk.adapter import Sdk

SDK = Sdk(
    "OneSignal",
    hosts=("onesignal.com",),
    source="documentation.onesignal.com Add a device / Create user API references; TrackHAR onesignal.ts",
    fields={
        "ad_id": "advertising_id",
        "device_model": "device_model",
        "device_os": "os_version",
        "language": "language",
        "timezone": "timezone",
        "timezone_id": "timezone",
        "game_version": "app_version",
        "app_version": "app_version",
        "sdk": "sdk_version",
        "net_type": "network_type",
        "carrier": "carrier",
        "rooted": "rooted",
        "lat": "precise_location",
        "long": "precise_location",
        "country": "coarse_location",
        "external_user_id": "user_id",
        "external_id": "user_id",
        "onesignal_id": "user_id",
        "email": "email",
        "email_auth_hash": "email",
        "android_package": "app_id",
    },
)

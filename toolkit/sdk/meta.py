"""Meta (Facebook) SDK: app events to ``graph.facebook.com/v<N>/<app id>/activities`` and the
Audience Network's ``network_ads_common``.

Sources: developers.facebook.com Graph API reference "Application Activities" (``advertiser_id``,
``advertiser_tracking_enabled``, ``application_tracking_enabled``, ``anon_id``, ``extinfo``: a JSON
array whose positions 1-15 are package name, version code and name, OS version, device model,
locale, time zone abbreviation, carrier, screen width and height, ..., storage, time zone) and
the field map of TrackHAR's facebook.ts. Example built from that reference (not captured):

>>> from toolkit.datatypes import request_datatypes
>>> body = (b'format=json&event=MOBILE_APP_INSTALL&advertiser_id=38400000-8cf0-11bd-b23e-10b96e40000d'
...         b'&anon_id=XZ1b2c3d4e-5f60-4a1b-8c9d-0e1f2a3b4c5d&advertiser_tracking_enabled=1'
...         b'&extinfo=%5B%22a2%22%2C%22com.example.app%22%2C%2242%22%2C%221.2.3%22%2C%2210%22%2C'
...         b'%22Redmi+Note+8%22%2C%22en_US%22%2C%22CET%22%2C%22Vodafone%22%5D')
>>> found = request_datatypes("https://graph.facebook.com/v17.0/1234/activities", body=body)
>>> sorted({f.datatype for f in found if f.method == "adapter"})  # doctest: +NORMALIZE_WHITESPACE
['advertising_id', 'app_id', 'app_version', 'carrier', 'device_model', 'event', 'install_id', 'locale',
 'os_version', 'timezone', 'tracking_consent']
"""

from toolkit.sdk.adapter import Sdk

SDK = Sdk(
    "Meta SDK",
    hosts=("graph.facebook.com",),
    path=r"/(v[0-9.]+/)?([0-9]+/activities|network_ads_common)",
    source="developers.facebook.com Graph API Application Activities reference; TrackHAR facebook.ts",
    fields={
        "advertiser_id": "advertising_id",
        "attribution": "device_id",
        "anon_id": "install_id",
        "app_user_id": "user_id",
        "advertiser_tracking_enabled": "tracking_consent",
        "application_tracking_enabled": "tracking_consent",
        "event": "event",
        "_eventName": "event",
        "application_package_name": "app_id",
        "sdk": "os",
        "install_referrer": "referrer",
        "extinfo[1]": "app_id",
        "extinfo[2]": "app_version",
        "extinfo[3]": "app_version",
        "extinfo[4]": "os_version",
        "extinfo[5]": "device_model",
        "extinfo[6]": "locale",
        "extinfo[7]": "timezone",
        "extinfo[8]": "carrier",
        "extinfo[9]": "screen",
        "extinfo[10]": "screen",
        "extinfo[13]": "storage",
        "extinfo[14]": "storage",
        "extinfo[15]": "timezone",
        "ud.em": "email",
        "ud.ph": "phone_number",
        "ud.fn": "name",
        "ud.ln": "name",
        "_valueToSum": "purchase",
        "fb_currency": "purchase",
        "IDFA": "advertising_id",
        "BUNDLE": "app_id",
        "APPVERS": "app_version",
        "MAKE": "device_manufacturer",
        "MODEL": "device_model",
        "ROOTED": "rooted",
        "CARRIER": "carrier",
        "SCREEN_WIDTH": "screen",
        "SCREEN_HEIGHT": "screen",
        "OS": "os",
        "OSVERS": "os_version",
        "LOCALE": "locale",
        "SDK_VERSION": "sdk_version",
        "VALPARAMS.is_emu": "emulator",
        "VALPARAMS.timezone_offset": "timezone",
        "ANALOG.total_memory": "memory",
        "ANALOG.available_memory": "memory",
        "ANALOG.battery": "battery",
        "ANALOG.charging": "battery",
        "ANALOG.free_space": "storage",
    },
)

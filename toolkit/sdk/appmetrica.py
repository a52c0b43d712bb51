"""Yandex AppMetrica: ``startup.mobile.yandex.net/analytics/startup`` and
``report.appmetrica.yandex.net/report`` with device facts in the query string (the report body is
encrypted and compressed: only the query is read).

Source: the field map of TrackHAR's yandex.ts (github.com/tweaselORG/TrackHAR: ``adv_id``, ``ifa``,
``ifv``, ``deviceid``, ``android_id``, ``app_platform``, ``os_version``, ``manufacturer``,
``model``, ``screen_width``, ``locale``, ``is_rooted``, ``analytics_sdk_version_name``,
``app_id``, ``app_version_name``). Example built from it (not captured):

>>> from toolkit.datatypes import request_datatypes
>>> found = request_datatypes("https://startup.mobile.yandex.net/analytics/startup?adv_id=38400000-8cf0-11bd-b23e-10b96e40000d"
...     "&android_id=8e5fbce04dc91566&model=Redmi%20Note%208&is_rooted=0&app_id=com.example.app")
>>> sorted({f.datatype for f in found if f.method == "adapter"})
['advertising_id', 'android_id', 'app_id', 'device_model', 'rooted']
"""

from toolkit.sdk.adapter import Sdk

SDK = Sdk(
    "AppMetrica",
    hosts=("mobile.yandex.net", "appmetrica.yandex.net", "appmetrica.yandex.com"),
    source="TrackHAR yandex.ts field map",
    encrypted="AppMetrica report bodies are encrypted; only their query strings are read",
    fields={
        "adv_id": "advertising_id",
        "ifa": "advertising_id",
        "ifv": "vendor_id",
        "deviceid": "device_id",
        "deviceid2": "device_id",
        "uuid": "install_id",
        "android_id": "android_id",
        "yandex_adv_id": "advertising_id",
        "app_platform": "os",
        "os_version": "os_version",
        "manufacturer": "device_manufacturer",
        "model": "device_model",
        "screen_height": "screen",
        "screen_width": "screen",
        "screen_dpi": "screen",
        "locale": "locale",
        "is_rooted": "rooted",
        "analytics_sdk_version_name": "sdk_version",
        "app_id": "app_id",
        "app_version_name": "app_version",
        "app_build_number": "app_version",
    },
)

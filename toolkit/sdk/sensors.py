"""Sensors Analytics (神策数据): self-hosted analytics; any host, path ``/sa`` with ``?project=``.

The Android SDK posts ``crc=..&gzip=1&data_list=<urlencoded base64(gzip(JSON array of events))>``
(``data=`` for one event); each event carries preset properties (``$os``, ``$model`` ...).
Sources: sensorsdata/sa-sdk-android (``AnalyticsMessages.sendHttpRequest``, preset properties in
``SensorsDataAPI``/``SensorsDataUtils``: ``$device_id`` is the ANDROID_ID) and the preset-property
list of manual.sensorsdata.cn ("预置属性"). The lab (``data/lab``) re-creates its wire format.

>>> import base64, gzip, json
>>> from urllib.parse import quote
>>> events = [{"event": "$AppStart", "distinct_id": "0c47d630-7f55-4377-aafd-ccf9486ae5f3",
...            "properties": {"$model": "Redmi Note 8", "$os_version": "10", "$device_id": "8e5fbce04dc91566"}}]
>>> packed = quote(base64.b64encode(gzip.compress(json.dumps(events).encode())).decode(), safe="")
>>> from toolkit.datatypes import request_datatypes
>>> found = request_datatypes("https://sa.example.com/sa?project=p", body=f"crc=1&gzip=1&data_list={packed}".encode())
>>> sorted((f.datatype, f.value) for f in found)  # doctest: +NORMALIZE_WHITESPACE
[('android_id', '8e5fbce04dc91566'), ('device_model', 'Redmi Note 8'), ('event', '$AppStart'),
 ('os_version', '10'), ('user_id', '0c47d630-7f55-4377-aafd-ccf9486ae5f3')]
"""

from toolkit.sdk.adapter import Sdk

SDK = Sdk(
    "Sensors Analytics",
    path=r"/sa(\.gif)?$",
    query=r"(^|&)project=",
    source="github.com/sensorsdata/sa-sdk-android; manual.sensorsdata.cn preset properties",
    fields={
        "distinct_id": "user_id", "login_id": "user_id", "anonymous_id": "install_id",
        "$device_id": "android_id", "$identity_android_id": "android_id", "$identity_android_uuid": "install_id",
        "$oaid": "advertising_id", "$gaid": "advertising_id", "$idfa": "advertising_id", "$idfv": "vendor_id",
        "event": "event", "$os": "os", "$os_version": "os_version", "$model": "device_model",
        "$manufacturer": "device_manufacturer", "$brand": "device_manufacturer",
        "$screen_width": "screen", "$screen_height": "screen", "$screen_orientation": "screen",
        "$wifi": "network_type", "$network_type": "network_type", "$carrier": "carrier",
        "$app_version": "app_version", "$app_id": "app_id", "$lib_version": "sdk_version",
        "$timezone_offset": "timezone", "$latitude": "precise_location", "$longitude": "precise_location",
        "$ip": "ip_address", "$city": "coarse_location", "$province": "coarse_location", "$country": "coarse_location",
        "$url": "url", "$title": "page_title", "$referrer": "referrer", "$screen_name": "url",
        "$utm_source": "referrer", "$utm_campaign": "referrer",
    },
)  # fmt: skip

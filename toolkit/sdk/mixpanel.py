"""Mixpanel: ``api.mixpanel.com/track`` and ``/engage``; ``data=`` a JSON (or base64 of JSON)
array of events (form-encoded: base64's ``=`` as ``%3D``), each ``{"event", "properties": {...}}``;
profile updates carry ``$set``.

Sources: developer.mixpanel.com "Ingestion API" and "Default properties" (``distinct_id``,
``$device_id``, ``$os``, ``$os_version``, ``$manufacturer``, ``$model``, ``$screen_width``,
``$carrier``, ``$wifi``, ``$app_version_string``, ``$lib_version``, ``$city``, ``mp_country_code``;
``$email``, ``$name``, ``$phone`` in profiles). Example built from them (not captured):

>>> import base64
>>> from urllib.parse import quote
>>> from toolkit.datatypes import request_datatypes
>>> events = (b'[{"event":"Signed Up","properties":{"distinct_id":"user-88123","$os":"Android",'
...           b'"$model":"Redmi Note 8","$carrier":"Vodafone","$wifi":true,"mp_country_code":"DE"}}]')
>>> body = b"data=" + quote(base64.b64encode(events)).encode()
>>> found = request_datatypes("https://api.mixpanel.com/track", body=body,
...                           content_type="application/x-www-form-urlencoded")
>>> sorted({f.datatype for f in found if f.method == "adapter"})  # doctest: +NORMALIZE_WHITESPACE
['carrier', 'coarse_location', 'device_model', 'event', 'network_type', 'os', 'user_id']
"""

from toolkit.sdk.adapter import Sdk

SDK = Sdk(
    "Mixpanel",
    hosts=("mixpanel.com",),
    source="developer.mixpanel.com Ingestion API and Default Properties",
    fields={
        "event": "event",
        "distinct_id": "user_id",
        "$distinct_id": "user_id",
        "$user_id": "user_id",
        "$device_id": "device_id",
        "$os": "os",
        "$os_version": "os_version",
        "$manufacturer": "device_manufacturer",
        "$brand": "device_manufacturer",
        "$model": "device_model",
        "$screen_width": "screen",
        "$screen_height": "screen",
        "$screen_dpi": "screen",
        "$carrier": "carrier",
        "$wifi": "network_type",
        "$app_version_string": "app_version",
        "$app_build_number": "app_version",
        "$app_version": "app_version",
        "$lib_version": "sdk_version",
        "$city": "coarse_location",
        "$region": "coarse_location",
        "mp_country_code": "coarse_location",
        "$current_url": "url",
        "$referrer": "referrer",
        "$ios_ifa": "advertising_id",
        "$android_ad_id": "advertising_id",
        "$ios_device_model": "device_model",
        "$email": "email",
        "$name": "name",
        "$first_name": "name",
        "$last_name": "name",
        "$phone": "phone_number",
        "$ip": "ip_address",
        "ip": "ip_address",
    },
)

"""Amplitude: product analytics; ``api2.amplitude.com/2/httpapi`` (JSON ``events``) and the older
``api.amplitude.com/`` form post (``e=<JSON array of events>``).

Sources: amplitude.com/docs "HTTP V2 API" (event keys ``user_id``, ``device_id``, ``event_type``,
``session_id``, ``os_name``, ``device_model``, ``carrier``, ``location_lat``, ``idfa``, ``adid``,
``android_id``, ``revenue`` ...). Example from that reference (not captured):

>>> from toolkit.datatypes import request_datatypes
>>> body = (b'{"api_key":"k","events":[{"user_id":"user-8812","device_id":"C8F9E604-F01A-4BD9-95C6-8E5357DF265D",'
...         b'"event_type":"watch_tutorial","os_name":"Android","os_version":"10","device_model":"Redmi Note 8",'
...         b'"location_lat":37.77493,"location_lng":-122.41942,"adid":"38400000-8cf0-11bd-b23e-10b96e40000d"}]}')
>>> found = request_datatypes("https://api2.amplitude.com/2/httpapi", body=body)
>>> sorted({f.datatype for f in found if f.method == "adapter"})  # doctest: +NORMALIZE_WHITESPACE
['advertising_id', 'device_id', 'device_model', 'event', 'os', 'os_version', 'precise_location', 'user_id']
"""

from toolkit.sdk.adapter import Sdk

SDK = Sdk(
    "Amplitude",
    hosts=("amplitude.com",),
    source="amplitude.com/docs HTTP V2 API reference",
    fields={
        "user_id": "user_id",
        "device_id": "device_id",
        "session_id": "session_id",
        "event_type": "event",
        "app_version": "app_version",
        "version_name": "app_version",
        "platform": "os",
        "os_name": "os",
        "os_version": "os_version",
        "device_brand": "device_manufacturer",
        "device_manufacturer": "device_manufacturer",
        "device_model": "device_model",
        "carrier": "carrier",
        "country": "coarse_location",
        "region": "coarse_location",
        "city": "coarse_location",
        "dma": "coarse_location",
        "language": "language",
        "location_lat": "precise_location",
        "location_lng": "precise_location",
        "ip": "ip_address",
        "idfa": "advertising_id",
        "adid": "advertising_id",
        "idfv": "vendor_id",
        "android_id": "android_id",
        "android_app_set_id": "vendor_id",
        "price": "purchase",
        "revenue": "purchase",
        "productId": "purchase",
        "library": "sdk_version",
        "library.version": "sdk_version",
    },
)

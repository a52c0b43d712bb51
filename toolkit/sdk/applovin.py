"""AppLovin (MAX mediation and AppLovin's own ads): requests to ``ms.applovin.com`` (mediation),
``a.applovin.com`` (ad requests), ``d.applovin.com`` (device/SDK API), ``rt.applovin.com`` (event and
mediation tracking: ``/pix``, ``/med``) and their backups on ``applvn.com``.

The SDK is not open source. The key names below are those the Android SDK's ``DataCollector`` puts
into its device and app maps, read in decompiled copies of the SDK published on GitHub (the same
class in several SDK versions): ``brand`` (Build.MANUFACTURER), ``brand_name`` (Build.BRAND),
``model``, ``revision`` (Build.DEVICE), ``os`` (Build.VERSION.RELEASE), ``api_level``, ``platform``
(``android``/``fireos``), ``locale``, ``country_code``, ``carrier``/``mcc``/``mnc``, ``tz_offset``,
``sim`` (emulator), ``adns``/``xdpi``/``screen_size_in`` (screen), ``bt_ms`` (boot time), ``idfa``
(the advertising id, on Android too), ``dnt`` (limit ad tracking), ``idfv``, ``fs``/``tds``
(free/total storage), ``fm``/``tm`` (free/total memory), ``network``, ``package_name``; the hosts
are the SDK's endpoint settings (``api_endpoint``, ``adserver_endpoint``, ``event_tracking_endpoint``
...). Recent SDKs encrypt (some of) their POST bodies: such a body cannot be read, and the table
says so (a problem row) rather than showing nothing.

Example built from those key names (a JSON body as the SDK posts it; not captured):

>>> from toolkit.datatypes import request_datatypes
>>> body = (b'{"device_info":{"brand":"Xiaomi","model":"Redmi Note 8","os":"10","platform":"android",'
...         b'"idfa":"38400000-8cf0-11bd-b23e-10b96e40000d","dnt":false,"tz_offset":1.0,"sim":false,'
...         b'"fm":1532215296},"app_info":{"package_name":"com.example.game"}}')
>>> sorted((f.datatype, f.value) for f in request_datatypes("https://ms.applovin.com/1.0/mediate", body=body)
...        if f.method == "adapter")  # doctest: +NORMALIZE_WHITESPACE
[('advertising_id', '38400000-8cf0-11bd-b23e-10b96e40000d'), ('app_id', 'com.example.game'),
 ('device_manufacturer', 'Xiaomi'), ('device_model', 'Redmi Note 8'), ('emulator', 'false'),
 ('memory', '1532215296'), ('os', 'android'), ('os_version', '10'), ('timezone', '1.0'),
 ('tracking_consent', 'false')]
"""

from toolkit.sdk.adapter import Sdk

SDK = Sdk(
    "AppLovin",
    hosts=("ms.applovin.com", "a.applovin.com", "d.applovin.com", "rt.applovin.com", "applvn.com"),
    source="AppLovin Android SDK DataCollector key names and endpoint settings (decompiled SDK copies on GitHub)",
    encrypted="recent AppLovin SDKs encrypt their request bodies; the data types in such a body cannot be read",
    fields={
        "idfa": "advertising_id",
        "dnt": "tracking_consent",
        "dnt_code": "tracking_consent",
        "idfv": "vendor_id",
        "brand": "device_manufacturer",
        "brand_name": "device_manufacturer",
        "model": "device_model",
        "revision": "device_model",
        "os": "os_version",
        "api_level": "os_version",
        "platform": "os",
        "locale": "locale",
        "country_code": "locale",
        "tz_offset": "timezone",
        "carrier": "carrier",
        "mcc": "carrier",
        "mnc": "carrier",
        "network": "network_type",
        "sim": "emulator",
        "bt_ms": "uptime",
        "adns": "screen",
        "adnsd": "screen",
        "xdpi": "screen",
        "ydpi": "screen",
        "screen_size_in": "screen",
        "dx": "screen",
        "dy": "screen",
        "fs": "storage",
        "tds": "storage",
        "fm": "memory",
        "tm": "memory",
        "package_name": "app_id",
        "app_version": "app_version",
        "sdk_version": "sdk_version",
    },
)

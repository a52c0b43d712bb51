"""Microsoft App Center (analytics and crashes): JSON logs to ``in.appcenter.ms/logs``.

Sources: microsoft/appcenter-sdk-android ``Device``/``LogWithProperties`` serialisers (the
``device`` object: ``sdkVersion``, ``model``, ``oemName``, ``osName``, ``osVersion``, ``locale``,
``timeZoneOffset``, ``screenSize``, ``appVersion``, ``carrierName``, ``appNamespace``) and
learn.microsoft.com App Center "Ingestion" docs (``Install-ID`` header); TrackHAR microsoft.ts.
Example built from them (not captured):

>>> from toolkit.datatypes import request_datatypes
>>> body = (b'{"logs":[{"type":"event","name":"checkout","sid":"1b0f3c9e-2a4d-4f6b-8c7e-9d0a1b2c3d4e",'
...         b'"device":{"sdkVersion":"5.0.0","model":"Redmi Note 8","oemName":"Xiaomi","osName":"Android",'
...         b'"osVersion":"10","locale":"en_US","timeZoneOffset":60,"screenSize":"1080x2340",'
...         b'"appVersion":"1.2.3","carrierName":"Vodafone","appNamespace":"com.example.app"}}]}')
>>> found = request_datatypes("https://in.appcenter.ms/logs?api-version=1.0.0", body=body,
...     headers=[("Install-ID", "4f5e6d7c-8b9a-4c0d-9e1f-2a3b4c5d6e7f")])
>>> sorted({f.datatype for f in found if f.method == "adapter"})  # doctest: +NORMALIZE_WHITESPACE
['app_id', 'app_version', 'carrier', 'device_manufacturer', 'device_model', 'event', 'install_id', 'locale',
 'os', 'os_version', 'screen', 'sdk_version', 'session_id', 'timezone']
"""

from toolkit.sdk.adapter import Sdk

SDK = Sdk(
    "App Center",
    hosts=("appcenter.ms",),
    source="github.com/microsoft/appcenter-sdk-android Device model; App Center docs; TrackHAR microsoft.ts",
    fields={
        "install-id": "install_id",
        "sid": "session_id",
        "userId": "user_id",
        "name": "event",
        "device.sdkVersion": "sdk_version",
        "device.model": "device_model",
        "device.oemName": "device_manufacturer",
        "device.osName": "os",
        "device.osVersion": "os_version",
        "device.osBuild": "os_version",
        "device.osApiLevel": "os_version",
        "device.locale": "locale",
        "device.timeZoneOffset": "timezone",
        "device.screenSize": "screen",
        "device.appVersion": "app_version",
        "device.appBuild": "app_version",
        "device.carrierName": "carrier",
        "device.carrierCountry": "locale",
        "device.appNamespace": "app_id",
    },
)

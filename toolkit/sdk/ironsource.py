"""ironSource (Unity LevelPlay) mediation: ``logs.ironsrc.mobi/logs?data=<base64 JSON>`` and
``outcome.supersonicads.com``.

Source: the field map of TrackHAR's ironsource.ts (github.com/tweaselORG/TrackHAR: ``data.deviceoem``,
``devicemodel``, ``deviceos``, ``deviceosversion``, ``deviceapilevel``, ``deviceid`` (advertising id),
``connectiontype``, ``bundleid``, ``appversion``, ``sdkversion``). Example built from it (not captured):

>>> import base64
>>> from toolkit.datatypes import request_datatypes
>>> data = base64.b64encode(b'{"data":{"deviceoem":"Xiaomi","devicemodel":"Redmi Note 8","deviceosversion":"10",'
...                         b'"deviceid":"38400000-8cf0-11bd-b23e-10b96e40000d","bundleid":"com.example.app"}}')
>>> found = request_datatypes("https://logs.ironsrc.mobi/logs?data=" + data.decode())
>>> sorted({f.datatype for f in found if f.method == "adapter"})
['advertising_id', 'app_id', 'device_manufacturer', 'device_model', 'os_version']
"""

from toolkit.sdk.adapter import Sdk

SDK = Sdk(
    "ironSource",
    hosts=("ironsrc.mobi", "ironsrc.com", "supersonicads.com", "supersonic.com"),
    source="TrackHAR ironsource.ts field map",
    fields={
        "deviceoem": "device_manufacturer",
        "devicemodel": "device_model",
        "deviceos": "os",
        "deviceosversion": "os_version",
        "deviceapilevel": "os_version",
        "deviceid": "advertising_id",
        "connectiontype": "network_type",
        "bundleid": "app_id",
        "appversion": "app_version",
        "sdkversion": "sdk_version",
    },
)

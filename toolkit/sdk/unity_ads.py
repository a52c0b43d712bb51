"""Unity Ads: configuration and ad requests to ``*.unityads.unity3d.com`` with device facts in the
query string.

Source: the field map of TrackHAR's unity.ts (github.com/tweaselORG/TrackHAR: ``bundleId``,
``deviceMake``, ``deviceModel``, ``advertisingTrackingId``, ``analyticsUserId``, ``connectionType``,
``screenWidth``, ``rooted``, ``platform``, ``osVersion``, ``language``). Example built from it:

>>> from toolkit.datatypes import request_datatypes
>>> found = request_datatypes("https://publisher-config.unityads.unity3d.com/games/1/configuration?bundleId=com.example.app"
...     "&deviceMake=Xiaomi&advertisingTrackingId=38400000-8cf0-11bd-b23e-10b96e40000d&rooted=false&osVersion=10")
>>> sorted({f.datatype for f in found if f.method == "adapter"})
['advertising_id', 'app_id', 'device_manufacturer', 'os_version', 'rooted']
"""

from toolkit.sdk.adapter import Sdk

SDK = Sdk(
    "Unity Ads",
    hosts=("unityads.unity3d.com", "unityads.unity.cn"),
    source="TrackHAR unity.ts field map",
    fields={
        "bundleId": "app_id",
        "deviceMake": "device_manufacturer",
        "deviceModel": "device_model",
        "advertisingTrackingId": "advertising_id",
        "limitAdTracking": "tracking_consent",
        "analyticsUserId": "user_id",
        "connectionType": "network_type",
        "screenWidth": "screen",
        "screenHeight": "screen",
        "rooted": "rooted",
        "platform": "os",
        "osVersion": "os_version",
        "language": "language",
        "sdkVersionName": "sdk_version",
        "gameId": "app_id",
    },
)

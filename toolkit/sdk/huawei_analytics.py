"""Huawei HiAnalytics (HMS Core Analytics Kit): uploads to ``metrics*.data.hicloud.com`` and the
``metrics-*.dt.hicloud.com`` regional hosts.

The SDK encrypts its event body, so only its HTTP headers can be read: ``App-Id``, ``App-Ver``,
``Sdk-Name`` (``hianalytics``), ``Sdk-Ver``, ``Device-Type`` (Build.MODEL), ``servicetag``, and
``x-hasdk-productid`` / ``x-hasdk-clientid`` (the app's ids in Huawei's developer console). Source:
the header names the HMS analytics SDK sets (``getHttpHeader`` / the debug report task, read in
decompiled copies of the SDK published on GitHub; the SDK is not open source), and the upload
hosts as listed by tracker blocklists and HiAnalytics' own web collector (``metrics1.data.hicloud
.com:6447``). The table says plainly that the body could not be read (a problem row).

Example built from those header names (not captured); the encrypted body yields nothing:

>>> from toolkit.datatypes import request_datatypes
>>> problems = []
>>> found = request_datatypes("https://metrics2.data.hicloud.com:6447/webv4", headers=[
...     ("App-Id", "102345678"), ("App-Ver", "2.1.0"), ("Sdk-Ver", "6.9.0.302"), ("Device-Type", "ELS-NX9")],
...     body=bytes(range(256)), on_problem=problems.append)
>>> sorted((f.datatype, f.value) for f in found)
[('app_id', '102345678'), ('app_version', '2.1.0'), ('device_model', 'ELS-NX9'), ('sdk_version', '6.9.0.302')]
>>> problems
['Huawei HiAnalytics: the HiAnalytics SDK encrypts its event body; its data types cannot be read']
"""

from toolkit.sdk.adapter import Sdk

SDK = Sdk(
    "Huawei HiAnalytics",
    hosts=(
        "data.hicloud.com",
        "metrics-dra.dt.hicloud.com",
        "metrics-drcn.dt.hicloud.com",
        "metrics-dre.dt.hicloud.com",
        "metrics-drru.dt.hicloud.com",
    ),
    source="header names of the HMS analytics SDK (decompiled copies on GitHub); upload hosts from blocklists",
    encrypted="the HiAnalytics SDK encrypts its event body; its data types cannot be read",
    fields={
        "app-id": "app_id",
        "x-hasdk-productid": "app_id",
        "x-hasdk-clientid": "app_id",
        "app-ver": "app_version",
        "sdk-ver": "sdk_version",
        "device-type": "device_model",
    },
)

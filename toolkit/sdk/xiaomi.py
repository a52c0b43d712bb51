"""Xiaomi's own telemetry (``tracking.*.miui.com``, ``data.mistat.*.xiaomi.com``).

Its field names are not published: the adapter names the endpoint family, and the data types in
its requests come from the field-name and value-shape recognisers (lower confidence). Source:
the hosts named in the published Mint/Mi Browser finding (Forbes, 30 April 2020; Cirlig) and
Xiaomi's privacy policy's list of collected data. Example built for the test (not captured):

>>> from toolkit.datatypes import request_datatypes
>>> [(f.sdk, f.datatype, f.method) for f in request_datatypes(
...     "https://tracking.intl.miui.com/track/v4", body=b'{"device":{"model":"Redmi Note 8"},"os_version":"10"}')]
[('Xiaomi telemetry', 'device_model', 'field name'), ('Xiaomi telemetry', 'os_version', 'field name')]
"""

from toolkit.sdk.adapter import Sdk

SDK = Sdk(
    "Xiaomi telemetry",
    hosts=(
        "tracking.miui.com",
        "tracking.intl.miui.com",
        "tracking.rus.miui.com",
        "tracking.india.miui.com",
        "mistat.xiaomi.com",
        "mistat.intl.xiaomi.com",
        "mistat.rus.xiaomi.com",
        "mistat.india.xiaomi.com",
    ),
    source="hosts from the 2020 Mi Browser finding; field names not public",
)

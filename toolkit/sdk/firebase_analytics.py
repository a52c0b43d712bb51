"""Firebase Analytics (Google Analytics for Firebase): protobuf batches to ``app-measurement.com/a``.

Google does not publish the upload's schema. The field numbers below are those TrackHAR's Google
adapter reads from observed traffic (github.com/tweaselORG/TrackHAR ``src/adapters/google.ts``,
"app-measurement": bundle ``1``, its fields 8 os, 9 os version, 14 app id, 16 app version, 19
advertising id, 27 IDFV). Example built by encoding those fields as protobuf (not captured):

>>> from toolkit.datatypes import request_datatypes
>>> def varint(n): return bytes([n]) if n < 128 else bytes([n & 127 | 128]) + varint(n >> 7)
>>> def field(number, data): return varint(number << 3 | 2) + varint(len(data)) + data
>>> bundle = field(8, b"android") + field(9, b"10") + field(14, b"com.example.app") + field(
...     19, b"38400000-8cf0-11bd-b23e-10b96e40000d")
>>> found = request_datatypes("https://app-measurement.com/a", body=field(1, bundle))
>>> sorted((f.datatype, f.value, f.field) for f in found)  # doctest: +NORMALIZE_WHITESPACE
[('advertising_id', '38400000-8cf0-11bd-b23e-10b96e40000d', 'body > pb:1.19'),
 ('app_id', 'com.example.app', 'body > pb:1.14'), ('os', 'android', 'body > pb:1.8'),
 ('os_version', '10', 'body > pb:1.9')]
"""

from toolkit.sdk.adapter import Sdk, host_under

# The SDK uploads its event bundles by POST to app-measurement.com/a (the ``measurement.upload.url``
# default of the SDK, and the host Firebase's docs list for Analytics); its other paths there
# (/config/app/...) fetch configuration and carry no events.
_UPLOAD_PATH = "/a"
_HOSTS = ("app-measurement.com",)


def _label(host: str | None, path: str | None, body: bytes | None, location: str, chain: str) -> str | None:
    """Only the upload is named: its field names are not public."""
    upload = (
        host_under(host, _HOSTS)
        and location == "body"
        and (path is None or path.split("?", 1)[0].rstrip("/") == _UPLOAD_PATH)
    )
    return "Firebase Analytics upload (app-measurement; its field names are not public)" if upload else None


SDK = Sdk(
    "Firebase Analytics",
    hosts=_HOSTS,
    labeller=_label,
    source="field numbers as read by TrackHAR's google.ts (app-measurement adapter); schema not public",
    fields={
        "1.8": "os",
        "1.9": "os_version",
        "1.14": "app_id",
        "1.16": "app_version",
        "1.19": "advertising_id",
        "1.27": "vendor_id",
    },
)

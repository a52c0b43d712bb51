"""Google Analytics Measurement Protocol: Universal Analytics (``/collect``, ``/j/collect``),
GA4 tags (``/g/collect``) and the GA4 Measurement Protocol for apps and servers (``/mp/collect``);
the same hits also go to ``stats.g.doubleclick.net/j/collect`` when advertising features are on.

Sources: developers.google.com "Measurement Protocol Parameter Reference" (Universal Analytics:
``cid``, ``uid``, ``dl``, ``dt``, ``dr``, ``ul``, ``sr`` ...) and "Measurement Protocol (Google
Analytics 4)" reference (``client_id``, ``app_instance_id``, ``user_id``, ``events[].name``).
The shared corpus holds real requests (``pagexray__ferguson.har``: ``/j/collect``, tested in
tests/sdk/test_adapters.py). Example from the parameter reference:

>>> from toolkit.datatypes import request_datatypes
>>> found = request_datatypes("https://www.google-analytics.com/collect?v=1&tid=UA-1-1&cid=555.1588237200"
...                           "&t=pageview&dl=https%3A%2F%2Fa.example%2Fx&ul=en-us&sr=1080x2340")
>>> sorted((f.datatype, f.value) for f in found if f.method == "adapter")  # doctest: +NORMALIZE_WHITESPACE
[('event', 'pageview'), ('install_id', '555.1588237200'), ('language', 'en-us'), ('screen', '1080x2340'),
 ('url', 'https://a.example/x')]
"""

from toolkit.sdk.adapter import Sdk

_FIELDS = {
    "cid": "install_id", "client_id": "install_id", "app_instance_id": "install_id", "_gid": "install_id",
    "uid": "user_id", "user_id": "user_id", "sid": "session_id",
    "dl": "url", "dp": "url", "dt": "page_title", "dr": "referrer", "ul": "language",
    "sr": "screen", "vp": "screen", "sd": "screen", "uip": "ip_address", "geoid": "coarse_location",
    "t": "event", "en": "event", "ea": "event", "name": "event", "_v": "sdk_version",
    "an": "app_id", "aid": "app_id", "av": "app_version",
    "ti": "purchase", "tr": "purchase", "cu": "purchase", "ip": "purchase",
    "cs": "referrer", "cm": "referrer", "cn": "referrer", "gclid": "referrer",
}  # fmt: skip
_SOURCE = "developers.google.com Measurement Protocol parameter reference (UA) and GA4 Measurement Protocol reference"

SDKS = (
    Sdk("Google Analytics", hosts=("google-analytics.com", "analytics.google.com"), fields=_FIELDS, source=_SOURCE),
    Sdk("Google Analytics", hosts=("stats.g.doubleclick.net",), path=r"/(j/|g/|r/)?collect",
        fields={k: v for k, v in _FIELDS.items() if k != "t"},  # its hit type is "dc", no event of the person
        source=_SOURCE),
)  # fmt: skip

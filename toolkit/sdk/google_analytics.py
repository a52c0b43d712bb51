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

import re

from toolkit.sdk.adapter import Sdk, described, host_under, leak_parameter

_FIELDS = {
    "cid": "install_id",
    "client_id": "install_id",
    "app_instance_id": "install_id",
    "_gid": "install_id",
    "uid": "user_id",
    "user_id": "user_id",
    "sid": "session_id",
    "dl": "url",
    "dp": "url",
    "dt": "page_title",
    "dr": "referrer",
    "ul": "language",
    "sr": "screen",
    "vp": "screen",
    "sd": "screen",
    "uip": "ip_address",
    "geoid": "coarse_location",
    "t": "event",
    "en": "event",
    "ea": "event",
    "name": "event",
    "_v": "sdk_version",
    "an": "app_id",
    "aid": "app_id",
    "av": "app_version",
    "ti": "purchase",
    "tr": "purchase",
    "cu": "purchase",
    "ip": "purchase",
    "cs": "referrer",
    "cm": "referrer",
    "cn": "referrer",
    "gclid": "referrer",
}
_SOURCE = "developers.google.com Measurement Protocol parameter reference (UA) and GA4 Measurement Protocol reference"

_HOSTS = ("google-analytics.com", "analytics.google.com")
# Hit paths: /collect, /batch and /debug/collect (Universal Analytics MP reference), /mp/collect and
# /debug/mp/collect (GA4 MP), and the libraries' /<transport>/collect (j/, r/, g/: the pattern
# ``^/(\w+/)?collect`` by which Google's workbox-google-analytics recognises hits).
_HIT_PATH = re.compile(r"^/(?:debug/)?(?:\w+/)?collect/?$|^/batch/?$")
_PARAMETERS = {
    "cid": "client id",
    "uid": "user id",
    "tid": "property id",
    "dl": "document location (page URL)",
    "dr": "document referrer",
    "dh": "document host",
    "dp": "document path",
    "dt": "document title",
    "client_id": "client id",
    "app_instance_id": "Firebase app instance id",
    "user_id": "user id",
}


def measurement_protocol_label(host: str | None, location: str, chain: str, path: str | None = None) -> str | None:
    """``Google Analytics Measurement Protocol parameter dl (document location (page URL))``, or None.

    ``path`` (when known) must be one of the protocol's hit paths.

    >>> measurement_protocol_label("www.google-analytics.com", "query:cid", "", "/g/collect")
    'Google Analytics Measurement Protocol parameter cid (client id)'
    """
    name = leak_parameter(location, chain) if host_under(host, _HOSTS) else None
    if name is None or (path is not None and not _HIT_PATH.match(path.split("?", 1)[0])):
        return None
    return f"Google Analytics Measurement Protocol parameter {described(name, _PARAMETERS)}"


def _label(host: str | None, path: str | None, body: bytes | None, location: str, chain: str) -> str | None:
    return measurement_protocol_label(host, location, chain, path)


SDKS = (
    Sdk("Google Analytics", hosts=_HOSTS, fields=_FIELDS, source=_SOURCE, labeller=_label),
    Sdk(
        "Google Analytics",
        hosts=("stats.g.doubleclick.net",),
        path=r"/(j/|g/|r/)?collect",
        fields={k: v for k, v in _FIELDS.items() if k != "t"},  # its hit type is "dc", no event of the person
        source=_SOURCE,
    ),
)

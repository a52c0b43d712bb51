"""The scripted browsing sessions of the Mint / Mi Browser case, and what each one must send.

Facts the scenarios follow (the published record):

* W. Palant, "Are Xiaomi browsers spyware? Yes, they are...", May 2020 (Mint Browser 3.4.0 and
  3.4.3 decompiled): the browser's Sensors Analytics SDK posts to
  ``https://sa.api.intl.miui.com/sa?project=global_browser_mini&r=<country>``; the visited URL
  travels in a ``url`` property of page-load events and searches in a ``search`` event's
  ``search_word``; the events carry the device's ANDROID_ID and an anonymous id that was meant to
  rotate every 90 days but never did; incognito mode sent the same events before 3.4.3; 3.4.3's
  toggle stopped page and search events in incognito mode, while the persistent ids still went out.
* The SDK's wire format: :mod:`toolkit.lab.sensors`.

Every identifier, host address and page is made up; addresses come from the documentation ranges
(RFC 5737 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24; RFC 3849 2001:db8::/32).

>>> scenario = SCENARIOS["incognito_toggle_off"]
>>> scenario.app_version, scenario.sends_page_events
('3.4.3', False)
>>> device = Device.from_seed(7)
>>> device == Device.from_seed(7), len(device.android_id)
(True, 16)
>>> VISITS[3].wire_url
'https://www.example-news.com/gesundheit/krankenh%C3%A4user-in-der-n%C3%A4he.html'
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote, urlsplit

__all__ = [
    "AD_TAG_CLIENT_ID",
    "COLLECTOR",
    "HOSTS",
    "SCENARIOS",
    "VISITS",
    "Device",
    "Host",
    "Resource",
    "Scenario",
    "Visit",
    "sdk_event",
]

Role = Literal["first_party", "cdn", "advertising", "telemetry"]


@dataclass(frozen=True)
class Host:
    """A server of the session: its addresses, what it is to the user, and how it speaks."""

    name: str
    ipv4: str
    ipv6: str
    role: Role
    owner: str
    tls_version: Literal["1.2", "1.3"]
    alpn: Literal["h2", "http/1.1"]
    over_ipv6: bool = False
    """The phone connects over IPv6 (as Android prefers when the host has an AAAA record and the
    network routes IPv6); DNS still travels over IPv4."""

    @property
    def address(self) -> str:
        """The address the phone connects to."""
        return self.ipv6 if self.over_ipv6 else self.ipv4


#: Every server of the scenarios. Together they cover TLS 1.2 and 1.3 with HTTP/1.1 and HTTP/2; the CDN
#: is reached over IPv6.
HOSTS: dict[str, Host] = {
    h.name: h
    for h in [
        Host("www.example-news.com", "198.51.100.10", "2001:db8:10::10", "first_party", "Example News", "1.3", "h2"),
        Host("cdn.example-cdn.com", "198.51.100.20", "2001:db8:20::20", "cdn", "Example CDN", "1.3", "h2", True),
        Host("tag.example-ads.com", "203.0.113.30", "2001:db8:30::30", "advertising", "Example Ads", "1.3", "http/1.1"),
        Host("shop.example-store.com", "198.51.100.40", "2001:db8:40::40", "first_party", "Example Store", "1.2", "h2"),
        Host(
            "www.example-search.com", "198.51.100.50", "2001:db8:50::50", "first_party", "Example Search", "1.3", "h2"
        ),
        Host(
            "sa.api.intl.miui.com",
            "203.0.113.80",
            "2001:db8:80::80",
            "telemetry",
            "Xiaomi (browser vendor)",
            "1.2",
            "http/1.1",
        ),
    ]
}

COUNTRY = "ES"
#: The Sensors Analytics collector the browser posts to.
COLLECTOR = f"https://sa.api.intl.miui.com/sa?project=global_browser_mini&r={COUNTRY}"
CLIENT_IPV4 = "192.0.2.15"
CLIENT_IPV6 = "2001:db8:15::15"
RESOLVER_IPV4 = "192.0.2.53"


@dataclass(frozen=True)
class Resource:
    """A third-party or same-site resource a page loads (with the page as Referer)."""

    url: str
    content_type: str
    kind: str
    """What it is for the page: ``script``, ``stylesheet``, ``image``, ``beacon``."""


@dataclass(frozen=True)
class Visit:
    """A page the user opens, as typed or followed (may hold a fragment or non-ASCII characters)."""

    url: str
    title: str
    resources: tuple[Resource, ...] = ()
    search_word: str | None = None
    """The words typed into the search box, when the visit is a search."""

    @property
    def wire_url(self) -> str:
        """The URL as requested: non-ASCII path characters percent-encoded (UTF-8), no fragment.

        >>> Visit("https://shop.example-store.com/cart?item=1234#reviews", "t").wire_url
        'https://shop.example-store.com/cart?item=1234'
        """
        parts = urlsplit(self.url)
        path = quote(parts.path, safe="/%:@!$&'()*+,;=-._~")
        return f"{parts.scheme}://{parts.netloc}{path}" + (f"?{parts.query}" if parts.query else "")

    @property
    def page_url(self) -> str:
        """The URL as the browser reports it (percent-encoded, with its fragment)."""
        fragment = urlsplit(self.url).fragment
        return self.wire_url + (f"#{fragment}" if fragment else "")


#: The ad tag's client id (a first-party cookie value in real tags, fixed here): sent with every beacon.
AD_TAG_CLIENT_ID = "555.1588237200"


def _tag(page: str) -> tuple[Resource, ...]:
    return (
        Resource("https://tag.example-ads.com/tag.js", "application/javascript", "script"),
        Resource(
            f"https://tag.example-ads.com/collect?v=1&dl={quote(page, safe='')}&cid={AD_TAG_CLIENT_ID}",
            "image/gif",
            "beacon",
        ),
    )


_NEWS = "https://www.example-news.com/world/2020/04/30/election-results.html"
_SHOP = "https://shop.example-store.com/cart?item=1234#reviews"
_SEARCH = "https://www.example-search.com/search?q=hiv+test+clinic+near+me"
_HEALTH = "https://www.example-news.com/gesundheit/krankenhäuser-in-der-nähe.html"

#: The pages every scenario opens, in order.
VISITS: tuple[Visit, ...] = (
    Visit(
        _NEWS,
        "Election results - Example News",
        (
            Resource("https://cdn.example-cdn.com/js/app.js", "application/javascript", "script"),
            Resource("https://cdn.example-cdn.com/css/site.css", "text/css", "stylesheet"),
            *_tag(_NEWS),
        ),
    ),
    Visit(
        _SHOP,
        "Your cart - Example Store",
        (Resource("https://cdn.example-cdn.com/img/product-1234.png", "image/png", "image"),),
    ),
    Visit(
        _SEARCH,
        "hiv test clinic near me - Example Search",
        (*_tag(_SEARCH.split("#")[0]),),
        search_word="hiv test clinic near me",
    ),
    Visit(
        _HEALTH,
        "Krankenhäuser in der Nähe - Example News",
        (Resource("https://cdn.example-cdn.com/js/app.js", "application/javascript", "script"),),
    ),
)


@dataclass(frozen=True)
class Scenario:
    """One browsing session: which browser version, which mode, and what its SDK sends."""

    name: str
    app_version: str
    incognito: bool
    sends_page_events: bool
    """Whether page-load and search events (with URLs and search words) are sent."""
    start: str
    """When the session starts (ISO 8601, UTC)."""
    description: str

    @property
    def start_us(self) -> int:
        """The start as microseconds since the Unix epoch (the capture clock).

        >>> SCENARIOS["normal"].start_us
        1588237200000000
        """
        return int(datetime.fromisoformat(self.start).timestamp()) * 1_000_000


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in [
        Scenario(
            "normal",
            "3.4.0",
            False,
            True,
            "2020-04-30T09:00:00+00:00",
            "Mint Browser 3.4.0, normal mode: every page and search is reported with the device ids.",
        ),
        Scenario(
            "incognito",
            "3.4.0",
            True,
            True,
            "2020-04-30T10:00:00+00:00",
            "Mint Browser 3.4.0, incognito mode: the same events as normal mode are still sent.",
        ),
        Scenario(
            "incognito_toggle_off",
            "3.4.3",
            True,
            False,
            "2020-05-04T09:00:00+00:00",
            "Mint Browser 3.4.3, incognito mode with the new data-collection toggle off: no page or "
            "search events, but app events still carry the persistent ids.",
        ),
    ]
}

SDK_LIB_VERSION = "3.2.10"


@dataclass(frozen=True)
class Device:
    """The phone and the identifiers that survive across sessions (derived from the seed only)."""

    android_id: str
    """``Settings.Secure.ANDROID_ID``: 16 hex digits, survives clearing the app's data."""
    distinct_id: str
    """The SDK's anonymous id: meant to rotate every 90 days, permanent because of a bug."""
    manufacturer: str = "Xiaomi"
    model: str = "Redmi Note 8"
    os_version: str = "10"
    build: str = "QKQ1.200114.002"
    screen: tuple[int, int] = (1080, 2340)

    @classmethod
    def from_seed(cls, seed: int) -> Device:
        """Made-up identifiers, the same for every scenario run with ``seed``."""
        rng = random.Random(f"device/{seed}")
        return cls(
            android_id=f"{rng.getrandbits(64):016x}",
            distinct_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        )

    def browser_user_agent(self, app_version: str) -> str:
        """The WebView-based browser's User-Agent."""
        return (
            f"Mozilla/5.0 (Linux; U; Android {self.os_version}; en-us; {self.model} Build/{self.build}) "
            "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/71.0.3578.141 Mobile Safari/537.36 "
            f"XiaoMi/MintBrowser/{app_version}"
        )

    def sdk_user_agent(self) -> str:
        """The User-Agent of Android's HttpURLConnection, which the SDK posts with."""
        return f"Dalvik/2.1.0 (Linux; U; Android {self.os_version}; {self.model} Build/{self.build})"


def sdk_event(
    device: Device,
    scenario: Scenario,
    event: str,
    time_ms: int,
    track_id: int,
    properties: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One event as the Sensors Analytics Android SDK queues it (``_flush_time`` is added at send time)."""
    width, height = device.screen
    preset: dict[str, Any] = {
        "$lib": "Android",
        "$lib_version": SDK_LIB_VERSION,
        "$app_version": scenario.app_version,
        "$os": "Android",
        "$os_version": device.os_version,
        "$manufacturer": device.manufacturer,
        "$model": device.model,
        "$screen_width": width,
        "$screen_height": height,
        "$wifi": True,
        "$network_type": "WIFI",
        "$device_id": device.android_id,
        "$is_first_day": False,
    }
    return {
        "_track_id": track_id,
        "time": time_ms,
        "type": "track",
        "distinct_id": device.distinct_id,
        "lib": {
            "$lib": "Android",
            "$lib_version": SDK_LIB_VERSION,
            "$app_version": scenario.app_version,
            "$lib_method": "code",
        },
        "event": event,
        "properties": {**preset, **(properties or {})},
    }

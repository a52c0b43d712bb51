"""The browser app of the scenarios: a WebView that loads pages, and the Sensors Analytics SDK inside it.

:class:`Browser` drives a :class:`~toolkit.lab.session.Session`: it opens each page, fetches the
page's resources with the page as Referer (concurrently per HTTP/2 host), and queues SDK events
that it posts as one batch after each page, as the SDK's flush does.

>>> import tempfile
>>> from toolkit.lab.scenario import SCENARIOS, VISITS, Device
>>> with tempfile.TemporaryDirectory() as folder:
...     session = Session(seed=1, label="demo", start_us=1_588_237_200_000_000, folder=folder)
...     browser = Browser(SCENARIOS["normal"], Device.from_seed(1), session)
...     browser.browse(VISITS[1:2])
>>> [(r.purpose, r.exchange.request.host) for r in browser.records][:3]
[('telemetry', 'sa.api.intl.miui.com'), ('page', 'shop.example-store.com'), ('image', 'cdn.example-cdn.com')]
>>> [e["event"] for e in browser.records[3].events]
['page_load_event_start', 'page_load_event_finish']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from toolkit.lab.exchange import Exchange, Request
from toolkit.lab.har_writer import iso_time
from toolkit.lab.scenario import COLLECTOR, Device, Resource, Scenario, Visit, sdk_event
from toolkit.lab.sensors import decode_batch, encode_batch
from toolkit.lab.session import Session

__all__ = ["Browser", "RequestRecord"]

_READING_US = 15_000_000
_PAGE_LOAD_US = 350_000
_ACCEPT_IMAGE = "image/webp,image/apng,image/*,*/*;q=0.8"
_ACCEPT_HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,image/webp,image/apng,*/*;q=0.8"


@dataclass
class RequestRecord:
    """One request of the session and why it was made."""

    exchange: Exchange
    purpose: str
    """``page``, a resource kind (``script``, ``stylesheet``, ``image``, ``beacon``) or ``telemetry``."""
    pageref: str | None
    """The HAR page it belongs to (telemetry belongs to none)."""
    events: list[dict[str, Any]] = field(default_factory=list)
    """For telemetry: the events the batch carries."""


class Browser:
    """The browser app: loads pages like a WebView and reports them like the Sensors Analytics SDK."""

    def __init__(self, scenario: Scenario, device: Device, session: Session) -> None:
        self.scenario = scenario
        self.device = device
        self.session = session
        self.records: list[RequestRecord] = []
        """Every request of the session, in order, with what it was for."""
        self.pages: list[dict[str, Any]] = []
        """HAR ``log.pages`` of the visits."""
        self.queue: list[dict[str, Any]] = []
        """Events tracked but not yet posted."""

    def browse(self, visits: Sequence[Visit]) -> None:
        """The whole session: app start, the visits with a pause to read each, app end, connections closed."""
        start = self.session.clock.now_us
        self.track("$AppStart", {"$is_first_time": False, "$resume_from_background": False})
        self.flush()
        self.session.idle(2_000_000)
        for number, visit in enumerate(visits, start=1):
            pageref = f"page_{number}"
            self.pages.append(
                {
                    "startedDateTime": iso_time(self.session.clock.now_us),
                    "id": pageref,
                    "title": visit.title,
                    "pageTimings": {"onContentLoad": -1, "onLoad": -1},
                }
            )
            self.visit(visit, pageref)
            self.session.idle(_READING_US)
        self.track("$AppEnd", {"event_duration": round((self.session.clock.now_us - start) / 1e6, 3)})
        self.flush()
        self.session.idle(500_000)
        self.session.close()

    def _now_ms(self) -> int:
        return self.session.clock.now_us // 1000

    def track(self, event: str, properties: dict[str, Any] | None = None) -> None:
        """Queue an SDK event stamped with the current time."""
        track_id = self.session.rng.randrange(-(1 << 31), 1 << 31)
        self.queue.append(sdk_event(self.device, self.scenario, event, self._now_ms(), track_id, properties))

    def flush(self) -> None:
        """Post the queued events as one batch (the SDK's flush)."""
        if not self.queue:
            return
        flush_time = self._now_ms()
        events = [{**event, "_flush_time": flush_time} for event in self.queue]
        self.queue = []
        body = encode_batch(events).encode("ascii")
        parts = urlsplit(COLLECTOR)
        request = Request(
            "POST",
            parts.netloc,
            f"{parts.path}?{parts.query}",
            [
                ("Cookie", ""),
                ("User-Agent", self.device.sdk_user_agent()),
                ("Connection", "Keep-Alive"),
                ("Accept-Encoding", "gzip"),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            body,
        )
        exchange = self.session.fetch(request)
        self.records.append(RequestRecord(exchange, "telemetry", None, decode_batch(body)))

    def _request(self, url: str, accept: str, referer: str | None) -> Request:
        parts = urlsplit(url)
        headers = [("user-agent", self.device.browser_user_agent(self.scenario.app_version)), ("accept", accept)]
        if referer:
            headers.append(("referer", referer))
        headers += [("accept-encoding", "gzip, deflate"), ("accept-language", "en-US,en;q=0.9")]
        return Request("GET", parts.netloc, parts.path + (f"?{parts.query}" if parts.query else ""), headers)

    def visit(self, visit: Visit, pageref: str) -> None:
        """Open a page and its resources; the SDK reports it (unless the scenario stops page events)."""
        if visit.search_word is not None and self.scenario.sends_page_events:
            self.track(
                "search", {"search_word": visit.search_word, "search_engine": "example-search", "source": "address_bar"}
            )
        if self.scenario.sends_page_events:
            self.track("page_load_event_start", {"url": visit.page_url})
        started = self.session.clock.now_us
        page = self.session.fetch(self._request(visit.wire_url, _ACCEPT_HTML, None))
        self.records.append(RequestRecord(page, "page", pageref))
        # The page's resources, host by host: concurrent streams on HTTP/2, in turn on HTTP/1.1.
        by_host: dict[str, list[Resource]] = {}
        for resource in visit.resources:
            by_host.setdefault(urlsplit(resource.url).netloc, []).append(resource)
        for resources in by_host.values():
            requests = [
                self._request(r.url, _ACCEPT_IMAGE if r.kind in {"image", "beacon"} else "*/*", visit.wire_url)
                for r in resources
            ]
            for resource, exchange in zip(resources, self.session.fetch_all(requests), strict=True):
                self.records.append(RequestRecord(exchange, resource.kind, pageref))
        self.session.idle(_PAGE_LOAD_US)
        if self.scenario.sends_page_events:
            load_ms = (self.session.clock.now_us - started) // 1000
            self.track("page_load_event_finish", {"url": visit.page_url, "load_time": load_ms})
        self.flush()

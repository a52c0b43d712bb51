"""Visited URLs inferred from a capture, when the user gives no browsing log: only what a person did.

A capture of an app holds many requests that look like pages and are not: WebView tracking pixels,
API calls answered with HTML, scripts. A false "visited URL" turns every value of its query into a
needle, and a needle that the app puts in every request (its own name, its bundle id, a token of
its User-Agent) then "leaks" everywhere. So a visit is inferred only from a top-level navigation:

- a HAR page whose title is its URL (Chrome, mitmproxy and PCAPdroid exports title pages so), or
  the first entry of a page that a browser answered with an HTML document;
- a request that says it is one (``Sec-Fetch-Dest: document``, ``Sec-Fetch-Mode: navigate``);
- lacking those headers, a GET that asks for HTML (``Accept: text/html``; with no Accept header
  at all, one that has no Referer) and got an HTML document in a 2xx or 3xx answer.

Images, pixels, scripts, XHR and fetch calls never count. Needles of inferred URLs that occur in the
capture's ambient text (every User-Agent, ``X-Requested-With``, or most requests' URLs and
headers) are dropped: they say nothing about what the person browsed.

>>> import pandas as pd
>>> from toolkit.schema import TABLES
>>> requests = TABLES["requests"].frame({
...     "url": ["https://news.example/a", "https://t.example/tr?target=FitApp"],
...     "method": ["GET", "GET"],
...     "request_headers": [[("Accept", "text/html,*/*")], [("Accept", "image/*")]],
...     "response_content_type": ["text/html", "text/html"],
...     "status": [200, 200],
... })
>>> infer_visited(requests)
['https://news.example/a']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from toolkit.leaks.needles import Needle
from toolkit.leaks.search import build_matcher

__all__ = ["Inference", "ambient_values", "infer_visited", "is_navigation", "without_ambient"]

#: Paths of resources that are never a page, whatever their answer says.
_STATIC = re.compile(
    r"\.(?:gif|png|jpe?g|webp|avif|svg|ico|bmp|js|mjs|css|json|xml|txt|woff2?|ttf|otf|eot|mp4|webm|mp3|m3u8|ts|wasm)$",
    re.IGNORECASE,
)

#: Headers left out of the ambient text: they name the page itself or the request's own host.
_NOT_AMBIENT = frozenset({"host", ":authority", "referer", "origin", "cookie", ":path", ":scheme", ":method"})

#: An inferred needle found in at least this share of requests (and at least 3) is ambient.
AMBIENT_SHARE = 0.5


@dataclass(frozen=True)
class Inference:
    """What the capture says was visited, and why (for summaries and reports)."""

    urls: list[str]
    note: str


def _headers(value: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in value if isinstance(value, list | tuple) else []:
        if isinstance(item, list | tuple) and len(item) == 2:
            out.setdefault(str(item[0]).lower(), str(item[1]))
    return out


def _status(value: Any) -> int | None:
    try:
        return None if value is None or pd.isna(value) else int(value)
    except (TypeError, ValueError):
        return None


def _html(content_type: Any) -> bool:
    return isinstance(content_type, str) and content_type.lower().lstrip().startswith(
        ("text/html", "application/xhtml")
    )


def is_navigation(
    method: Any, url: str, headers: Mapping[str, str], content_type: Any, status: int | None = None
) -> bool:
    """Is this request a top-level document navigation? ``headers`` have lower-case names.

    >>> is_navigation("GET", "https://a.example/", {"sec-fetch-dest": "document", "sec-fetch-mode": "navigate"}, None)
    True
    >>> is_navigation("GET", "https://t.example/px", {"accept": "image/*"}, "text/html", 200)
    False
    >>> is_navigation("GET", "https://a.example/", {}, "text/html", 200)  # an old HAR without headers
    True
    """
    if not url.startswith(("http://", "https://")):
        return False
    lower = {k: v.lower() for k, v in headers.items()}
    dest, mode = lower.get("sec-fetch-dest"), lower.get("sec-fetch-mode")
    if dest is not None or mode is not None:
        return dest in ("document", None) and mode in ("navigate", None)
    if str(method).upper() != "GET" or lower.get("x-requested-with") == "xmlhttprequest":
        return False
    if status is not None and not 200 <= status < 400:
        return False
    if _STATIC.search(urlsplit(url).path) or not _html(content_type):
        return False
    accept = lower.get("accept")
    if accept is not None:
        return "text/html" in accept or "application/xhtml" in accept
    return "referer" not in lower


def _page_urls(pages: Iterable[Mapping[str, Any]]) -> list[str]:
    out = []
    for page in pages:
        title = str(page.get("title") or "").strip()
        if title.startswith(("http://", "https://")) and " " not in title:
            out.append(title)
    return out


def infer_visited(requests: pd.DataFrame, pages: Sequence[Mapping[str, Any]] = ()) -> list[str]:
    """Top-level navigations of a ``requests`` table (and of HAR ``pages``), in order, once each."""
    out: dict[str, None] = dict.fromkeys(_page_urls(pages))
    titled = {str(p.get("id")) for p in pages if str(p.get("title") or "").startswith(("http://", "https://"))}
    first_of_page: set[str] = set()
    columns = set(requests.columns)
    for row in requests.to_dict("records"):
        url = str(row.get("url") or "")
        headers = _headers(row.get("request_headers"))
        status = _status(row.get("status")) if "status" in columns else None
        navigation = is_navigation(row.get("method"), url, headers, row.get("response_content_type"), status)
        page = row.get("page") if "page" in columns else None
        if isinstance(page, str) and page and page not in first_of_page:
            first_of_page.add(page)
            # the first entry of a page a browser recorded is its document, when it is one
            navigation = navigation or (
                page not in titled
                and str(row.get("method")).upper() == "GET"
                and _html(row.get("response_content_type"))
                and "sec-fetch-dest" not in headers
                and not _STATIC.search(urlsplit(url).path)
            )
        if navigation:
            out.setdefault(url, None)
    return list(out)


def _ambient_texts(requests: pd.DataFrame) -> tuple[list[bytes], list[bytes]]:
    """Per request: its URL (without scheme and host) and header values but those naming the page,
    with the request's own host taken out (a request naming its own host says nothing); and, apart,
    every User-Agent and X-Requested-With value."""
    texts, agents = [], set()
    for url, headers in zip(requests["url"], requests["request_headers"], strict=True):
        host, _slash, rest = str(url or "").split("://", 1)[-1].partition("/")
        parts = [rest]
        for name, value in _headers(headers).items():
            if name in ("user-agent", "x-requested-with"):
                agents.add(value.lower().encode("utf-8", "surrogatepass"))
            if name not in _NOT_AMBIENT:
                parts.append(value)
        text = "\n".join(parts).lower()
        own = host.rpartition("@")[2].partition(":")[0].lower()
        texts.append((text.replace(own, "") if own else text).encode("utf-8", "surrogatepass"))
    return texts, sorted(agents)


def ambient_values(requests: pd.DataFrame, values: Sequence[str], *, share: float = AMBIENT_SHARE) -> set[str]:
    """The ``values`` that are part of the capture's background: in a User-Agent or
    X-Requested-With header, or in at least ``share`` of the requests (and at least 3).

    >>> from toolkit.schema import TABLES
    >>> ua = [("User-Agent", "FitApp/5.2 (iPhone; iOS 17.1)")]
    >>> requests = TABLES["requests"].frame({"url": [f"https://api.example/{i}?app=com.fitapp" for i in range(4)],
    ...                                      "request_headers": [ua] * 4})
    >>> sorted(ambient_values(requests, ["fitapp", "com.fitapp", "hiv test"]))
    ['com.fitapp', 'fitapp']
    """
    if not len(requests):
        return set()
    return _ambient(*_ambient_texts(requests), values, share)


def _ambient(texts: list[bytes], agents: list[bytes], values: Sequence[str], share: float) -> set[str]:
    wanted = [v for v in dict.fromkeys(values) if v]
    if not wanted:
        return set()
    matcher = build_matcher([_lowered(v) for v in wanted])
    out = {wanted[i] for agent in agents for i, _start, _end in matcher.find(agent)}
    counts = [0] * len(wanted)
    for text in texts:
        for i in {i for i, _start, _end in matcher.find(text)}:
            counts[i] += 1
    floor = max(3, share * len(texts))
    out.update(wanted[i] for i, count in enumerate(counts) if count >= floor)
    return out


def _lowered(value: str) -> bytes:
    return value.lower().encode("utf-8", "surrogatepass")


def without_ambient(needles: Sequence[Needle], requests: pd.DataFrame) -> tuple[list[Needle], list[Needle]]:
    """Inferred needles split into (kept, dropped as ambient); given needles are always kept.

    A full URL is dropped only when a User-Agent-like header carries it (a page every request
    names is still a page that was sent everywhere).
    """
    inferred = [n for n in needles if n.inferred]
    if not inferred or not len(requests):
        return list(needles), []
    texts, agents = _ambient_texts(requests)
    ambient = _ambient(texts, agents, [n.value for n in inferred if n.kind != "url"], AMBIENT_SHARE)
    in_agents = {n.value for n in inferred if n.kind == "url" and any(_lowered(n.value) in a for a in agents)}
    dropped = [n for n in inferred if n.value in ambient or n.value in in_agents]
    gone = set(dropped)
    return [n for n in needles if n not in gone], dropped

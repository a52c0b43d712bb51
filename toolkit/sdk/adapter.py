"""One SDK's wire format as data: which requests are its, and which field holds which data type.

A field is named by its *key path*: the names from the request part down to the value, with the
decoding steps left out and array positions as ``[n]``. ``form:data_list > urldecode > base64 >
gzip > json:[0].properties.$model`` has the key path ``data_list [0] properties $model``. An
adapter's field ``properties.$model`` matches a key path that ends in those names; array positions
in between are skipped unless the field names one (``extinfo[5]``).

>>> sdk = Sdk("Example", hosts=("t.example",), fields={"device.model": "device_model", "ids[0]": "install_id"},
...           source="https://t.example/docs")
>>> sdk.matches("eu.t.example", "/v1/batch", "")
True
>>> sdk.datatype_of(key_path("body", ("gzip", "json:events[3].device.model")))
'device_model'
>>> sdk.datatype_of(key_path("body", ("json:ids[0]",))), sdk.datatype_of(key_path("body", ("json:ids[1]",)))
('install_id', None)
>>> sdk.datatype_of(key_path("query:model", ()))
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from toolkit.sdk.vocabulary import DATATYPES

__all__ = ["Labeller", "Payload", "Sdk", "described", "host_under", "key_path", "leak_parameter", "parse_path"]

#: What an SDK calls the place of a leak finding: ``(host, path, body, location, chain) -> label or None``.
Labeller = Callable[[str | None, str | None, bytes | None, str, str], str | None]
#: Whether a request (a row of the ``requests`` table, as a mapping) carries the SDK's payload format.
Payload = Callable[[Mapping[str, Any]], bool]

_PATH_TOKEN = re.compile(r'\.?([^.\[\]"]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]')
_STRUCTURE = ("json:", "form:", "multipart:", "xml:")


@functools.lru_cache(maxsize=4096)
def parse_path(path: str) -> tuple[str, ...]:
    """``events[0].device.model`` -> ``('events', '[0]', 'device', 'model')``.

    >>> parse_path('a["b.c"][2].$d')
    ('a', 'b.c', '[2]', '$d')
    """
    out: list[str] = []
    for match in _PATH_TOKEN.finditer(path):
        name, index, quoted = match.groups()
        if index is not None:
            out.append(f"[{index}]")
        elif quoted is not None:
            out.append(quoted.replace('\\"', '"'))
        elif name:
            out.append(name)
    return tuple(out)


@functools.lru_cache(maxsize=8192)
def key_path(location: str, chain: tuple[str, ...]) -> tuple[str, ...]:
    """The names from a request part (``query:NAME``, ``header:NAME``, ``body``) to a value.

    >>> key_path("body", ("form:data_list", "urldecode", "base64", "gzip", "json:[0].properties.$model"))
    ('data_list', '[0]', 'properties', '$model')
    >>> key_path("query:gps_adid", ()), key_path("body", ("pb:1.14",))
    (('gps_adid',), ('1', '14'))
    """
    names: list[str] = []
    if ":" in location:
        names.append(location.split(":", 1)[1])
    for step in chain:
        if step.startswith("json:"):
            names.extend(parse_path(step[5:]))
        elif step.startswith(_STRUCTURE):
            names.append(step.split(":", 1)[1])
        elif step.startswith("pb:"):
            names.extend(step[3:].split("."))
    return tuple(names)


def host_under(host: str | None, domains: tuple[str, ...]) -> bool:
    """``host`` is one of ``domains`` or a subdomain of one.

    >>> host_under("App.Adjust.com.", ("adjust.com",)), host_under("notadjust.com", ("adjust.com",))
    (True, False)
    """
    host = (host or "").lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in domains)


def leak_parameter(location: str, chain: str) -> str | None:
    """The parameter that holds a leak finding: ``query:NAME`` or a body chain's ``form:NAME`` / ``json:.NAME``.

    >>> leak_parameter("query:gps_adid", ""), leak_parameter("body", "json:events[0].x > base64")
    ('gps_adid', 'events')
    """
    if location.startswith("query:"):
        return location[len("query:") :]
    first = chain.split(" > ", 1)[0] if chain else ""
    if first.startswith("form:"):
        return first[len("form:") :]
    if first.startswith("json:"):  # ``json:events[0].x`` (as unwrap writes it) or ``json:.events``
        return re.split(r"[.\[]", first[len("json:") :].lstrip("."), maxsplit=1)[0] or None
    return None


def described(name: str, meanings: Mapping[str, str]) -> str:
    """``name (what it is)`` where the SDK's documentation says, else ``name``.

    >>> described("gps_adid", {"gps_adid": "Google advertising id"}), described("x", {})
    ('gps_adid (Google advertising id)', 'x')
    """
    meaning = meanings.get(name)
    return f"{name} ({meaning})" if meaning else name


def _ends_with(keys: tuple[str, ...], spec: tuple[str, ...]) -> bool:
    """``keys`` ends in ``spec``, array positions of ``keys`` that ``spec`` does not name skipped."""
    i = len(keys) - 1
    for want in reversed(spec):
        while i >= 0 and keys[i] != want and keys[i].startswith("["):
            i -= 1
        if i < 0 or keys[i] != want:
            return False
        i -= 1
    return True


@dataclass(frozen=True)
class Sdk:
    """An SDK or endpoint family: how to recognise its requests and what its fields hold."""

    name: str
    """Label in the ``sdk`` column: ``Adjust``, ``Firebase Analytics`` ..."""
    hosts: tuple[str, ...] = ()
    """Domains it posts to (a host matches itself and its subdomains); empty: any host."""
    fields: Mapping[str, str] = field(default_factory=dict)
    """Field path (``properties.$model``, ``extinfo[5]``) -> data type of :data:`DATATYPES`."""
    source: str = ""
    """Where the facts come from: documentation and open-source client code."""
    path: str | None = None
    """Regular expression the URL path must match (from its start), if any."""
    query: str | None = None
    """Regular expression the query string must contain, if any."""
    encrypted: str | None = None
    """Set when (some of) its payloads are encrypted: what cannot be read, said plainly."""
    labeller: Labeller | None = field(default=None, compare=False)
    """Names the place of a leak finding in the SDK's own terms (:meth:`label`), if the SDK has one."""
    payload: Payload | None = field(default=None, compare=False)
    """Recognises the SDK's payload on any host (a self-hosted receiver), for :meth:`carries`."""
    _specs: tuple[tuple[tuple[str, ...], str], ...] = field(init=False, repr=False, compare=False)
    _by_last: Mapping[str, tuple[int, ...]] = field(init=False, repr=False, compare=False)
    """Last name of a field path -> the positions in ``_specs`` of the fields ending in it."""

    def __post_init__(self) -> None:
        unknown = sorted(set(self.fields.values()) - set(DATATYPES))
        if unknown:
            raise ValueError(f"{self.name}: data types not in the vocabulary: {unknown}")
        specs = sorted(((parse_path(p), t) for p, t in self.fields.items()), key=lambda s: -len(s[0]))
        object.__setattr__(self, "_specs", tuple(specs))
        by_last: dict[str, list[int]] = {}
        for position, (spec, _datatype) in enumerate(specs):
            by_last.setdefault(spec[-1] if spec else "", []).append(position)
        object.__setattr__(self, "_by_last", {name: tuple(positions) for name, positions in by_last.items()})

    def matches(self, host: str, path: str, query: str) -> bool:
        """Whether a request to ``host`` with ``path`` and ``query`` is this SDK's."""
        if self.hosts and not host_under(host, self.hosts):
            return False
        if self.path is not None and not re.match(self.path, path or ""):
            return False
        return self.query is None or re.search(self.query, query or "") is not None

    @property
    def slug(self) -> str:
        """The name claims use for the SDK (``sdk = "sensors_analytics"``).

        >>> Sdk("Google Mobile Ads").slug
        'google_mobile_ads'
        """
        return re.sub(r"[^a-z0-9]+", "_", self.name.lower()).strip("_")

    def carries(self, request: Mapping[str, Any]) -> bool:
        """Whether a request (a ``requests`` row) is the SDK's: its payload format where the SDK has one
        that says so on any host, else :meth:`matches` on the request's URL.

        >>> Sdk("Example", hosts=("t.example",)).carries({"url": "https://eu.t.example/v1?a=1"})
        True
        """
        if self.payload is not None:
            return self.payload(request)
        try:
            parts = urlsplit(str(request.get("url") or ""))
            host = request.get("host") or parts.hostname
        except ValueError:
            return False
        return self.matches(str(host or ""), parts.path, parts.query)

    def label(self, host: str | None, path: str | None, body: bytes | None, location: str, chain: str) -> str | None:
        """What the SDK calls the place of a leak finding (``Adjust session package, parameter gps_adid
        (Google advertising id)``), or None. It asks the SDK's own endpoints and signature, which can be
        narrower than :meth:`matches` (an SDK's package paths) or wider (a self-hosted receiver's format).

        >>> Sdk("Example").label("t.example", "/", None, "query:q", "") is None
        True
        """
        return self.labeller(host, path, body, location, chain) if self.labeller is not None else None

    def datatype_of(self, keys: tuple[str, ...]) -> str | None:
        """The data type the SDK's field at ``keys`` holds (the longest matching field wins).

        Only the fields that can match are tried: a field's last name is the last key, or one of the
        array positions at the end of ``keys``, or the name before them (see :func:`_ends_with`).
        """
        candidates: list[int] = list(self._by_last.get("", ()))  # an empty path: every key path
        for key in reversed(keys):
            candidates.extend(self._by_last.get(key, ()))
            if not key.startswith("["):
                break
        if len(candidates) > 1:
            candidates.sort()  # the order of ``_specs``: the longest field first
        for position in candidates:
            spec, datatype = self._specs[position]
            if _ends_with(keys, spec):
                return datatype
        return None

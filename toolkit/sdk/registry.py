"""SDK adapters: one object per SDK (:class:`~toolkit.sdk.adapter.Sdk`), used by leaks, data types and claims.

Adding an SDK touches one file: a new module of :mod:`toolkit.sdk` is found here on import.
:func:`identify` names the SDK of a request (data types, identifier discovery, claims by SDK);
:func:`sdk_label` asks each SDK what it calls the place of a leak finding (the leak rows' evidence).

>>> identify("app.adjust.com", "/session", "").name
'Adjust'
>>> identify("sa.api.intl.miui.com", "/sa", "project=x").name
'Sensors Analytics'
>>> identify("example.org", "/", "") is None
True
>>> sdk_label("app.adjust.com", "/session", b"gps_adid=x", "body", "form:gps_adid")
'Adjust session package, parameter gps_adid (Google advertising id)'
>>> sdk_label("example.org", "/", None, "query:q", "") is None
True
>>> FINGERPRINTS["sensors_analytics"][0], FINGERPRINTS["adjust"][1]({"url": "https://app.adjust.com/session"})
('Sensors Analytics SDK wire format', True)
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from toolkit.sdk.adapter import Payload, Sdk

__all__ = ["FINGERPRINTS", "LABELLERS", "NAMES", "REGISTRY", "identify", "sdk_label"]

_PACKAGE = "toolkit.sdk"
_NOT_ADAPTERS = frozenset({"adapter", "registry", "vocabulary"})


def _load() -> tuple[Sdk, ...]:
    found: list[Sdk] = []
    modules = pkgutil.iter_modules([str(Path(__file__).parent)])
    for module in sorted(modules, key=lambda m: m.name):
        if module.name in _NOT_ADAPTERS:
            continue
        loaded = importlib.import_module(f"{_PACKAGE}.{module.name}")
        found.extend(getattr(loaded, "SDKS", ()))
        if hasattr(loaded, "SDK"):
            found.append(loaded.SDK)
    # An SDK that names its hosts and path is asked before one that names fewer facts.
    return tuple(sorted(found, key=lambda s: (not s.hosts, s.path is None, s.query is None)))


#: Every adapter, most specific first.
REGISTRY: tuple[Sdk, ...] = _load()

#: The SDK names of the ``sdk`` column (for claims that name SDKs).
NAMES: frozenset[str] = frozenset(sdk.name for sdk in REGISTRY)

#: The SDKs that label leak findings. A body signature (Sensors Analytics: any receiver host) is asked
#: before host-bound labels, as the leak engine always did.
LABELLERS: tuple[Sdk, ...] = tuple(sorted((s for s in REGISTRY if s.labeller is not None), key=lambda s: bool(s.hosts)))


def _any_of(sdks: list[Sdk]) -> Payload:
    def carried(request: Mapping[str, Any]) -> bool:
        return any(sdk.carries(request) for sdk in sdks)

    return carried


def _fingerprints() -> dict[str, tuple[str, Callable[[Mapping[str, Any]], bool]]]:
    by_slug: dict[str, list[Sdk]] = {}
    for sdk in REGISTRY:
        by_slug.setdefault(sdk.slug, []).append(sdk)
    out: dict[str, tuple[str, Callable[[Mapping[str, Any]], bool]]] = {}
    for slug, sdks in sorted(by_slug.items()):
        shape = "wire format" if any(s.payload for s in sdks) else "endpoints"
        out[slug] = (f"{sdks[0].name} SDK {shape}", sdks[0].carries if len(sdks) == 1 else _any_of(sdks))
    return out


#: SDK name for claims (``sdk = "sensors_analytics"``) -> (description, test on a ``requests`` row).
FINGERPRINTS: dict[str, tuple[str, Callable[[Mapping[str, Any]], bool]]] = _fingerprints()


def identify(host: str | None, path: str | None, query: str | None) -> Sdk | None:
    """The first adapter whose hosts, path and query match the request, or None."""
    for sdk in REGISTRY:
        if sdk.matches(host or "", path or "", query or ""):
            return sdk
    return None


#: Bodies up to this size are kept with the labels of :func:`sdk_label` (at most 1,024 of them).
_LABELLED_BODY = 16 * 1024


def sdk_label(host: str | None, path: str | None, body: bytes | None, location: str, chain: str) -> str | None:
    """What an SDK calls the place of a leak finding: the first SDK whose label knows the request.

    The same finding in a request sent again (a beacon, a repeated session) is labelled once.
    """
    body = body if isinstance(body, bytes) else None
    if body is not None and len(body) > _LABELLED_BODY:
        return _label(host, path, body, location, chain)
    return _remembered_label(host, path, body, location, chain)


def _label(host: str | None, path: str | None, body: bytes | None, location: str, chain: str) -> str | None:
    for sdk in LABELLERS:
        label = sdk.label(host, path, body, location, chain)
        if label:
            return label
    return None


_remembered_label = functools.lru_cache(maxsize=1024)(_label)

"""SDK adapters: one module per SDK or endpoint family, each defining ``SDK`` (or ``SDKS``).

Adding an SDK touches one file: a new module here is found by :data:`REGISTRY` on import.
:func:`identify` names the SDK of a request; :mod:`toolkit.datatypes` reads its fields.

>>> identify("app.adjust.com", "/session", "").name
'Adjust'
>>> identify("sa.api.intl.miui.com", "/sa", "project=x").name
'Sensors Analytics'
>>> identify("example.org", "/", "") is None
True
"""

from __future__ import annotations

import importlib
import pkgutil

from toolkit.sdk.adapter import Sdk

__all__ = ["REGISTRY", "Sdk", "identify"]

_NOT_ADAPTERS = frozenset({"adapter", "vocabulary"})


def _load() -> tuple[Sdk, ...]:
    found: list[Sdk] = []
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module.name in _NOT_ADAPTERS:
            continue
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        found.extend(getattr(loaded, "SDKS", ()))
        if hasattr(loaded, "SDK"):
            found.append(loaded.SDK)
    # An SDK that names its hosts and path is asked before one that names fewer facts.
    return tuple(sorted(found, key=lambda s: (not s.hosts, s.path is None, s.query is None)))


#: Every adapter, most specific first.
REGISTRY: tuple[Sdk, ...] = _load()


def identify(host: str | None, path: str | None, query: str | None) -> Sdk | None:
    """The first adapter whose hosts, path and query match the request, or None."""
    for sdk in REGISTRY:
        if sdk.matches(host or "", path or "", query or ""):
            return sdk
    return None

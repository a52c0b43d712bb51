"""SDK adapters: one module per SDK or endpoint family, each defining ``SDK`` (or ``SDKS``).

The registry (:mod:`toolkit.sdk.registry`) finds them; :mod:`toolkit.datatypes` reads their fields,
the leak engine their labels (:func:`~toolkit.sdk.registry.sdk_label`).

>>> identify("app.adjust.com", "/session", "").name
'Adjust'
"""

from toolkit.sdk.adapter import Sdk
from toolkit.sdk.registry import REGISTRY, identify, sdk_label

__all__ = ["REGISTRY", "Sdk", "identify", "sdk_label"]

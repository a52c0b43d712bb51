"""SDK labels for leak rows; detection never depends on them.

Each SDK is one object of :mod:`toolkit.sdk` (its hosts, fields and label); this module is the leak
engine's door to them. :func:`sdk_label` asks each SDK in turn: Sensors Analytics (by its body
signature, on any receiver host), Adjust, AppsFlyer, Google's Measurement Protocol and Firebase's own
``app-measurement.com`` uploads (whose field names are not public: only the upload is named).

The generic unwrapping already finds a needle inside a Sensors Analytics batch; a label adds what the
SDK calls it: which event (``page_load_event_start``, ``search``) carried the value.

>>> sdk_label("app-measurement.com", "/a", b"...", "body", "protobuf:1.2")
'Firebase Analytics upload (app-measurement; its field names are not public)'
"""

from __future__ import annotations

from toolkit.sdk.adjust import adjust_label
from toolkit.sdk.appsflyer import appsflyer_label
from toolkit.sdk.google_analytics import measurement_protocol_label
from toolkit.sdk.registry import sdk_label
from toolkit.sdk.sensors import sensors_events, sensors_label

__all__ = [
    "adjust_label",
    "appsflyer_label",
    "measurement_protocol_label",
    "sdk_label",
    "sensors_events",
    "sensors_label",
]

"""Sentry: error and performance events to ``o<N>.ingest.sentry.io/api/<project>/envelope/``
(newline-separated JSON items) or ``/store/`` (one JSON event).

Sources: develop.sentry.dev "Event Payloads" (``user``: ``id``, ``email``, ``ip_address``,
``username``; ``sdk.version``) and "Contexts" (``contexts.device``: ``model``, ``manufacturer``,
``brand``, ``battery_level``, ``memory_size``, ``free_storage``, ``simulator``, ``timezone``,
``screen_resolution``, ``boot_time``; ``contexts.os``: ``name``, ``version``, ``rooted``;
``contexts.app``: ``app_identifier``, ``app_version``). Example built from them (not captured):

>>> from toolkit.datatypes import request_datatypes
>>> body = (b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}\\n{"type":"event"}\\n'
...         b'{"contexts":{"device":{"model":"Redmi Note 8","battery_level":87.0,"simulator":false},'
...         b'"os":{"name":"Android","version":"10","rooted":false}},"user":{"id":"u-8812","ip_address":"192.0.2.15"},'
...         b'"sdk":{"name":"sentry.java.android","version":"6.4.0"}}')
>>> found = request_datatypes("https://o1.ingest.sentry.io/api/2/envelope/", body=body)
>>> sorted({f.datatype for f in found if f.method == "adapter"})  # doctest: +NORMALIZE_WHITESPACE
['battery', 'device_model', 'emulator', 'ip_address', 'os', 'os_version', 'rooted', 'sdk_version', 'user_id']
"""

from toolkit.sdk.adapter import Sdk

SDK = Sdk(
    "Sentry",
    hosts=("sentry.io", "sentry-cdn.com"),
    source="develop.sentry.dev Event Payloads and Contexts",
    fields={
        "user.id": "user_id",
        "user.email": "email",
        "user.ip_address": "ip_address",
        "user.username": "account",
        "sdk.version": "sdk_version",
        "contexts.device.model": "device_model",
        "contexts.device.model_id": "device_model",
        "contexts.device.manufacturer": "device_manufacturer",
        "contexts.device.brand": "device_manufacturer",
        "contexts.device.battery_level": "battery",
        "contexts.device.charging": "battery",
        "contexts.device.memory_size": "memory",
        "contexts.device.free_memory": "memory",
        "contexts.device.storage_size": "storage",
        "contexts.device.free_storage": "storage",
        "contexts.device.simulator": "emulator",
        "contexts.device.timezone": "timezone",
        "contexts.device.locale": "locale",
        "contexts.device.language": "language",
        "contexts.device.screen_resolution": "screen",
        "contexts.device.screen_density": "screen",
        "contexts.device.boot_time": "uptime",
        "contexts.device.connection_type": "network_type",
        "contexts.device.id": "device_id",
        "contexts.os.name": "os",
        "contexts.os.version": "os_version",
        "contexts.os.build": "os_version",
        "contexts.os.rooted": "rooted",
        "contexts.app.app_identifier": "app_id",
        "contexts.app.app_version": "app_version",
        "contexts.app.app_build": "app_version",
    },
)

"""Segment: ``api.segment.io/v1/batch`` (and ``/v1/t``, ``/v1/i``, ``/v1/s``): messages with the
Segment Spec's common fields.

Sources: segment.com/docs "Spec: Common Fields" (``anonymousId``, ``userId``, ``context.app``,
``context.device`` incl. ``advertisingId`` and ``adTrackingEnabled``, ``context.ip``,
``context.locale``, ``context.location``, ``context.network``, ``context.os``, ``context.screen``,
``context.timezone``, ``context.library``, ``context.traits``). Example from that spec (not captured):

>>> from toolkit.datatypes import request_datatypes
>>> body = (b'{"batch":[{"type":"track","event":"Order Completed","anonymousId":"507f191e810c19729de860ea",'
...         b'"context":{"device":{"advertisingId":"38400000-8cf0-11bd-b23e-10b96e40000d","adTrackingEnabled":true,'
...         b'"model":"Redmi Note 8"},"os":{"name":"Android","version":"10"},"timezone":"Europe/Berlin",'
...         b'"traits":{"email":"peter@example.com"}}}]}')
>>> found = request_datatypes("https://api.segment.io/v1/batch", body=body)
>>> sorted({f.datatype for f in found if f.method == "adapter"})  # doctest: +NORMALIZE_WHITESPACE
['advertising_id', 'device_model', 'email', 'event', 'install_id', 'os', 'os_version', 'timezone',
 'tracking_consent']
"""

from toolkit.sdk.adapter import Sdk

SDK = Sdk(
    "Segment",
    hosts=("segment.io", "segment.com", "segmentapis.com"),
    source="segment.com/docs Spec: Common Fields",
    fields={
        "anonymousId": "install_id",
        "userId": "user_id",
        "event": "event",
        "name": "event",
        "context.app.namespace": "app_id",
        "context.app.version": "app_version",
        "context.app.build": "app_version",
        "context.device.id": "device_id",
        "context.device.advertisingId": "advertising_id",
        "context.device.adTrackingEnabled": "tracking_consent",
        "context.device.manufacturer": "device_manufacturer",
        "context.device.model": "device_model",
        "context.ip": "ip_address",
        "context.locale": "locale",
        "context.location.latitude": "precise_location",
        "context.location.longitude": "precise_location",
        "context.location.city": "coarse_location",
        "context.location.country": "coarse_location",
        "context.network.carrier": "carrier",
        "context.network.wifi": "network_type",
        "context.network.cellular": "network_type",
        "context.os.name": "os",
        "context.os.version": "os_version",
        "context.screen.width": "screen",
        "context.screen.height": "screen",
        "context.screen.density": "screen",
        "context.timezone": "timezone",
        "context.library.version": "sdk_version",
        "context.page.url": "url",
        "context.page.title": "page_title",
        "context.page.referrer": "referrer",
        "traits.email": "email",
        "traits.phone": "phone_number",
        "traits.name": "name",
        "traits.firstName": "name",
        "traits.lastName": "name",
        "traits.username": "account",
        "properties.revenue": "purchase",
        "properties.currency": "purchase",
        "properties.order_id": "purchase",
    },
)

"""AppsFlyer: attribution SDK posting to ``*.appsflyer.com`` / ``*.appsflyersdk.com``.

Recent Android and iOS SDKs (6.x) encrypt the event body: only the query string (``app_id``,
``buildnumber``) is readable, and the table says nothing of what the body holds. Older SDKs and
the server-to-server API post JSON with the field names below.

Sources: AppsFlyer's server-to-server events API (dev.appsflyer.com, "S2S events API": field names
``appsflyer_id``, ``advertising_id``, ``idfa``, ``customer_user_id``, ``eventName`` ...). Example
built from that documentation (not captured):

>>> from toolkit.datatypes import request_datatypes
>>> body = (b'{"appsflyer_id":"1588237200000-1234567","advertising_id":"38400000-8cf0-11bd-b23e-10b96e40000d",'
...         b'"eventName":"af_purchase"}')
>>> sorted((f.datatype, f.value) for f in request_datatypes(
...     "https://api2.appsflyer.com/inappevent/com.example.app", body=body) if f.method == "adapter")
... # doctest: +NORMALIZE_WHITESPACE
[('advertising_id', '38400000-8cf0-11bd-b23e-10b96e40000d'), ('event', 'af_purchase'),
 ('install_id', '1588237200000-1234567')]
"""

from toolkit.sdk.adapter import Sdk

SDK = Sdk(
    "AppsFlyer",
    hosts=("appsflyer.com", "appsflyersdk.com"),
    source="dev.appsflyer.com S2S events API field names",
    encrypted="AppsFlyer SDK 6.x encrypts its event body; only the URL's app_id and buildnumber are readable",
    fields={
        "appsflyer_id": "install_id", "uid": "install_id",
        "advertising_id": "advertising_id", "advertiserId": "advertising_id", "idfa": "advertising_id",
        "oaid": "advertising_id", "amazon_aid": "advertising_id", "idfv": "vendor_id",
        "android_id": "android_id", "androidId": "android_id", "imei": "imei",
        "customer_user_id": "user_id", "ip": "ip_address",
        "eventName": "event", "eventCurrency": "purchase", "af_revenue": "purchase",
        "app_id": "app_id", "buildnumber": "sdk_version", "app_version_name": "app_version",
        "brand": "device_manufacturer", "model": "device_model", "lang": "language", "lang_code": "language",
        "country": "locale", "operator": "carrier", "carrier": "carrier", "network": "network_type",
        "advertiserIdEnabled": "tracking_consent", "referrer": "referrer",
    },
)  # fmt: skip

"""The fixed vocabulary of data types: what app-privacy research reports an SDK to have sent.

Every row of the ``datatypes`` table names one of these; adapters and recognisers use no other.
The names follow the categories that app-privacy studies and the complaints built on them use
(advertising and vendor ids, device facts, location, consent state, behaviour).

>>> DATATYPES["advertising_id"]
'advertising id of the device: GAID/AAID (Android), IDFA (iOS), OAID, Amazon Fire id'
>>> all(name == name.lower() and " " not in name for name in DATATYPES)
True
"""

from __future__ import annotations

__all__ = ["DATATYPES", "IDENTIFIER_TYPES"]

#: Data type name -> what it is. The order is the order of the README and of plots.
DATATYPES: dict[str, str] = {
    # identifiers of the device and of the person
    "advertising_id": "advertising id of the device: GAID/AAID (Android), IDFA (iOS), OAID, Amazon Fire id",
    "vendor_id": "id scoped to the app's vendor: IDFV (iOS), Google app set id",
    "android_id": "ANDROID_ID (Settings.Secure), per app signing key and device since Android 8",
    "imei": "IMEI or MEID of the phone's modem",
    "mac_address": "MAC address of a network interface (Wi-Fi, Bluetooth)",
    "serial_number": "hardware serial number",
    "install_id": "id an SDK creates at install (Adjust android_uuid, AppsFlyer id, Firebase installation id)",
    "device_id": "an SDK's or the app's own id of the device (not one of the platform ids above)",
    "user_id": "id of the person or account as the app or SDK knows it (distinct_id, customer user id)",
    "session_id": "id of one app session",
    "email": "email address (plain or hashed)",
    "phone_number": "phone number (plain or hashed)",
    "name": "a person's first, last or full name",
    "account": "user name or account name",
    # where
    "precise_location": "latitude/longitude with three or more decimals (about 100 m or better)",
    "coarse_location": "city, region, postal code, country, or a latitude/longitude with fewer decimals",
    "ip_address": "IP address of the device, sent inside the request",
    # the device
    "device_model": "device model (Redmi Note 8, iPhone14,2)",
    "device_manufacturer": "device manufacturer or brand",
    "os": "operating system name",
    "os_version": "operating system version or API level",
    "app_id": "app identifier: Android package name, iOS bundle id, an SDK's id of the app",
    "app_version": "app version name or build number",
    "sdk_version": "version of the SDK that sent the request",
    "language": "language of the device or app",
    "locale": "locale or country setting of the device",
    "timezone": "time zone name or offset",
    "carrier": "mobile network operator (name or MCC/MNC)",
    "network_type": "connection type: Wi-Fi, cellular, 4G ...",
    "screen": "screen size, resolution or density",
    "battery": "battery level or charging state",
    "storage": "total or free storage",
    "memory": "total or free memory (RAM)",
    "uptime": "time since boot, boot time",
    "rooted": "root or jailbreak state",
    "emulator": "whether the device is an emulator or simulator",
    "tracking_consent": "tracking-consent state: ATT status, limit-ad-tracking, ad-tracking-enabled",
    "installed_apps": "list of installed apps",
    # what the person does
    "url": "URL of a page or screen the person visited",
    "page_title": "title of a page the person visited",
    "search_term": "text the person searched for",
    "event": "name of an in-app event or action (app open, purchase, screen view)",
    "purchase": "purchase data: revenue, price, currency, product, order id",
    "referrer": "referrer or install attribution (campaign, deep link, install referrer)",
}

#: Data types that are identifiers: identifier discovery takes a value an adapter names so as one.
IDENTIFIER_TYPES = frozenset(
    {
        "advertising_id",
        "vendor_id",
        "android_id",
        "imei",
        "mac_address",
        "serial_number",
        "install_id",
        "device_id",
        "user_id",
        "session_id",
    }
)

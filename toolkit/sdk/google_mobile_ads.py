"""Google Mobile Ads SDK (AdMob / Ad Manager in apps): ad requests to
``googleads.g.doubleclick.net/mads/gma`` (query string, or a form body), its configuration fetch
``/getconfig/pubsetting`` and interaction pings ``/pagead/interaction/``.

Sources: the field map of TrackHAR's Google adapter (github.com/tweaselORG/TrackHAR,
``src/adapters/google.ts``, "doubleclick-mads-gma"): ``platform`` (manufacturer), ``submodel``
(model), ``sys_name``, ``os_version``, ``hl`` (language), ``net`` (network type), ``ios_jb``
(jailbreak), ``app_name`` / ``_package_name`` / ``an`` / ``msid`` (app id), ``dtsdk`` (SDK version),
``vnm`` (app version), the ``X-Requested-With`` header (app id) and the ``IDE`` cookie (DoubleClick's
id of the device); and Google Ad Manager's ad-tag parameters for apps (support.google.com/admanager,
"ad tag parameters": ``rdid`` resettable device id, ``idtype``, ``is_lat`` limit ad tracking,
``msid`` / ``an`` app id and name). The corpus holds no app request (its doubleclick.net requests are
web pages' conversion pings, which this adapter leaves alone). Example built from those names:

>>> from toolkit.datatypes import request_datatypes
>>> found = request_datatypes("https://googleads.g.doubleclick.net/mads/gma?platform=Xiaomi&submodel=Redmi%20Note%208"
...     "&sys_name=android&os_version=10&hl=de&net=wi&msid=com.example.app&dtsdk=221310999&vnm=1.4.2"
...     "&rdid=38400000-8cf0-11bd-b23e-10b96e40000d&is_lat=0", cookies=[("IDE", "AHWqTUk3nN2Xc0m5")])
>>> sorted((f.datatype, f.value) for f in found if f.method == "adapter")  # doctest: +NORMALIZE_WHITESPACE
[('advertising_id', '38400000-8cf0-11bd-b23e-10b96e40000d'), ('app_id', 'com.example.app'),
 ('app_version', '1.4.2'), ('device_id', 'AHWqTUk3nN2Xc0m5'), ('device_manufacturer', 'Xiaomi'),
 ('device_model', 'Redmi Note 8'), ('language', 'de'), ('network_type', 'wi'), ('os', 'android'),
 ('os_version', '10'), ('sdk_version', '221310999'), ('tracking_consent', '0')]
"""

from toolkit.sdk.adapter import Sdk

SDK = Sdk(
    "Google Mobile Ads",
    hosts=("googleads.g.doubleclick.net",),
    path=r"/(mads/|getconfig/pubsetting|pagead/interaction)",
    source="TrackHAR google.ts doubleclick-mads-gma field map; Google Ad Manager ad-tag parameters (rdid, is_lat)",
    fields={
        "platform": "device_manufacturer",
        "submodel": "device_model",
        "sys_name": "os",
        "os_version": "os_version",
        "hl": "language",
        "net": "network_type",
        "ios_jb": "rooted",
        "app_name": "app_id",
        "_package_name": "app_id",
        "an": "app_id",
        "msid": "app_id",
        "x-requested-with": "app_id",
        "dtsdk": "sdk_version",
        "vnm": "app_version",
        "rdid": "advertising_id",
        "is_lat": "tracking_consent",
        "IDE": "device_id",
    },
)

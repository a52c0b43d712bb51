"""Firebase Crashlytics: settings fetch (``firebase-settings.crashlytics.com``) and crash reports
(``crashlyticsreports-pa.googleapis.com``, a FireLog batch whose events hold the report as JSON).

Sources: firebase/firebase-android-sdk ``firebase-crashlytics`` (``DefaultSettingsSpiCall``: the
``X-CRASHLYTICS-*`` headers and ``build_version``/``display_version`` query) and firebase-ios-sdk
``Crashlytics/ProtoSupport/Protos/crashlytics.proto`` (report fields), as also mapped by
TrackHAR's google.ts. Example built from that code (not captured):

>>> from toolkit.datatypes import request_datatypes
>>> found = request_datatypes(
...     "https://firebase-settings.crashlytics.com/spi/v2/platforms/android/gmp/1:1:android:a/settings?build_version=42&display_version=1.2.3",
...     headers=[("X-CRASHLYTICS-DEVICE-MODEL", "Xiaomi/Redmi Note 8"), ("X-CRASHLYTICS-OS-DISPLAY-VERSION", "10"),
...              ("X-CRASHLYTICS-INSTALLATION-ID", "0f6f0c1e6a8b4c9e9d3b2a1f0e9d8c7b")])
>>> sorted((f.datatype, f.value) for f in found if f.method == "adapter")  # doctest: +NORMALIZE_WHITESPACE
[('app_version', '1.2.3'), ('app_version', '42'), ('device_model', 'Xiaomi/Redmi Note 8'),
 ('install_id', '0f6f0c1e6a8b4c9e9d3b2a1f0e9d8c7b'), ('os_version', '10')]
"""

from toolkit.sdk.adapter import Sdk

SDK = Sdk(
    "Firebase Crashlytics",
    hosts=("crashlytics.com", "crashlyticsreports-pa.googleapis.com"),
    source="firebase-android-sdk firebase-crashlytics DefaultSettingsSpiCall; firebase-ios-sdk crashlytics.proto",
    fields={
        "x-crashlytics-device-model": "device_model",
        "x-crashlytics-os-build-version": "os_version",
        "x-crashlytics-os-display-version": "os_version",
        "x-crashlytics-installation-id": "install_id",
        "x-crashlytics-api-client-version": "sdk_version",
        "build_version": "app_version",
        "display_version": "app_version",
        "sdkVersion": "sdk_version",
        "platform": "os",
        "installationUuid": "install_id",
        "buildVersion": "app_version",
        "displayVersion": "app_version",
        "session.app.identifier": "app_id",
        "session.app.version": "app_version",
        "session.app.displayVersion": "app_version",
        "session.os.version": "os_version",
        "session.os.jailbroken": "rooted",
        "session.device.model": "device_model",
        "session.device.manufacturer": "device_manufacturer",
        "session.device.ram": "memory",
        "session.device.diskSpace": "storage",
        "session.device.simulator": "emulator",
        "device.batteryLevel": "battery",
        "device.ramUsed": "memory",
        "device.diskUsed": "storage",
        "session.user.identifier": "user_id",
    },
)

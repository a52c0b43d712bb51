"""Firebase Installations: ``firebaseinstallations.googleapis.com/v1/projects/<p>/installations``.

The SDK registers the app install: a JSON body ``{"fid", "appId", "authVersion", "sdkVersion"}``
and headers naming the app. Sources: firebase/firebase-android-sdk ``firebase-installations``
(``FirebaseInstallationServiceClient``: the request body fields and the ``X-Android-Package``
header). Example built from that code (not captured):

>>> from toolkit.datatypes import request_datatypes
>>> found = request_datatypes("https://firebaseinstallations.googleapis.com/v1/projects/p/installations",
...     headers=[("X-Android-Package", "com.example.app")],
...     body=b'{"fid":"cXl2bW9uZ3VzZXI0NTY3","appId":"1:123:android:abc","authVersion":"FIS_v2",'
...          b'"sdkVersion":"a:17.0.1"}')
>>> sorted((f.datatype, f.value) for f in found if f.method == "adapter")  # doctest: +NORMALIZE_WHITESPACE
[('app_id', '1:123:android:abc'), ('app_id', 'com.example.app'), ('install_id', 'cXl2bW9uZ3VzZXI0NTY3'),
 ('sdk_version', 'a:17.0.1')]
"""

from toolkit.sdk.adapter import Sdk

SDK = Sdk(
    "Firebase Installations",
    hosts=("firebaseinstallations.googleapis.com",),
    source="github.com/firebase/firebase-android-sdk firebase-installations FirebaseInstallationServiceClient",
    fields={"fid": "install_id", "appId": "app_id", "sdkVersion": "sdk_version", "x-android-package": "app_id"},
)

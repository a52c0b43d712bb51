"""Umeng (友盟+) analytics: ``ulogs.umeng.com`` / ``alogus.umeng.com`` uploads.

The analytics SDK sends its logs in an encrypted envelope (``UMEnvelope``: a binary header and an
encrypted, compressed body), so no field can be read: the adapter names the endpoint and says so.
Source: developer.umeng.com integration docs (upload domains) and the SDK's envelope format as
described there. Example (a binary body): nothing is read.

>>> from toolkit.datatypes import request_datatypes
>>> request_datatypes("https://ulogs.umeng.com/unify_logs", body=bytes(range(200)))
[]
"""

from toolkit.sdk.adapter import Sdk

SDK = Sdk(
    "Umeng",
    hosts=("umeng.com", "umengcloud.com"),
    source="developer.umeng.com integration docs (upload domains); envelope encrypted",
    encrypted="Umeng's analytics envelope (UMEnvelope) is encrypted; its fields cannot be read",
)

"""A toolkit to prove what an app or a browser sends home.

Load a capture (HAR, pcap or pcapng; TLS decrypted with a key log), get pandas tables:

>>> import toolkit
>>> capture = toolkit.load("data/sample.har")
>>> sorted(capture.tables)
['endpoints', 'problems', 'requests']
"""

from toolkit.analysis import Analysis, analyze
from toolkit.capture import Capture, Provenance, load
from toolkit.endpoints import Context, classify, registrable_domain
from toolkit.errors import (
    CaptureError,
    MalformedCaptureError,
    TruncatedCaptureError,
    UnsupportedFormatError,
)
from toolkit.leaks import find_leaks
from toolkit.schema import TABLES
from toolkit.study import Session, Study

__all__ = [
    "TABLES",
    "Analysis",
    "Capture",
    "CaptureError",
    "Context",
    "MalformedCaptureError",
    "Provenance",
    "Session",
    "Study",
    "TruncatedCaptureError",
    "UnsupportedFormatError",
    "analyze",
    "classify",
    "find_leaks",
    "load",
    "registrable_domain",
]

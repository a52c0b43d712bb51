"""A toolkit to prove what an app or a browser sends home.

Load a capture (HAR, pcap or pcapng; TLS decrypted with a key log), get pandas tables:

>>> import toolkit
>>> capture = toolkit.load("data/sample.har")
>>> sorted(capture.tables)
['endpoints', 'problems', 'requests']

The public names are imported when first used (PEP 562), so that ``import toolkit`` and
``python -m toolkit --help`` do not pay for pandas, matplotlib and the readers up front.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what the lazy names below resolve to, for type checkers and editors
    from toolkit.analysis import Analysis, analyze
    from toolkit.capture import Capture, Provenance, load
    from toolkit.claims import evaluate
    from toolkit.endpoints import Context, classify, registrable_domain
    from toolkit.errors import (
        CaptureError,
        CaptureNotFoundError,
        MalformedCaptureError,
        TruncatedCaptureError,
        UnsupportedFormatError,
    )
    from toolkit.leaks import find_leaks
    from toolkit.schema import TABLES
    from toolkit.study import Session, Study
    from toolkit.verdicts import read_claims

#: Each public name and the module it lives in.
_HOMES = {
    "TABLES": "toolkit.schema",
    "Analysis": "toolkit.analysis",
    "analyze": "toolkit.analysis",
    "Capture": "toolkit.capture",
    "CaptureError": "toolkit.errors",
    "CaptureNotFoundError": "toolkit.errors",
    "Context": "toolkit.endpoints",
    "MalformedCaptureError": "toolkit.errors",
    "Provenance": "toolkit.capture",
    "Session": "toolkit.study",
    "Study": "toolkit.study",
    "TruncatedCaptureError": "toolkit.errors",
    "UnsupportedFormatError": "toolkit.errors",
    "classify": "toolkit.endpoints",
    "evaluate": "toolkit.claims",
    "find_leaks": "toolkit.leaks",
    "load": "toolkit.capture",
    "read_claims": "toolkit.verdicts",
    "registrable_domain": "toolkit.endpoints",
}

__all__ = [
    "TABLES",
    "Analysis",
    "Capture",
    "CaptureError",
    "CaptureNotFoundError",
    "Context",
    "MalformedCaptureError",
    "Provenance",
    "Session",
    "Study",
    "TruncatedCaptureError",
    "UnsupportedFormatError",
    "analyze",
    "classify",
    "evaluate",
    "find_leaks",
    "load",
    "read_claims",
    "registrable_domain",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use, then keep it as a plain attribute."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'toolkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

"""Where the tests find their inputs: the bundled data and the shared third-party corpus."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
#: The shared third-party corpus: $TOOLKIT_CORPUS, or ../shared/corpus beside the checkout.
CORPUS = Path(os.environ.get("TOOLKIT_CORPUS", ROOT.parent / "shared" / "corpus"))
#: Real tracker lists for testing loaders: $TOOLKIT_LISTS, or ../shared/lists.
LISTS = Path(os.environ.get("TOOLKIT_LISTS", ROOT.parent / "shared" / "lists"))
#: Real files of other projects kept in the repository (a small part of the corpus, same layout; see
#: tests/data/SOURCES): a clone without ../shared still tests every reader against real files.
BUNDLED = ROOT / "tests" / "data" / "corpus"


def corpus_file(local_path: str) -> Path | None:
    """``local_path`` (e.g. ``har/mitmproxy__chrome.har``) in the shared corpus, else in the bundled
    part, else None.

    >>> corpus_file("pcap/hotplace__http2.dsb.pcapng").name
    'hotplace__http2.dsb.pcapng'
    >>> corpus_file("har/no-such-file.har") is None
    True
    """
    for folder in (CORPUS, BUNDLED):
        if (folder / local_path).is_file():
            return folder / local_path
    return None

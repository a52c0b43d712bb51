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

"""Rewrite the snapshot records in tests/data/snapshots/ from the code as it is now.

    PYTHONPATH=. python scripts/update_snapshots.py

The records are what ``tests/test_snapshots.py`` holds every later version of the code to: every
table, leak row, verdict and figure of the lab's captures, the demo and the Xiaomi study. Rewriting
them is legitimate only when a change of output is intended and has been reviewed as such (a new
column, a fixed wrong verdict, a redrawn figure, new lab captures in data/lab), and the commit says
which output changed and why. Never rewrite them to make a refactoring pass: a refactoring that
changes a record has changed the toolkit's results.
"""

from __future__ import annotations

import json
import sys

from tests.snapshots import SNAPSHOTS, compute


def main() -> int:
    SNAPSHOTS.mkdir(parents=True, exist_ok=True)
    for name, record in compute().items():
        path = SNAPSHOTS / name
        text = json.dumps(record, indent=1, sort_keys=True) + "\n"
        changed = not path.is_file() or path.read_text(encoding="utf-8") != text
        path.write_text(text, encoding="utf-8")
        print(f"{path}: {'rewritten' if changed else 'unchanged'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

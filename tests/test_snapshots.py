"""Every table, leak row, verdict and figure of the lab, the demo and the Xiaomi study is what it was
when the records in tests/data/snapshots/ were made (see scripts/update_snapshots.py for when they
may be rewritten)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.snapshots import SNAPSHOTS, canonical_csv, lab_snapshot, study_snapshot

pytestmark = pytest.mark.slow


def _recorded(name: str) -> dict[str, Any]:
    return json.loads((SNAPSHOTS / name).read_text(encoding="utf-8"))


def _differences(recorded: Any, now: Any, where: str = "") -> list[str]:
    """Where two records differ, as paths into them (empty when equal)."""
    if isinstance(recorded, dict) and isinstance(now, dict):
        out = []
        for key in sorted(set(recorded) | set(now)):
            if key not in now or key not in recorded:
                out.append(f"{where}/{key}: {'missing now' if key not in now else 'new'}")
            else:
                out += _differences(recorded[key], now[key], f"{where}/{key}")
        return out
    return [] if recorded == now else [f"{where}: recorded {recorded!r}, now {now!r}"]


def test_the_lab_captures_give_the_recorded_tables() -> None:
    assert _differences(_recorded("lab.json"), json.loads(json.dumps(lab_snapshot()))) == []


def test_the_xiaomi_study_and_demo_give_the_recorded_tables_verdicts_and_figures() -> None:
    assert _differences(_recorded("xiaomi-2020.json"), json.loads(json.dumps(study_snapshot()))) == []


def test_a_changed_cell_changes_the_digest() -> None:
    import pandas as pd

    a = pd.DataFrame({"organisation": ["Xiaomi", "Google"], "role": ["platform", "cdn"]})
    b = a.assign(role=["platform", "ads"])
    assert canonical_csv(a) != canonical_csv(b)
    assert canonical_csv(a) == canonical_csv(a.iloc[::-1])

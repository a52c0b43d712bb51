"""Figures stay readable on real captures of every size: no tick label runs into another.

Each of the six figures is drawn on three real captures of the shared corpus (a small browser
HAR, CNN's front page with 96 hosts, a phone pcap) and on tables scaled to 300 organisations and
100,000 requests; matplotlib's renderer gives every text's bounding box, and none may overlap.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import toolkit
from toolkit import plots
from toolkit.identifiers import discover_identifiers
from toolkit.leaks import find_leaks
from toolkit.schema import TABLES

from .paths import CORPUS, DATA

CAPTURES = {
    "small browser HAR": CORPUS / "har" / "pagexray__http2-chrome.har",
    "CNN, 96 hosts": CORPUS / "har" / "haralyzer__cnn-chrome.har",
    "phone pcap": CORPUS / "pcap" / "ndpi__instagram.pcap",
}

FIGURES: dict[str, Callable[[dict[str, pd.DataFrame]], Any]] = {
    "leak_matrix": lambda t: plots.leak_matrix(t["leaks"]),
    "request_timeline": lambda t: plots.request_timeline(t["requests"], endpoints=t["endpoints"], leaks=t["leaks"]),
    "bytes_by_organisation": lambda t: plots.bytes_by_organisation(t["endpoints"]),
    "identifier_persistence": lambda t: plots.identifier_persistence(t["identifiers"]),
    "decryption_coverage": lambda t: plots.decryption_coverage(t["flows"], by="host"),
    "encoding_chain": lambda t: plots.encoding_chain(t["leaks"].iloc[-1]) if len(t["leaks"]) else None,
}

_TABLES: dict[str, dict[str, pd.DataFrame]] = {}


def _tables(name: str) -> dict[str, pd.DataFrame]:
    if name not in _TABLES:
        path = CAPTURES[name]
        if not path.exists():
            pytest.skip("the shared corpus is not beside this checkout")
        capture = toolkit.load(path)
        tables = {key: capture.table(key) for key in ("requests", "endpoints", "flows")}
        tables["leaks"] = find_leaks(capture, identifiers=["ANDROID_ID=8e5fbce04dc91566"])
        tables["identifiers"] = discover_identifiers(tables["requests"], min_requests=1)
        _TABLES[name] = tables
    return _TABLES[name]


@pytest.mark.parametrize("figure", list(FIGURES))
@pytest.mark.parametrize("capture", list(CAPTURES))
@pytest.mark.slow
def test_no_label_overlaps_on_real_captures(capture: str, figure: str) -> None:
    ax = FIGURES[figure](_tables(capture))
    if ax is None:
        return
    try:
        assert plots.overlapping_labels(ax) == []
    finally:
        plt.close(ax.figure)


def _many(organisations: int, requests: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(7)
    owners = [f"organisation-with-a-long-name-{i:03d}" for i in range(organisations)]
    hosts = [f"tracker{i}.example-{i:03d}.com" for i in range(organisations)]
    pick = rng.integers(0, organisations, requests)
    ts = pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(np.sort(rng.integers(0, 3_600_000, requests)), "ms")
    roles = ["first_party", "platform", "third_party", "infrastructure", "unknown"]
    endpoints = TABLES["endpoints"].frame(
        {
            "host": hosts,
            "organisation": owners,
            "role": [roles[i % 5] for i in range(organisations)],
            "bytes_up": rng.integers(100, 10_000_000, organisations),
            "bytes_down": rng.integers(100, 10**9, organisations),
        }
    )
    request_table = TABLES["requests"].frame({"ts": ts, "host": [hosts[i] for i in pick]})
    leak_rows = pick[: min(requests, 5_000)]
    leaks = TABLES["leaks"].frame(
        {
            "ts": ts[: len(leak_rows)],
            "session": [f"session-{i % 6}-incognito_toggle_off" for i in range(len(leak_rows))],
            "host": [hosts[i] for i in leak_rows],
            "organisation": [owners[i] for i in leak_rows],
            "needle_kind": ["url"] * len(leak_rows),
            "kind": ["leak"] * len(leak_rows),
            "severity": ["full_url"] * len(leak_rows),
            "chain": ["form:data > base64 > gzip > json:[0].url"] * len(leak_rows),
            "location": ["body"] * len(leak_rows),
            "needle": ["https://a.example/"] * len(leak_rows),
        }
    )
    identifiers = TABLES["identifiers"].frame(
        {
            "value": [f"{i:016x}" for i in range(organisations)],
            "kind": ["hex"] * organisations,
            "sessions": [[f"session-{j}-incognito_toggle_off" for j in range(i % 7)] for i in range(organisations)],
            "persistence": ["across_modes"] * organisations,
        }
    )
    flows = TABLES["flows"].frame(
        {
            "protocol": ["tls"] * organisations,
            "hostname": hosts,
            "decrypted": [i % 3 == 0 for i in range(organisations)],
            "not_decrypted_reason": [None if i % 3 == 0 else "no key" for i in range(organisations)],
            "bytes_up": rng.integers(100, 10_000_000, organisations),
            "bytes_down": rng.integers(100, 10**9, organisations),
        }
    )
    return {
        "requests": request_table,
        "endpoints": endpoints,
        "leaks": leaks,
        "identifiers": identifiers,
        "flows": flows,
    }


@pytest.mark.parametrize("figure", [f for f in FIGURES if f != "encoding_chain"])
@pytest.mark.parametrize(("organisations", "requests"), [(3, 10), (300, 100_000)])
@pytest.mark.slow
def test_no_label_overlaps_from_3_to_300_organisations(figure: str, organisations: int, requests: int) -> None:
    ax = FIGURES[figure](_many(organisations, requests))
    try:
        assert plots.overlapping_labels(ax) == []
    finally:
        plt.close(ax.figure)


def test_overlap_check_sees_a_crowded_axis(tmp_path: Path) -> None:
    """The check itself can fail: ten long labels on a narrow axis overlap until fitted."""
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.set_yticks(range(40), [f"label {i}" for i in range(40)])
    ax.set_xticks(range(8), ["10.0 kB", "12.5 kB", "15.0 kB", "17.5 kB", "20.0 kB", "22.5 kB", "25.0 kB", "27.5 kB"])
    assert plots.overlapping_labels(ax)
    plots.fit_labels(ax)
    assert plots.overlapping_labels(ax) == []
    fig.savefig(tmp_path / "fitted.png")
    plt.close(fig)
    assert DATA.exists()

"""Every figure function on the Agg backend: titles, labels, the plotted values, no global style change."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.patches import FancyBboxPatch, Rectangle

from toolkit import plots
from toolkit.schema import TABLES

HOSTILE_HOST = "$\\frac{1}{0}$<script>alert(1)</script>.evil"


@pytest.fixture(autouse=True)
def _rc_unchanged() -> Iterator[None]:
    """Every test here must leave matplotlib's global style exactly as it found it."""
    before = dict(matplotlib.rcParams)
    yield
    after = dict(matplotlib.rcParams)
    plt.close("all")
    assert after == before


def _labels(texts: list[Any]) -> list[str]:
    return [t.get_text() for t in texts]


def _leaks() -> pd.DataFrame:
    return TABLES["leaks"].frame(
        {
            "ts": pd.to_datetime(
                [
                    "2020-04-30T09:00:02Z",
                    "2020-04-30T09:00:03Z",
                    "2020-04-30T09:00:04Z",
                    "2020-04-30T09:00:05Z",
                    "2020-04-30T09:00:06Z",
                ],
                utc=True,
            ),
            "session": ["normal", "normal", "normal", "incognito", "incognito"],
            "kind": ["leak", "leak", "referer", "leak", "leak"],
            "needle_kind": ["url", "search_term", "url", "url", "identifier"],
            "host": [
                "sa.api.intl.miui.com",
                "sa.api.intl.miui.com",
                "cdn.example-cdn.com",
                "sa.api.intl.miui.com",
                HOSTILE_HOST,
            ],
            "organisation": ["Xiaomi", "Xiaomi", None, "Xiaomi", None],
            "severity": ["full_url", "search_term", "full_url", "full_url", "identifier"],
            "location": ["body", "body", "header:referer", "body", "query:aid"],
            "chain": ["form:data_list > urldecode > base64 > gzip > json:[0].properties.url", "", "", "", ""],
            "matched_form": ["url", "query:q", "url", "url", "value"],
        }
    )


def test_leak_matrix_cells_say_what_leaked_to_whom() -> None:
    ax = plots.leak_matrix(_leaks())
    assert isinstance(ax, Axes)
    assert ax.get_title() == "What leaked to whom"
    assert _labels(ax.get_yticklabels()) == ["normal", "incognito"]
    columns = _labels(ax.get_xticklabels())
    assert columns[0] == "Xiaomi"  # most leaks first
    assert set(columns) == {"Xiaomi", "cdn.example-cdn.com", plots.plain_label(HOSTILE_HOST, 28)}
    # Four non-empty cells (normal×Xiaomi, normal×cdn, incognito×Xiaomi, incognito×hostile), two patches each.
    assert len([p for p in ax.patches if isinstance(p, Rectangle)]) == 8
    texts = sorted(t.get_text() for t in ax.texts)
    assert "search_term ×1\nurl ×1" in texts or "url ×1\nsearch_term ×1" in texts
    assert "url (referer) ×1" in texts
    assert "identifier ×1" in texts
    assert _labels(ax.get_legend().get_texts()) == ["full_url", "identifier", "search_term"]
    ax.figure.canvas.draw()  # the hostile host must not break mathtext


def test_leak_matrix_without_referers_and_empty() -> None:
    ax = plots.leak_matrix(_leaks(), include_referer=False)
    assert "cdn.example-cdn.com" not in _labels(ax.get_xticklabels())
    empty = plots.leak_matrix(TABLES["leaks"].empty())
    assert [t.get_text() for t in empty.texts] == ["no leaks found"]


def test_plots_draw_on_a_given_axes() -> None:
    _figure, axes = plt.subplots(1, 2)
    assert plots.leak_matrix(_leaks(), ax=axes[1]) is axes[1]
    assert not axes[0].patches


def _requests() -> pd.DataFrame:
    return TABLES["requests"].frame(
        {
            "ts": pd.to_datetime(
                [
                    "2020-04-30T09:00:00Z",
                    "2020-04-30T09:00:01Z",
                    "2020-04-30T09:00:02Z",
                    "2020-04-30T09:00:05Z",
                ],
                utc=True,
            ),
            "host": [
                "sa.api.intl.miui.com",
                "www.example-news.com",
                "cdn.example-cdn.com",
                "sa.api.intl.miui.com",
            ],
            "method": ["POST", "GET", "GET", "POST"],
        }
    )


def _endpoints() -> pd.DataFrame:
    return TABLES["endpoints"].frame(
        {
            "host": [
                "sa.api.intl.miui.com",
                "www.example-news.com",
                "cdn.example-cdn.com",
                "data.mistat.xiaomi.com",
            ],
            "registrable_domain": ["miui.com", "example-news.com", "example-cdn.com", "xiaomi.com"],
            "organisation": ["Xiaomi", None, None, "Xiaomi"],
            "role": ["platform", "first_party", "unknown", "platform"],
            "bytes_up": [6000, 1000, 1200, 500],
            "bytes_down": [2000, 2400, 16000, 100],
        }
    )


def test_request_timeline_lanes_ticks_and_leaks() -> None:
    leaks = _leaks().iloc[[0, 2]]
    ax = plots.request_timeline(_requests(), endpoints=_endpoints(), leaks=leaks)
    assert ax.get_title() == "Requests per organisation over time"
    assert ax.get_xlabel() == "time (UTC)"
    assert _labels(ax.get_yticklabels()) == ["Xiaomi", "example-news.com", "example-cdn.com"]
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    by_label = {c.get_label(): c for c in scatters}
    assert set(by_label) == {"request to first party", "request to platform", "request to unknown", "leak"}
    assert len(by_label["request to platform"].get_offsets()) == 2
    platform_lanes = by_label["request to platform"].get_offsets()[:, 1]
    assert list(platform_lanes) == [0, 0]
    assert list(by_label["leak"].get_offsets()[:, 1]) == [0, 2]  # Xiaomi lane, CDN lane
    ax.figure.canvas.draw()


def test_request_timeline_without_endpoints_classifies_the_hosts() -> None:
    """Without ``endpoints=`` the hosts are classified on the spot: lanes are owners, not all grey "unknown"."""
    ax = plots.request_timeline(_requests())
    assert _labels(ax.get_yticklabels()) == ["Xiaomi", "example-news.com", "example-cdn.com"]
    labels = {c.get_label() for c in ax.collections}
    assert "request to third party" in labels  # Xiaomi's host is known to the bundled atlas
    assert sum(len(c.get_offsets()) for c in ax.collections) == 4


def test_bytes_by_organisation_sums_per_organisation_and_role() -> None:
    ax = plots.bytes_by_organisation(_endpoints())
    assert ax.get_title() == "Bytes per organisation and role"
    labels = _labels(ax.get_yticklabels())
    assert labels == ["example-cdn.com (unknown)", "Xiaomi (platform)", "example-news.com (first party)"]
    bars = ax.patches
    assert len(bars) == 6  # sent and received per group
    widths = [round(b.get_width()) for b in bars]
    assert widths == [1200, 16000, 6500, 2100, 1000, 2400]
    assert bars[3].get_x() == 6500  # received stacks after sent
    assert "solid: sent" in ax.get_xlabel()


def test_bytes_by_organisation_top() -> None:
    ax = plots.bytes_by_organisation(_endpoints(), top=1)
    assert _labels(ax.get_yticklabels()) == ["example-cdn.com (unknown)"]


def _identifiers() -> pd.DataFrame:
    return TABLES["identifiers"].frame(
        {
            "value": ["8e5fbce04dc91566", "0c47d630", "$1$"],
            "kind": ["android_id", "distinct_id", "inferred"],
            "sessions": [["normal", "incognito", "toggle"], ["normal", "incognito"], ["toggle"]],
            "persistence": ["across_modes", "across_sessions", "session"],
        }
    )


def test_identifier_persistence_marks_each_session() -> None:
    ax = plots.identifier_persistence(_identifiers())
    assert ax.get_title() == "Identifiers across sessions"
    assert _labels(ax.get_xticklabels()) == ["normal", "incognito", "toggle"]
    assert _labels(ax.get_yticklabels())[0] == "8e5fbce04dc91566 [android_id]"
    offsets = [c.get_offsets() for c in ax.collections]
    assert [len(o) for o in offsets] == [3, 2, 1]
    assert list(offsets[2][:, 0]) == [2]  # `toggle` column
    assert len(ax.lines) == 2  # rows seen in more than one session are joined
    assert _labels(ax.get_legend().get_texts()) == ["session", "across sessions", "across modes"]
    ax.figure.canvas.draw()


def test_identifier_persistence_masks_values() -> None:
    ax = plots.identifier_persistence(_identifiers(), mask=lambda v: f"ID<{len(v)}>")
    labels = _labels(ax.get_yticklabels())
    assert labels[0] == "ID<16> [android_id]"
    assert not any("8e5fbce04dc91566" in label for label in labels)


def _flows() -> pd.DataFrame:
    return TABLES["flows"].frame(
        {
            "app": [
                "com.mi.globalbrowser.mini",
                "com.mi.globalbrowser.mini",
                "com.mi.globalbrowser.mini",
                "com.example.other",
                None,
                "com.example.other",
            ],
            "hostname": [
                "sa.api.intl.miui.com",
                "www.example-news.com",
                "cdn.example-cdn.com",
                "q.example",
                None,
                "plain.example",
            ],
            "protocol": ["tls", "tls", "quic", "tls", "dns", "http"],
            "decrypted": [True, True, False, False, None, None],
            "not_decrypted_reason": [None, None, "QUIC", "no key", None, None],
            "bytes_up": [100, 200, 300, 400, 50, 10],
            "bytes_down": [1000, 2000, 3000, 4000, 60, 20],
        }
    )


def test_decryption_coverage_per_app() -> None:
    ax = plots.decryption_coverage(_flows())
    assert ax.get_title() == "Decryption coverage per app"
    assert _labels(ax.get_yticklabels()) == [
        "com.mi.globalbrowser.mini",
        "com.example.other",
    ]  # DNS flow left out
    legend = _labels(ax.get_legend().get_texts())
    assert legend == ["decrypted", "plaintext", "not decrypted: QUIC", "not decrypted: no key"]
    shares = [t.get_text().strip() for t in ax.texts]
    assert shares == ["67% readable", "50% readable"]
    assert len(ax.patches) == 4 * 2  # one segment per status per app (zero-width ones included)


def test_decryption_coverage_by_bytes_per_host() -> None:
    ax = plots.decryption_coverage(_flows(), by="host", weight="bytes")
    assert _labels(ax.get_yticklabels())[0] == "q.example"
    assert ax.get_xlabel() == "bytes"
    assert max(p.get_x() + p.get_width() for p in ax.patches) == pytest.approx(4400)


def test_decryption_coverage_without_flows() -> None:
    ax = plots.decryption_coverage(TABLES["flows"].empty())
    assert [t.get_text() for t in ax.texts] == ["no TLS, QUIC or HTTP flows"]


def test_encoding_chain_draws_each_step() -> None:
    leak = _leaks().iloc[0]
    ax = plots.encoding_chain(leak)
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    steps = plots.chain_steps(leak)
    assert len(boxes) == len(steps) == 8
    texts = _labels(ax.texts)
    assert steps[0] == "request to sa.api.intl.miui.com"
    assert "gunzip (gzip)" in texts and "JSON value at [0].properties.url" in texts
    assert ax.get_title() == "How it reached sa.api.intl.miui.com"
    ax.figure.canvas.draw()


def test_encoding_chain_of_a_hostile_leak_is_plain_text() -> None:
    leak = _leaks().iloc[4].to_dict()
    ax = plots.encoding_chain(leak)
    ax.figure.canvas.draw()
    assert "\\$" in ax.get_title()  # escaped, so mathtext stays off
    assert len([p for p in ax.patches if isinstance(p, FancyBboxPatch)]) == 3


def test_plain_label_escapes_and_cuts() -> None:
    assert plots.plain_label("a$b", 10) == "a\\$b"
    assert plots.plain_label("x" * 100, 10) == "x" * 9 + "…"
    assert plots.plain_label(float("nan")) == "(unknown)"
    assert plots.plain_label("a\n\tb") == "a b"


PLOTTERS: list[Callable[[], Axes]] = [
    lambda: plots.leak_matrix(_leaks()),
    lambda: plots.request_timeline(_requests(), endpoints=_endpoints(), leaks=_leaks()),
    lambda: plots.bytes_by_organisation(_endpoints()),
    lambda: plots.identifier_persistence(_identifiers()),
    lambda: plots.decryption_coverage(_flows()),
    lambda: plots.encoding_chain(_leaks().iloc[0]),
]


@pytest.mark.parametrize("draw", PLOTTERS)
def test_every_figure_uses_the_colour_blind_palette(draw: Callable[[], Axes]) -> None:
    ax = draw()
    allowed = {matplotlib.colors.to_rgb(c) for c in plots.OKABE_ITO.values()}
    allowed |= {matplotlib.colors.to_rgb(c) for c in ("white", "#444444", "#555555", "#dddddd", "#eeeeee")}
    colours = [p.get_facecolor() for p in ax.patches if p.get_facecolor()[3] > 0]
    colours += [p.get_edgecolor() for p in ax.patches if p.get_edgecolor()[3] > 0]
    for collection in ax.collections:
        colours += [tuple(c) for c in np.atleast_2d(collection.get_facecolor()) if len(c) and c[3] > 0]
    assert colours
    assert {tuple(round(x, 3) for x in matplotlib.colors.to_rgb(c)) for c in colours} <= {
        tuple(round(x, 3) for x in c) for c in allowed
    }


def test_crowded_figures_keep_the_top_destinations() -> None:
    n = 40
    leaks = TABLES["leaks"].frame(
        {
            "session": ["s"] * n,
            "kind": ["leak"] * n,
            "needle_kind": ["url"] * n,
            "host": [f"h{i % 30}.example" for i in range(n)],
            "severity": ["full_url"] * n,
            "ts": pd.date_range("2020-01-01", periods=n, freq="s", tz="UTC"),
        }
    )
    ax = plots.leak_matrix(leaks, top=10)
    columns = _labels(ax.get_xticklabels())
    assert len(columns) == 11 and columns[-1] == "(20 others)" and columns[0].startswith("h")
    requests = TABLES["requests"].frame({"ts": leaks["ts"], "host": [f"r{i}.example" for i in range(n)]})
    ax = plots.request_timeline(requests, leaks=leaks.iloc[:1], top=5)
    lanes = _labels(ax.get_yticklabels())
    assert len(lanes) == 6 and "(36 others)" in lanes and "h0.example" in lanes  # the leak keeps its lane
    identifiers = TABLES["identifiers"].frame(
        {
            "value": [f"id{i}" for i in range(n)],
            "sessions": [["a", "b"] if i == 39 else ["a"] for i in range(n)],
            "persistence": ["across_sessions" if i == 39 else "session" for i in range(n)],
        }
    )
    ax = plots.identifier_persistence(identifiers, top=3)
    assert _labels(ax.get_yticklabels())[0].startswith("id39")
    assert len(ax.get_yticklabels()) == 3 and "(the 3 most persistent of 40)" in ax.get_title()


def test_missing_values_everywhere_still_draw() -> None:
    requests = TABLES["requests"].frame({"ts": [None, "2020-01-01T00:00:00Z"], "host": [None, "a.example"]})
    leaks = TABLES["leaks"].frame({"ts": [None], "host": [None]})
    axes = [
        plots.request_timeline(requests, leaks=leaks),
        plots.leak_matrix(leaks),
        plots.bytes_by_organisation(TABLES["endpoints"].frame({"host": [None, "x.example"]})),
        plots.decryption_coverage(TABLES["flows"].frame({"protocol": ["tls", None]})),
        plots.identifier_persistence(TABLES["identifiers"].frame({"value": [None]})),
        plots.encoding_chain({}),
    ]
    for ax in axes:
        ax.figure.canvas.draw()
    assert _labels(axes[1].get_yticklabels()) == ["(unknown)"]
    assert _labels(axes[3].get_yticklabels()) == ["(unknown)"]
    assert plots.chain_steps({}) == ["request to (unknown)", "found: needle (as is)"]

"""The format-neutral report: which sections, tables and figures come from which tables."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pandas as pd

import toolkit
from tests.paths import DATA
from tests.report.hostile import hostile_tables
from toolkit.report.document import Details, Facts, FigureBlock, TableBlock, build_report, cell_text, visible
from toolkit.schema import TABLES


def _figures(report: object) -> list[str]:
    return [b.name for s in report.sections for b in s.walk() if isinstance(b, FigureBlock)]  # type: ignore[attr-defined]


def _tables(report: object) -> dict[str, TableBlock]:
    return {b.caption: b for s in report.sections for b in s.walk() if isinstance(b, TableBlock)}  # type: ignore[attr-defined]


def test_sections_in_order() -> None:
    report = build_report(hostile_tables(), figures=False)
    assert [s.anchor for s in report.sections] == [
        "summary",  # the finding first
        "claims",  # then the evidence
        "leaks",
        "identifiers",
        "endpoints",  # then the method and provenance
        "decryption",
        "problems",
        "provenance",
    ]
    assert not _figures(report)


def test_figures_of_a_full_report() -> None:
    report = build_report(hostile_tables(), generated=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    names = _figures(report)
    assert names[0] == "leak-matrix"
    assert {"bytes", "decryption", "identifiers", "timeline-1", "timeline-2", "encoding-chain-1"} <= set(names)
    assert report.generated == "2026-01-02 03:04:05 UTC"
    for block in (b for s in report.sections for b in s.blocks if isinstance(b, FigureBlock)):
        assert block.png.startswith(b"\x89PNG")


def test_summary_counts() -> None:
    report = build_report(hostile_tables(), figures=False)
    facts = dict(next(b for b in report.sections[0].walk() if isinstance(b, Facts)).items)
    assert facts["requests"] == "10"
    assert facts["leaks"] == "7 leak, 3 referer"
    assert facts["claims"] == "1 false, 1 true, 1 unverified"
    assert facts["problems in the captures"] == "1"


def _leak_groups(report: object) -> list[Details]:
    leaks = next(s for s in report.sections if s.anchor == "leaks")  # type: ignore[attr-defined]
    return [b for b in leaks.blocks if isinstance(b, Details)]


def test_leak_rows_are_grouped_by_value_and_receiver_leaks_before_referers() -> None:
    report = build_report(hostile_tables(), figures=False)
    groups = _leak_groups(report)
    tables = [next(b for b in g.blocks if isinstance(b, TableBlock)) for g in groups]
    assert sum(t.total_rows for t in tables) == 10 and all(t.source == "leaks" for t in tables)
    referer = [[(row[t.columns.index("what")] or "").endswith("(referer)") for row in t.rows] for t in tables]
    assert all(flags == sorted(flags) for flags in referer)  # in a group, leaks before Referers
    firsts = [flags[0] for flags in referer]
    assert firsts == sorted(firsts)  # groups led by a leak before groups of Referers only
    assert len({g.summary for g in groups}) == len(groups)


def test_lab_capture_report_has_the_sensors_analytics_chain() -> None:
    from toolkit.leaks.detect import find_leaks

    capture = toolkit.load(DATA / "lab" / "normal.har")
    leaks = find_leaks(capture)
    report = build_report({"requests": capture.requests, "leaks": leaks}, provenance=[capture.provenance])
    tables = [next(b for b in g.blocks if isinstance(b, TableBlock)) for g in _leak_groups(report)]
    assert any(
        row[t.columns.index("where > decoding chain")]
        and "form:data_list > urldecode > base64 > gzip > json:" in row[t.columns.index("where > decoding chain")]
        for t in tables
        for row in t.rows
    )
    captures = _tables(report)["Captures: each file with its SHA-256"]
    assert captures.rows[0][captures.columns.index("sha256")] == capture.provenance.sha256
    assert "encoding-chain-1" in _figures(report)


def test_cell_text() -> None:
    assert cell_text(pd.Timestamp("2020-04-30T09:00:00.123456Z")) == "2020-04-30 09:00:00.123 UTC"
    assert cell_text(b"\xff\x00") == "base64:/wA="
    assert cell_text(["a", "b"]) == "a, b"
    assert cell_text(pd.NA) is None and cell_text(float("nan")) is None
    assert cell_text(True) == "yes"
    assert visible("ok\ttab\nline") == "ok\ttab\nline"


def test_missing_tables_are_empty() -> None:
    report = build_report({"leaks": TABLES["leaks"].empty()}, figures=False)
    texts = [getattr(b, "text", "") for s in report.sections for b in s.blocks]
    assert "No leak was found." in texts and "No identifier table was given." in texts


def test_provenance_from_plain_paths(tmp_path: Path) -> None:
    keylog = DATA / "lab" / "normal.keylog"
    missing = tmp_path / "gone.pcap"
    report = build_report({}, provenance=[DATA / "lab" / "normal.pcapng", str(keylog), missing], figures=False)
    captures = _tables(report)["Captures: each file with its SHA-256"]
    rows = [dict(zip(captures.columns, row, strict=True)) for row in captures.rows]
    assert rows[0]["sha256"] == hashlib.sha256((DATA / "lab" / "normal.pcapng").read_bytes()).hexdigest()
    assert (
        rows[1]["path"].endswith("normal.keylog")
        and rows[1]["sha256"] == hashlib.sha256(keylog.read_bytes()).hexdigest()
    )
    assert rows[2]["sha256"].startswith("unreadable")


def test_provenance_of_a_study_names_format_tool_and_key_logs() -> None:
    """The study keeps what each capture's reader found; the report shows it without reading the files again."""
    from toolkit.study import Session, Study

    pcap, keylog = DATA / "lab" / "normal.pcap", DATA / "lab" / "normal.keylog"
    study = Study([Session("normal", [pcap])])
    report = build_report({}, provenance=study.provenance, figures=False)
    captures = _tables(report)["Captures: each file with its SHA-256"]
    rows = [dict(zip(captures.columns, row, strict=True)) for row in captures.rows]
    assert [r["format"] for r in rows] == ["pcap", "keylog"]
    assert rows[0]["sha256"] == hashlib.sha256(pcap.read_bytes()).hexdigest()
    assert rows[1]["path"].endswith("normal.keylog")
    assert rows[1]["sha256"] == hashlib.sha256(keylog.read_bytes()).hexdigest()


def test_inferred_findings_are_shown_apart() -> None:
    leaks = TABLES["leaks"].frame(
        {
            "needle_kind": ["url", "url"],
            "needle": ["https://a.example/1", "https://a.example/2"],
            "host": ["t.example", "t.example"],
            "kind": ["leak", "leak"],
            "needle_source": ["inferred", "given"],
        }
    )
    report = build_report({"leaks": leaks}, figures=False)
    texts = [getattr(b, "text", "") for s in report.sections for b in s.blocks]
    assert any(t.startswith("1 of 2 findings rest on visited URLs or search terms inferred") for t in texts)
    per_destination = _tables(report)["Leaks per destination"]
    needles = [dict(zip(per_destination.columns, row, strict=True))["needles"] for row in per_destination.rows]
    assert sorted(needles) == ["given", "inferred"]

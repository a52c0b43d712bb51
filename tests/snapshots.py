"""Snapshots of what the toolkit makes of its own data: the lab's captures, the demo and the Xiaomi study.

A snapshot is small: per table its row count, its columns and the SHA-256 of its canonical CSV (every
cell as text, rows sorted), per claim its verdict and evidence row count, per report figure the
SHA-256 of its SVG (fixed hash salt, no date, text kept as text). ``tests/test_snapshots.py``
recomputes them and compares with ``tests/data/snapshots/*.json``; ``scripts/update_snapshots.py``
rewrites those records.

>>> import pandas as pd
>>> a = table_digest(pd.DataFrame({"x": [2, 1], "y": ["b", "a"]}))
>>> a == table_digest(pd.DataFrame({"x": [1, 2], "y": ["a", "b"]}))  # row order does not count
True
>>> a["rows"], a["columns"]
(2, ['x', 'y'])
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from tests.paths import DATA

SNAPSHOTS = Path(__file__).resolve().parent / "data" / "snapshots"
LAB = DATA / "lab"
SCENARIOS = ("normal", "incognito", "incognito_toggle_off")
VISITED = DATA / "xiaomi-2020.visited.txt"
IDENTIFIERS = {"ANDROID_ID": "8e5fbce04dc91566"}
VENDORS = ("Xiaomi",)


#: The checkout's folder, as cells may name it (absolute capture paths): left out of the records,
#: which must not depend on where the repository was cloned.
_CHECKOUT = str(DATA.resolve().parent) + "/"


def _cell(value: Any) -> str:
    """A cell as text (paths inside the checkout relative to it).

    >>> _cell(None), _cell(b"\\x01"), _cell([_CHECKOUT + "data/lab/normal.har"])
    ('', '01', "['data/lab/normal.har']")
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and value != value:
        return ""
    if isinstance(value, bytes):
        return value.hex()
    return str(value).replace(_CHECKOUT, "")


def canonical_csv(frame: pd.DataFrame) -> str:
    """``frame`` as CSV with every cell as text and the rows sorted (row order is not part of the snapshot)."""
    text = pd.DataFrame({str(c): [_cell(v) for v in frame[c].tolist()] for c in frame.columns}, dtype=object)
    if len(text.columns):
        text = text.sort_values(list(text.columns), kind="stable")
    return text.to_csv(index=False, lineterminator="\n")


def table_digest(frame: pd.DataFrame) -> dict[str, Any]:
    """Rows, columns and the SHA-256 of :func:`canonical_csv`."""
    digest = hashlib.sha256(canonical_csv(frame).encode("utf-8")).hexdigest()
    return {"rows": len(frame), "columns": [str(c) for c in frame.columns], "sha256": digest}


def tables_digest(tables: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    return {name: table_digest(frame) for name, frame in sorted(tables.items())}


def _svg_of(draw: Any, size: tuple[float, float] = (8.0, 4.0)) -> str:
    import matplotlib
    from matplotlib.figure import Figure

    from toolkit.plots import style

    with style(), matplotlib.rc_context({"svg.hashsalt": "snapshot", "svg.fonttype": "none"}):
        figure = Figure(figsize=size, layout="constrained")
        draw(ax=figure.add_subplot())
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return buffer.getvalue()


@contextmanager
def _figures_recorded(into: dict[str, str]) -> Iterator[None]:
    """While open, the report's figures are recorded as the SHA-256 of their SVG (keyed by figure name)."""
    from toolkit.report import document

    original = document.render_png

    def record(draw: Any, *, size: tuple[float, float] = (8.0, 4.0), dpi: int = 110) -> bytes:
        svg = _svg_of(draw, size)
        into[f"figure-{len(into) + 1}"] = hashlib.sha256(svg.encode("utf-8")).hexdigest()
        return original(draw, size=size, dpi=dpi)

    document.render_png = record  # type: ignore[assignment]
    try:
        yield
    finally:
        document.render_png = original  # type: ignore[assignment]


def report_figures(tables: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    """The report's figures of ``tables``: their names and SVG hashes, in the report's order."""
    import matplotlib

    matplotlib.use("Agg")
    from datetime import UTC, datetime

    from toolkit.report import build_report

    hashes: dict[str, str] = {}
    with _figures_recorded(hashes):
        report = build_report(tables, generated=datetime(2020, 5, 2, tzinfo=UTC))
    names = [b.name for s in report.sections for b in s.blocks if type(b).__name__ == "FigureBlock"]
    return {"names": names, "svg_sha256": list(hashes.values())}


def lab_snapshot() -> dict[str, Any]:
    """Every lab capture (HAR, pcapng with DSB, pcap with key log) and the sample HAR, as the CLI's
    ``analyze`` reads them (classified with the vendor Xiaomi; leaks of the visited URLs and the ANDROID_ID)."""
    from toolkit.capture import load
    from toolkit.datatypes import find_datatypes
    from toolkit.endpoints import Context
    from toolkit.leaks import find_leaks

    out: dict[str, Any] = {}
    paths = [LAB / f"{s}.{ext}" for s in SCENARIOS for ext in ("har", "pcapng", "pcap")] + [DATA / "sample.har"]
    for path in paths:
        keylog = path.with_suffix(".keylog") if path.suffix == ".pcap" else None
        capture = load(path, keylog=keylog, context=Context(vendors=VENDORS))
        ids = [f"{k}={v}" for k, v in IDENTIFIERS.items()]
        leaks = find_leaks(capture, visited=str(VISITED), identifiers=ids)
        leaks.attrs.clear()
        tables = {**capture.tables, "leaks": leaks, "datatypes": find_datatypes(capture.requests)}
        out[path.name] = tables_digest(tables)
        if path.name == "normal.pcapng":  # the single-capture report's figures
            out["normal.pcapng figures"] = report_figures(tables)
    return out


def study_snapshot() -> dict[str, Any]:
    """The Xiaomi study (``data/xiaomi-2020.toml``, which is also the demo): its tables, the written
    tables (sessions, comparison, claim evidence), every verdict and the report's figures."""
    from toolkit.claims import evaluate, evidence_table
    from toolkit.study import Study
    from toolkit.verdicts import read_claims

    study = Study.from_manifest(DATA / "xiaomi-2020.toml")
    study.run(workers=1)
    claims = evaluate(study, read_claims(DATA / "xiaomi-2020.toml"))
    tables = {
        **study.tables,
        "datatypes": study.datatypes,
        "sessions": study.sessions_table(),
        "comparison": study.compare(),
        "claims": claims.drop(columns=["rows"]),
        "claim_evidence": evidence_table(claims),
    }
    verdicts = {
        str(row.claim): {"verdict": str(row.verdict), "evidence_rows": len(row.rows)}
        for row in claims.itertuples(index=False)
    }
    return {
        "tables": tables_digest(tables),
        "verdicts": verdicts,
        "figures": report_figures({**study.tables, "claims": claims}),
    }


def compute() -> dict[str, dict[str, Any]]:
    """Every snapshot, by record file name."""
    return {"lab.json": lab_snapshot(), "xiaomi-2020.json": study_snapshot()}

"""The content of a report, independent of its format: sections of paragraphs, facts, tables, figures.

Why one module: the sections of a report are built in one order from the same tables, masking and
evidence helpers; the renderers (:mod:`~toolkit.report.html`, :mod:`~toolkit.report.markdown`) stay
apart.

:func:`build_report` turns the toolkit's tables into a :class:`Report`; :mod:`toolkit.report.html`
and :mod:`toolkit.report.markdown` only render it. Every cell is kept as plain text here, exactly
as captured (after masking, when asked); escaping is the renderer's job and is applied to every
string, ours included, so no path from a capture to the page skips it.

>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from toolkit.schema import TABLES
>>> leaks = TABLES["leaks"].frame({"needle_kind": ["url"], "needle": ["https://a.example/<b>"],
...     "host": ["t.example"], "kind": ["leak"], "severity": ["full_url"]})
>>> report = build_report({"leaks": leaks}, figures=False)
>>> [s.anchor for s in report.sections][:3]
['summary', 'leaks', 'identifiers']
>>> cell_text([("Cookie", "a=1"), ("X", "2")])
'Cookie: a=1; X: 2'
>>> visible("a\\x00b\\u202ec")
'a\\\\x00b\\\\u202ec'
"""

from __future__ import annotations

import dataclasses
import os
import platform
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Literal
from urllib.parse import unquote

import pandas as pd

from toolkit import plots
from toolkit.leaks.direction import carried_back, sent_by_device
from toolkit.report.about import About
from toolkit.report.blocks import (
    Block,
    Details,
    Facts,
    FigureBlock,
    Paragraph,
    Section,
    TableBlock,
    cell_text,
)
from toolkit.report.blocks import first_text as _text
from toolkit.report.figures import Draw, render_png
from toolkit.report.finding import finding_sentences
from toolkit.report.masking import Masker
from toolkit.schema import SEVERITIES
from toolkit.userfiles import size_and_sha256

__all__ = [
    "VERDICT_LABELS",
    "Block",
    "Details",
    "Facts",
    "FigureBlock",
    "Paragraph",
    "Report",
    "Section",
    "TableBlock",
    "build_report",
    "cell_text",
    "decoded_beside",
    "truncate",
    "visible",
]


#: How each verdict status reads on the page: a mark (for black and white) and words.
VERDICT_LABELS = {
    "contradicted": "✗ contradicted",
    "not_observed": "○ not observed",
    "inconclusive": "? inconclusive",
}

#: Tables longer than this are folded.
FOLD_ROWS = 5


@dataclass(frozen=True)
class Report:
    """A report ready to render."""

    title: str
    generated: str
    sections: tuple[Section, ...]
    max_chars: int
    """Cells longer than this are cut when rendered; the exported tables keep the full value."""
    masked: bool
    tables: dict[str, pd.DataFrame] = field(repr=False)
    """The tables as the report shows them (masked when ``masked``), for export."""


_BIDI_AND_INVISIBLE = {
    0x200B,
    0x200C,
    0x200D,
    0x200E,
    0x200F,
    0x2028,
    0x2029,
    0xFEFF,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
}


def visible(text: str) -> str:
    """``text`` with control, bidirectional and invisible characters written as escapes.

    A captured value cannot then reorder the text around it (U+202E) or hide inside a cell.
    Tabs and line breaks are kept.
    """
    out = []
    for char in text:
        code = ord(char)
        if (code < 0x20 and char not in "\t\n\r") or 0x7F <= code < 0xA0:
            out.append(f"\\x{code:02x}")
        elif code in _BIDI_AND_INVISIBLE or 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def decoded_beside(text: str | None) -> str | None:
    """A percent-encoded value decoded, with the raw form beside it; other values unchanged.

    >>> decoded_beside("https://a.example/krankenh%C3%A4user")
    'https://a.example/krankenhäuser  (raw: https://a.example/krankenh%C3%A4user)'
    >>> decoded_beside("plain")
    'plain'
    """
    if text is None or "%" not in text:
        return text
    decoded = unquote(text, errors="strict") if _utf8_escapes(text) else text
    return f"{decoded}  (raw: {text})" if decoded != text else text


def _utf8_escapes(text: str) -> bool:
    try:
        unquote(text, errors="strict")
    except UnicodeDecodeError:
        return False
    return True


def truncate(text: str, max_chars: int) -> tuple[str, int]:
    """``text`` cut to ``max_chars`` characters, and how many were cut.

    >>> truncate("abcdef", 4)
    ('abcd', 2)
    """
    if len(text) <= max_chars:
        return text, 0
    return text[:max_chars], len(text) - max_chars


def _table(
    frame: pd.DataFrame,
    columns: Mapping[str, str],
    caption: str,
    *,
    source: str | None,
    max_rows: int,
    captured: Iterable[str] = (),
    fold: bool = True,
) -> TableBlock:
    present = {name: header for name, header in columns.items() if name in frame.columns}
    shown = frame.head(max_rows)
    rows = (
        tuple(
            tuple(cell_text(value) for value in values)
            for values in zip(*(shown[name].tolist() for name in present), strict=True)
        )
        if present
        else ()
    )
    captured_headers = frozenset(present[name] for name in captured if name in present)
    folded = fold and len(frame) > FOLD_ROWS
    return TableBlock(caption, tuple(present.values()), rows, len(frame), source, captured_headers, folded=folded)


def _generic_table(frame: pd.DataFrame, caption: str, *, source: str, max_rows: int) -> TableBlock:
    columns = {str(name): str(name) for name in frame.columns}
    return _table(frame, columns, caption, source=source, max_rows=max_rows, captured=columns)


def _sessions(frame: pd.DataFrame) -> pd.Series:
    return _text(frame, "session", "capture").fillna("(capture)")


def _software_versions() -> tuple[tuple[str, str], ...]:
    items = [("python", platform.python_version())]
    for package in ("toolkit", "pandas", "numpy", "matplotlib", "pyarrow"):
        try:
            items.append((package, version(package)))
        except PackageNotFoundError:
            items.append((package, "not installed"))
    return tuple(items)


def _reference_data() -> dict[str, Any]:
    """The bundled reference data's manifest: version, date and each file's sha256."""
    from toolkit.endpoints.atlas import manifest

    data = manifest()
    out: dict[str, Any] = {
        "endpoint data version": data.get("version"),
        "endpoint data date": data.get("date"),
    }
    for name, info in sorted(data.get("files", {}).items()):
        out[f"{name} sha256"] = info.get("sha256")
    return out


def _file_record(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Provenance of a file given by path (a capture or a key log): size and sha256. A capture's
    format, tool and key logs come with its :class:`toolkit.capture.Provenance` (or a Study's
    ``provenance``), which callers pass instead of paths."""
    record: dict[str, Any] = {"path": os.fspath(path)}
    try:
        record["size"], record["sha256"] = size_and_sha256(path)
    except OSError as exc:
        record["sha256"] = f"unreadable: {exc.strerror or exc}"
    return record


def _provenance_rows(provenance: Sequence[Any]) -> pd.DataFrame:
    records = []
    for item in provenance:
        if isinstance(item, str | os.PathLike):
            records.append(_file_record(item))
            continue
        record = (
            dataclasses.asdict(item) if dataclasses.is_dataclass(item) and not isinstance(item, type) else dict(item)
        )
        keylogs = record.pop("keylogs", None) or ()
        records.append(record)
        # the key logs used to decrypt it, one row each (as the capture's reader hashed them)
        records += [{"path": str(path), "sha256": str(sha), "format": "keylog"} for path, sha in keylogs]
    return pd.DataFrame.from_records(records) if records else pd.DataFrame()


def _command_text(command: str | Sequence[str] | None) -> str:
    if command is None:
        return "not recorded"
    if isinstance(command, str):
        return command
    return shlex.join(command)


_SEVERITY_ORDER = list(SEVERITIES)


def _sorted_leaks(leaks: pd.DataFrame) -> pd.DataFrame:
    """Leaks before Referers, then by severity, then in time."""
    worst = len(_SEVERITY_ORDER)
    rank = [
        _SEVERITY_ORDER.index(s) if s in _SEVERITY_ORDER else worst
        for s in leaks["severity"].astype("string").fillna("").tolist()
    ]
    referer = (leaks["kind"].astype("string").fillna("") == "referer").to_numpy()
    order = pd.DataFrame({"referer": referer, "rank": rank, "ts": leaks["ts"]}, index=leaks.index)
    return leaks.loc[order.sort_values(["referer", "rank", "ts"], kind="stable").index]


def _decoders(chain: str) -> str:
    """The decoders of a chain without their arguments: ``form:data_list > base64 > json:[0].url`` →
    ``form > base64 > json`` (two leaks through the same decoders draw near-identical figures)."""
    return " > ".join(step.split(":", 1)[0].strip() for step in chain.split(" > ") if step.strip())


def _first_refs(text: str | None, limit: int = 60) -> str | None:
    """The evidence references that fit in ``limit`` characters, cut between two references."""
    if text is None or len(text) <= limit:
        return text
    cut = text.rfind("; ", 0, limit)
    return text[: cut if cut > 0 else limit] + " …"


def _cited(claims: pd.DataFrame) -> list[str]:
    """Each claim's source, or the label "illustrative" when the quote has no public source."""
    kinds = claims["quote_kind"].astype("string") if "quote_kind" in claims else pd.Series(pd.NA, claims.index)
    sources = claims["source"].astype("string") if "source" in claims else pd.Series(pd.NA, claims.index)
    out = []
    for kind, source in zip(kinds.tolist(), sources.tolist(), strict=True):
        source = source if isinstance(source, str) and source.strip() else None
        if kind == "illustrative" or source is None:
            if source is not None and source.lower().startswith("illustrative"):
                out.append(source)
            elif source is not None:
                out.append(f"illustrative ({source})")
            else:
                out.append(
                    "illustrative: " + ("quoted from no one" if kind == "illustrative" else "no public source given")
                )
        else:
            out.append(f"{kind if isinstance(kind, str) else 'verbatim'}: {source}")
    return out


def _joined(frame: pd.DataFrame, first: str, second: str, separator: str) -> list[str | None]:
    out: list[str | None] = []
    for a, b in zip(frame[first].tolist(), frame[second].tolist(), strict=True):
        parts = [cell_text(v) for v in (a, b)]
        kept = [p for p in parts if p]
        out.append(separator.join(kept) if kept else None)
    return out


class _Builder:
    def __init__(
        self,
        tables: Mapping[str, pd.DataFrame],
        figures: bool,
        max_rows: int,
        about: About | None = None,
        max_chars: int = 160,
    ) -> None:
        self.max_chars = max_chars
        self.tables = tables
        self.figures = figures
        self.max_rows = max_rows
        self.about = about
        self.mask: Callable[[str], str] | None = None

    def finding_sessions(self) -> list[str]:
        """The sessions the finding is about: those of the contradicted claims' evidence, worst first."""
        claims = self.table("claims")
        if claims.empty or "rows" not in claims.columns or "verdict" not in claims.columns:
            return []
        counts: dict[str, int] = {}
        for verdict, rows in zip(claims["verdict"].astype("string"), claims["rows"], strict=True):
            if verdict != "contradicted" or not isinstance(rows, pd.DataFrame) or "session" not in rows:
                continue
            for session in rows["session"].dropna().astype(str):
                counts[session] = counts.get(session, 0) + 1
        return sorted(counts, key=lambda name: -counts[name])

    def table(self, name: str) -> pd.DataFrame:
        frame = self.tables.get(name)
        if frame is None:
            from toolkit.schema import TABLES

            return TABLES[name].empty() if name in TABLES else pd.DataFrame()
        return frame

    def figure(
        self,
        name: str,
        caption: str,
        draw: Draw,
        size: tuple[float, float] = (8.0, 4.0),
        alt: str | None = None,
        half: bool = False,
    ) -> list[Block]:
        if not self.figures:
            return []
        return [FigureBlock(name, caption, render_png(draw, size=size), alt or caption, half)]

    def summary(self, masked: bool) -> Section:
        requests, leaks, flows = self.table("requests"), sent_by_device(self.table("leaks")), self.table("flows")
        identifiers, claims, problems = (
            self.table("identifiers"),
            self.table("claims"),
            self.table("problems"),
        )
        sessions = sorted(set(_sessions(requests)) | set(_sessions(leaks)) | set(_sessions(flows)))
        items: list[tuple[str, str]] = [
            ("sessions", ", ".join(sessions) or "none"),
            ("requests", str(len(requests))),
            ("connections (flows)", str(len(flows))),
        ]
        if not leaks.empty:
            kinds = leaks["kind"].astype("string").fillna("leak").value_counts()
            items.append(("leaks", ", ".join(f"{n} {k}" for k, n in kinds.items())))
            destinations = _text(leaks[leaks["kind"].astype("string") != "referer"], "organisation", "host")
            items.append(("receivers of leaks", ", ".join(sorted(set(destinations.dropna()))) or "none"))
        else:
            items.append(("leaks", "0"))
        items.append(("identifiers", str(len(identifiers))))
        if not claims.empty and "verdict" in claims.columns:
            verdicts = claims["verdict"].astype("string").fillna("none").value_counts()
            items.append(("claims", ", ".join(f"{n} {VERDICT_LABELS.get(v, v)}" for v, n in verdicts.items())))
        items.append(("problems in the captures", str(len(problems))))
        scope = self.about.scope if self.about else ""
        *said, applies = finding_sentences(self.tables, scope=scope)
        blocks: list[Block] = [Paragraph(" ".join(said), style="lead"), Paragraph(applies, style="scope")]
        facts = dict(items)
        numbers = f"In numbers: {facts['requests']} requests, {facts['connections (flows)']} connections, leaks: "
        numbers += f"{facts['leaks']}, {facts['identifiers']} identifiers, {facts['problems in the captures']} problems"
        blocks.append(Details(numbers, (Facts(tuple(items)),)))
        if masked:
            blocks.append(
                Paragraph(
                    "Identifiers are masked for publication: each identifier the analysis found (the "
                    "identifiers table, identifier leaks and values given to mask) is replaced by the same "
                    "label everywhere it appears, and its upper/lower case, percent-encoded, base64 and "
                    "MD5/SHA forms by the label with the form. Other values are shown as captured. The "
                    "exported tables are masked the same way."
                )
            )
        return Section("summary", "Finding", tuple(blocks))

    def claims(self) -> Section | None:
        claims = self.table("claims")
        if claims.empty:
            return None
        wanted = {
            "claim": "claim",
            "verdict": "verdict",
            "quote": "quote",
            "source": "quote is (source)",
            "reason": "what the captures show",
            "scope": "what this check can and cannot show",
            "evidence": "evidence",
        }
        if not set(wanted) & set(claims.columns):
            block = _generic_table(claims, "Claims", source="claims", max_rows=self.max_rows)
            return Section("claims", "Claims and verdicts", (block,))
        if "verdict" in claims.columns:  # a mark too, so the verdict reads in black and white
            verdicts = claims["verdict"].astype("string")
            claims = claims.assign(verdict=[VERDICT_LABELS.get(v, v) if isinstance(v, str) else v for v in verdicts])
        if "source" in claims.columns or "quote_kind" in claims.columns:
            claims = claims.assign(source=_cited(claims))
        if "evidence" in claims.columns:  # where to look first; every reference is in the exported table
            claims = claims.assign(evidence=[_first_refs(cell_text(e)) for e in claims["evidence"].tolist()])
        block = _table(
            claims,
            wanted,
            "Claims and their verdicts",
            source="claims",
            max_rows=self.max_rows,
            captured=("evidence",),
            fold=False,
        )
        # Quotes and reasons are the point of this table: show them (nearly) whole.
        block = dataclasses.replace(
            block,
            max_chars=800,
            nowrap=frozenset({"claim", "verdict"}),
            tones=tuple((label, status) for status, label in VERDICT_LABELS.items()),
        )
        words = Paragraph(
            "“Contradicted”: the captures show what the claim denies. “Not observed”: the check looked and found "
            "nothing contrary in the traffic it could read; that is not proof that the claim holds. "
            "“Inconclusive”: these data cannot decide. Each verdict states what its check can and cannot show."
        )
        return Section("claims", "Claims and verdicts", (words, block))

    def leaks(self) -> Section:
        every = self.table("leaks")
        leaks, returned = sent_by_device(every), carried_back(every)
        if leaks.empty:
            return Section("leaks", "Leaks", (Paragraph("No leak was found."), *self._carried_back(returned)))
        blocks: list[Block] = []
        source = _text(leaks, "needle_source").fillna("given")
        if (inferred := int((source == "inferred").sum())) > 0:
            blocks.append(
                Paragraph(
                    f"{inferred} of {len(leaks)} findings rest on visited URLs or search terms inferred from the "
                    "capture's own page navigations, not on a browsing log the researcher gave; they are marked "
                    "“inferred” below and no verdict rests on them unless its claim says so."
                )
            )
        destinations = _text(leaks, "organisation", "host").nunique()
        sessions = _sessions(leaks).nunique()
        blocks += self.figure(
            "leak-matrix",
            "What leaked to whom: sessions against destination organisations.",
            lambda ax: plots.leak_matrix(leaks, ax=ax),
            size=(min(3.5 + 1.5 * destinations, 18.0), min(2.5 + 0.7 * sessions, 12.0)),
            half=destinations <= 4,
        )
        destination = _text(leaks, "organisation", "host").fillna("(unknown)")
        grouped = (
            pd.DataFrame(
                {
                    "destination": destination,
                    "role": _text(leaks, "role").fillna("unknown"),
                    "kind": _text(leaks, "kind").fillna("leak"),
                    "needle_kind": _text(leaks, "needle_kind").fillna(""),
                    "session": _sessions(leaks),
                    "needles": source,
                }
            )
            .groupby(["destination", "role", "kind", "needles"], sort=False)
            .agg(
                leaks=("needle_kind", "size"),
                what=("needle_kind", lambda s: ", ".join(f"{k} ×{n}" for k, n in s.value_counts().items())),
                sessions=("session", lambda s: ", ".join(dict.fromkeys(s))),
            )
            .reset_index()
            .sort_values("leaks", ascending=False, kind="stable")
        )
        per_destination = _table(
            grouped,
            {
                "destination": "destination",
                "role": "role",
                "kind": "kind",
                "needles": "needles",
                "leaks": "leaks",
                "what": "what",
                "sessions": "sessions",
            },
            "Leaks per destination",
            source=None,
            max_rows=self.max_rows,
            captured=("destination",),
        )
        ordered = _sorted_leaks(leaks)
        # The matrix and the decoding chains are half as wide as the page: they stand side by side.
        blocks += self._chain_figures(ordered)
        blocks.append(per_destination)
        blocks += self._leak_groups(ordered)
        blocks += self._carried_back(returned)
        return Section("leaks", "Leaks", tuple(blocks))

    def _chain_figures(self, ordered: pd.DataFrame, limit: int = 2) -> list[Block]:
        """Decoding chains of leaks from the sessions the finding is about, one per chain of decoders."""
        chains = ordered[ordered["kind"].astype("string").fillna("leak") != "referer"]
        chains = chains[chains["chain"].astype("string").fillna("").str.len().to_numpy() > 0]
        if chains.empty:
            return []
        focus = self.finding_sessions()
        session = _sessions(chains)
        decoders = chains["chain"].astype("string").fillna("").map(_decoders)
        rank = pd.DataFrame(
            {
                "focus": [focus.index(s) if s in focus else len(focus) for s in session],
                "depth": -decoders.str.count(">").to_numpy(),
            },
            index=chains.index,
        )
        chains = chains.loc[rank.sort_values(["focus", "depth"], kind="stable").index]
        chains = chains.assign(_decoders=decoders.loc[chains.index]).drop_duplicates(subset=["_decoders"])
        blocks: list[Block] = []
        for k, (_index, row) in enumerate(chains.head(limit).iterrows()):
            steps = len(plots.chain_steps(row))
            name = cell_text(row.get("session")) or cell_text(row.get("capture")) or "(capture)"
            blocks += self.figure(
                f"encoding-chain-{k + 1}",
                f"Decoding chain of one leak in session {name} (evidence {row.get('evidence')}).",
                partial(plots.encoding_chain, row),
                size=(6.0, 0.42 * steps + 0.8),
                alt=f"Decoding chain of leak {k + 1}: {steps} steps from the request to the value found.",
                half=True,
            )
        return blocks

    def _leak_groups(self, ordered: pd.DataFrame) -> list[Block]:
        """Every leak row, grouped by value and receiver, each group folded under a one-line summary."""
        receiver = _text(ordered, "organisation", "host").fillna("(unknown)")
        needle = _text(ordered, "needle").fillna("")
        ordered = ordered.assign(
            session_label=_sessions(ordered),
            destination=_joined(ordered, "host", "organisation", " — "),
            what=[
                f"{k or 'needle'} (referer)" if kind == "referer" else (k or "needle")
                for k, kind in zip(
                    ordered["needle_kind"].astype("string").fillna("").tolist(),
                    ordered["kind"].astype("string").fillna("").tolist(),
                    strict=True,
                )
            ],
            found=_joined(ordered, "location", "chain", " > "),
            matched=[decoded_beside(cell_text(v)) for v in ordered["matched_form"].tolist()],
        )
        groups = list(ordered.groupby([needle, receiver], sort=False))
        blocks: list[Block] = [
            Paragraph(
                f"Every finding, grouped by value and receiver: {len(groups)} groups of {len(ordered)} rows, leaks "
                "before Referers, worst first. Open a group for its rows; every row is in the exported table "
                "“leaks”."
            )
        ]
        max_groups = self.max_rows
        for (value, to), rows in groups[:max_groups]:
            kinds = rows["kind"].astype("string").fillna("leak").value_counts()
            sessions = ", ".join(dict.fromkeys(rows["session_label"].astype(str)))
            severity = _text(rows, "severity").dropna()
            raw, cut = truncate(str(value) or "(empty)", self.max_chars)  # the value, cut; then decoded beside
            summary = (
                f"{decoded_beside(raw)}{f' … (+{cut} characters)' if cut else ''} → {to}: "
                + ", ".join(f"{n} {k}" for k, n in kinds.items())
                + f" in {sessions}"
                + (f"; worst: {severity.iloc[0]}" if len(severity) else "")
            )
            table = _table(
                rows,
                {
                    "session_label": "session",
                    "ts": "time",
                    "destination": "host — organisation",
                    "what": "what",
                    "matched": "matched as",
                    "found": "where > decoding chain",
                    "severity": "severity",
                    "needle_source": "needle",
                    "evidence": "evidence",
                },
                f"{len(rows)} rows",
                source="leaks",
                max_rows=self.max_rows,
                captured=("destination", "matched", "found", "evidence"),
                fold=False,
            )
            blocks.append(Details(summary, (table,)))
        if len(groups) > max_groups:
            blocks.append(Paragraph(f"First {max_groups} of {len(groups)} groups shown."))
        return blocks

    def _carried_back(self, returned: pd.DataFrame) -> list[Block]:
        """Needles that servers sent back (``direction = response``), apart from what the device sent."""
        if returned.empty:
            return []
        shown = returned.assign(
            session_label=_sessions(returned),
            destination=_joined(returned, "host", "organisation", " — "),
            found=_joined(returned, "location", "chain", " > "),
        )
        return [
            _table(
                shown,
                {
                    "session_label": "session",
                    "ts": "time",
                    "destination": "server — organisation",
                    "needle_kind": "what",
                    "needle": "value",
                    "found": "response header > decoding chain",
                    "evidence": "evidence",
                },
                "Carried back by servers (Set-Cookie, Location): the server plants or forwards the value;"
                " not counted above as the device sending it",
                source="leaks",
                max_rows=self.max_rows,
                captured=("destination", "needle", "found", "evidence"),
            )
        ]

    def endpoints(self) -> Section:
        endpoints, requests = self.table("endpoints"), self.table("requests")
        blocks: list[Block] = []
        if endpoints.empty:
            if requests.empty:
                return Section("endpoints", "Endpoints", (Paragraph("No endpoint was contacted."),))
            hosts = requests["host"].astype("string").fillna("(none)").value_counts().rename_axis("host")
            blocks.append(Paragraph("No endpoints table was given: hosts are listed without owners or roles."))
            blocks.append(
                _table(
                    hosts.reset_index(name="requests"),
                    {"host": "host", "requests": "requests"},
                    "Hosts contacted",
                    source="requests",
                    max_rows=self.max_rows,
                    captured=("host",),
                )
            )
            return Section("endpoints", "Endpoints", tuple(blocks))
        has_bytes = endpoints[["bytes_up", "bytes_down"]].astype("Float64").fillna(0).to_numpy().sum() > 0
        if has_bytes:
            blocks += self.figure(
                "bytes",
                "Bytes per organisation and role.",
                lambda ax: plots.bytes_by_organisation(endpoints, ax=ax),
                size=(8.0, 1.6 + 0.4 * min(len(endpoints), 20)),
            )
        blocks.append(
            _table(
                endpoints,
                {
                    "host": "host",
                    "registrable_domain": "domain",
                    "organisation": "organisation",
                    "parent": "parent",
                    "country": "country",
                    "role": "role",
                    "categories": "categories",
                    "source": "source",
                    "requests": "requests",
                    "flows": "flows",
                    "bytes_up": "bytes sent",
                    "bytes_down": "bytes received",
                },
                "Endpoints: who runs each host",
                source="endpoints",
                max_rows=self.max_rows,
                captured=("host", "registrable_domain"),
                fold=False,
            )
        )
        roles = endpoints["role"].astype("string").fillna("unknown").value_counts()
        organisations = _text(endpoints, "organisation", "registrable_domain", "host").nunique()
        said = Paragraph(
            f"{len(endpoints)} hosts of {organisations} organisations or domains were contacted: "
            + ", ".join(f"{n} {role}" for role, n in roles.items())
            + "."
        )
        # Method rather than finding: folded, so that the evidence above stays within a screen or two.
        return Section(
            "endpoints", "Endpoints", (said, Details("Bytes per organisation, and who runs each host", tuple(blocks)))
        )

    def timeline(self) -> Section | None:
        requests = self.table("requests")
        if requests.empty or not self.figures:
            return None
        leaks, endpoints = sent_by_device(self.table("leaks")), self.table("endpoints")
        sessions = _sessions(requests)
        leak_sessions = _sessions(leaks)
        blocks: list[Block] = []
        names = list(dict.fromkeys(sessions))
        focus = [name for name in self.finding_sessions() if name in names]
        names = focus[:1] + [name for name in names if name not in focus[:1]]
        for k, name in enumerate(names[:4]):
            chosen = requests[(sessions == name).to_numpy()]
            chosen_leaks = leaks[(leak_sessions == name).to_numpy()]
            lanes = min(chosen["host"].astype("string").nunique(), 31)
            blocks += self.figure(
                f"timeline-{k + 1}",
                f"Requests per organisation over time, session {name}.",
                partial(
                    plots.request_timeline,
                    chosen,
                    endpoints=endpoints if not endpoints.empty else None,
                    leaks=chosen_leaks,
                    title=f"Requests over time: {plots.plain_label(name, 30)}",
                ),
                size=(8.5, 1.2 + 0.4 * lanes),
                alt=f"Timeline of requests per organisation, session {k + 1}.",
            )
        if len(blocks) > 1:  # the first session's (the finding's) shown, the others folded
            others = tuple(b for b in blocks[1:] if isinstance(b, FigureBlock))
            blocks = [blocks[0], Details(f"Timelines of {len(others)} more sessions", others)]
        if len(names) > 4:
            blocks.append(Paragraph(f"Timelines of the first 4 of {len(names)} sessions are shown."))
        return Section("timeline", "Timeline", tuple(blocks))

    def method(self) -> Section | None:
        """What was studied: the study's description and scope, each session's app, version and toggles."""
        about = self.about
        if about is None:
            return None
        blocks: list[Block] = [
            Paragraph(f"{about.name or 'The study'}: {about.description or '(no description given)'}"),
            Paragraph(f"Scope of the verdicts: {about.scope or '(none given)'}"),
        ]
        if about.sessions:
            rows = pd.DataFrame(
                {
                    "session": [s.name for s in about.sessions],
                    "mode": [s.mode for s in about.sessions],
                    "app": [
                        " ".join(p for p in (s.app, s.package and f"({s.package})") if p) or None
                        for s in about.sessions
                    ],
                    "version": [s.version for s in about.sessions],
                    "device": [s.device for s in about.sessions],
                    "toggles": ["; ".join(f"{k}: {v}" for k, v in s.toggles) or None for s in about.sessions],
                    "captures": [", ".join(os.path.basename(c) for c in s.captures) or None for s in about.sessions],
                }
            )
            blocks.append(
                _table(
                    rows,
                    {name: name for name in rows.columns},
                    "Sessions: app versions and settings as the researcher recorded them",
                    source=None,
                    max_rows=self.max_rows,
                    captured=("captures",),
                    fold=False,
                )
            )
        return Section("method", "What was studied", tuple(blocks))

    def decryption(self) -> Section:
        flows, requests = self.table("flows"), self.table("requests")
        blocks: list[Block] = []
        if flows.empty:
            if requests.empty:
                text = "The captures hold no connections and no requests."
            else:
                text = (
                    f"The captures are HTTP-level ({len(requests)} requests, e.g. HAR): the client or proxy "
                    "recorded the contents, so nothing needed decrypting."
                )
            return Section("decryption", "Decryption coverage", (Paragraph(text),))
        encrypted = flows[flows["protocol"].astype("string").isin(["tls", "quic", "http"]).fillna(False).to_numpy()]
        by: Literal["app", "host"] = "app" if encrypted["app"].notna().any() else "host"
        read = encrypted["decrypted"].astype("boolean").fillna(False)
        if len(encrypted) and bool(read.all()):  # nothing to show in a figure: say it
            blocks.append(Paragraph(f"All {len(encrypted)} encrypted connections were decrypted and read."))
        else:
            blocks += self.figure(
                "decryption",
                f"Share of connections the toolkit could read, per {by}.",
                lambda ax: plots.decryption_coverage(flows, by=by, ax=ax),
                size=(
                    8.0,
                    1.6 + 0.4 * min(encrypted["app" if by == "app" else "hostname"].nunique(dropna=False), 40),
                ),
            )
        protocol = encrypted["protocol"].astype("string").fillna("")
        decrypted = encrypted["decrypted"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        summary = pd.DataFrame(
            {
                "host": _text(encrypted, "hostname", "server_ip").fillna("(unknown)"),
                "app": _text(encrypted, "app").fillna(""),
                "protocol": protocol,
                "decrypted": decrypted,
                "reason": _text(encrypted, "not_decrypted_reason").fillna(""),
            }
        )
        table = (
            summary.groupby(["host", "app", "protocol"], sort=False)
            .agg(
                flows=("decrypted", "size"),
                decrypted=("decrypted", "sum"),
                reasons=("reason", lambda s: ", ".join(sorted({r for r in s if r}))),
            )
            .reset_index()
        )
        blocks.append(
            _table(
                table,
                {
                    "host": "host",
                    "app": "app",
                    "protocol": "protocol",
                    "flows": "flows",
                    "decrypted": "decrypted",
                    "reasons": "why not",
                },
                "Connections per host",
                source="flows",
                max_rows=self.max_rows,
                captured=("host", "app"),
            )
        )
        return Section("decryption", "Decryption coverage", tuple(blocks))

    def identifiers(self) -> Section:
        identifiers = self.table("identifiers")
        if identifiers.empty:
            return Section("identifiers", "Identifiers", (Paragraph("No identifier table was given."),))
        blocks: list[Block] = []
        blocks += self.figure(
            "identifiers",
            "Identifiers across sessions.",
            lambda ax: plots.identifier_persistence(identifiers, ax=ax),
            size=(8.0, 1.4 + 0.35 * min(len(identifiers), 40)),
            half=len(identifiers) <= 10,
        )
        blocks.append(
            _table(
                identifiers,
                {
                    "value": "value",
                    "kind": "kind",
                    "keys": "sent as",
                    "hosts": "hosts",
                    "sessions": "sessions",
                    "first_seen": "first seen",
                    "last_seen": "last seen",
                    "persistence": "persistence",
                    "matches_known": "known as",
                    "linkable": "links sessions",
                },
                "Identifiers",
                source="identifiers",
                max_rows=self.max_rows,
                captured=("value", "keys", "hosts"),
            )
        )
        return Section("identifiers", "Identifiers", tuple(blocks))

    def datatypes(self) -> Section | None:
        """The data-type section (:mod:`toolkit.report.datatypes_section`), when a datatypes table is given."""
        if "datatypes" not in self.tables:
            return None
        from toolkit.report.datatypes_section import datatypes_section  # it builds on this module's blocks

        def matrix(table: pd.DataFrame) -> list[Block]:
            caption = "Data types received, by destination organisation (or host)."
            return self.figure(
                "datatypes", caption, lambda ax: plots.datatype_matrix(table, ax=ax), size=(8.0, 5.5), half=True
            )

        return datatypes_section(self.table("datatypes"), self.table("problems"), max_rows=self.max_rows, figure=matrix)

    def problems(self) -> Section:
        problems = self.table("problems")
        if problems.empty:
            return Section("problems", "Problems in the captures", (Paragraph("Every record was read."),))
        block = _table(
            problems,
            {
                "capture": "capture",
                "record": "record",
                "kind": "kind",
                "severity": "severity",
                "message": "message",
            },
            "Records skipped or read in part",
            source="problems",
            max_rows=self.max_rows,
            captured=("capture", "record", "message"),
        )
        return Section("problems", "Problems in the captures", (block,))


def build_report(
    tables: Mapping[str, pd.DataFrame],
    *,
    provenance: Sequence[Any] = (),
    command: str | Sequence[str] | None = None,
    reference_data: Mapping[str, Any] | None = None,
    mask_identifiers: bool = False,
    mask_values: Iterable[str] = (),
    title: str | None = None,
    generated: datetime | None = None,
    figures: bool = True,
    about: About | None = None,
    max_rows: int = 200,
    max_chars: int = 160,
    exports: Sequence[str] = (),
) -> Report:
    """The report of ``tables`` (any of requests, flows, dns, tls, problems, endpoints, leaks,
    identifiers, claims; missing ones are treated as empty).

    Args:
        provenance: one :class:`toolkit.capture.Provenance` (or a mapping) per capture, or plain
            paths (captures, key logs), which are hashed here.
        command: the exact command that made the report (a string or its argv).
        reference_data: versions of the reference data used; by default the bundled manifest.
        mask_identifiers: replace identifier values everywhere (see :class:`Masker`).
        mask_values: further values to mask (with or without ``mask_identifiers``).
        max_rows: rows shown per table; every row is in the exported table.
        max_chars: characters shown per cell; the exported table keeps the full value.
        exports: names of the exported files, listed in the report.
        title: the page's title; by default the study's name, else "What the captures show".
        about: the study (name, description, scope, sessions' versions and toggles), shown at the
            top and under "What was studied".
    """
    masker = Masker.from_tables(tables, mask_values) if mask_identifiers else Masker.from_tables({}, mask_values)
    shown = masker.frames(tables) if masker else dict(tables)
    builder = _Builder(shown, figures, max_rows, about, max_chars)
    stamp = (generated or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    title = title or (about.name if about and about.name else "What the captures show")
    # The finding first, then the evidence, then the method and provenance.
    sections = [builder.summary(bool(masker))]
    for section in (
        builder.claims(),
        builder.leaks(),
        builder.identifiers(),
        builder.datatypes(),
        builder.timeline(),
        builder.endpoints(),
        builder.decryption(),
        builder.problems(),
        builder.method(),
    ):
        if section is not None:
            sections.append(section)
    sections.append(_provenance_section(provenance, command, reference_data, stamp, exports, max_rows, about))
    return Report(title, stamp, tuple(sections), max_chars, bool(masker), shown)


def _provenance_section(
    provenance: Sequence[Any],
    command: str | Sequence[str] | None,
    reference_data: Mapping[str, Any] | None,
    stamp: str,
    exports: Sequence[str],
    max_rows: int,
    about: About | None = None,
) -> Section:
    software = _software_versions()
    toolkit_version = dict(software).get("toolkit", "not installed")
    blocks: list[Block] = [
        Facts((("command", _command_text(command)), ("generated", stamp), ("toolkit version", toolkit_version)))
    ]
    captures = _provenance_rows(provenance)
    if not captures.empty:
        columns = {
            "capture_id": "capture",
            "path": "path",
            "format": "format",
            "compression": "compression",
            "tool": "written by",
            "size": "bytes",
            "sha256": "sha256",
            "toolkit_version": "read by toolkit",
        }
        if "path" in captures.columns and "capture_id" not in captures.columns:
            captures["capture_id"] = captures["path"].map(lambda p: str(p).replace("\\", "/").rsplit("/", 1)[-1])
        if "path" in captures.columns:  # the path names the file: no separate column for its name
            columns.pop("capture_id")
        if "compression" in captures.columns and captures["compression"].isna().all():
            columns.pop("compression")
        if "size" in captures.columns:  # whole bytes, not 79969.0 once a keylog row without a size joins
            captures["size"] = pd.to_numeric(captures["size"], errors="coerce").astype("Int64")
        if "toolkit_version" in captures.columns and set(captures["toolkit_version"].dropna()) <= {toolkit_version}:
            columns.pop("toolkit_version")  # the same version as "toolkit version" above: said once
        if about is not None and "path" in captures.columns:
            owner = {os.fspath(c): s.name for s in about.sessions for c in s.captures}
            captures.insert(0, "session", [owner.get(str(p)) for p in captures["path"]])
            columns = {"session": "session", **columns}
        blocks.append(
            _table(
                captures,
                columns,
                "Captures: each file with its SHA-256",
                source=None,
                max_rows=max_rows,
                captured=("capture_id", "path", "tool"),
                fold=False,
            )
        )
        table = blocks[-1]
        if isinstance(table, TableBlock):
            blocks[-1] = dataclasses.replace(table, nowrap=frozenset({"sha256"}))
    else:
        blocks.append(Paragraph("No capture provenance was given."))
    reference = dict(reference_data) if reference_data is not None else _reference_data()
    if reference:
        blocks.append(
            Details("Reference data", (Facts(tuple((str(k), cell_text(v) or "") for k, v in reference.items())),))
        )
    blocks.append(Details("Software", (Facts(software),)))
    if exports:
        files: dict[str, list[str]] = {}
        for name in exports:
            stem = name.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
            files.setdefault(stem, []).append(name)
        listed = Facts(tuple((stem, ", ".join(names)) for stem, names in files.items()))
        blocks.append(Details("Exported tables (every row, full values)", (listed,)))
    return Section("provenance", "Provenance", tuple(blocks))

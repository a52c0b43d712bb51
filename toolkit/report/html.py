"""The report as one self-contained HTML file: no script, no external request, every value escaped.

Figures are embedded as base64 PNG (``data:`` URLs), the style sheet is inline, and a
Content-Security-Policy forbids scripts, frames, forms and every remote load, so even a value that
escaped escaping could not run or phone home. Captured text only ever appears as element text,
escaped with :func:`html.escape` (quotes included): never as a tag, an attribute or a link.

>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from toolkit.schema import TABLES
>>> from toolkit.report.document import build_report
>>> leaks = TABLES["leaks"].frame({"needle_kind": ["url"], "needle": ['"><script>alert(1)</script>'],
...     "host": ["t.example"], "kind": ["leak"]})
>>> page = render_html(build_report({"leaks": leaks}, figures=False))
>>> "<script>" in page, "&lt;script&gt;alert(1)&lt;/script&gt;" in page
(False, True)
"""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path

from toolkit.output_folder import replace_file
from toolkit.report.document import (
    Block,
    Details,
    Facts,
    FigureBlock,
    Paragraph,
    Report,
    TableBlock,
    truncate,
    visible,
)

__all__ = ["CONTENT_SECURITY_POLICY", "render_html", "write_html"]

#: Nothing may load or run but the page's own inline style and its embedded images.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
)

_STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       max-width: 84rem; margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; background: #fff; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; }
h2 { border-bottom: 2px solid #0072B2; padding-bottom: .2rem; margin-top: 2.2rem; }
nav ol { columns: 2; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .82rem; line-height: 1.35; width: 100%; }
caption { text-align: left; font-weight: bold; padding: .3rem 0; }
th, td { border: 1px solid #c8c8c8; padding: .2rem .4rem; vertical-align: top; text-align: left; }
th { background: #eef3f8; }
tbody tr:nth-child(even) { background: #fafafa; }
td code, dd code { white-space: pre-wrap; overflow-wrap: anywhere; font-size: .8rem; }
td { min-width: 4rem; overflow-wrap: anywhere; }
.cut { color: #8a4b00; font-style: italic; white-space: nowrap; }
.missing { color: #999; }
.note { color: #555; font-size: .85rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dl.facts dt { font-weight: bold; }
dl.facts dd { margin: 0; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #e0e0e0; }
figcaption { font-size: .85rem; color: #444; }
figure.half { display: inline-block; vertical-align: top; width: calc(50% - 1rem); margin-right: .8rem; }
.masked { background: #fff3cd; border: 1px solid #e0c36a; padding: .4rem .6rem; }
p.lead { font-size: 1.15rem; line-height: 1.5; }
p.scope { background: #eef3f8; border-left: 4px solid #0072B2; padding: .4rem .7rem; }
td.nowrap, th.nowrap { white-space: nowrap; word-break: normal; overflow-wrap: normal; hyphens: none; }
td.tone-contradicted { background: #fbe3d6; color: #7a2e00; font-weight: bold; }
td.tone-not_observed { background: #e3eef8; color: #123e66; }
td.tone-inconclusive { background: #efefef; color: #444; }
details { margin: .3rem 0; }
details > summary { cursor: pointer; overflow-wrap: anywhere; }
details[open] > summary { margin-bottom: .3rem; }
@media print { nav { display: none; } h2 { break-after: avoid; } figure, tr { break-inside: avoid; } }
"""


def _esc(text: str) -> str:
    return html.escape(visible(text), quote=True)


def _value(text: str | None, max_chars: int, *, code: bool) -> str:
    if text is None:
        return '<span class="missing">—</span>'
    shown, cut = truncate(visible(text), max_chars)
    body = html.escape(shown, quote=True)
    if code:
        body = f"<code>{body}</code>"
    if cut:
        body += f' <span class="cut">… (+{cut} characters)</span>'
    return body


def _cell_class(block: TableBlock, name: str, value: str | None, tones: dict[str, str]) -> str:
    """The cell's class attribute: only the toolkit's own names (``nowrap``, ``tone-<verdict>``)."""
    classes = []
    if name in block.nowrap:
        classes.append("nowrap")
    if value is not None and value in tones:
        classes.append(f"tone-{tones[value]}")
    return f' class="{" ".join(classes)}"' if classes else ""


def _table(block: TableBlock, max_chars: int) -> str:
    max_chars = block.max_chars or max_chars
    tones = {text: tone for text, tone in block.tones if tone.replace("_", "").isalnum()}
    nowrap = ' class="nowrap"'
    head = "".join(f"<th{nowrap if name in block.nowrap else ''}>{_esc(name)}</th>" for name in block.columns)
    rows = []
    for row in block.rows:
        cells = "".join(
            f"<td{_cell_class(block, name, value, tones)}>{_value(value, max_chars, code=name in block.captured)}</td>"
            for name, value in zip(block.columns, row, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    notes = []
    if block.total_rows > len(block.rows):
        notes.append(f"First {len(block.rows)} of {block.total_rows} rows.")
    if block.source:
        notes.append(f"Every row, with full values, is in the exported table <code>{_esc(block.source)}</code>.")
    note = f'<p class="note">{" ".join(notes)}</p>' if notes else ""
    table = (
        f"<table><caption>{_esc(block.caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>{note}"
    )
    if block.folded:
        return f"<details><summary>{_esc(block.caption)} ({block.total_rows} rows)</summary>{table}</details>"
    return table


def _facts(block: Facts, max_chars: int) -> str:
    items = "".join(
        f"<dt>{_esc(name)}</dt><dd>{_value(value, max_chars, code=True)}</dd>" for name, value in block.items
    )
    return f'<dl class="facts">{items}</dl>'


def _figure(block: FigureBlock) -> str:
    data = base64.b64encode(block.png).decode("ascii")
    half = ' class="half"' if block.half else ""
    return (
        f'<figure{half}><img src="data:image/png;base64,{data}" alt="{_esc(block.alt)}">'
        f"<figcaption>{_esc(block.caption)}</figcaption></figure>"
    )


def _block(block: Block, max_chars: int) -> str:
    if isinstance(block, Paragraph):
        style = f' class="{block.style}"' if block.style in ("lead", "scope") else ""
        return f"<p{style}>{_esc(block.text)}</p>"
    if isinstance(block, Facts):
        return _facts(block, max_chars)
    if isinstance(block, TableBlock):
        return _table(block, max_chars)
    if isinstance(block, Details):
        inner = "".join(_block(b, max_chars) for b in block.blocks)
        return f"<details><summary>{_esc(block.summary)}</summary>{inner}</details>"
    return _figure(block)


def render_html(report: Report) -> str:
    """The report as one HTML document (a string)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(report.title)}</title><style>{_STYLE}</style></head><body>",
        f'<header><h1>{_esc(report.title)}</h1><p class="note">Generated {_esc(report.generated)}. '
        "Every value taken from a capture is shown as text; nothing in this page loads or runs.</p></header>",
    ]
    if report.masked:
        parts.append('<p class="masked">Identifiers in this report are masked for publication.</p>')
    toc = "".join(f'<li><a href="#{section.anchor}">{_esc(section.title)}</a></li>' for section in report.sections)
    parts.append(f"<nav><ol>{toc}</ol></nav><main>")
    for section in report.sections:
        parts.append(f'<section id="{section.anchor}"><h2>{_esc(section.title)}</h2>')
        parts += [_block(block, report.max_chars) for block in section.blocks]
        parts.append("</section>")
    parts.append("</main></body></html>\n")
    return "\n".join(parts)


def write_html(path: str | os.PathLike[str], report: Report) -> Path:
    """Write the report to ``path`` (UTF-8) and return the path."""
    target = Path(path)
    text = render_html(report)
    return replace_file(target, lambda temporary: Path(temporary).write_text(text, encoding="utf-8"))

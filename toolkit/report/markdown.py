"""The report as Markdown (CommonMark with GitHub tables), every captured value inert.

Captured values are written as code spans, whose content CommonMark never reads as Markdown,
HTML, a link or an entity; the fence is longer than any backtick run inside the value, ``|`` is
escaped so a value cannot split a table row, and line breaks are shown as ``⏎``. The toolkit's
own text is backslash-escaped. Figures are PNG files beside the Markdown file.

>>> code_span("[x](javascript:alert(1)) | `a`")
'`` [x](javascript:alert(1)) \\\\| `a` ``'
>>> escape_text("<img src=x> *bold* [x](http://evil)")
'\\\\<img src=x\\\\> \\\\*bold\\\\* \\\\[x\\\\]\\\\(http\\\\://evil\\\\)'
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
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

__all__ = ["code_span", "escape_text", "render_markdown", "write_markdown"]

_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&:@])")


def _one_line(text: str) -> str:
    return text.replace("\r\n", "⏎").replace("\n", "⏎").replace("\r", "⏎")


def escape_text(text: str) -> str:
    """Plain text for Markdown: every character that can start a Markdown construct is
    backslash-escaped, ``:`` and ``@`` included so that GitHub's autolinks (``https://``,
    ``www.``, e-mail addresses) cannot turn captured text into a link."""
    return _PUNCTUATION.sub(r"\\\1", _one_line(visible(text)))


def code_span(text: str, *, in_table: bool = True) -> str:
    """``text`` as an inline code span; in a table cell ``|`` is escaped (GitHub tables unescape it)."""
    text = _one_line(visible(text))
    if in_table:
        text = text.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    if text.startswith("`") or text.endswith("`") or (text.startswith(" ") and text.endswith(" ")) or longest:
        text = f" {text} "
    return f"{fence}{text}{fence}" if text else "—"


def _value(text: str | None, max_chars: int, *, code: bool, in_table: bool = True) -> str:
    if text is None:
        return "—"
    shown, cut = truncate(visible(text), max_chars)
    body = code_span(shown, in_table=in_table) if code else escape_text(shown)
    return body + (f" *… \\(+{cut} characters\\)*" if cut else "")


def _table(block: TableBlock, max_chars: int) -> list[str]:
    max_chars = block.max_chars or max_chars
    lines = [f"**{escape_text(block.caption)}**", ""]
    lines.append("| " + " | ".join(escape_text(c) for c in block.columns) + " |")
    lines.append("|" + " --- |" * len(block.columns))
    for row in block.rows:
        cells = (_value(v, max_chars, code=name in block.captured) for name, v in zip(block.columns, row, strict=True))
        lines.append("| " + " | ".join(cells) + " |")
    notes = []
    if block.total_rows > len(block.rows):
        notes.append(f"First {len(block.rows)} of {block.total_rows} rows.")
    if block.source:
        notes.append(f"Every row, with full values, is in the exported table {code_span(block.source)}.")
    if notes:
        lines += ["", " ".join(notes)]
    return [*lines, ""]


def render_markdown(report: Report, *, figure_dir: str = "figures") -> str:
    """The report as Markdown; figures are referenced as ``<figure_dir>/<name>.png``.

    Use :func:`write_markdown` to write the figures too.
    """
    lines = [f"# {escape_text(report.title)}", "", f"Generated {escape_text(report.generated)}.", ""]
    if report.masked:
        lines += ["> Identifiers in this report are masked for publication.", ""]
    for section in report.sections:
        lines += [f"## {escape_text(section.title)}", ""]
        for block in section.blocks:
            lines += _block(block, report.max_chars, figure_dir)
    return "\n".join(lines).rstrip() + "\n"


def _block(block: Block, max_chars: int, figure_dir: str) -> list[str]:
    if isinstance(block, Paragraph):
        text = escape_text(block.text)
        return [f"**{text}**" if block.style == "lead" else f"> {text}" if block.style == "scope" else text, ""]
    if isinstance(block, Facts):
        items = [
            f"- {escape_text(name)}: {_value(value, max_chars, code=True, in_table=False)}"
            for name, value in block.items
        ]
        return [*items, ""]
    if isinstance(block, TableBlock):
        return _table(block, max_chars)
    if isinstance(block, Details):  # Markdown has no folding: the summary in bold, then the blocks
        lines = [f"**{escape_text(block.summary)}**", ""]
        for inner in block.blocks:
            lines += _block(inner, max_chars, figure_dir)
        return lines
    return [f"![{escape_text(block.alt)}]({figure_dir}/{block.name}.png)", "", escape_text(block.caption), ""]


def write_markdown(path: str | os.PathLike[str], report: Report) -> Path:
    """Write the report to ``path`` and its figures to ``<stem>_figures/`` beside it."""
    target = Path(path)
    figure_dir = f"{target.stem}_figures"
    blocks = [b for s in report.sections for b in s.blocks]
    blocks += [inner for b in blocks if isinstance(b, Details) for inner in b.blocks]
    figures = [b for b in blocks if isinstance(b, FigureBlock)]
    if figures:
        (target.parent / figure_dir).mkdir(parents=True, exist_ok=True)
        for figure in figures:
            replace_file(target.parent / figure_dir / f"{figure.name}.png", _bytes_writer(figure.png))
    text = render_markdown(report, figure_dir=figure_dir)
    return replace_file(target, lambda temporary: Path(temporary).write_text(text, encoding="utf-8"))


def _bytes_writer(data: bytes) -> Callable[[str], int]:
    return lambda path: Path(path).write_bytes(data)

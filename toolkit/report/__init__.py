"""Reports people can publish: one self-contained HTML file, a Markdown version, and the tables.

:func:`write_report` is the one call: it builds the report from plain tables (whatever the
pipeline produced: requests, flows, dns, tls, problems, endpoints, leaks, identifiers, claims),
exports the tables in full, and writes ``report.html`` and ``report.md``.

>>> import matplotlib, tempfile, os
>>> matplotlib.use("Agg")
>>> import toolkit
>>> capture = toolkit.load("data/sample.har")
>>> with tempfile.TemporaryDirectory() as out:
...     written = write_report(out, tables=capture.tables, provenance=[capture.provenance],
...                            command="python -m toolkit analyze data/sample.har --report")
...     sorted(os.path.relpath(p, out) for p in written.values())
['report.html', 'report.md', 'tables']
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.export import ExportFormat
from toolkit.output_folder import refuse_linked_subfolders
from toolkit.report.about import About
from toolkit.report.document import Report, build_report
from toolkit.report.exports import export_tables
from toolkit.report.html import render_html, write_html
from toolkit.report.markdown import render_markdown, write_markdown
from toolkit.report.masking import Masker

__all__ = [
    "About",
    "Masker",
    "Report",
    "build_report",
    "export_tables",
    "render_html",
    "render_markdown",
    "write_html",
    "write_markdown",
    "write_report",
]


def write_report(
    out_dir: str | os.PathLike[str],
    *,
    tables: Mapping[str, pd.DataFrame],
    provenance: Sequence[Any] = (),
    command: str | Sequence[str] | None = None,
    mask_identifiers: bool = False,
    mask_values: Iterable[str] = (),
    formats: Sequence[ExportFormat] = ("csv",),
    markdown: bool = True,
    title: str | None = None,
    generated: datetime | None = None,
    reference_data: Mapping[str, Any] | None = None,
    about: About | None = None,
    tables_written: Sequence[str] | None = None,
) -> dict[str, Path]:
    """Write ``report.html``, ``report.md`` (with ``report_figures/``) and ``tables/`` to ``out_dir``.

    The exported tables are the ones the report shows, masked when ``mask_identifiers`` is set.
    ``about`` (:meth:`About.of_study`) puts the study's name, description, scope, app versions and
    toggles on the page.
    ``tables_written``: the table files the caller already wrote into ``out_dir`` (names relative
    to it); unless masking, the report lists those instead of writing the same tables again into
    ``tables/``. Returns the written paths by kind: ``html``, ``markdown`` and ``tables`` (the folder).

    Raises:
        OSError: ``tables/`` or ``report_figures/`` in ``out_dir`` is a symbolic link.
    """
    target = Path(out_dir)
    refuse_linked_subfolders(target)  # tables/ and report_figures/ are written into, never through a link
    options: dict[str, Any] = {
        "provenance": provenance,
        "command": command,
        "mask_identifiers": mask_identifiers,
        "mask_values": mask_values,
        "title": title,
        "generated": generated,
        "reference_data": reference_data,
        "about": about,
    }
    if tables_written is not None and not mask_identifiers:  # the same tables once, not twice
        names, folder = list(tables_written), target
    else:  # build once to get the (possibly masked) tables, export them, then name the files in the report
        first = build_report(tables, figures=False, **options)
        exported = export_tables(first.tables, target / "tables", formats=formats)
        names, folder = [str(p.relative_to(target)) for p in exported], target / "tables"
    report = build_report(tables, exports=names, **options)
    written = {"html": write_html(target / "report.html", report), "tables": folder}
    if markdown:
        written["markdown"] = write_markdown(target / "report.md", report)
    return written

"""The report's section on data types: what each SDK or destination was sent, without known values.

One row per (SDK or endpoint, destination, data type) with how many requests carried it, one value
as sent and the field it was in; the full table is the exported ``datatypes`` table. SDK payloads
that could not be read (the ``problems`` rows of kind ``encrypted``) are named here too, so that an
empty line for an SDK is never mistaken for "sent nothing".

>>> from toolkit.schema import TABLES
>>> datatypes = TABLES["datatypes"].frame({"sdk": ["Adjust", "Adjust", "Adjust"], "host": ["app.adjust.com"] * 3,
...     "organisation": ["Adjust"] * 3, "datatype": ["advertising_id", "advertising_id", "os"],
...     "value": ["38400000-8cf0-11bd-b23e-10b96e40000d"] * 2 + ["android"], "method": ["adapter"] * 3,
...     "confidence": [0.95] * 3, "field": ["body > form:gps_adid"] * 2 + ["body > form:os_name"],
...     "evidence": ["a.har#entry=1", "a.har#entry=2", "a.har#entry=1"]})
>>> section = datatypes_section(datatypes, TABLES["problems"].empty(), max_rows=10)
>>> section.anchor, [block.__class__.__name__ for block in section.blocks]
('datatypes', ['Paragraph', 'Paragraph', 'TableBlock'])
>>> section.blocks[1].text
'Adjust received 2 data types: advertising_id, os.'
>>> section.blocks[2].rows[0]  # doctest: +NORMALIZE_WHITESPACE
('Adjust', 'Adjust', 'advertising_id', 'adapter', '2', '38400000-8cf0-11bd-b23e-10b96e40000d',
 'body > form:gps_adid')
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from toolkit.report.blocks import Block, Facts, Paragraph, Section, TableBlock, cell_text
from toolkit.report.blocks import first_text as _text

__all__ = ["datatypes_section"]

_COLUMNS = ("SDK or endpoint", "destination", "data type", "recognised by", "requests", "a value as sent", "field")
_CAPTURED = frozenset({"destination", "a value as sent", "field"})
_EXPLAINED = (
    "What each request told about the device and the person, recognised without knowing the values "
    "first: by the SDK's documented fields (adapter, confidence 0.95), by a field name that says what "
    "it holds (0.7) or by a value that can be nothing else (0.5). One line per SDK, destination and "
    "data type; every row, with its time and evidence, is in the exported datatypes table."
)


def _grouped(datatypes: pd.DataFrame) -> pd.DataFrame:
    """One line per (SDK, destination, data type), the most certain recognition first."""
    from toolkit.sdk.vocabulary import DATATYPES

    frame = pd.DataFrame(
        {
            "sdk": _text(datatypes, "sdk").fillna("(no adapter)"),
            "destination": _text(datatypes, "organisation", "host").fillna("(unknown)"),
            "datatype": _text(datatypes, "datatype"),
            "method": _text(datatypes, "method"),
            "confidence": pd.to_numeric(datatypes.get("confidence"), errors="coerce"),
            "request": _text(datatypes, "evidence"),
            "value": _text(datatypes, "value"),
            "field": _text(datatypes, "field"),
        }
    ).sort_values("confidence", ascending=False, kind="stable")
    order = {name: i for i, name in enumerate(DATATYPES)}
    lines = (
        frame.groupby(["sdk", "destination", "datatype"], sort=False, dropna=False)
        .agg(
            method=("method", "first"),
            requests=("request", "nunique"),
            value=("value", "first"),
            field=("field", "first"),
        )
        .reset_index()
    )
    lines["order"] = lines["datatype"].map(lambda t: order.get(t, len(order)))
    return lines.sort_values(["sdk", "destination", "order"], kind="stable")


def _received(lines: pd.DataFrame, shown: int = 8) -> str:
    """One sentence per destination: which data types it received, the most frequent first.

    >>> lines = pd.DataFrame({"destination": ["Adjust", "Adjust"], "datatype": ["os", "advertising_id"],
    ...     "requests": [1, 2]})
    >>> _received(lines)
    'Adjust received 2 data types: advertising_id, os.'
    """
    sentences = []
    for destination, group in lines.groupby("destination", sort=False):
        counts = group.groupby("datatype", sort=False)["requests"].sum().sort_values(ascending=False, kind="stable")
        names = ", ".join(str(name) for name in counts.index[:shown])
        more = f" and {len(counts) - shown} more" if len(counts) > shown else ""
        noun = "data type" if len(counts) == 1 else "data types"
        sentences.append(f"{destination} received {len(counts)} {noun}: {names}{more}.")
    return " ".join(sentences)


def datatypes_section(
    datatypes: pd.DataFrame,
    problems: pd.DataFrame,
    *,
    max_rows: int,
    figure: Callable[[pd.DataFrame], Sequence[Block]] | None = None,
) -> Section:
    """The data-type section of a report (``figure`` draws the data types × organisations matrix)."""
    unread = problems[_text(problems, "kind") == "encrypted"] if "kind" in problems.columns else problems.iloc[:0]
    blocks: list[Block] = [Paragraph(_EXPLAINED)]
    if datatypes.empty:
        blocks = [Paragraph("No data type was recognised in the requests.")]
    else:
        lines = _grouped(datatypes)
        blocks.append(Paragraph(_received(lines)))
        if figure is not None and lines["destination"].nunique() > 1:  # one destination: the sentence says it all
            blocks += figure(datatypes)
        rows = tuple(
            tuple(cell_text(v) for v in (r.sdk, r.destination, r.datatype, r.method, r.requests, r.value, r.field))
            for r in lines.head(max_rows).itertuples()
        )
        blocks.append(
            TableBlock(
                "Data types by SDK and destination", _COLUMNS, rows, len(lines), "datatypes", _CAPTURED, folded=True
            )
        )
    if not unread.empty:
        blocks.append(
            Paragraph(
                "The payloads below are encrypted: the data types they carry could not be read, so they are "
                "missing from the table above, which is not to say that nothing was sent."
            )
        )
        items = zip(_text(unread, "capture").fillna(""), _text(unread, "message").fillna(""), strict=True)
        blocks.append(Facts(tuple((str(capture), str(message)) for capture, message in items)))
    return Section("datatypes", "Data types sent", tuple(blocks))

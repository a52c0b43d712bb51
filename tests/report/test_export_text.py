"""The fast paths of writing tables give the text of the plain ones: time stamps formatted by Arrow as
pandas formats them, formula cells found by vectorised tests, header lists made JSON once."""

from __future__ import annotations

import json

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.export import FORMULA_TRIGGERS, _csv_safe, _portable_value, _portable_values, _time_text

# Within the nanosecond range of pandas (1677-09-22 .. 2262-04-11), as counts of each unit.
_LIMIT_NS = 9_200_000_000_000_000_000
_UNIT_NS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


@st.composite
def _time_columns(draw: st.DrawFn) -> pd.Series:
    unit = draw(st.sampled_from(sorted(_UNIT_NS)))
    limit = _LIMIT_NS // _UNIT_NS[unit]
    # whole seconds, milliseconds ... often: each choice of shortest format is reached
    step = draw(st.sampled_from([1, 1_000, 1_000_000, 1_000_000_000]))
    counts = draw(st.lists(st.one_of(st.none(), st.integers(-limit // step, limit // step)), min_size=1, max_size=8))
    values = [None if c is None else c * step for c in counts]
    stamps = pd.Series(pd.array(values, dtype="Int64")).astype(f"datetime64[{unit}]")
    return stamps.dt.tz_localize("UTC") if draw(st.booleans()) else stamps


@settings(max_examples=150, deadline=None)
@given(_time_columns())
def test_time_stamps_as_pandas_shows_them(column: pd.Series) -> None:
    expected = column.astype(str).astype(object)
    expected[column.isna()] = None
    assert _time_text(column).tolist() == expected.tolist()


def test_time_stamps_of_other_zones_and_of_no_value() -> None:
    berlin = pd.Series(pd.to_datetime([0, 1_500], unit="ms", utc=True)).dt.tz_convert("Europe/Berlin")
    assert _time_text(berlin).tolist() == ["1970-01-01 01:00:00.000+01:00", "1970-01-01 01:00:01.500+01:00"]
    assert _time_text(pd.Series(pd.to_datetime([None, None], utc=True))).tolist() == [None, None]


def test_header_lists_of_shared_and_of_equal_pairs() -> None:
    shared = ("Accept", "*/*")
    values = [[shared, ("A", "1")], [shared, ("A", "1")], [("A", "1"), shared], [shared], [], None, b"\x00"]
    values.append([("B", "2")])
    values.append([("B", "3")])  # equal ids cannot come from different live lists
    assert _portable_values(values) == [_portable_value(v) for v in values]
    assert json.loads(_portable_values(values)[2]) == [["A", "1"], ["Accept", "*/*"]]


_CELLS = st.one_of(st.none(), st.text(max_size=4), st.sampled_from(FORMULA_TRIGGERS).map(lambda t: t + "x"))


@settings(max_examples=200, deadline=None)
@given(st.lists(_CELLS, min_size=1, max_size=6), st.sampled_from(["string", "category", "object"]))
def test_formula_cells_neutralised_as_cell_by_cell(cells: list[str | None], dtype: str) -> None:
    frame = pd.DataFrame({"text": pd.Series(cells, dtype=dtype), "number": range(len(cells))})
    safe = _csv_safe(frame)
    expected = [("'" + c if c.startswith(FORMULA_TRIGGERS) else c) if isinstance(c, str) else c for c in cells]
    got = [None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else v for v in safe["text"]]
    assert got == expected
    assert safe["number"].tolist() == list(range(len(cells)))

"""Masking identifiers: the same value always gets the same mask, in every table and encoded form."""

from __future__ import annotations

import base64
import hashlib

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from tests.report.hostile import ANDROID_ID, DISTINCT_ID, hostile_tables
from toolkit.report.masking import MIN_MASKED_LENGTH, Masker
from toolkit.schema import TABLES


def test_same_value_same_mask_and_numbering_per_kind() -> None:
    masker = Masker()
    a = masker.add(ANDROID_ID, "android_id")
    b = masker.add(DISTINCT_ID, "distinct_id")
    c = masker.add("ffffffffffffffff", "android_id")
    assert (a, b, c) == ("⟦android_id-1⟧", "⟦distinct_id-1⟧", "⟦android_id-2⟧")
    assert masker.add(ANDROID_ID, "something else") == a
    assert masker.mask(ANDROID_ID) == a
    assert len(masker) == 3


def test_encoded_forms_are_masked_with_their_form() -> None:
    masker = Masker()
    masker.add(DISTINCT_ID, "distinct_id")
    sha = hashlib.sha256(DISTINCT_ID.encode()).hexdigest()
    b64 = base64.b64encode(DISTINCT_ID.encode()).decode().rstrip("=")
    text = f"u={DISTINCT_ID.upper()}&h={sha}&b={b64}=="
    assert masker.text(text) == "u=⟦distinct_id-1:upper⟧&h=⟦distinct_id-1:sha256⟧&b=⟦distinct_id-1:base64⟧=="


def test_short_values_are_masked_only_as_whole_cells() -> None:
    masker = Masker()
    masker.add("42", "user")
    assert masker.mask("42") == "⟦user-1⟧"
    assert masker.text("page 42 of 420") == "page 42 of 420"
    assert MIN_MASKED_LENGTH > 2


def test_kind_is_made_safe_for_a_label() -> None:
    masker = Masker()
    assert masker.add("abcdef", "<script>") == "⟦script-1⟧"
    assert masker.add("abcdefg", None) == "⟦id-1⟧"


def test_frame_masking_keeps_dtypes_and_reaches_nested_values() -> None:
    tables = hostile_tables()
    masker = Masker.from_tables(tables)
    masked = masker.frames(tables)
    for name, frame in tables.items():
        assert list(masked[name].dtypes) == list(frame.dtypes), name
        if name in TABLES:
            TABLES[name].validate(masked[name])
    requests = masked["requests"]
    assert all(ANDROID_ID not in url for url in requests["url"])
    assert all(("X-Id", "⟦distinct_id-1⟧") in headers for headers in requests["request_headers"])
    leaks = masked["leaks"]
    assert set(leaks.loc[leaks["needle_kind"] == "identifier", "needle"]) == {"⟦android_id-1⟧"}
    # The input is never changed.
    assert ANDROID_ID in tables["requests"]["url"].iloc[0]


def test_bytes_bodies_are_masked() -> None:
    masker = Masker()
    masker.add(ANDROID_ID, "android_id")
    body = b"\xff\x00id=" + ANDROID_ID.encode() + b"\xfe"
    assert masker.value(body) == b"\xff\x00id=" + "⟦android_id-1⟧".encode() + b"\xfe"


def test_empty_masker_changes_nothing() -> None:
    frame = TABLES["leaks"].frame({"needle": ["x"]})
    assert Masker().frame(frame) is frame
    assert Masker.from_tables({}).text("anything") == "anything"


@given(
    st.lists(st.text("abc", min_size=MIN_MASKED_LENGTH, max_size=12), min_size=1, max_size=5, unique=True),
    st.lists(st.text("xyz -", max_size=4), min_size=1, max_size=6),
)
def test_no_registered_value_survives(values: list[str], fillers: list[str]) -> None:
    masker = Masker()
    masks = [masker.add(value, "id") for value in values]
    text = "".join(f + v for f, v in zip(fillers * len(values), values, strict=False))
    masked = masker.text(text)
    for value in values:
        assert value not in masked
    assert len(set(masks)) == len(values)
    assert masker.text(text) == masked  # the same text always masks the same way


def test_masking_series_with_missing_values() -> None:
    masker = Masker()
    masker.add(ANDROID_ID, "android_id")
    frame = TABLES["leaks"].frame({"needle": [ANDROID_ID, None], "host": [None, f"x{ANDROID_ID}.example"]})
    masked = masker.frame(frame)
    assert masked["needle"].iloc[0] == "⟦android_id-1⟧" and masked["needle"].iloc[1] is pd.NA
    assert masked["host"].iloc[1] == "x⟦android_id-1⟧.example"

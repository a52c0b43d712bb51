"""The schema is the single source of truth: tables build, validate, and document from it."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from toolkit.schema import DTYPES, TABLES, SchemaError, markdown_reference

ROOT = Path(__file__).resolve().parent.parent


def test_design_tables_are_all_declared() -> None:
    assert set(TABLES) == {
        "requests",
        "flows",
        "dns",
        "tls",
        "problems",
        "endpoints",
        "leaks",
        "identifiers",
        "datatypes",
    }


@pytest.mark.parametrize("name", sorted(TABLES))
def test_empty_tables_validate_and_use_known_dtypes(name: str) -> None:
    table = TABLES[name]
    assert all(c.dtype in DTYPES for c in table.columns)
    assert len(set(table.names)) == len(table.names)
    assert table.validate(table.empty()).shape == (0, len(table.columns))


def test_frame_fills_absent_columns_and_coerces() -> None:
    frame = TABLES["requests"].frame({"ts": ["2020-01-01T00:00:00+01:00"], "status": [None], "body": [b"x"]})
    assert frame.loc[0, "ts"] == pd.Timestamp("2019-12-31T23:00:00Z")
    assert pd.isna(frame.loc[0, "status"]) and frame.loc[0, "body"] == b"x"
    assert pd.isna(frame.loc[0, "url"])


def test_frame_rejects_unknown_columns_and_ragged_lists() -> None:
    with pytest.raises(SchemaError, match="unknown columns"):
        TABLES["requests"].frame({"nope": [1]})
    with pytest.raises(SchemaError, match="differ in length"):
        TABLES["requests"].frame({"url": ["a"], "method": []})


def test_validate_names_the_wrong_column() -> None:
    frame = TABLES["problems"].empty()
    with pytest.raises(SchemaError, match=r"problems\.message: dtype"):
        TABLES["problems"].validate(frame.assign(message=frame["message"].astype(object)))
    with pytest.raises(SchemaError, match="missing \\['severity'\\]"):
        TABLES["problems"].validate(frame.drop(columns="severity"))


def test_readme_table_reference_is_generated_from_the_schema() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from update_readme import render
    finally:
        sys.path.pop(0)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert render(readme) == readme, "README is stale: run `make docs`"
    for table in TABLES.values():
        assert all(f"| `{c.name}` |" in markdown_reference() for c in table.columns)


def test_severities_and_roles_are_the_values_the_toolkit_writes() -> None:
    import toolkit
    from toolkit.schema import ROLE_DTYPE, ROLES, SEVERITIES, SEVERITY_DTYPE

    capture = toolkit.load("data/lab/normal.har")
    leaks = toolkit.find_leaks(capture, identifiers={"ANDROID_ID": "8e5fbce04dc91566"})
    assert set(leaks["severity"].astype(str)) <= set(SEVERITIES) and len(leaks)
    assert set(capture.endpoints["role"].astype(str)) <= set(ROLES)
    assert list(SEVERITY_DTYPE.categories) == list(SEVERITIES) and SEVERITY_DTYPE.ordered
    assert list(ROLE_DTYPE.categories) == list(ROLES) and ROLE_DTYPE.ordered

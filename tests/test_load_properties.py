"""Whatever bytes or JSON are given to ``load``, the answer is a Capture or a CaptureError."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import toolkit

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=30,
)
# Plausible HAR skeletons with random parts, so the fuzzing reaches the entry reader.
entry_fields = st.fixed_dictionaries(
    {},
    optional={
        "startedDateTime": json_values | st.just("2020-01-01T00:00:00Z"),
        "request": json_values
        | st.fixed_dictionaries(
            {"url": json_values | st.just("https://x.example/?a=1")},
            optional={
                "method": json_values,
                "headers": json_values,
                "postData": json_values,
                "cookies": json_values,
                "httpVersion": json_values,
            },
        ),
        "response": json_values
        | st.fixed_dictionaries(
            {},
            optional={
                "status": json_values,
                "headers": json_values,
                "content": json_values
                | st.fixed_dictionaries(
                    {"text": json_values}, optional={"encoding": st.just("base64") | json_values, "_file": json_values}
                ),
            },
        ),
        "serverIPAddress": json_values,
        "pageref": json_values,
    },
)
hars = st.fixed_dictionaries(
    {
        "log": st.fixed_dictionaries(
            {"entries": st.lists(entry_fields | json_values, max_size=4)},
            optional={"creator": json_values, "pages": json_values},
        )
    }
)


def load_bytes(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.har"
        path.write_bytes(data)
        try:
            capture = toolkit.load(path)
        except toolkit.CaptureError as exc:
            assert str(exc).startswith("fuzz.har: ")
            return
        for name, table in capture.tables.items():
            toolkit.TABLES[name].validate(table)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    load_bytes(data)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_after_a_json_start(data: bytes) -> None:
    load_bytes(b'{"log": {"entries": [' + data)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(json_values)
def test_random_json(doc: Any) -> None:
    load_bytes(json.dumps(doc).encode())


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(hars)
def test_random_har_shaped_json(doc: Any) -> None:
    load_bytes(json.dumps(doc).encode())

"""The registry of chain steps agrees with the unwrapper that writes them and the transforms they undo."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from toolkit.leaks.detect import effective_layers
from toolkit.leaks.steps import DECODING_STEPS, DecodingStep, describe_step, is_decoding
from toolkit.leaks.transforms import TRANSFORMS, apply_chain
from toolkit.leaks.unwrap import unwrap_request

URL = b"https://news.example/articles/2024/privacy-of-phones?id=42"


def _chains(body: bytes) -> set[str]:
    """The chains under which the unwrapper finds :data:`URL` in a form body."""
    found = set()
    form = "application/x-www-form-urlencoded"
    for item in unwrap_request(url="https://t.example/c", headers=[], body=body, content_type=form):
        for leaf in item.parts() if item.parts is not None else (item,):
            if URL in leaf.data:
                found.add(leaf.chain_text())
    return found


@pytest.mark.parametrize("step", DECODING_STEPS.values(), ids=lambda s: s.name)
def test_each_step_is_what_the_unwrapper_writes_for_its_family(step: DecodingStep) -> None:
    """A value encoded by a transform of the step's family (then base64) is found through ``base64 > step``,
    and every decoding name the unwrapper writes on the way is a registered step."""
    encoders = [name for name, t in TRANSFORMS.items() if t.family == step.family and t.decode is not None]
    assert encoders, f"no transform of family {step.family!r} undoes {step.name!r}"
    chains = set()
    for name in encoders:
        chains |= _chains(b"v=" + quote(apply_chain([name, "base64"], URL), safe="").encode())
    assert any(f"base64 > {step.name}" in chain for chain in chains), chains
    written = {s for chain in chains for s in chain.split(" > ") if ":" not in s}
    assert written <= set(DECODING_STEPS)


def test_families_read_both_sides_in_one_vocabulary() -> None:
    families = {t.family for t in TRANSFORMS.values()}
    assert {s.family for s in DECODING_STEPS.values()} <= families
    assert effective_layers("form:v > urldecode > json_unescape > base58", "quote(url)") == [
        "percent",
        "base58",
        "json_escape",
        "percent",
    ]


def test_steps_are_described_for_a_reader() -> None:
    assert all(describe_step(name) == f"{s.verb} ({name})" for name, s in DECODING_STEPS.items())
    assert len({s.verb for s in DECODING_STEPS.values()}) == len(DECODING_STEPS)
    assert describe_step(" pb:1.14 ") == "protobuf field 1.14"  # as the unwrapper names protobuf fields
    assert describe_step("xml:a@b") == "xml:a@b"
    assert is_decoding(" base58 ") and not is_decoding("form:base64")

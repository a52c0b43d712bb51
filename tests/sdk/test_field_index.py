"""An adapter's fields are looked up by the key path's last names (an index) instead of testing
every field against every leaf: the answer must be the one of testing every field, longest first."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.sdk import REGISTRY, Sdk
from toolkit.sdk.adapter import parse_path


def _ends_in(keys: tuple[str, ...], spec: tuple[str, ...]) -> bool:
    """The documented rule, written out: ``keys`` ends in ``spec``, skipping array positions of
    ``keys`` that ``spec`` does not name."""
    rest = list(keys)
    for want in reversed(spec):
        while rest and rest[-1] != want and rest[-1].startswith("["):
            rest.pop()
        if not rest or rest[-1] != want:
            return False
        rest.pop()
    return True


def _every_field(sdk: Sdk, keys: tuple[str, ...]) -> str | None:
    """The data type of the longest field (the first written, among equally long) that ``keys`` ends in."""
    fields = sorted(((parse_path(path), datatype) for path, datatype in sdk.fields.items()), key=lambda f: -len(f[0]))
    return next((datatype for spec, datatype in fields if _ends_in(keys, spec)), None)


_WITH_FIELDS = [sdk for sdk in REGISTRY if sdk.fields]
_POSITIONS = st.sampled_from(["[0]", "[1]", "[5]", "[12]"])


@st.composite
def _key_paths(draw: st.DrawFn) -> tuple[Sdk, tuple[str, ...]]:
    """A key path made of an SDK's own field names (so that fields match), array positions and other names."""
    sdk = draw(st.sampled_from(_WITH_FIELDS))
    names = sorted({name for path in sdk.fields for name in parse_path(path)})
    key = st.one_of(st.sampled_from(names), _POSITIONS, st.sampled_from(["events", "data", "x"]))
    keys = list(draw(st.lists(key, max_size=7)))
    if draw(st.booleans()):  # often a whole field path at the end, sometimes with positions inside
        spec = list(parse_path(draw(st.sampled_from(sorted(sdk.fields)))))
        if spec and draw(st.booleans()):
            spec.insert(draw(st.integers(0, len(spec))), draw(_POSITIONS))
        keys += spec
        keys += draw(st.lists(_POSITIONS, max_size=2))
    return sdk, tuple(keys)


@settings(max_examples=600, deadline=None)
@given(_key_paths())
def test_the_index_answers_as_testing_every_field(case: tuple[Sdk, tuple[str, ...]]) -> None:
    sdk, keys = case
    assert sdk.datatype_of(keys) == _every_field(sdk, keys)


def test_every_field_of_every_adapter_is_found_through_the_index() -> None:
    tried = 0
    for sdk in _WITH_FIELDS:
        for path in sdk.fields:
            keys = ("body", *parse_path(path))
            assert sdk.datatype_of(keys) == _every_field(sdk, keys) is not None, (sdk.name, path)
            with_position = (*keys, "[3]")
            assert sdk.datatype_of(with_position) == _every_field(sdk, with_position), (sdk.name, path)
            tried += 1
    assert tried > 100  # the registry's adapters name their fields


def test_an_empty_field_path_matches_every_key_path() -> None:
    sdk = Sdk("Example", fields={"": "event", "a.b": "device_model"})
    assert sdk.datatype_of(("x", "a", "b")) == "device_model"
    assert sdk.datatype_of(("x", "y")) == "event" == sdk.datatype_of(())

"""Fuzzing in the suite: a short fixed-seed run over every reader, and every saved crash replayed.

``make fuzz`` runs the same targets for as long as asked; what it finds lands in ``crashes/``
(replayed here) or, for a class listed in ``known.toml``, in ``pending/`` (not replayed yet).
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import pytest

from toolkit.fuzz.campaign import load_known, replay, run
from toolkit.fuzz.fields import h2_fields, pcap_fields, pcapng_fields, read_value, tls_fields
from toolkit.fuzz.mutate import mutate, resize
from toolkit.fuzz.sandbox import run_bounded
from toolkit.fuzz.targets import TARGETS, check_folder

HERE = Path(__file__).resolve().parent
KNOWN = load_known(HERE / "known.toml")
SAVED = sorted(folder for folder in (HERE / "crashes").glob("*/*") if folder.is_dir())


@pytest.mark.slow
def test_short_fixed_seed_run_finds_no_new_crash(tmp_path: Path) -> None:
    report = run(
        tuple(TARGETS), inputs=2, seed=16, crashes=tmp_path / "crashes", known=KNOWN, bound_seconds=4, minimise=False
    )
    assert report.tried == dict.fromkeys(TARGETS, 2)
    assert not report.new, "\n".join(report.lines())


@pytest.mark.parametrize("folder", SAVED, ids=[f"{f.parent.name}/{f.name}" for f in SAVED])
def test_saved_crash_input_ends_in_a_result_or_a_capture_error(folder: Path) -> None:
    outcome = replay(folder, bound_seconds=10)
    assert outcome.status in ("ok", "rejected"), f"{outcome.signature}: {outcome.message}\n{outcome.detail}"


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_every_seed_reads_without_problems(name: str) -> None:
    """The seeds reach the readers' deep parts: each loads, with requests and no problem row."""
    for value in TARGETS[name].seeds():
        with tempfile.TemporaryDirectory() as folder:
            TARGETS[name].build(value, Path(folder))
            outcome = check_folder(folder)
        assert outcome["status"] == "ok", outcome
        assert outcome["tables"]["requests"] > 0 and outcome["tables"]["problems"] == 0, outcome["tables"]


@pytest.mark.parametrize(
    ("fmt", "walker", "seed_target"), [("pcap", pcap_fields, "pcap"), ("pcapng", pcapng_fields, "pcapng")]
)
def test_length_true_edits_keep_every_length_true(fmt: str, walker: object, seed_target: str) -> None:
    """Growing or shrinking what a length counts corrects that length and every enclosing one."""
    data = TARGETS[seed_target].seeds()[0][0].data
    fields = walker(data)  # type: ignore[operator]
    leaves = [
        f for f in fields if f.is_length and f.end > f.start and not any(f.start <= g.offset < f.end for g in fields)
    ]
    for field in random.Random(1).sample(leaves, min(30, len(leaves))):
        at = field.end - 1  # inside what the innermost length counts, after every header
        edited = resize(data, fields, at, 0, b"WXYZ")  # 4 bytes: pcapng pads to 4
        after = walker(edited)  # type: ignore[operator]
        assert len(after) == len(fields)
        grown = [a for a, b in zip(after, fields, strict=True) if a.is_length and b.start <= at < b.end]
        assert grown and all(read_value(edited, a) == a.end - a.start for a in grown)


def test_walkers_find_the_lengths_of_tls_and_http2() -> None:
    wire = TARGETS["tls"].seeds()[0]
    hello = tls_fields(wire[0].data)
    assert len(hello) > 8  # record, handshake, session id, suites, compression, extensions ...
    frames = h2_fields(TARGETS["h2"].seeds()[0][0].data)
    assert {f.encoding for f in frames} >= {"be", "hpack"}


def test_mutations_are_repeatable_and_varied() -> None:
    data = TARGETS["har"].seeds()[0][0].data
    first = [mutate(data, "json", random.Random(n)) for n in range(20)]
    assert first == [mutate(data, "json", random.Random(n)) for n in range(20)]
    assert len(set(first)) > 15


def test_the_sandbox_reports_a_hang_where_it_happens() -> None:
    outcome = run_bounded(_hang, (), seconds=0.5, memory=1 << 30)
    assert (outcome.status, outcome.kind) == ("crash", "timeout")
    assert outcome.where.endswith(":_hang")


def _hang() -> dict[str, object]:
    while True:
        pass

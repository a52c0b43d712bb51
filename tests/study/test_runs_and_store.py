"""A study's per-capture work in worker processes, on a Dask cluster, stored as Parquet and resumed."""

from __future__ import annotations

import gc
import io
import json
import os
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

import toolkit.study
import toolkit.study.core
import toolkit.study.job
import toolkit.study.store
from tests.paths import DATA
from toolkit.errors import CaptureError
from toolkit.parallel import Progress, frozen_heap, run_each
from toolkit.study import CaptureJob, CaptureResult, CaptureSpec, Session, Study

LAB = DATA / "lab"
MANIFEST = DATA / "xiaomi-2020.toml"


def _count_analysed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the captures analysed from now on (not read back from a store)."""
    analysed: list[str] = []
    real = toolkit.study.analyse_capture

    def counting(job: CaptureJob) -> CaptureResult:
        analysed.append(job.spec.path.name)
        return real(job)

    monkeypatch.setattr(toolkit.study.store, "analyse_capture", counting)
    return analysed


def _assert_same_study(expected: Study, actual: Study) -> None:
    assert list(actual.tables) == list(expected.tables)
    for name, frame in expected.tables.items():
        pd.testing.assert_frame_equal(actual.tables[name], frame, obj=name)
    assert actual.notes == expected.notes


@pytest.fixture(scope="module")
def serial() -> Study:
    return Study.from_manifest(MANIFEST, root=DATA).run(workers=1)


def test_two_local_processes_give_the_serial_tables(serial: Study) -> None:
    assert len(serial.requests) == 50 and len(serial.leaks) > 0
    _assert_same_study(serial, Study.from_manifest(MANIFEST, root=DATA).run(workers=2))


@pytest.mark.enable_socket
@pytest.mark.slow
def test_a_two_worker_dask_cluster_gives_the_serial_tables(
    serial: Study, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    distributed = pytest.importorskip("dask.distributed")
    # worker processes (not threads), talking TCP on the loopback interface only
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert len(client.scheduler_info()["workers"]) == 2
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        on_client = Study.from_manifest(MANIFEST, root=DATA).run(client=client)
        by_address = Study.from_manifest(MANIFEST, root=DATA).run(client=cluster.scheduler_address)
        written_here: list[str] = []
        real_write = toolkit.study.core.write_result_files

        def writing_here(folder: Path, partition: str, result: CaptureResult) -> None:
            written_here.append(partition)
            real_write(folder, partition, result)

        monkeypatch.setattr(toolkit.study.core, "write_result_files", writing_here)
        # with a store: these workers see its witness file, so they write their results themselves
        stored = Study.from_manifest(MANIFEST, root=DATA).run(client=client, out=tmp_path / "on-dask")
        assert written_here == []
        assert not list((tmp_path / "on-dask").glob(".witness-*"))  # removed after the run
        # workers that cannot see the folder (another machine): this process writes their results
        monkeypatch.setattr(toolkit.study.store.ResultStore, "witness", lambda self: ".witness-elsewhere")
        apart = Study.from_manifest(MANIFEST, root=DATA).run(client=client, out=tmp_path / "apart")
        monkeypatch.undo()
    _assert_same_study(serial, on_client)
    _assert_same_study(serial, by_address)
    _assert_same_study(serial, stored)
    _assert_same_study(serial, apart)
    assert len(written_here) == len(serial.jobs())
    Study.from_manifest(MANIFEST, root=DATA).run(workers=1, out=tmp_path / "serial")
    _assert_same_store(tmp_path / "serial", tmp_path / "on-dask")
    _assert_same_store(tmp_path / "serial", tmp_path / "apart")


def _assert_same_store(expected: Path, actual: Path) -> None:
    """Two result folders hold the same index and the same Parquet tables."""
    import pyarrow.parquet as pq

    assert json.loads((actual / "index.json").read_text()) == json.loads((expected / "index.json").read_text())
    files = sorted(p.relative_to(expected) for p in expected.rglob("*.parquet"))
    assert files and files == sorted(p.relative_to(actual) for p in actual.rglob("*.parquet"))
    for file in files:
        assert pq.read_table(actual / file).equals(pq.read_table(expected / file)), file


def test_stored_tables_are_what_pandas_would_have_written(tmp_path: Path) -> None:
    """The store writes Arrow straight from the column lists; the files must read back as the
    DataFrame path (``Table.from_pandas`` of the stacked table) would give them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from toolkit.study.columns import stack_columns
    from toolkit.study.store import _partition_values, _to_parquet

    jobs = Study.from_manifest(MANIFEST, root=DATA).jobs()
    checked = own_sessions = 0
    for number, job in enumerate(jobs[:4]):
        result = toolkit.study.analyse_capture(job)
        # the last job's rows claim another session than their folder: kept as row_session
        partition = f"session={job.session if number < 3 else 'elsewhere'}/capture={job.spec.path.name}"
        for name, columns in result.columns.items():
            if not columns or not len(next(iter(columns.values()))):
                continue
            frame = stack_columns(name, [columns]).drop(columns=["session", "capture"], errors="ignore")
            if number == 3 and "session" in columns:
                frame["row_session"] = pd.array(columns["session"], dtype="string")
            path, old_way = tmp_path / f"{number}-{name}.parquet", tmp_path / f"{number}-{name}-pandas.parquet"
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), old_way)
            _to_parquet(name, columns, path, _partition_values(partition))
            written, expected = pq.read_table(path), pq.read_table(old_way)
            assert written.schema.remove_metadata() == expected.schema.remove_metadata(), (job, name)
            pd.testing.assert_frame_equal(written.to_pandas(), expected.to_pandas(), obj=f"{job.spec.path.name} {name}")
            checked += 1
            own_sessions += "row_session" in written.column_names
    assert checked >= 10 and own_sessions >= 2


def test_local_workers_write_the_store_themselves(serial: Study, tmp_path: Path) -> None:
    Study.from_manifest(MANIFEST, root=DATA).run(workers=1, out=tmp_path / "serial")
    parallel = Study.from_manifest(MANIFEST, root=DATA).run(workers=2, out=tmp_path / "two")
    _assert_same_study(serial, parallel)
    _assert_same_store(tmp_path / "serial", tmp_path / "two")
    _assert_same_study(serial, Study.from_manifest(MANIFEST, root=DATA).run(workers=2, out=tmp_path / "two"))  # resumed


def test_new_captures_are_hashed_once_where_they_are_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hashed: list[str] = []
    real = toolkit.study.job.size_and_sha256

    def counting(path: Path) -> tuple[int, str]:
        hashed.append(Path(path).name)
        return real(path)

    # looked up in both: a job hashes its key log, the store a capture it checks
    monkeypatch.setattr(toolkit.study.job, "size_and_sha256", counting)
    monkeypatch.setattr(toolkit.study.store, "size_and_sha256", counting)
    sessions = [Session("one", [LAB / "normal.har", LAB / "incognito.har"])]
    first = Study(sessions, workers=1).run(out=tmp_path / "store")
    assert hashed == []  # their SHA-256 came from toolkit.load
    index = json.loads((tmp_path / "store" / "index.json").read_text())
    expected = [real(LAB / name)[1] for name in ("normal.har", "incognito.har")]
    assert [e["sha256"] for e in index["captures"].values()] == expected
    _assert_same_study(first, Study(sessions, workers=1).run(out=tmp_path / "store"))
    assert hashed == ["normal.har", "incognito.har"]  # resuming checks the stored results against the files


def test_a_store_that_cannot_be_written_is_an_error_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    folder.mkdir()
    (folder / "requests").write_text("a file where the requests folder should be")
    connections = CaptureSpec(LAB / "normal.pcapng", LAB / "normal.keylog", ("flows", "dns", "tls"))
    sessions = [Session("one", [LAB / "normal.har", connections])]
    with pytest.raises(OSError, match=r"store: cannot store the result of normal\.har.*1 of 2 results not stored"):
        Study(sessions, workers=2).run(out=folder)
    # what could be stored is kept and resumed; the other is analysed again
    index = json.loads((folder / "index.json").read_text())
    assert [Path(e["capture"]).name for e in index["captures"].values()] == ["normal.pcapng"]


def _corrupt_study(tmp_path: Path) -> Study:
    not_json = tmp_path / "broken.har"
    not_json.write_text("{not json")
    cut = tmp_path / "cut.pcapng"
    cut.write_bytes((LAB / "normal.pcapng").read_bytes()[:3000])  # ends inside a block
    return Study(
        [
            Session("good", [LAB / "normal.har", LAB / "incognito.har"]),
            Session("bad", [not_json, cut, tmp_path / "gone.har"]),
        ],
        workers=2,
    )


def test_corrupt_captures_become_problems_and_the_study_completes(tmp_path: Path) -> None:
    study = _corrupt_study(tmp_path).run()
    assert study.requests.groupby("session", observed=True).size().to_dict() == {"good": 36}
    assert len(study.leaks) > 0
    problems = study.problems
    unreadable = problems[problems["capture"].isin(["broken.har", "gone.har"])]
    assert sorted(unreadable["capture"]) == ["broken.har", "gone.har"]
    assert unreadable["message"].str.startswith("capture not loaded").all()
    # the cut pcapng loads partially: its damage is listed, not fatal
    assert (problems["capture"] == "cut.pcapng").any()
    assert sum("broken.har" in note or "gone.har" in note for note in study.notes) == 2
    # the same outcome, serially
    _assert_same_study(study, Study(study.sessions, workers=1).run())


def test_strict_raises_the_first_error(tmp_path: Path) -> None:
    study = _corrupt_study(tmp_path)
    strict = Study(study.sessions, strict=True, workers=2)
    with pytest.raises(CaptureError, match=r"broken\.har"):
        strict.run()


def test_resume_skips_captures_done_with_the_same_bytes_and_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "captures"
    shutil.copy(LAB / "normal.har", tmp_path / "normal.har")
    sessions = [
        Session("one", [tmp_path / "normal.har"], mode="normal"),
        Session("two", [LAB / "incognito.har", LAB / "incognito.pcapng"], mode="incognito"),
    ]
    first = Study(sessions, workers=1).run(out=folder)
    requests = pd.read_parquet(folder / "requests")  # one dataset, partitioned by session and capture
    assert sorted(requests.groupby(["session", "capture"], observed=True).size().items()) == [
        (("one", "normal.har"), 18),
        (("two", "incognito.har"), 18),
        (("two", "incognito.pcapng"), 18),
    ]
    assert (folder / "tls" / "session=two" / "capture=incognito.pcapng" / "part-0.parquet").is_file()

    analysed = _count_analysed(monkeypatch)
    again = Study(sessions, workers=1).run(out=folder)
    assert analysed == []
    _assert_same_study(first, again)

    # a changed file is analysed again, the others are read back
    with open(tmp_path / "normal.har", "a") as har:
        har.write("\n")
    Study(sessions, workers=1).run(out=folder)
    assert analysed == ["normal.har"]

    # changed settings (a known identifier) make every capture stale
    analysed.clear()
    changed = Study(sessions, workers=1, known_identifiers={"ANDROID_ID": "8e5fbce04dc91566"}).run(out=folder)
    assert sorted(analysed) == ["incognito.har", "incognito.pcapng", "normal.har"]
    assert (changed.leaks["needle_kind"] == "identifier").any()


def test_a_damaged_store_is_analysed_again(tmp_path: Path) -> None:
    folder = tmp_path / "captures"
    sessions = [Session("one", [LAB / "normal.har"])]
    first = Study(sessions, workers=1).run(out=folder)
    for part in (folder / "requests").rglob("*.parquet"):
        part.write_bytes(b"not parquet")
    _assert_same_study(first, Study(sessions, workers=1).run(out=folder))
    (folder / "index.json").write_text("{")
    _assert_same_study(first, Study(sessions, workers=1).run(out=folder))


def test_progress_lists_failures_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    _corrupt_study(tmp_path).run(progress=True, workers=1)
    shown = stream.getvalue()
    assert "5/5" in shown and "2 failed, last: " in shown
    assert "2 of 5 failed:" in shown and "bad/broken.har: capture not loaded" in shown
    # quiet when stderr is not a terminal
    stream.truncate(0)
    stream.seek(0)
    _corrupt_study(tmp_path).run(workers=1)
    assert stream.getvalue() == ""
    assert Progress(1, stream=stream).enabled is False


def _square_or_die(n: int) -> int:
    if n < 0:
        os._exit(3)  # a worker killed mid-job (out of memory, a crash in native code)
    if n == 0:
        raise ValueError("zero")
    return n * n


def _mark_prepared() -> None:
    os.environ["TOOLKIT_TEST_PREPARED"] = "yes"


def _was_prepared(_item: int) -> str | None:
    return os.environ.get("TOOLKIT_TEST_PREPARED")


def _fail_to_prepare() -> None:
    raise RuntimeError("no reference data")


def test_prepare_runs_before_the_jobs_where_they_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOOLKIT_TEST_PREPARED", raising=False)
    # forked workers inherit what it did here; spawned ones (macOS, Windows) run it themselves
    assert [o.value for o in run_each(_was_prepared, [1, 2, 3], workers=2, prepare=_mark_prepared)] == ["yes"] * 3
    monkeypatch.delenv("TOOLKIT_TEST_PREPARED")
    # a failing preparation is only a lost optimisation
    assert [o.value for o in run_each(abs, [-1, -2], workers=2, prepare=_fail_to_prepare)] == [1, 2]


def test_jobs_sent_in_batches_keep_their_order_and_their_own_failures() -> None:
    items = list(range(1, 61))
    items[7] = 0  # in the first, largest batch
    outcomes = run_each(_square_or_die, items, workers=2)
    assert [o.value for o in outcomes] == [n * n if n else None for n in items]
    assert [o.error for o in outcomes if not o.ok] == ["ValueError: zero"]


def _frozen_in_worker(_item: int) -> int:
    with frozen_heap():  # as each batch does: must leave the freeze it inherited alone
        pass
    return gc.get_freeze_count()


def test_frozen_heap_nests_and_leaves_a_freeze_it_did_not_make() -> None:
    assert gc.get_freeze_count() == 0
    with frozen_heap():
        with frozen_heap():
            pass
        assert gc.get_freeze_count() > 0  # the inner block did not unfreeze
        # forked workers inherit the block: their own blocks do not unfreeze the parent's heap
        assert all(o.value and o.value > 0 for o in run_each(_frozen_in_worker, [1, 2], workers=2))
    assert gc.get_freeze_count() == 0
    gc.freeze()  # someone else's freeze
    try:
        with frozen_heap():
            pass
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_run_each_keeps_the_order_and_reports_failures() -> None:
    outcomes = run_each(_square_or_die, [3, 1, 0, 2], workers=2)
    assert [o.value for o in outcomes] == [9, 1, None, 4]
    assert outcomes[2].error == "ValueError: zero"
    with pytest.raises(ValueError, match="workers must be at least 1"):
        run_each(_square_or_die, [1], workers=0)


def test_a_dying_worker_does_not_end_the_run() -> None:
    outcomes = run_each(_square_or_die, [2, -1], workers=2)
    assert len(outcomes) == 2
    assert not outcomes[1].ok and "BrokenProcessPool" in str(outcomes[1].error)
    # the job beside it either finished before the crash or is reported with it, never lost
    assert outcomes[0].value == 4 or "BrokenProcessPool" in str(outcomes[0].error)


def test_without_dask_the_local_modes_work_and_a_cluster_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # as if dask were not installed
    assert [o.value for o in run_each(abs, [-2, 3], workers=1)] == [2, 3]
    with pytest.raises(ImportError, match=r"pip install 'dask\[distributed\]'"):
        run_each(abs, [-2, 3], client="tcp://127.0.0.1:8786")


def test_two_captures_with_one_name_in_a_session_are_stored_apart(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    shutil.copy(LAB / "normal.har", tmp_path / "a" / "session.har")
    shutil.copy(LAB / "incognito_toggle_off.har", tmp_path / "b" / "session.har")
    sessions = [Session("one", [tmp_path / "a" / "session.har", tmp_path / "b" / "session.har"])]
    folder = tmp_path / "captures"
    first = Study(sessions, workers=1).run(out=folder)
    assert len(first.requests) == 18 + 14
    parts = sorted(p.parent.name for p in (folder / "requests").rglob("*.parquet"))
    assert parts == ["capture=session.har", "capture=session.har-2"]
    _assert_same_study(first, Study(sessions, workers=1).run(out=folder))


def test_partitions_are_given_as_by_looking_at_every_entry(tmp_path: Path) -> None:
    """The store tracks who holds each partition; it must give what a scan of all entries and
    reservations would, through any order of reserving and recording (random, seeded)."""
    import random

    from toolkit.study.store import ResultStore

    def scanned(store: ResultStore, job: CaptureJob) -> str:  # the rule, by brute force
        own = store.key(job)
        taken = {e["partition"] for k, e in store.entries.items() if k != own}
        taken |= {p for k, p in store._reserved.items() if k != own}
        base, n = f"session={job.session}/capture={job.spec.path.name}", 1
        partition = base
        while partition in taken:
            n += 1
            partition = f"{base}-{n}"
        return partition

    rng = random.Random(7)
    jobs = [
        CaptureJob(session, CaptureSpec(tmp_path / folder / "same.har"), None, None, (), False)
        for session in ("one", "two")
        for folder in "abcdef"
    ]
    empty = CaptureResult({}, [], [])
    store = ResultStore(tmp_path / "store")
    for step in range(1500):
        job = rng.choice(jobs)
        if rng.random() < 0.9 or store.key(job) not in store._reserved:
            expected = scanned(store, job)
            assert store.reserve(job) == expected, step
        else:
            store.record(job, empty, "sha", "settings")
        if step % 6 == 5:  # and a store opened again from its index (reservations are gone)
            store.save()
            store = ResultStore(tmp_path / "store")
    assert len({e["partition"] for e in store.entries.values()}) == len(store.entries) > 4
    # a capture that moves to a lower partition frees the one its entry had
    first, second, third = (CaptureJob("s", CaptureSpec(tmp_path / f / "x.har"), None, None, (), False) for f in "xyz")
    store = ResultStore(tmp_path / "moves")
    assert [store.reserve(first), store.reserve(second)] == ["session=s/capture=x.har", "session=s/capture=x.har-2"]
    store.record(second, empty, "sha", "settings")  # the first never finished
    store.save()
    store = ResultStore(tmp_path / "moves")
    assert store.reserve(second) == "session=s/capture=x.har"
    store.record(second, empty, "sha", "settings")
    assert store.reserve(third) == scanned(store, third) == "session=s/capture=x.har-2"


def test_identifier_candidates_are_found_in_the_workers_and_merged_to_the_same_table(
    serial: Study, monkeypatch: pytest.MonkeyPatch
) -> None:
    from toolkit.identifiers import discover_identifiers, request_candidates

    # the table the parent would find by unwrapping every request of the stacked table itself
    modes = {s.name: s.mode for s in serial.sessions if s.mode}
    organisations = dict(zip(serial.endpoints["host"].astype(object), serial.endpoints["organisation"], strict=True))
    organisations = {h: o for h, o in organisations.items() if isinstance(h, str) and isinstance(o, str)}
    from_parent = discover_identifiers(
        serial.requests,
        known=serial.known_identifiers,
        modes=modes,
        organisations=organisations,
        masked=serial.mask_identifiers,
        leaks=serial.leaks,
    )
    assert len(from_parent) > 0
    pd.testing.assert_frame_equal(serial.identifiers, from_parent)

    # each worker's result carries one candidate list per request row, as the parent would find them
    job = next(j for j in serial.jobs() if j.spec.path.suffix == ".har")
    result = toolkit.study.analyse_capture(job)
    assert result.candidates == request_candidates(result.tables["requests"])
    assert any(c.kind == "distinct_id" for found in result.candidates for c in found)

    # and the parent unwraps no request: the study's table comes from the workers' candidates alone
    def no_unwrapping(requests: pd.DataFrame) -> list[list[object]]:
        raise AssertionError("the parent unwrapped the requests again")

    monkeypatch.setattr("toolkit.identifiers.request_candidates", no_unwrapping)
    for workers in (1, 2):
        _assert_same_study(serial, Study.from_manifest(MANIFEST, root=DATA).run(workers=workers))


def test_resumed_captures_bring_their_identifier_candidates_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "captures"
    first = Study.from_manifest(MANIFEST, root=DATA).run(workers=1, out=folder)
    stored = pd.read_parquet(folder / "candidates")
    assert list(stored.columns[:7]) == list(toolkit.study.CANDIDATE_COLUMNS)
    assert set(stored["session"]) == {s.name for s in first.sessions}
    assert (stored["value"] == "8e5fbce04dc91566").any()

    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError("a stored capture was analysed or unwrapped again")

    monkeypatch.setattr(toolkit.study.store, "analyse_capture", no_work)
    monkeypatch.setattr("toolkit.identifiers.request_candidates", no_work)
    _assert_same_study(first, Study.from_manifest(MANIFEST, root=DATA).run(workers=1, out=folder))
    monkeypatch.undo()

    # a missing candidates file makes its capture stale, not silently without identifiers
    victim = next((folder / "candidates").rglob("*.parquet"))
    victim.unlink()
    analysed = _count_analysed(monkeypatch)
    _assert_same_study(first, Study.from_manifest(MANIFEST, root=DATA).run(workers=1, out=folder))
    assert analysed == [toolkit.study.store._partition_values("/".join(victim.parent.parts[-2:]))["capture"]]


def test_candidates_for_other_requests_are_refused() -> None:
    from toolkit.identifiers import discover_identifiers, request_candidates

    requests = toolkit.load(LAB / "normal.har").requests
    candidates = request_candidates(requests)
    with pytest.raises(ValueError, match="candidates for 17 requests, but the table has 18 rows"):
        discover_identifiers(requests, candidates=candidates[:-1])
    pd.testing.assert_frame_equal(discover_identifiers(requests, candidates=candidates), discover_identifiers(requests))

"""The :class:`Study`: several labelled sessions analysed together, compared, and checked.

Why one module: a :class:`Study` is one class whose methods (run, derived tables, comparisons) share its
per-capture state; the few helpers it alone uses sit beside it.

One capture shows traffic; a finding compares sessions: "incognito still sends URLs", "the toggle
stops it", "the token links incognito to normal browsing". A Study runs the per-capture work
(:mod:`toolkit.study.job`), stacks the tables with a ``session`` column, and derives endpoints,
leaks and identifiers across them.

A Study knows nothing of claims: a verdict is a reading of a study, made above it
(:mod:`toolkit.claims`, :mod:`toolkit.verdicts`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.endpoints.classify import join_endpoints, with_endpoints
from toolkit.identifiers import Candidate, discover_identifiers
from toolkit.leaks.direction import sent_by_device
from toolkit.output_folder import replace_file
from toolkit.schema import TABLES
from toolkit.study.columns import Columns, concat_tables, stack_columns
from toolkit.study.job import CaptureJob, CaptureResult, _capture_leaks, warm_up
from toolkit.study.manifest import CAPTURE_TABLES, ManifestError, Session, read_manifest
from toolkit.study.store import STORED_TABLES, ResultStore, StoredJob, analyse_and_store, write_result_files

__all__ = ["LEAK_KINDS", "Study"]

#: Needle kinds counted per destination by :meth:`Study.compare`.
LEAK_KINDS = ("url", "url_part", "search_term", "host", "identifier")


class Study:
    """Several sessions analysed together; tables are computed on first use and kept.

    Args:
        sessions: the sessions (names must differ).
        known_identifiers: identifiers the researcher knows (``{"ANDROID_ID": "..."}``).
        vendors: organisations that make the software under study (roles: ``platform``).
        sites: extra first-party sites (visited URLs and HAR pages are added).
        mask_identifiers: shorten identifier values in the ``identifiers`` table.
        strict: raise on the first unreadable capture or damaged record (:func:`toolkit.load`);
            the captures are then read in this process, one after the other.
        workers, client, out, progress: where and how the per-capture work runs (see :meth:`run`).
    """

    def __init__(
        self,
        sessions: Sequence[Session],
        *,
        known_identifiers: Mapping[str, str] | None = None,
        vendors: Sequence[str] = (),
        sites: Sequence[str] = (),
        name: str = "",
        description: str = "",
        scope: str = "",
        mask_identifiers: bool = False,
        source: str | None = None,
        strict: bool = False,
        workers: int | None = None,
        client: Any = None,
        out: str | os.PathLike[str] | None = None,
        progress: bool | None = None,
    ) -> None:
        names = [s.name for s in sessions]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"session names must differ; repeated: {', '.join(duplicates)}")
        if not sessions:
            raise ValueError("a study needs at least one session")
        self.sessions = list(sessions)
        self.known_identifiers = dict(known_identifiers or {})
        self.vendors = tuple(vendors)
        self.sites = tuple(sites)
        self.name = name
        self.description = description
        self.scope = scope
        """What the verdicts apply to (e.g. "the lab's captures, not the vendor's phones"), shown in reports."""
        self.mask_identifiers = mask_identifiers
        self.source = source
        """The manifest the study was read from, if any."""
        self.strict = strict
        """Raise on the first unreadable capture or damaged record instead of reporting it."""
        self._tables: dict[str, pd.DataFrame] | None = None
        self._extra_problems: list[tuple[str, str, str]] = []
        self.notes: list[str] = []
        """What could not be done (a missing component, a capture that did not load)."""
        self._provenance: list[dict[str, Any]] = []
        self.workers = workers
        """Local worker processes for the per-capture work (``None``: the CPU count; ``1``: serial)."""
        self.client = client
        """A ``dask.distributed.Client`` or scheduler address to run the captures on, or ``None``."""
        self.out = Path(out) if out is not None else None
        """Folder of per-capture Parquet results and their index, for resuming (see :meth:`run`)."""
        self.progress = progress
        """Show progress on stderr (``None``: when stderr is a terminal)."""

    # --- building -------------------------------------------------------------------------

    @classmethod
    def from_manifest(
        cls,
        path: str | os.PathLike[str],
        *,
        strict: bool = False,
        root: str | os.PathLike[str] | None = None,
        allow_outside: bool = False,
    ) -> Study:
        """Read a TOML manifest (keys: :data:`toolkit.study.manifest.MANIFEST_KEYS`); paths in it are
        relative to the manifest's folder. Its ``[[claim]]`` entries are read by
        :func:`toolkit.verdicts.read_claims`, above the study.

        Args:
            strict: see :class:`Study`.
            root: the folder the files the manifest names must lie in (default: the manifest's
                folder, as ``data/xiaomi-2020.toml`` with its captures in ``data/lab``).
            allow_outside: let the manifest name files anywhere (only for a manifest you trust).

        Raises:
            ManifestError: the file is not TOML, an entry is missing or wrong (names the entry and
                the key), or a file it names is missing, outside ``root`` or not a regular file.
        """
        manifest = read_manifest(path, root=root, allow_outside=allow_outside)
        path = manifest.path
        meta = manifest.study
        try:
            return cls(
                manifest.sessions,
                known_identifiers=manifest.identifiers,
                vendors=tuple(meta.get("vendors", ())),
                sites=tuple(meta.get("sites", ())),
                name=str(meta.get("name", path.stem)),
                description=str(meta.get("description", "")),
                scope=str(meta.get("scope", "")),
                mask_identifiers=bool(meta.get("mask_identifiers", False)),
                source=str(path),
                strict=strict,
            )
        except ValueError as exc:
            raise ManifestError(f"{path}: {exc}") from None

    # --- running --------------------------------------------------------------------------

    def session(self, name: str) -> Session:
        """The session called ``name``."""
        for session in self.sessions:
            if session.name == name:
                return session
        raise KeyError(f"no session {name!r}; sessions are {', '.join(s.name for s in self.sessions)}")

    def select(self, selector: str | Sequence[str] | Mapping[str, Any] | None) -> list[Session]:
        """Sessions by name (or names), or by labels: ``{"mode": "incognito", "toggles.x": False}``.

        >>> study = Study([Session("a", [], mode="normal"), Session("b", [], mode="incognito")])
        >>> [s.name for s in study.select({"mode": "incognito"})], [s.name for s in study.select(None)]
        (['b'], ['a', 'b'])
        """
        if selector is None:
            return list(self.sessions)
        if isinstance(selector, str):
            return [self.session(selector)]
        if isinstance(selector, Mapping):
            return [s for s in self.sessions if all(_label_matches(s.labels().get(k), v) for k, v in selector.items())]
        return [self.session(n) for n in selector]

    def run(
        self,
        *,
        workers: int | None = None,
        client: Any = None,
        out: str | os.PathLike[str] | None = None,
        progress: bool | None = None,
    ) -> Study:
        """Load and analyse everything now (otherwise done on first use, once); returns the study.

        The per-capture work (:func:`toolkit.analysis.analyze`: load, decrypt, find leaks) runs in
        parallel; the hosts of every capture are then classified once, with the study's vendors and
        visited sites, for every table and the leaks alike. The results are the same tables in the
        same row order wherever it runs. A capture that fails becomes ``problems`` rows and a note;
        the others go on.

        Args:
            workers: local worker processes (default: the CPU count); ``1`` runs here, serially.
            client: a ``dask.distributed.Client`` or a scheduler address (``"tcp://host:8786"``)
                to run the captures on a Dask cluster instead (needs ``dask[distributed]``).
            out: a folder for per-capture results as Parquet datasets partitioned by
                ``session=``/``capture=`` (``out/requests/session=a/capture=b.har/part-0.parquet``)
                with an ``index.json``; captures already there with the same SHA-256 and the same
                settings are read back instead of analysed again (resume). Workers write their
                captures' files themselves; a Dask worker that does not see the folder (another
                machine) sends its results here, where they are written as they arrive.
            progress: show progress on stderr; ``None`` shows it when stderr is a terminal.

        Raises:
            OSError: ``out`` cannot be written to (after the analysis; what was stored is indexed).
        """
        if workers is not None:
            self.workers = workers
        if client is not None:
            self.client = client
        if out is not None:
            self.out = Path(out)
            self._tables = None  # the results are wanted in that folder: (re)computed or read back
        if progress is not None:
            self.progress = progress
        self._ensure()
        return self

    def _ensure(self) -> dict[str, pd.DataFrame]:
        if self._tables is None:
            self._tables = self._analyse()
        return self._tables

    def _note(self, capture: str, kind: str, message: str) -> None:
        self.notes.append(f"{capture}: {message}")
        self._extra_problems.append((capture, kind, message))

    def jobs(self) -> list[CaptureJob]:
        """The per-capture work of the study, in session and capture order."""
        identifiers = tuple(sorted(self.known_identifiers.items()))
        out = []
        for session in self.sessions:
            visited = self._visited(session)
            for spec in session.specs:
                out.append(
                    CaptureJob(
                        session.name,
                        spec,
                        session.package,
                        tuple(visited) if visited is not None else None,
                        identifiers,
                        self.strict,
                    )
                )
        return out

    def _run_jobs(self, jobs: Sequence[CaptureJob]) -> list[CaptureResult | str]:
        """Each job's result (or why it has none), from the store or from the workers."""
        from toolkit.parallel import Progress, run_each

        store = ResultStore(self.out) if self.out is not None else None
        results: list[CaptureResult | str | None] = [None] * len(jobs)
        digests: list[str] = [""] * len(jobs)
        todo: list[int] = []
        for i, job in enumerate(jobs):
            if store is not None:
                digests[i] = store.settings_digest(job)
                # a capture is hashed here only to check an earlier result: a new one's SHA-256 comes
                # from its load, in the worker
                key = store.fingerprint(job, digests[i]) if store.has(job) else None
                results[i] = store.read(job, *key) if key is not None else None
            if results[i] is None:
                todo.append(i)
        display = Progress(len(todo), enabled=self.progress)
        # Workers write their results to the store themselves. A Dask cluster's workers may not see
        # this folder: they write only if they see a witness file made in it now; the results of
        # those that do not are written here, each as it arrives.
        local = self.client is None or self.strict
        witness = store.witness() if store is not None and not local else None
        tasks, stored = [], set()
        for i in todo:
            entry = ResultStore.key(jobs[i])
            if store is None or entry in stored:  # not stored, or one file twice in a session
                tasks.append(StoredJob(jobs[i]))
            else:
                stored.add(entry)
                tasks.append(StoredJob(jobs[i], str(store.folder), store.reserve(jobs[i]), witness))

        def done(index: int, outcome: Any) -> None:
            task, result = tasks[index], outcome.value
            error = outcome.error
            if error is None and result is not None and result.failed:
                error = result.notes[0][2]
            if (
                store is not None
                and result is not None
                and task.partition
                and not (result.failed or result.stored or result.store_error)
            ):
                try:
                    write_result_files(store.folder, task.partition, result)
                except OSError as exc:
                    result.store_error = f"{store.folder}: cannot store the result of {task.job.spec.path.name}: {exc}"
            display.done(f"{task.job.session}/{task.job.spec.path.name}", error)

        try:
            if self.strict:  # the first error is raised as it is, from this process
                outcomes = run_each(analyse_and_store, tasks, workers=1, on_done=done, catch=False)
            else:
                outcomes = run_each(
                    analyse_and_store, tasks, workers=self.workers, client=self.client, on_done=done, prepare=warm_up
                )
        finally:
            if witness is not None and store is not None:
                store.drop_witness(witness)
        display.close()
        store_errors = []
        for i, task, outcome in zip(todo, tasks, outcomes, strict=True):
            if outcome.value is None:
                results[i] = f"capture not analysed: {outcome.error}"
                continue
            results[i] = result = outcome.value
            if store is not None and result.sha256 is not None and not result.failed and task.partition:
                if result.store_error is None:
                    store.record(task.job, result, result.sha256, digests[i])
                else:
                    store_errors.append(result.store_error)
        if store is not None:
            store.save()
            if store_errors:  # the analysis is done, but the study cannot be kept where it was asked to be
                raise OSError(f"{store_errors[0]} ({len(store_errors)} of {len(todo)} results not stored)")
        return [r if r is not None else "capture not analysed" for r in results]

    def _analyse(self) -> dict[str, pd.DataFrame]:
        self._extra_problems = []
        self.notes = []
        self._provenance = []
        per_table: dict[str, list[Columns]] = {name: [] for name in STORED_TABLES}
        candidates: list[list[Candidate]] = []  # one list per request, in the stacked table's row order
        jobs = self.jobs()
        for job, result in zip(jobs, self._run_jobs(jobs), strict=True):
            if isinstance(result, str):
                self._note(job.spec.path.name, "missing", result)
                continue
            if result.provenance is not None:
                self._provenance.append(result.provenance)
            for capture, kind, message in result.notes:
                self._note(capture, kind, message)
            self._extra_problems.extend(result.problems)
            for name, columns in result.columns.items():
                per_table[name].append(columns)
            candidates += result.candidates
        tables = {name: self._in_order(stack_columns(name, per_table[name])) for name in CAPTURE_TABLES}
        leaks = stack_columns("leaks", per_table["leaks"])
        tables.update(self._derive(tables, found_leaks=leaks, candidates=candidates))
        extra = {
            "capture": [c for c, _k, _m in self._extra_problems],
            "kind": [k for _c, k, _m in self._extra_problems],
            "message": [m for _c, _k, m in self._extra_problems],
            "severity": ["warning"] * len(self._extra_problems),
        }
        tables["problems"] = stack_columns("problems", [*per_table["problems"], extra])
        return tables

    def _in_order(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The ``session`` column's categories in the study's session order (for groupby and plots)."""
        if "session" in frame and isinstance(frame["session"].dtype, pd.CategoricalDtype):
            names = pd.Index([s.name for s in self.sessions], dtype=frame["session"].cat.categories.dtype)
            frame["session"] = frame["session"].cat.set_categories(names)
        return frame

    def _derive(
        self,
        tables: Mapping[str, pd.DataFrame],
        keep: Mapping[str, pd.DataFrame] | None = None,
        found_leaks: pd.DataFrame | None = None,
        candidates: Sequence[Sequence[Candidate]] | None = None,
    ) -> dict[str, pd.DataFrame]:
        """Endpoints, leaks and identifiers from the capture tables (those in ``keep`` are kept;
        ``found_leaks`` are the leaks and ``candidates`` the identifier candidates of each request
        that the per-capture work found; without them they are found here), and the capture tables
        with the organisation and role of the study's ``endpoints``: every table and the leaks
        take them from this one classification (its vendors, its visited sites)."""
        keep = keep or {}
        out: dict[str, pd.DataFrame] = {}
        out["endpoints"] = keep["endpoints"] if "endpoints" in keep else self._endpoints(tables)
        out.update(with_endpoints(tables, out["endpoints"]))
        tables = {**tables, **out}
        if "leaks" in keep:
            out["leaks"] = keep["leaks"]
        elif found_leaks is not None:
            out["leaks"] = self._leaks_in_context(found_leaks, out["endpoints"])
        else:
            out["leaks"] = self._leaks(tables["requests"], out["endpoints"])
        if "identifiers" in keep:
            out["identifiers"] = keep["identifiers"]
        else:
            if candidates is not None and len(candidates) != len(tables["requests"]):
                candidates = None  # not the candidates of these requests: found again here
            out["identifiers"] = discover_identifiers(
                tables["requests"],
                known=self.known_identifiers,
                modes={s.name: s.mode for s in self.sessions if s.mode},
                organisations=_host_map(out["endpoints"], "organisation"),
                masked=self.mask_identifiers,
                leaks=out["leaks"],
                candidates=candidates,
            )
        return out

    def _context(self, tables: Mapping[str, pd.DataFrame]) -> Any:
        from toolkit.endpoints import Context

        sites = list(self.sites)
        for session in self.sessions:
            sites += self._visited(session) or []
        inferred = Context.infer({"requests": tables["requests"]})
        sites += [s for s in inferred.sites if s not in sites]
        return Context(sites=tuple(dict.fromkeys(sites)), vendors=self.vendors)

    def _endpoints(self, tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
        try:
            from toolkit.endpoints import classify

            return classify(
                {k: v for k, v in tables.items() if k in ("requests", "flows", "dns")}, self._context(tables)
            )
        except Exception as exc:
            self._note("study", "missing", f"endpoints not classified ({type(exc).__name__}: {exc}); roles unknown")
            hosts = pd.unique(tables["requests"]["host"].dropna().to_numpy(dtype=object)).tolist()
            return TABLES["endpoints"].frame({"host": hosts, "role": ["unknown"] * len(hosts)})

    def _visited(self, session: Session) -> list[str] | None:
        if session.visited is None:
            return None
        if isinstance(session.visited, str | os.PathLike):
            from toolkit.leaks.needles import read_visited

            return read_visited(session.visited)
        return list(session.visited)

    def _leaks(self, requests: pd.DataFrame, endpoints: pd.DataFrame) -> pd.DataFrame:
        frames = []
        for session in self.sessions:
            mine = requests[requests["session"] == session.name]
            if not len(mine):
                continue
            visited = self._visited(session)
            for capture, part in mine.groupby("capture", observed=True, sort=False):
                leaks, notes, problems = _capture_leaks(
                    part, str(capture), visited, self.known_identifiers, TABLES["endpoints"].empty()
                )
                for note in notes:
                    self._note(*note)
                self._extra_problems.extend(problems)
                if leaks is not None:
                    frames.append(leaks)
        return self._leaks_in_context(concat_tables("leaks", frames), endpoints)

    def _leaks_in_context(self, leaks: pd.DataFrame, endpoints: pd.DataFrame) -> pd.DataFrame:
        """The stacked per-capture leaks (found without organisation and role) with both joined from
        the study's ``endpoints`` (its visited sites, its vendors): the one place they are set."""
        leaks = self._in_order(leaks)
        if len(leaks):
            joined = join_endpoints(leaks, endpoints)
            leaks["organisation"] = joined["organisation"].astype("string")
            leaks["role"] = joined["role"].astype("string").astype("category")
        return TABLES["leaks"].validate(leaks)

    # --- tables ---------------------------------------------------------------------------

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table: requests, flows, dns, tls, endpoints, leaks, identifiers, problems."""
        return dict(self._ensure())

    @property
    def provenance(self) -> list[dict[str, Any]]:
        """Where each capture that was read came from (path, size, sha256, format, tool, key logs),
        as :meth:`toolkit.capture.Provenance.record` gives it, in the order of the sessions."""
        self._ensure()
        return list(self._provenance)

    @property
    def requests(self) -> pd.DataFrame:
        return self._ensure()["requests"]

    @property
    def flows(self) -> pd.DataFrame:
        return self._ensure()["flows"]

    @property
    def dns(self) -> pd.DataFrame:
        return self._ensure()["dns"]

    @property
    def tls(self) -> pd.DataFrame:
        return self._ensure()["tls"]

    @property
    def endpoints(self) -> pd.DataFrame:
        return self._ensure()["endpoints"]

    @property
    def leaks(self) -> pd.DataFrame:
        return self._ensure()["leaks"]

    @property
    def identifiers(self) -> pd.DataFrame:
        return self._ensure()["identifiers"]

    @property
    def problems(self) -> pd.DataFrame:
        return self._ensure()["problems"]

    @property
    def datatypes(self) -> pd.DataFrame:
        """What each request sent, by data type (:mod:`toolkit.datatypes`), over all sessions, with the
        destination's organisation and role from ``endpoints``. Found on first use, then kept; then
        too, an SDK payload that could not be read (encrypted) gets a row in ``problems``."""
        from toolkit.datatypes import find_datatypes, problem_rows

        requests = self.requests
        cached = self.__dict__.get("_datatypes")
        if cached is not None and cached[0] is requests:
            return cached[1]
        unread: list[tuple[str, str, str]] = []
        table = find_datatypes(requests, unread)
        if unread:  # in place of those of an earlier reading (a copy by replace_tables keeps them)
            tables = self._ensure()
            earlier = tables["problems"][(tables["problems"]["kind"].astype(object) != "encrypted").to_numpy()]
            tables["problems"] = concat_tables("problems", [earlier, problem_rows(unread)])
        for column in ("organisation", "role"):
            known = _host_map(self.endpoints, column)
            pairs = zip(table[column], table["host"], strict=True)
            filled = [v if isinstance(v, str) else known.get(h) for v, h in pairs]
            table[column] = pd.array(filled, dtype="string")
        table["role"] = table["role"].astype("category")
        self.__dict__["_datatypes"] = (requests, table)
        return table

    def replace_tables(self, **tables: pd.DataFrame) -> Study:
        """A copy of the study with some tables replaced, to ask "what if the data were different".

        Replacing a capture table (``requests``, ``flows``, ``dns``, ``tls``) recomputes the
        endpoints, leaks and identifiers from it, unless they are given too.
        """
        unknown = set(tables) - set(TABLES)
        if unknown:
            raise KeyError(f"no tables {sorted(unknown)}; tables are {', '.join(TABLES)}")
        current = dict(self._ensure())
        copy = Study(
            self.sessions,
            known_identifiers=self.known_identifiers,
            vendors=self.vendors,
            sites=self.sites,
            name=self.name,
            description=self.description,
            scope=self.scope,
            mask_identifiers=self.mask_identifiers,
            source=self.source,
            strict=self.strict,
            workers=self.workers,
            client=self.client,
            out=self.out,
            progress=self.progress,
        )
        copy._extra_problems = []
        copy.notes = list(self.notes)
        copy._provenance = list(self._provenance)
        current.update({k: TABLES[k].validate(v) for k, v in tables.items()})
        derived = ("endpoints", "leaks", "identifiers")
        if set(tables) & set(CAPTURE_TABLES):
            current.update(copy._derive(current, keep={k: v for k, v in tables.items() if k in derived}))
        copy._tables = current
        return copy

    def sessions_table(self) -> pd.DataFrame:
        """One row per session: its labels and row counts."""
        rows = []
        tables = self._ensure()
        for session in self.sessions:
            row = session.labels()
            row["captures"] = [str(s.path) for s in session.specs]
            for name in ("requests", "flows", "tls", "leaks"):
                frame = tables[name]
                row[name] = int((frame["session"] == session.name).sum()) if len(frame) else 0
            rows.append(row)
        return pd.DataFrame(rows)

    # --- comparison -----------------------------------------------------------------------

    def compare(self) -> pd.DataFrame:
        """Per session and destination organisation: requests, bytes sent, leaks by needle kind.

        Tidy: one row per (session, organisation); hosts no list knows are grouped under their
        registrable domain. Columns: session, mode, organisation, role, hosts, requests,
        bytes_up (URL, headers and body of the requests), leaks, leaks_<kind> for
        :data:`LEAK_KINDS`, referer_leaks, and inferred_leaks: those of ``leaks`` whose needle was
        inferred from the capture (no browsing log), shown apart because they are a reading, not a given.
        """
        tables = self._ensure()
        requests, leaks, endpoints = tables["requests"], tables["leaks"], tables["endpoints"]
        destination = _destination_map(endpoints)
        role = _host_map(endpoints, "role")
        frame = pd.DataFrame(
            {
                "session": requests["session"].astype(object),
                "host": requests["host"].astype(object),
                "bytes_up": [_request_bytes(r) for r in requests.to_dict("records")],
            }
        )
        frame["organisation"] = [destination.get(h, h) for h in frame["host"]]
        frame["role"] = [role.get(h, "unknown") for h in frame["host"]]
        grouped = frame.groupby(["session", "organisation"], sort=False, dropna=False)
        out = grouped.agg(
            role=("role", lambda s: ", ".join(sorted(set(s)))),
            hosts=("host", lambda s: len(set(s))),
            requests=("host", "size"),
            bytes_up=("bytes_up", "sum"),
        ).reset_index()
        leaks = sent_by_device(leaks)  # a value a server sent back is not a leak by the device
        lk = pd.DataFrame(
            {
                "session": leaks["session"].astype(object),
                "organisation": [destination.get(h, h) for h in leaks["host"].astype(object)],
                "needle_kind": leaks["needle_kind"].astype(object),
                "kind": leaks["kind"].astype(object),
                "needle_source": leaks["needle_source"].astype(object),
            }
        )
        counts = {}
        for column, mask in (
            [("leaks", lk["kind"].notna())]
            + [(f"leaks_{k}", lk["needle_kind"] == k) for k in LEAK_KINDS]
            + [("referer_leaks", lk["kind"] == "referer"), ("inferred_leaks", lk["needle_source"] == "inferred")]
        ):
            counts[column] = lk[mask].groupby(["session", "organisation"]).size()
        for column, series in counts.items():
            index = pd.MultiIndex.from_frame(out[["session", "organisation"]])
            out[column] = series.reindex(index, fill_value=0).to_numpy()
        modes = {s.name: s.mode for s in self.sessions}
        out.insert(1, "mode", [modes.get(s) for s in out["session"]])
        order = {s.name: i for i, s in enumerate(self.sessions)}
        out = out.sort_values(
            ["session", "requests"], key=lambda c: c.map(order) if c.name == "session" else -c, kind="stable"
        )
        return out.reset_index(drop=True).astype(
            {"session": "category", "mode": "string", "organisation": "string", "role": "string"}
        )

    def diff(
        self, before: str | Sequence[str] | Mapping[str, Any], after: str | Sequence[str] | Mapping[str, Any]
    ) -> pd.DataFrame:
        """What appears or disappears between two sessions (or two groups of sessions).

        Items: destinations contacted (``destination``), leak kinds per destination
        (``leak:url``, ``leak:search_term`` ...) and identifiers (``identifier``).
        Columns: item, what, organisation, before, after, change (appears / disappears / both).
        """
        a = {s.name for s in self.select(before)}
        b = {s.name for s in self.select(after)}
        tables = self._ensure()
        destination = _destination_map(tables["endpoints"])
        items: dict[tuple[str, str, str], set[str]] = {}

        def add(what: str, item: str, organisation: str, session: str) -> None:
            items.setdefault((what, item, organisation), set()).add(session)

        for session, host in zip(
            tables["requests"]["session"].astype(object), tables["requests"]["host"].astype(object), strict=True
        ):
            org = destination.get(host, host)
            add("destination", str(org), str(org), session)
        leaks = sent_by_device(tables["leaks"])
        for session, host, kind in zip(
            leaks["session"].astype(object),
            leaks["host"].astype(object),
            leaks["needle_kind"].astype(object),
            strict=True,
        ):
            org = destination.get(host, host)
            add(f"leak:{kind}", f"{kind} to {org}", str(org), session)
        for row in tables["identifiers"].itertuples(index=False):
            orgs = ", ".join(row.organisations) or ", ".join(row.hosts)
            for session in row.sessions:
                add("identifier", str(row.value), orgs, session)
        rows = []
        for (what, item, org), sessions in items.items():
            in_a, in_b = bool(sessions & a), bool(sessions & b)
            if not (in_a or in_b):
                continue
            change = "both" if in_a and in_b else ("disappears" if in_a else "appears")
            rows.append(
                {"what": what, "item": item, "organisation": org, "before": in_a, "after": in_b, "change": change}
            )
        out = pd.DataFrame(rows, columns=["what", "item", "organisation", "before", "after", "change"])
        return out.sort_values(["change", "what", "item"], kind="stable").reset_index(drop=True)

    # --- output ---------------------------------------------------------------------------

    def write(
        self,
        out: str | os.PathLike[str],
        fmt: str = "csv",
        *,
        also: Mapping[str, pd.DataFrame] | None = None,
        summary: Mapping[str, Any] | None = None,
    ) -> list[Path]:
        """Write every table (with its ``session`` column), ``sessions``, ``comparison`` and
        ``summary.json`` to the folder ``out``.

        Args:
            also: more tables to write beside them (the verdicts of :func:`toolkit.verdicts.write_study`).
            summary: more entries for ``summary.json``, after its row counts.
        """
        from toolkit.export import write_table

        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        tables = self.tables
        problems = tables["problems"].copy()
        owner = {spec.path.name: session.name for session in self.sessions for spec in session.specs}
        problems.insert(
            1, "session", pd.array([owner.get(c) for c in problems["capture"].astype(object)], dtype="string")
        )
        tables["problems"] = problems
        tables["sessions"] = self.sessions_table()
        tables["comparison"] = self.compare()
        tables.update(also or {})
        written = [write_table(frame, folder / name, fmt) for name, frame in tables.items()]  # type: ignore[arg-type]
        record = {
            "study": self.name,
            "manifest": self.source,
            "sessions": [s.labels() for s in self.sessions],
            "rows": {name: len(frame) for name, frame in tables.items()},
            **(summary or {}),
            "notes": self.notes,
        }
        text = json.dumps(record, indent=2, default=str) + "\n"
        replace_file(folder / "summary.json", lambda temporary: Path(temporary).write_text(text))
        return [*written, folder / "summary.json"]

    def __repr__(self) -> str:
        sessions = ", ".join(f"{s.name} ({s.mode or '-'}, {len(s.specs)} captures)" for s in self.sessions)
        return f"<Study {self.name or '(unnamed)'}: {sessions}>"


def _label_matches(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, list | tuple | set):
        return any(_label_matches(actual, w) for w in wanted)
    if isinstance(actual, str) and isinstance(wanted, str):
        return actual.lower() == wanted.lower()
    return bool(actual == wanted)


def _host_map(endpoints: pd.DataFrame, column: str) -> dict[str, Any]:
    return {
        h: v
        for h, v in zip(endpoints["host"].astype(object), endpoints[column].astype(object), strict=True)
        if isinstance(h, str) and v is not None and v is not pd.NA
    }


def _destination_map(endpoints: pd.DataFrame) -> dict[str, str]:
    """Host → organisation, or the registrable domain when no list knows the owner."""
    out = {}
    for host, org, domain in zip(
        endpoints["host"].astype(object),
        endpoints["organisation"].astype(object),
        endpoints["registrable_domain"].astype(object),
        strict=True,
    ):
        if isinstance(host, str):
            out[host] = org if isinstance(org, str) else (domain if isinstance(domain, str) else host)
    return out


def _request_bytes(row: Mapping[str, Any]) -> int:
    size = len(str(row.get("url") or ""))
    headers = row.get("request_headers")
    if isinstance(headers, list | tuple):
        size += sum(len(str(k)) + len(str(v)) + 4 for k, v in headers)
    body = row.get("body")
    if isinstance(body, bytes | bytearray):
        size += len(body)
    return size

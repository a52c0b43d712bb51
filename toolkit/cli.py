"""The command line: ``python -m toolkit analyze CAPTURE --out DIR`` and friends.

Exit status: 0 on success, 2 when the input cannot be read (one line on stderr naming the file and
the reason, no traceback), 1 for anything else.

Everything printed goes through :func:`toolkit.terminal.for_terminal`: what a capture wrote (a tool
name, a host, a message quoting a record) cannot drive the terminal. ``--out`` folders hold the
tables of the last run only (:class:`toolkit.output_folder.FreshFolder`); the stale tables of an
earlier run are removed and named.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from toolkit.errors import CaptureError
from toolkit.output_folder import FreshFolder, refuse_linked_subfolders, replace_file
from toolkit.terminal import for_terminal

if TYPE_CHECKING:
    import pandas as pd

    from toolkit.capture import Capture
    from toolkit.export import ExportFormat

# pandas, matplotlib and the readers are imported by the command that needs them, not here:
# `--help` and a mistyped option answer at once (tests/test_cli_startup.py, bench/bench_startup.py).

__all__ = ["main"]

EXAMPLES = """examples:
  python -m toolkit analyze session.har --out results/
  python -m toolkit analyze phone.pcapng --keylog phone.keylog --visited urls.txt --id ANDROID_ID=8e5fbce04dc91566 \\
      --vendor Xiaomi --out results/ --report
  python -m toolkit analyze data/xiaomi-2020.toml --out findings/ --report
  python -m toolkit demo                 # the whole pipeline on data/, report in out/demo/report.html
  python -m toolkit lab --out my-lab/    # make the lab's captures yourself
"""
DEMO_STUDY = Path("data/xiaomi-2020.toml")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m toolkit",
        description="Prove what an app or a browser sends home: captures to tables, leaks and verdicts.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_VersionAction)
    commands = parser.add_subparsers(dest="command", required=True)

    analyze = commands.add_parser(
        "analyze",
        help="read a capture (or a study manifest) and write its tables",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    analyze.add_argument("capture", type=Path, help="HAR, pcap or pcapng file, or a study manifest (.toml)")
    _output_options(analyze)
    analyze.add_argument("--keylog", type=Path, help="NSS key log (SSLKEYLOGFILE) to decrypt TLS with")
    analyze.add_argument("--visited", type=Path, help="browsing log: one URL per line, or CSV/JSON with a url column")
    analyze.add_argument(
        "--id",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a known identifier to look for (repeatable), e.g. ANDROID_ID=...",
    )
    analyze.add_argument(
        "--salt",
        action="append",
        default=[],
        metavar="SALT",
        help="a salt the app is known to hash identifiers with (repeatable): "
        "hashes of SALT+value and value+SALT are searched",
    )
    analyze.add_argument(
        "--vendor",
        action="append",
        default=[],
        metavar="ORGANISATION",
        help="maker of the app/browser under study: its hosts get the role `platform`",
    )
    _run_options(analyze)

    demo = commands.add_parser("demo", help="run the whole pipeline on the bundled data and write the report")
    _output_options(demo, default_out=Path("out/demo"))

    commands.add_parser("lab", add_help=False, help="make the lab's sample captures (see `lab --help`)")
    schema = commands.add_parser("schema", help="print the table reference (Markdown)")
    schema.add_argument("--manifest", action="store_true", help="print the study manifest's keys instead")
    return parser


def _run_options(parser: argparse.ArgumentParser) -> None:
    """How ``analyze`` runs: strictness, progress, workers, a cluster, where a manifest may reach."""
    parser.add_argument("--strict", action="store_true", help="fail on the first damaged record")
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bars on stderr for reading, decrypting, leak search and a study's captures "
        "(default: when stderr is a terminal)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="a study's captures on N local processes (default: CPU count; 1: one at a time); "
        "one capture: its requests searched for leaks by N processes, and with N > 1 its data types found "
        "and half of its tables written by a second process (default: 1)",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run a study's captures on a Dask cluster (tcp://host:8786); needs toolkit[scale]",
    )
    parser.add_argument(
        "--study-root",
        type=Path,
        metavar="DIR",
        help="a study manifest may name files under DIR (default: only in the manifest's folder)",
    )
    parser.add_argument(
        "--allow-outside-paths",
        action="store_true",
        help="a study manifest may name files anywhere (only for a manifest you trust)",
    )


class _VersionAction(argparse.Action):
    """``--version``: reads the installed version only when asked (importlib.metadata is slow to load)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        kwargs.setdefault("help", "show the toolkit's version and exit")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        from toolkit.version import toolkit_version

        parser.exit(message=f"toolkit {toolkit_version()}\n")


def _output_options(parser: argparse.ArgumentParser, default_out: Path | None = None) -> None:
    where = (
        f"folder for the tables, summary.json and the report (default: {default_out})"
        if default_out
        else "folder for the tables and summary.json; without --out nothing is written, only a summary is printed"
    )
    parser.add_argument("--out", type=Path, default=default_out, help=where)
    parser.add_argument("--format", choices=["csv", "parquet", "json"], default="csv", help="table file format")
    parser.add_argument(
        "--report", action="store_true", default=default_out is not None, help="also write report.html and report.md"
    )
    parser.add_argument("--mask", action="store_true", help="mask identifiers in the report (for publication)")


def _run_lab(argv: list[str]) -> int:
    """Run ``lab``, which needs the ``lab`` extra (h2, aioquic): a clear message when it is missing."""
    try:
        from toolkit.lab import main as lab_main  # the lab needs ssl, h2 and cryptography: load on demand
    except ModuleNotFoundError as error:
        sys.stderr.write(
            f"error: `lab` needs the optional package {error.name!r}, which is not installed; "
            "install the lab extra: pip install -e '.[lab]' (or `make lab`)\n"
        )
        return 2
    return lab_main(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["lab"]:
        return _run_lab(argv[1:])
    args = _parser().parse_args(argv)
    if args.command == "schema":
        if args.manifest:
            from toolkit.study.manifest import manifest_reference

            sys.stdout.write(manifest_reference())
        else:
            from toolkit.schema import markdown_reference

            sys.stdout.write(markdown_reference())
        return 0
    fmt = cast("ExportFormat", args.format)
    if args.command == "demo":
        if not DEMO_STUDY.is_file():
            print(f"error: {DEMO_STUDY} not found: run the demo from the repository's root", file=sys.stderr)
            return 2
        return _analyze_study(DEMO_STUDY, args.out, fmt, strict=False, report=True, mask=args.mask)
    if args.capture.suffix.lower() == ".toml":
        return _analyze_study(
            args.capture,
            args.out,
            fmt,
            args.strict,
            args.report,
            args.mask,
            workers=args.workers,
            scheduler=args.scheduler,
            root=args.study_root,
            allow_outside=args.allow_outside_paths,
            progress=args.progress,
        )
    return _analyze_capture(args, fmt)


def _say(text: object, *, error: bool = False) -> None:
    """Print ``text`` (with no control character a capture could have put there)."""
    print(for_terminal(text), file=sys.stderr if error else sys.stdout)


def _fail(message: object) -> int:
    _say(f"error: {for_terminal(message, one_line=True)}", error=True)
    return 2


def _removed(folder: FreshFolder) -> None:
    if folder.removed:
        _say(f"removed from {folder.folder}/ the tables of an earlier run: {', '.join(folder.removed)}")


def _analyze_capture(args: argparse.Namespace, fmt: ExportFormat) -> int:
    from toolkit.analysis import analyze
    from toolkit.leaks.needles import read_visited

    workers = 1 if args.workers is None else args.workers
    if workers < 1:
        return _fail(f"workers must be at least 1, not {workers}")
    visited = None
    if args.visited is not None:  # read first: a mistyped browsing log fails before a long read
        try:
            visited = read_visited(args.visited)
        except ValueError as exc:
            return _fail(f"--visited {exc}")
    try:
        result = analyze(
            args.capture,
            keylog=args.keylog,
            visited=visited,
            identifiers=args.id,
            vendors=args.vendor,
            salts=args.salt,
            strict=args.strict,
            workers=workers,
            progress=args.progress,
        )
    except CaptureError as exc:
        return _fail(exc)
    except (OSError, ValueError) as exc:  # a malformed --id
        return _fail(exc)
    capture, visited_note = result.capture, result.visited_note
    if args.out is not None:
        try:
            with FreshFolder(args.out) as folder:
                _write(capture, args.out, fmt, args.progress, workers)
                if args.report:
                    _report(args.out, dict(capture.tables), [capture.provenance], fmt, args.mask, _tables(folder, fmt))
        except OSError as exc:
            return _fail(f"cannot write to {args.out}: {exc.strerror or exc}")
        _removed(folder)
    _say(_human_summary(capture, args.out, visited_note, report=args.report))
    for note in result.notes:  # what could not be done (the leak search failed)
        _say(f"note: {for_terminal(note, one_line=True)}")
    return 0


def _analyze_study(
    manifest: Path,
    out: Path | None,
    fmt: ExportFormat,
    strict: bool,
    report: bool,
    mask: bool,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    root: Path | None = None,
    allow_outside: bool = False,
    progress: bool | None = None,
) -> int:
    """`analyze study.toml`: every session's tables with a `session` column, claims.csv, identifiers.csv,
    datatypes.csv.

    With ``--out``, per-capture results are kept in ``out/captures/`` so that a rerun resumes.
    """
    from toolkit.claims import evaluate
    from toolkit.coverage import coverage_line
    from toolkit.export import write_table
    from toolkit.study import ManifestError, Study
    from toolkit.verdicts import read_claims, write_study

    try:
        study = Study.from_manifest(manifest, strict=strict, root=root, allow_outside=allow_outside)
        checks = read_claims(manifest, root=root, allow_outside=allow_outside)
        if out is not None:
            refuse_linked_subfolders(out)  # before the run stores its results in out/captures
        captures = out / "captures" if out is not None else None
        study.run(workers=workers, client=scheduler, out=captures, progress=progress)
    except (ManifestError, CaptureError) as exc:
        return _fail(exc)
    except (ImportError, ValueError) as exc:  # no dask installed; --workers 0
        return _fail(exc)
    except OSError as exc:  # a scheduler that does not answer; an unwritable folder
        return _fail(f"cannot run the study: {exc}")
    claims = evaluate(study, checks)
    if out is not None:
        try:
            with FreshFolder(out) as folder:
                datatypes = study.datatypes  # first: its notices (encrypted payloads) join the problems table
                write_study(study, out, fmt, claims=claims)
                write_table(datatypes, out / "datatypes", fmt)
                if report:
                    tables: dict[str, Any] = {**study.tables, "datatypes": datatypes, "claims": claims}
                    _report(
                        out, tables, study.provenance, fmt, mask or study.mask_identifiers, _tables(folder, fmt), study
                    )
        except OSError as exc:
            return _fail(f"cannot write to {out}: {exc.strerror or exc}")
        _removed(folder)
    _say(for_terminal(repr(study), one_line=True))  # session names come from the manifest
    _say("rows: " + ", ".join(f"{name} {len(frame):,}" for name, frame in study.tables.items()))
    if "flows" in study.tables:
        _say(coverage_line(study.tables["flows"]))
    for row in claims.itertuples(index=False):
        _say(f"{row.verdict:>13}  {for_terminal(row.claim, one_line=True)}: {for_terminal(row.reason, one_line=True)}")
    for note in study.notes:
        _say(f"note: {for_terminal(note, one_line=True)}")
    _say(_where(out, report))
    return 0


def _where(out: Path | None, report: bool) -> str:
    """The last line of a run: where its tables and report are, or that nothing was written."""
    if out is None:
        return "nothing written: give --out DIR to write the tables" + (" and the report" if report else "")
    return f"tables written to {out}/" + (f", report: {out / 'report.html'}" if report else "")


def _tables(folder: FreshFolder, fmt: ExportFormat) -> list[str]:
    """The table files this run wrote into the output folder (the report links to them)."""
    return [name for name in folder.written() if "/" not in name and name.endswith(f".{fmt}")]


def _report(
    out: Path,
    tables: dict[str, Any],
    provenance: list[Any],
    fmt: ExportFormat,
    mask: bool,
    tables_written: list[str] | None = None,
    study: Any = None,
) -> None:
    from toolkit.report import About, write_report

    write_report(
        out,
        tables=tables,
        provenance=provenance,
        command=["python", "-m", "toolkit", *sys.argv[1:]],
        mask_identifiers=mask,
        formats=(fmt,),
        tables_written=tables_written,
        about=About.of_study(study) if study is not None else None,  # name, description, scope, versions
    )


def _two_lanes(tables: list[tuple[str, pd.DataFrame]]) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    """The tables split in two shares of about the same writing work (rows times columns, a column
    of Python objects, such as headers or bodies, counted six times), largest first."""

    def work(frame: pd.DataFrame) -> int:
        return len(frame) * sum(6 if str(dtype) == "object" else 1 for dtype in frame.dtypes)

    lanes: tuple[list[tuple[str, Any]], list[tuple[str, Any]]] = ([], [])
    loads = [0, 0]
    for name, frame in sorted(tables, key=lambda item: -work(item[1])):
        lighter = loads.index(min(loads))
        lanes[lighter].append((name, frame))
        loads[lighter] += work(frame)
    return lanes


def _write_tables(tables: list[tuple[str, pd.DataFrame]], out: Path, fmt: ExportFormat) -> None:
    from toolkit.export import write_table

    for name, frame in tables:
        write_table(frame, out / name, fmt)


def _write(capture: Capture, out: Path, fmt: ExportFormat, progress: bool | None = None, workers: int = 1) -> None:
    """The capture's tables, coverage and summary in ``out``; with ``workers`` > 1 (and a large
    capture), about half of the tables are written by a second process meanwhile."""
    from toolkit.analysis import LANES_FROM
    from toolkit.coverage import decryption_coverage
    from toolkit.export import write_table
    from toolkit.parallel import beside
    from toolkit.progress import counted, wanted

    out.mkdir(parents=True, exist_ok=True)
    tables, written = list(capture.tables.items()), None
    if workers > 1 and len(capture.requests) >= LANES_FROM:
        tables, theirs = _two_lanes(tables)
        written = beside(functools.partial(_write_tables, theirs, out, fmt))
    shown = wanted(progress) and (progress is not None or len(capture.requests) >= 10_000)  # large: slow to write
    for name, frame in counted(tables, len(tables), f"writing to {out}", "table", shown):
        write_table(frame, out / name, fmt)
    if written is not None:
        written()
    if "flows" in capture.tables:
        write_table(decryption_coverage(capture.flows), out / "coverage", fmt)
    summary = capture.summary()
    summary["command"] = ["python", "-m", "toolkit", *sys.argv[1:]]
    text = json.dumps(summary, indent=2, default=str) + "\n"
    replace_file(out / "summary.json", lambda temporary: Path(temporary).write_text(text))


def _human_summary(capture: Capture, out: Path | None, visited_note: str = "", *, report: bool = False) -> str:
    from toolkit.coverage import coverage_line
    from toolkit.leaks.direction import carried_back, sent_by_device

    p = capture.provenance
    lines = [
        f"{p.capture_id}: {p.format}{' (gzip)' if p.compression else ''}, {p.size:,} bytes, "
        f"sha256 {p.sha256[:16]}…, written by {for_terminal(p.tool or 'an unnamed tool', one_line=True)}",
        "rows: " + ", ".join(f"{name} {len(frame):,}" for name, frame in capture.tables.items()),
    ]
    if "flows" in capture.tables:
        lines.append(coverage_line(capture.flows))
    requests = capture.requests
    if len(requests):
        hosts = requests["host"].value_counts().head(5)
        lines.append("top hosts: " + ", ".join(f"{h} ({n})" for h, n in hosts.items()))
    every = capture.tables.get("leaks")
    leaks = None if every is None else sent_by_device(every)
    if visited_note:
        lines.append(visited_note)
    if leaks is not None and len(leaks):
        source = leaks["needle_source"].astype(object)
        for label, part in (("leaks", leaks[source != "inferred"]), ("inferred leaks", leaks[source == "inferred"])):
            if len(part):
                by_host = part.groupby("host", observed=True)["needle"].nunique().sort_values(ascending=False).head(5)
                lines.append(f"{label}: " + ", ".join(f"{h} ({n} values)" for h, n in by_host.items()))
    if every is not None and len(returned := carried_back(every)):
        lines.append(f"carried back by servers (Set-Cookie/Location, not counted as leaks): {len(returned)} findings")
    problems = capture.problems
    if len(problems):
        first = for_terminal(f"{problems.iloc[0]['record']}: {problems.iloc[0]['message']}", one_line=True)
        lines.append(f"problems: {len(problems)} (first: {first[:160]})")
    lines.append(_where(out, report))
    return "\n".join(for_terminal(line, one_line=True) for line in lines)

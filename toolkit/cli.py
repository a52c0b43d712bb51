"""The command line: ``python -m toolkit analyze CAPTURE --out DIR``.

Exit status: 0 on success, 2 when the input cannot be read (one line on stderr naming the file and
the reason, no traceback), 1 for anything else.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import cast

from toolkit.capture import Capture, load, toolkit_version
from toolkit.coverage import coverage_line, decryption_coverage
from toolkit.errors import CaptureError
from toolkit.export import ExportFormat, write_table
from toolkit.schema import markdown_reference

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m toolkit", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"toolkit {toolkit_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    analyze = commands.add_parser("analyze", help="read a capture and write its tables")
    analyze.add_argument("capture", type=Path, help="HAR, pcap or pcapng file (optionally gzip-compressed)")
    analyze.add_argument("--keylog", type=Path, help="NSS key log (SSLKEYLOGFILE) to decrypt TLS with")
    analyze.add_argument("--out", type=Path, help="folder for the tables and summary.json")
    analyze.add_argument("--format", choices=["csv", "parquet", "json"], default="csv")
    analyze.add_argument("--strict", action="store_true", help="fail on the first damaged record")

    commands.add_parser("lab", add_help=False, help="make the lab's sample captures (see `lab --help`)")

    schema = commands.add_parser("schema", help="print the table reference (Markdown)")
    schema.set_defaults(markdown=True)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["lab"]:
        from toolkit.lab import main as lab_main  # the lab needs ssl, h2 and cryptography: load on demand

        return lab_main(argv[1:])
    args = _parser().parse_args(argv)
    if args.command == "schema":
        sys.stdout.write(markdown_reference())
        return 0
    try:
        capture = load(args.capture, keylog=args.keylog, strict=args.strict)
    except CaptureError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.out is not None:
        try:
            _write(capture, args.out, cast(ExportFormat, args.format))
        except OSError as exc:
            print(f"error: cannot write to {args.out}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    print(_human_summary(capture, args.out))
    return 0


def _write(capture: Capture, out: Path, fmt: ExportFormat) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in capture.tables.items():
        write_table(frame, out / name, fmt)
    if "flows" in capture.tables:
        write_table(decryption_coverage(capture.flows), out / "coverage", fmt)
    summary = capture.summary()
    summary["command"] = ["python", "-m", "toolkit", *sys.argv[1:]]
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")


def _human_summary(capture: Capture, out: Path | None) -> str:
    p = capture.provenance
    lines = [
        f"{p.capture_id}: {p.format}{' (gzip)' if p.compression else ''}, {p.size:,} bytes, "
        f"sha256 {p.sha256[:16]}…, written by {p.tool or 'an unnamed tool'}",
        "rows: " + ", ".join(f"{name} {len(frame):,}" for name, frame in capture.tables.items()),
    ]
    if "flows" in capture.tables:
        lines.append(coverage_line(capture.flows))
    requests = capture.requests
    if len(requests):
        hosts = requests["host"].value_counts().head(5)
        lines.append("top hosts: " + ", ".join(f"{h} ({n})" for h, n in hosts.items()))
    problems = capture.problems
    if len(problems):
        lines.append(f"problems: {len(problems)} (first: {problems.iloc[0]['record']}: "
                     f"{problems.iloc[0]['message'][:120]})")
    if out is not None:
        lines.append(f"tables written to {out}/")
    return "\n".join(lines)

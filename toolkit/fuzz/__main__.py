"""``python -m toolkit.fuzz``: fuzz the readers for a while and save what breaks.

    python -m toolkit.fuzz --seconds 600 --crashes tests/fuzz/crashes --pending tests/fuzz/pending \\
        --known tests/fuzz/known.toml
    python -m toolkit.fuzz --target pcap --seeds my-captures/ --seconds 60

Exits 1 when a crash of no known class was found.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from toolkit.fuzz.campaign import MEMORY, SECONDS, load_known, run
from toolkit.fuzz.targets import TARGETS, Input, Part

_SUFFIX_TARGET = {".har": "har", ".pcap": "pcap", ".pcapng": "pcapng", ".keylog": "keylog", ".toml": "manifest"}


def _extra_seeds(folder: Path) -> dict[str, list[Input]]:
    """Files of ``folder`` (recursively) as seeds of the target their suffix names (captures alone)."""
    found: dict[str, list[Input]] = {}
    for path in sorted(folder.rglob("*")):
        target = _SUFFIX_TARGET.get(path.suffix)
        if target in ("har", "pcap", "pcapng") and path.is_file() and path.stat().st_size <= 1_000_000:
            fmt = "json" if target == "har" else target
            found.setdefault(target, []).append((Part("capture" + path.suffix, path.read_bytes(), fmt),))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m toolkit.fuzz", description=__doc__.split("\n")[0])
    parser.add_argument("--target", action="append", choices=sorted(TARGETS), help="a target (default: all)")
    parser.add_argument("--seconds", type=float, default=60.0, help="total time over all targets")
    parser.add_argument("--inputs", type=int, default=None, help="at most this many inputs per target")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--crashes", type=Path, default=None, help="folder for new crashes' inputs")
    parser.add_argument("--pending", type=Path, default=None, help="folder for crashes of a known class")
    parser.add_argument("--known", type=Path, default=None, help="TOML of known crash classes")
    parser.add_argument(
        "--seeds", type=Path, default=None, help="a folder of extra seed captures (.har, .pcap, .pcapng)"
    )
    parser.add_argument("--input-seconds", type=float, default=SECONDS, help="time bound of one input")
    parser.add_argument("--input-memory-mb", type=int, default=MEMORY >> 20, help="memory bound of one input")
    parser.add_argument("--no-minimise", action="store_true")
    args = parser.parse_args(argv)
    report = run(
        args.target or tuple(TARGETS),
        seconds=args.seconds,
        inputs=args.inputs,
        seed=args.seed,
        crashes=args.crashes,
        pending=args.pending,
        known=load_known(args.known),
        extra_seeds=_extra_seeds(args.seeds) if args.seeds else None,
        bound_seconds=args.input_seconds,
        bound_memory=args.input_memory_mb << 20,
        minimise=not args.no_minimise,
        log=lambda line: print(line, flush=True),
    )
    print("\n".join(report.lines()))
    return 1 if report.new else 0


if __name__ == "__main__":
    sys.exit(main())

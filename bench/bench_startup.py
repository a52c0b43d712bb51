"""Benchmark: start-up of the command line (issue 19), as a ratio to ``python -c pass`` in the same run.

Run ``.venv/bin/python bench/bench_startup.py`` (a few seconds; ``--repeat N`` for more runs).
Each job is a fresh interpreter (wall clock of the whole process, ``time.perf_counter`` around
``subprocess.run``), jobs interleaved, medians reported:

* ``python -c pass``: the reference, an interpreter that does nothing;
* ``import toolkit``: the package alone (its public names are imported on first use);
* ``toolkit --help``: ``python -m toolkit --help`` (the goal of issue 19: well under 0.5 s);
* ``imports before reading``: what ``analyze`` imports before it reads the first byte of a
  capture (the readers, pandas, the endpoint classification, the leak search);
* ``analyze sample.har``: ``python -m toolkit analyze data/sample.har`` from start to end, for the record.

Figures go to the terminal and to ``bench/out/startup.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"

# The imports of `analyze CAPTURE` before `load` starts reading (toolkit/cli.py, _analyze_capture).
BEFORE_READING = (
    "import toolkit.cli; "
    "from toolkit.capture import load; "
    "from toolkit.datatypes import find_datatypes; "
    "from toolkit.endpoints import Context; "
    "from toolkit.leaks import find_leaks"
)

JOBS: dict[str, list[str]] = {
    "python -c pass": ["-c", "pass"],
    "import toolkit": ["-c", "import toolkit"],
    "toolkit --help": ["-m", "toolkit", "--help"],
    "imports before reading": ["-c", BEFORE_READING],
    "analyze sample.har": ["-m", "toolkit", "analyze", "data/sample.har"],
}
REFERENCE = "python -c pass"


def _seconds(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs of each job (default 7)")
    options = parser.parse_args()
    for args in JOBS.values():  # warm the file cache and the byte-code cache once
        _seconds(args)
    runs: dict[str, list[float]] = {name: [] for name in JOBS}
    for _ in range(options.repeat):
        for name, args in JOBS.items():
            runs[name].append(_seconds(args))
    medians = {name: statistics.median(times) for name, times in runs.items()}
    reference = medians[REFERENCE]
    print(f"{'job':<24} {'median s':>9} {'x python -c pass':>17}")
    for name, seconds in medians.items():
        print(f"{name:<24} {seconds:>9.3f} {seconds / reference:>17.1f}")
    OUT.mkdir(exist_ok=True)
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "repeat": options.repeat,
        "median_seconds": medians,
        "ratio_to_python_c_pass": {name: seconds / reference for name, seconds in medians.items()},
        "runs": runs,
    }
    (OUT / "startup.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

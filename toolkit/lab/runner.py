"""Run a scenario: browse, let the SDK report, and write pcapng, pcap + key log, HAR and ground truth.

>>> import json, tempfile
>>> from pathlib import Path
>>> with tempfile.TemporaryDirectory() as out:
...     result = run_scenario("incognito", seed=3, out=out, visits=VISITS[:1])
...     truth = json.loads(Path(out, "incognito.truth.json").read_text())
>>> truth["visits"][0]["url"], truth["counts"]["telemetry_requests"]
('https://www.example-news.com/world/2020/04/30/election-results.html', 3)
>>> sorted(p.name for p in result.files)[:2]
['incognito.har', 'incognito.keylog']
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.lab.browser import Browser
from toolkit.lab.har_writer import har_document, har_entry
from toolkit.lab.pcap_writer import write_pcap
from toolkit.lab.pcapng_writer import write_pcapng
from toolkit.lab.scenario import SCENARIOS, VISITS, Device, Visit
from toolkit.lab.session import Session
from toolkit.lab.truth import ground_truth

__all__ = ["DEFAULT_SEED", "LAB_VERSION", "LabResult", "main", "run_scenario"]

LAB_VERSION = "0.1.0"
"""Version of the lab's output format (written into HAR ``creator`` and pcapng ``shb_userappl``)."""
DEFAULT_SEED = 2020


@dataclass
class LabResult:
    """What a scenario run wrote and its ground truth."""

    scenario: str
    files: list[Path]
    truth: dict[str, Any]


def run_scenario(
    name: str,
    *,
    seed: int = DEFAULT_SEED,
    out: str | Path,
    visits: Sequence[Visit] = VISITS,
) -> LabResult:
    """Run scenario ``name`` and write ``<name>.pcapng/.pcap/.keylog/.har/.truth.json`` into ``out``."""
    if name not in SCENARIOS:
        raise ValueError(f"no scenario {name!r}; scenarios are {', '.join(SCENARIOS)}")
    scenario = SCENARIOS[name]
    device = Device.from_seed(seed)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="toolkit-lab-") as folder:
        session = Session(seed=seed, label=name, start_us=scenario.start_us, folder=folder)
        browser = Browser(scenario, device, session)
        browser.browse(visits)

    application = f"toolkit.lab {LAB_VERSION}"
    comment = f"toolkit.lab scenario {name} (seed {seed}): {scenario.description}"
    files = [out / f"{name}{suffix}" for suffix in (".pcapng", ".pcap", ".keylog", ".har", ".truth.json")]
    with open(files[0], "wb") as stream:
        write_pcapng(stream, session.frames, keylog=session.keylog, application=application, comment=comment)
    with open(files[1], "wb") as stream:
        write_pcap(stream, session.frames)
    files[2].write_text("".join(line + "\n" for line in session.keylog))
    har = har_document(
        [har_entry(r.exchange, pageref=r.pageref) for r in browser.records],
        browser.pages,
        creator=("toolkit.lab", LAB_VERSION),
        browser=("Mint Browser", scenario.app_version),
        comment=comment,
    )
    files[3].write_text(json.dumps(har, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    truth = ground_truth(scenario, seed, device, session, browser.records, visits, application)
    files[4].write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return LabResult(name, files, truth)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m toolkit lab --out DIR [--scenario NAME] [--seed N]``; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m toolkit lab",
        description="Re-create the Mint Browser telemetry case as pcapng (+keys), pcap + key log, HAR and "
        "ground truth, from real TLS, HTTP/1.1, HTTP/2 and DNS in memory (no network).",
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for the files")
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"seed of identifiers, ports, ids (default {DEFAULT_SEED})"
    )
    args = parser.parse_args(argv)
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    try:
        for name in names:
            result = run_scenario(name, seed=args.seed, out=args.out)
            counts = result.truth["counts"]
            print(
                f"{name}: {counts['requests']} requests ({counts['http1_requests']} HTTP/1.1, "
                f"{counts['http2_requests']} HTTP/2), {counts['telemetry_requests']} telemetry posts, "
                f"{counts['tcp_connections']} connections → {', '.join(str(f) for f in result.files)}"
            )
    except OSError as exc:
        print(f"error: cannot write to {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return 0

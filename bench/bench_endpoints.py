"""Benchmark: classifying host occurrences, and how much corpus traffic the atlas can name.

Run ``.venv/bin/python bench/bench_endpoints.py``. Two parts, each reported to the terminal and to
``bench/out/endpoints.json``:

* **speed** (issue 6 goal: 1,000,000 host occurrences with 5,000 distinct hosts in under 2 s):
  a deterministic Series of host occurrences (subdomains of atlas domains, unknown names, upper
  case, ports, IP literals) is classified with :func:`toolkit.endpoints.classify`, once in a
  fresh process (suffix list and atlas loaded inside the timing: "cold") and once more with
  them loaded ("warm"). The reference, measured in the same run, is ``Series.value_counts()``
  over the same occurrences: the least any per-host summary must do. The ratio
  ``classify / value_counts`` is reported.
* **coverage**: every capture in ``../shared/corpus`` that ``toolkit.load`` reads is classified;
  the share of requests (and of flows, for packet captures) whose host has a known organisation
  is reported, per format and in all, with the roles' shares of requests.
"""

from __future__ import annotations

import json
import platform
import random
import signal
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
CORPUS = ROOT.parent / "shared" / "corpus"
OCCURRENCES = 1_000_000
DISTINCT = 5_000
REPEATS = 3
LOAD_TIMEOUT = 60  # seconds per capture: a reader that takes longer is reported, not waited for


class LoadTimeout(Exception):
    """A capture took longer than LOAD_TIMEOUT to load."""


def _on_alarm(signum: int, frame: object) -> None:
    raise LoadTimeout(f"load took more than {LOAD_TIMEOUT} s")


def make_hosts(seed: int = 6) -> list[str]:
    """DISTINCT host spellings, about 60 % under atlas domains, repeated to OCCURRENCES."""
    import csv

    rng = random.Random(seed)
    atlas = ROOT / "toolkit" / "endpoints" / "data" / "atlas.csv"
    domains = [r["domain"] for r in csv.DictReader(atlas.open(encoding="utf-8")) if not r["domain"][0].isdigit()]
    distinct: set[str] = set()
    words = ["api", "cdn", "img", "static", "log", "t", "sdk", "www", "m", "edge", "v2", "data"]
    while len(distinct) < DISTINCT:
        draw = rng.random()
        if draw < 0.6:
            host = f"{rng.choice(words)}{rng.randrange(100)}.{rng.choice(domains)}"
        elif draw < 0.9:
            host = f"{rng.choice(words)}.site{rng.randrange(10**6)}.{rng.choice(['com', 'net', 'co.uk', 'cn', 'io'])}"
        else:
            host = f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        if rng.random() < 0.05:
            host = host.upper()
        if rng.random() < 0.05:
            host += ":443"
        distinct.add(host)
    pool = sorted(distinct)
    # Zipf-like popularity, as in real traffic: a few hosts take most occurrences
    weights = [1 / (rank + 1) for rank in range(len(pool))]
    rng.shuffle(pool)
    occurrences = rng.choices(pool, weights=weights, k=OCCURRENCES - len(pool)) + pool
    rng.shuffle(occurrences)
    return occurrences


CHILD = """
import json, sys, time
import pandas as pd
hosts = pd.Series(json.load(open(sys.argv[1])), dtype=object)
t0 = time.perf_counter(); counts = hosts.value_counts(); t1 = time.perf_counter()
from toolkit.endpoints import classify
t2 = time.perf_counter(); cold = classify(hosts); t3 = time.perf_counter()
t4 = time.perf_counter(); warm = classify(hosts); t5 = time.perf_counter()
assert len(cold) == len(warm) == len(set(cold["host"]))
print(json.dumps({"value_counts": t1 - t0, "cold": t3 - t2, "warm": t5 - t4, "endpoints": len(warm),
                  "known": int(warm["organisation"].notna().sum()), "distinct_spellings": int(len(counts))}))
"""


def speed() -> dict[str, Any]:
    OUT.mkdir(exist_ok=True)
    data = OUT / "endpoints_hosts.json"
    data.write_text(json.dumps(make_hosts()))
    runs = []
    for _ in range(REPEATS):
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(data)], cwd=ROOT, capture_output=True, text=True, check=True
        )
        runs.append(json.loads(done.stdout))
    median = {k: statistics.median(r[k] for r in runs) for k in ("value_counts", "cold", "warm")}
    return {
        "occurrences": OCCURRENCES,
        "distinct_spellings": runs[0]["distinct_spellings"],
        "endpoints": runs[0]["endpoints"],
        "known_endpoints": runs[0]["known"],
        "seconds_median_of_3": median,
        "ratio_cold_to_value_counts": median["cold"] / median["value_counts"],
        "ratio_warm_to_value_counts": median["warm"] / median["value_counts"],
        "goal_under_2s": median["cold"] < 2.0,
    }


def coverage() -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    import toolkit
    from toolkit.endpoints import Classifier

    classifier = Classifier()
    signal.signal(signal.SIGALRM, _on_alarm)
    per_format: dict[str, dict[str, int]] = {}
    roles: dict[str, int] = {}
    unreadable: list[str] = []
    for path in sorted(p for p in CORPUS.rglob("*") if p.suffix in (".har", ".pcap", ".pcapng", ".cap", ".gz")):
        signal.alarm(LOAD_TIMEOUT)
        try:
            capture = toolkit.load(path)
        except Exception as exc:  # a benchmark reports what it could not read; tests cover errors
            unreadable.append(f"{path.name}: {type(exc).__name__}: {str(exc)[:120]}")
            continue
        finally:
            signal.alarm(0)
        print(f"  {path.name}", flush=True)
        table = classifier.classify(capture)
        known = table["organisation"].notna()
        stats = per_format.setdefault(
            path.suffix,
            {
                "captures": 0,
                "requests": 0,
                "known_requests": 0,
                "flows": 0,
                "known_flows": 0,
                "hosts": 0,
                "known_hosts": 0,
            },
        )
        stats["captures"] += 1
        stats["hosts"] += len(table)
        stats["known_hosts"] += int(known.sum())
        for column in ("requests", "flows"):
            counts = table[column].fillna(0)
            stats[column] += int(counts.sum())
            stats[f"known_{column}"] += int(counts[known].sum())
        for role, count in table.groupby("role", observed=True)["requests"].sum().items():
            roles[str(role)] = roles.get(str(role), 0) + int(count)
    total = {k: sum(s[k] for s in per_format.values()) for k in ("requests", "known_requests", "flows", "known_flows")}
    return {
        "per_format": per_format,
        "request_weighted_known_share": total["known_requests"] / total["requests"] if total["requests"] else None,
        "flow_weighted_known_share": total["known_flows"] / total["flows"] if total["flows"] else None,
        "requests_by_role": roles,
        "unreadable": unreadable,
    }


def main() -> None:
    result = {"machine": f"{platform.machine()} {platform.python_implementation()} {platform.python_version()}"}
    result["speed"] = speed()
    if CORPUS.is_dir():
        result["coverage"] = coverage()
    OUT.mkdir(exist_ok=True)
    (OUT / "endpoints.json").write_text(json.dumps(result, indent=2) + "\n")
    s = result["speed"]
    print(
        f"classify {s['occurrences']:,} occurrences, {s['endpoints']:,} endpoints: "
        f"cold {s['seconds_median_of_3']['cold']:.2f} s, warm {s['seconds_median_of_3']['warm']:.2f} s; "
        f"value_counts {s['seconds_median_of_3']['value_counts']:.3f} s; "
        f"ratio cold/value_counts {s['ratio_cold_to_value_counts']:.1f}, warm {s['ratio_warm_to_value_counts']:.1f}"
    )
    if "coverage" in result:
        c = result["coverage"]
        flows = c["flow_weighted_known_share"]
        print(
            f"corpus: request-weighted share of known organisations {c['request_weighted_known_share']:.1%}, "
            f"flow-weighted {'n/a' if flows is None else format(flows, '.1%')}"
        )
        print(json.dumps(c["per_format"], indent=1))
        print("requests by role:", c["requests_by_role"], "unreadable:", len(c["unreadable"]))


if __name__ == "__main__":
    main()

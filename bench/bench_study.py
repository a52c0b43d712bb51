"""Benchmark: a study of 200 lab-sized captures, serially, on two local processes, on a Dask cluster.

The study is made of copies of the lab's captures (``data/lab/*.har`` and ``*.pcapng`` with their
key logs; normal, incognito and incognito-with-toggle sessions), 4 captures per session, 50
sessions, written to ``bench/out/study-200/`` (reused). In the same run, interleaved and repeated,
it times:

* ``serial``: ``Study.run(workers=1)``: **the reference**;
* ``2 processes``: ``Study.run(workers=2)`` (``ProcessPoolExecutor``);
* ``LocalCluster``: ``Study.run(client=...)`` on a ``dask.distributed.LocalCluster`` of two
  single-threaded worker processes on 127.0.0.1 (started once, before the timings; skipped with a
  message when dask is not installed).

Each is timed for the per-capture phase alone (``toolkit.parallel.run_each`` over the study's
jobs: load, decrypt, classify, find leaks, find the requests' identifier candidates; this is what
runs in parallel) and for the whole ``Study.run`` (which adds what is done once in this process
after the captures: stacking the results, the study-wide classification, and merging the
identifier candidates into the ``identifiers`` table). The CPU seconds of this process during the
whole study are reported too (``parent CPU s``): the serial share, steadier than wall time on a
busy machine. Every mode's tables are checked equal to the serial ones.

Each round also times a **ceiling**: 40 pure-Python jobs (``spin``, about a capture's size) in one
process and then in two, through the same ``run_each``: the best ratio two processes can give on
this machine at that moment (other work on the two cores, or a slower clock when both are busy,
shows there as a ratio below 2).

With ``--store``, each mode also runs the whole study with ``out=`` (a fresh Parquet store each
time, as ``analyze --out`` does); local workers write their captures' results there themselves.

Usage::

    .venv/bin/python bench/bench_study.py [--captures 200] [--repeat 3] [--store]

Figures go to the terminal and to ``bench/out/study.json``.

With ``--pcap-gb 2``, it measures instead the peak memory of ``toolkit.load`` on a generated pcap
of that size: ``bench/bench_pcap.py`` builds its 200,000-packet capture (119 MB; DNS, TLS, HTTP/1.1,
other UDP), which is repeated, each copy shifted later in time by the capture's span, up to the
size asked for, in ``bench/out/`` (deleted afterwards). ``toolkit.load`` (all tables,
classification, SHA-256) reads the base capture and the big one, each in a fresh process, and the
peak resident memory of each process is taken from ``wait4`` (``ru_maxrss``), beside a process that
only imports the toolkit. This process imports neither pandas nor the toolkit in that mode, so a
child's peak is its own (on Linux a child's ``ru_maxrss`` starts from its parent's size at fork).
Figures go to ``bench/out/pcap_memory.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
LAB = ROOT / "data" / "lab"
SESSIONS = ("normal", "incognito", "incognito_toggle_off")
CAPTURES_PER_SESSION = 4


def make_study_files(count: int) -> Path:
    """``count`` copies of lab captures (HAR and pcapng alternately) under ``bench/out/study-<count>/``."""
    folder = OUT / f"study-{count}"
    marker = folder / "complete"
    if marker.is_file():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for i in range(count):
        kind = SESSIONS[(i // CAPTURES_PER_SESSION) % len(SESSIONS)]
        if i % 2 == 0:
            shutil.copy(LAB / f"{kind}.har", folder / f"c{i:04d}-{kind}.har")
        else:
            shutil.copy(LAB / f"{kind}.pcapng", folder / f"c{i:04d}-{kind}.pcapng")
            shutil.copy(LAB / f"{kind}.keylog", folder / f"c{i:04d}-{kind}.keylog")
    marker.write_text("ok\n")
    return folder


def build_study(folder: Path, count: int) -> Any:
    from toolkit.study import CaptureSpec, Session, Study

    files = sorted(p for p in folder.iterdir() if p.suffix in (".har", ".pcapng"))[:count]
    sessions = []
    for start in range(0, len(files), CAPTURES_PER_SESSION):
        part = files[start : start + CAPTURES_PER_SESSION]
        kind = part[0].stem.split("-", 1)[1]
        # the HAR gives the requests, the pcapng the connections (as in data/xiaomi-2020.toml)
        specs = [
            CaptureSpec(p) if p.suffix == ".har" else CaptureSpec(p, p.with_suffix(".keylog"), ("flows", "dns", "tls"))
            for p in part
        ]
        mode = "normal" if kind == "normal" else "incognito"
        sessions.append(
            Session(
                f"s{start // CAPTURES_PER_SESSION:03d}-{kind}", specs, mode=mode, package="com.mi.globalbrowser.mini"
            )
        )
    return Study(sessions, vendors=["Xiaomi"], known_identifiers={"ANDROID_ID": "8e5fbce04dc91566"}, progress=False)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _worker_cpu(client: Any) -> float:
    return float(sum(client.run(time.process_time).values())) if client is not None else 0.0


def spin(count: int) -> int:
    """Pure-Python work of about the size of a lab capture's, touching little memory: the machine's
    ceiling for two processes (another process on the two cores, or a slower clock when both run,
    shows here as a ratio below 2)."""
    total = 0
    for i in range(count):
        total = (total + i * i) % 1_000_003
    return total


def timed(job: Callable[[], Any], client: Any = None) -> tuple[float, float, Any]:
    """Wall seconds of ``job()``, the CPU seconds it used in all processes (this one, finished child
    processes, the cluster's workers), and its value."""
    wall = time.perf_counter()
    cpu = time.process_time() + _children_cpu() + _worker_cpu(client)
    value = job()
    seconds = time.perf_counter() - wall
    return seconds, time.process_time() + _children_cpu() + _worker_cpu(client) - cpu, value


_LOAD = """
import sys, time
import toolkit
wall, cpu = time.perf_counter(), time.process_time()
capture = toolkit.load(sys.argv[1])
print(time.perf_counter() - wall, time.process_time() - cpu)
print({name: len(frame) for name, frame in capture.tables.items()})
"""


def _child(code: str, *args: str) -> tuple[int, str]:
    """Peak RSS (bytes) and output of a fresh Python process running ``code``."""
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=errors, cwd=ROOT)
        assert process.stdout is not None
        stdout = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)  # reaps the child: its own peak resident size
        process.returncode = status
        if status:
            errors.seek(0)
            raise SystemExit(f"child failed: {errors.read().decode(errors='replace')[-2000:]}")
    return usage.ru_maxrss * 1024, stdout.decode()


def _tile(base: Path, target: Path, size: int) -> int:
    """Write copies of the pcap ``base`` to ``target`` until it holds ``size`` bytes; the copies."""
    data = bytearray(base.read_bytes())
    magic = data[:4]
    order = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    header, offsets, position = data[:24], [], 24
    while position + 16 <= len(data):
        offsets.append(position)
        position += 16 + struct.unpack_from(order + "I", data, position + 8)[0]
    first = struct.unpack_from(order + "I", data, offsets[0])[0]
    span = struct.unpack_from(order + "I", data, offsets[-1])[0] - first + 60
    body = bytes(data[24:])
    copies = 0
    with open(target, "wb") as out:
        out.write(header)
        written = 24
        while written < size:
            shifted = bytearray(body)
            for offset in offsets:
                seconds = struct.unpack_from(order + "I", data, offset)[0]
                struct.pack_into(order + "I", shifted, offset - 24, seconds + copies * span)
            out.write(shifted)
            written += len(shifted)
            copies += 1
    return copies


def pcap_memory(gigabytes: float) -> int:
    """Peak memory of ``toolkit.load`` on a generated pcap of about ``gigabytes`` GB."""
    OUT.mkdir(parents=True, exist_ok=True)
    base, big = OUT / "memory-base.pcap", OUT / "memory-big.pcap"
    try:
        started = time.perf_counter()
        bench_pcap = ROOT / "bench" / "bench_pcap.py"
        subprocess.run([sys.executable, str(bench_pcap), "--build-only", str(base)], check=True, cwd=ROOT)
        # in a child: a large parent would raise every later child's ru_maxrss (inherited at fork)
        tile = [sys.executable, __file__, "--tile", str(base), str(big), str(int(gigabytes * 1e9))]
        copies = int(subprocess.run(tile, check=True, cwd=ROOT, capture_output=True, text=True).stdout)
        print(
            f"built {big.name}: {big.stat().st_size / 1e9:.2f} GB ({copies} shifted copies of "
            f"{base.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.0f} s"
        )
        figures: dict[str, Any] = {"parent": {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3}}
        imports_rss, _ = _child("import toolkit, pandas, pyarrow")
        figures["imports only"] = {"peak_rss_mb": imports_rss / 1e6}
        for name, path in (("base", base), ("big", big)):
            rss, text = _child(_LOAD, str(path))
            wall, cpu = (float(x) for x in text.splitlines()[0].split())
            figures[name] = {
                "file_mb": path.stat().st_size / 1e6,
                "peak_rss_mb": rss / 1e6,
                "wall_s": wall,
                "cpu_s": cpu,
                "rows": text.splitlines()[1],
            }
        for name, row in figures.items():
            print(
                f"{name:>13}: peak RSS {row['peak_rss_mb']:7.0f} MB"
                + (
                    f", file {row['file_mb']:7.0f} MB, load {row['wall_s']:6.1f} s wall {row['cpu_s']:6.1f} s CPU, "
                    f"rows {row['rows']}"
                    if "rows" in row
                    else ""
                )
            )
        ratio = figures["big"]["peak_rss_mb"] / figures["base"]["peak_rss_mb"]
        print(
            f"peak RSS, big / base: {ratio:.2f} for {figures['big']['file_mb'] / figures['base']['file_mb']:.1f}x "
            f"the bytes; goal (issue 10): under 1,000 MB for 2 GB"
        )
        (OUT / "pcap_memory.json").write_text(json.dumps(figures, indent=2) + "\n")
    finally:
        base.unlink(missing_ok=True)
        big.unlink(missing_ok=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--captures", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--store", action="store_true", help="also time each whole study with out= (Parquet store)")
    parser.add_argument("--pcap-gb", type=float, help="measure toolkit.load's peak memory on a pcap of this size")
    parser.add_argument("--tile", nargs=3, metavar=("BASE", "TARGET", "BYTES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tile:
        print(_tile(Path(args.tile[0]), Path(args.tile[1]), int(args.tile[2])))
        return 0
    if args.pcap_gb:
        return pcap_memory(args.pcap_gb)

    import pandas as pd

    from toolkit.parallel import run_each
    from toolkit.study import analyse_capture, warm_up

    folder = make_study_files(args.captures)
    study = build_study(folder, args.captures)
    jobs = study.jobs()
    print(f"{len(jobs)} captures in {len(study.sessions)} sessions, {os.cpu_count()} CPUs, from {folder}")

    modes: dict[str, dict[str, Any]] = {"serial": {"workers": 1}, "2 processes": {"workers": 2}}
    cluster = client = None
    try:
        from dask.distributed import Client, LocalCluster

        started = time.perf_counter()
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        )
        client = Client(cluster)
        client.run(lambda: __import__("toolkit.study"))  # workers import the toolkit before the clock runs
        print(f"LocalCluster with 2 worker processes started in {time.perf_counter() - started:.1f} s (not timed)")
        modes["LocalCluster"] = {"client": client}
    except ImportError:
        print("dask.distributed is not installed: LocalCluster skipped (pip install 'dask[distributed]')")

    run_each(analyse_capture, jobs[:4], workers=1)  # warm up: lazy imports and reference data, here
    spins = [800_000] * 40
    spin_seconds = timed(lambda: run_each(spin, spins[:4], workers=1))[0] / 4
    print(f"ceiling: {len(spins)} pure-Python jobs of {spin_seconds * 1000:.0f} ms, 1 process then 2, each round")
    load_before = os.getloadavg()
    phase: dict[str, list[float]] = {m: [] for m in modes}
    phase_cpu: dict[str, list[float]] = {m: [] for m in modes}
    whole: dict[str, list[float]] = {m: [] for m in modes}
    parent_cpu: dict[str, list[float]] = {m: [] for m in modes}
    with_store: dict[str, list[float]] = {m: [] for m in modes}
    ceiling: dict[int, list[float]] = {1: [], 2: []}
    reference: dict[str, pd.DataFrame] | None = None
    stores = Path(tempfile.mkdtemp(prefix="study-store-", dir=OUT))
    try:
        for round_ in range(args.repeat):
            for count in ceiling:
                ceiling[count].append(timed(lambda n=count: run_each(spin, spins, workers=n))[0])  # type: ignore[misc]
            print(f"round {round_ + 1}: ceiling: 2 processes {ceiling[1][-1] / ceiling[2][-1]:.2f}x faster than 1")
            for mode, options in modes.items():
                seconds, cpu, outcomes = timed(
                    lambda o=options: run_each(analyse_capture, jobs, prepare=warm_up, **o),  # type: ignore[misc]
                    options.get("client"),
                )
                failed = [o.error for o in outcomes if not o.ok or o.value.failed]
                if failed:
                    raise SystemExit(f"{mode}: {len(failed)} captures failed, e.g. {failed[0]}")
                phase[mode].append(seconds)
                phase_cpu[mode].append(cpu)
                fresh = build_study(folder, args.captures)
                own = time.process_time()
                seconds, _cpu, ran = timed(lambda f=fresh, o=options: f.run(**o))  # type: ignore[misc]
                parent_cpu[mode].append(time.process_time() - own)
                whole[mode].append(seconds)
                tables = ran.tables
                if reference is None:
                    reference = tables
                else:
                    for name, frame in reference.items():
                        pd.testing.assert_frame_equal(tables[name], frame, obj=f"{mode}: {name}")
                stored = ""
                if args.store:
                    fresh = build_study(folder, args.captures)
                    out = stores / f"{round_}-{mode}"
                    with_store[mode].append(timed(lambda f=fresh, o=options, d=out: f.run(out=d, **o))[0])  # type: ignore[misc]
                    for name, frame in reference.items():
                        pd.testing.assert_frame_equal(fresh.tables[name], frame, obj=f"{mode}, stored: {name}")
                    shutil.rmtree(out)
                    stored = f", with out= {with_store[mode][-1]:6.2f} s"
                print(
                    f"round {round_ + 1}: {mode:>12}: captures {phase[mode][-1]:6.2f} s "
                    f"({phase_cpu[mode][-1]:6.2f} CPU s), whole study {seconds:6.2f} s "
                    f"(parent {parent_cpu[mode][-1]:5.2f} CPU s){stored}"
                )
    finally:
        shutil.rmtree(stores, ignore_errors=True)
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    assert reference is not None
    rows = {name: len(frame) for name, frame in reference.items()}
    print(f"\nevery mode gave the same tables: {rows}")
    base_phase = statistics.median(phase["serial"])
    base_whole = statistics.median(whole["serial"])
    load_after = os.getloadavg()
    print(f"load average (1 min) before the timings {load_before[0]:.2f}, after {load_after[0]:.2f}")
    ceiling_ratio = statistics.median(ceiling[1]) / statistics.median(ceiling[2])
    print(
        f"ceiling (pure-Python jobs, 2 processes against 1, same rounds): {ceiling_ratio:.2f}x "
        f"(runs: {', '.join(f'{a / b:.2f}' for a, b in zip(ceiling[1], ceiling[2], strict=True))})"
    )
    store_head = " | with out= s | speed-up" if args.store else ""
    print(
        f"\n{'mode':>14} | captures s | speed-up | CPU s | CPU × serial | whole study s | speed-up | parent CPU s"
        + store_head
    )
    figures = {}
    base_cpu = statistics.median(phase_cpu["serial"])
    base_store = statistics.median(with_store["serial"]) if args.store else 0.0
    for mode in modes:
        p, w, c = statistics.median(phase[mode]), statistics.median(whole[mode]), statistics.median(phase_cpu[mode])
        own = statistics.median(parent_cpu[mode])
        figures[mode] = {
            "captures_s": p,
            "captures_speedup": base_phase / p,
            "captures_cpu_s": c,
            "cpu_ratio": c / base_cpu,
            "whole_s": w,
            "whole_speedup": base_whole / w,
            "whole_parent_cpu_s": own,
            "captures_runs": phase[mode],
            "captures_cpu_runs": phase_cpu[mode],
            "whole_runs": whole[mode],
            "whole_parent_cpu_runs": parent_cpu[mode],
        }
        stored = ""
        if args.store:
            s = statistics.median(with_store[mode])
            figures[mode].update(
                {"with_store_s": s, "with_store_speedup": base_store / s, "with_store_runs": with_store[mode]}
            )
            stored = f" | {s:11.2f} | {base_store / s:7.2f}x"
        print(
            f"{mode:>14} | {p:10.2f} | {base_phase / p:7.2f}x | {c:5.1f} | {c / base_cpu:12.2f} "
            f"| {w:13.2f} | {base_whole / w:7.2f}x | {own:12.2f}" + stored
        )
    # on a machine shared with other work, the fastest round of each mode is the least disturbed one
    print("\nfastest round of each mode (the least disturbed by other work on the machine):")
    best = {m: (min(phase[m]), min(whole[m]), min(with_store[m]) if args.store else 0.0) for m in modes}
    for mode, (p, w, s) in best.items():
        figures[mode].update(
            {"captures_best_speedup": best["serial"][0] / p, "whole_best_speedup": best["serial"][1] / w}
        )
        line = f"{mode:>14}: captures {p:5.2f} s, {best['serial'][0] / p:4.2f}x; whole study {w:5.2f} s, "
        line += f"{best['serial'][1] / w:4.2f}x"
        if args.store:
            figures[mode]["with_store_best_speedup"] = best["serial"][2] / s
            line += f"; with out= {s:5.2f} s, {best['serial'][2] / s:4.2f}x"
        print(line)
    print(f"{'ceiling':>14}: {min(ceiling[1]) / min(ceiling[2]):4.2f}x")
    (OUT / "study.json").write_text(
        json.dumps(
            {
                "captures": len(jobs),
                "sessions": len(study.sessions),
                "repeat": args.repeat,
                "cpus": os.cpu_count(),
                "load_average": [load_before[0], load_after[0]],
                "ceiling": {"speedup": ceiling_ratio, "one_process_runs": ceiling[1], "two_processes_runs": ceiling[2]},
                "python": platform.python_version(),
                "platform": platform.platform(),
                "rows": rows,
                "modes": figures,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"figures in {OUT / 'study.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark (issue 20): ``analyze`` end to end on a ~300 MB pcap with its key log, against tshark.

Builds, once, ``bench/out/analyze-v1-<MB>mb.pcap`` and its key log: the lab's ``normal`` session
(``data/lab/normal.pcap``, TLS 1.2 and 1.3, HTTP/1.1 and HTTP/2, DNS, the Sensors Analytics
telemetry) repeated until the file reaches the size asked, each copy shifted in time (one copy
after the other) and given client ports (and, every 64,000 ports, a client address) of its own, so
that every connection is a connection of its own; IP, TCP and UDP checksums are updated. The key
log is the lab's (the copies reuse the same TLS secrets, as the client randoms are the same).

Then times, each in a fresh process and in the same run:

* ``python -m toolkit analyze F --keylog K --visited V --id ANDROID_ID=... --id distinct_id=... --out DIR``
  (the lab's visited URLs and identifiers), the whole command a user runs;
* the reference, ``tshark -r F -n -o tls.keylog_file:K -T fields -e ...`` printing one line per
  packet with the HTTP/1.x and HTTP/2 request fields (skipped, with a message, when tshark is absent).

Reported: wall and CPU seconds, peak memory of the whole process tree (the sum of the proportional
set sizes of the process and its children, pages shared by forked processes counted once, sampled
every 50 ms, and never below the largest single process's ``ru_maxrss``),
and the size of the CSV files written. Goals (issue 20): at most 90 s, peak under 1 GB, under
100 MB of CSV. Figures go to the terminal and to ``bench/out/analyze.json``. Usage::

    .venv/bin/python bench/bench_analyze.py            # ~300 MB, a few minutes
    .venv/bin/python bench/bench_analyze.py --mb 30    # smaller, while developing
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
LAB = ROOT / "data" / "lab"
GENERATOR_VERSION = 1
PORTS = 64_000  # client ports used before the client address changes
FIRST_PORT = 1024
GOALS = {"seconds": 90.0, "peak_mb": 1000.0, "csv_mb": 100.0}


def _fold(total: int) -> int:
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def _adjust(checksum: int, old: bytes, new: bytes) -> int:
    """A ones'-complement checksum updated for ``old`` replaced by ``new`` (RFC 1624, eqn. 3)."""
    total = ~checksum & 0xFFFF
    for offset in range(0, len(old), 2):
        total += (~int.from_bytes(old[offset : offset + 2], "big")) & 0xFFFF
        total += int.from_bytes(new[offset : offset + 2], "big")
    return ~_fold(total) & 0xFFFF


def _packets(data: bytes) -> tuple[bytes, list[tuple[int, int, bytes]]]:
    """The global header and (seconds, microseconds, frame) of a little-endian µs pcap."""
    if data[:4] != b"\xd4\xc3\xb2\xa1":
        raise SystemExit("the lab pcap is expected little-endian with microseconds")
    packets, offset = [], 24
    while offset < len(data):
        seconds, micros, length, _ = struct.unpack_from("<IIII", data, offset)
        packets.append((seconds, micros, data[offset + 16 : offset + 16 + length]))
        offset += 16 + length
    return data[:24], packets


class _Shifter:
    """Rewrites the client's ports and address of one copy of the session."""

    def __init__(self, client_v4: bytes, client_v6: bytes, ports: list[int]) -> None:
        self.client_v4, self.client_v6 = client_v4, client_v6
        self.ports = {port: index for index, port in enumerate(sorted(ports))}

    def address(self, original: bytes, generation: int) -> bytes:
        return original[:-1] + bytes([(original[-1] + generation) % 256])

    def frame(self, frame: bytes, copy: int) -> bytes:
        ethertype = int.from_bytes(frame[12:14], "big")
        data = bytearray(frame)
        if ethertype == 0x0800:
            header = (data[14] & 0x0F) * 4
            proto, source, target = data[23], 26, 30
            transport = 14 + header
            width = 4
        elif ethertype == 0x86DD:
            proto, source, target, transport, width = data[20], 22, 38, 54, 16
        else:
            return frame
        if proto not in (6, 17):
            return frame
        client = self.client_v4 if width == 4 else self.client_v6
        upward = bytes(data[source : source + width]) == client
        address_at = source if upward else target
        port_at = transport + (0 if upward else 2)
        port = int.from_bytes(data[port_at : port_at + 2], "big")
        if bytes(data[address_at : address_at + width]) != client or port not in self.ports:
            return frame
        slot = copy * len(self.ports) + self.ports[port]
        generation, new_port = divmod(slot, PORTS)
        new_port_bytes = (FIRST_PORT + new_port).to_bytes(2, "big")
        new_address = self.address(client, generation)
        check_at = transport + (16 if proto == 6 else 6)
        checksum = int.from_bytes(data[check_at : check_at + 2], "big")
        if proto == 6 or checksum:  # a UDP checksum of zero over IPv4 means none
            checksum = _adjust(checksum, bytes(data[port_at : port_at + 2]), new_port_bytes)
            checksum = _adjust(checksum, client, new_address)
            data[check_at : check_at + 2] = checksum.to_bytes(2, "big")
        if width == 4:
            ip_checksum = _adjust(int.from_bytes(data[24:26], "big"), client, new_address)
            data[24:26] = ip_checksum.to_bytes(2, "big")
        data[port_at : port_at + 2] = new_port_bytes
        data[address_at : address_at + width] = new_address
        return bytes(data)


def build(megabytes: float) -> tuple[Path, Path]:
    """The repeated lab capture of about ``megabytes`` MB and its key log (built once, then reused)."""
    import ipaddress

    stem = OUT / f"analyze-v{GENERATOR_VERSION}-{megabytes:g}mb"
    pcap, keylog = stem.with_suffix(".pcap"), stem.with_suffix(".keylog")
    if pcap.exists() and keylog.exists():
        return pcap, keylog
    OUT.mkdir(parents=True, exist_ok=True)
    truth = json.loads((LAB / "normal.truth.json").read_text())
    device = truth["device"]
    v4 = ipaddress.ip_address(device["client_ip"]).packed
    v6 = ipaddress.ip_address(device["client_ipv6"]).packed
    header, packets = _packets((LAB / "normal.pcap").read_bytes())
    ports = set()
    for _, _, frame in packets:
        for client, width, ethertype in ((v4, 4, 0x0800), (v6, 16, 0x86DD)):
            if int.from_bytes(frame[12:14], "big") != ethertype:
                continue
            source = 26 if width == 4 else 22
            transport = 14 + (frame[14] & 0x0F) * 4 if width == 4 else 54
            if frame[source : source + width] == client:
                ports.add(int.from_bytes(frame[transport : transport + 2], "big"))
    shifter = _Shifter(v4, v6, sorted(ports))
    first = packets[0][0] * 1_000_000 + packets[0][1]
    span = packets[-1][0] * 1_000_000 + packets[-1][1] - first + 1_000_000  # one second between copies
    per_copy = sum(16 + len(frame) for _, _, frame in packets)
    copies = max(1, round(megabytes * 1e6 / per_copy))
    temporary = pcap.with_suffix(".partial")
    with open(temporary, "wb") as out:
        out.write(header)
        for copy in range(copies):
            chunk = []
            for seconds, micros, frame in packets:
                stamp = seconds * 1_000_000 + micros + copy * span
                shifted = shifter.frame(frame, copy)
                chunk.append(struct.pack("<IIII", stamp // 1_000_000, stamp % 1_000_000, len(shifted), len(shifted)))
                chunk.append(shifted)
            out.write(b"".join(chunk))
    os.replace(temporary, pcap)
    shutil.copyfile(LAB / "normal.keylog", keylog)
    (stem.with_suffix(".json")).write_text(json.dumps({"copies": copies, "packets": copies * len(packets)}))
    return pcap, keylog


def _pss(pid: int) -> int | None:
    """Proportional set size of ``pid`` in bytes: its resident pages, a page shared with n processes
    counted 1/n (a forked worker shares its parent's tables), or None if unknown."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _tree_rss(root: int) -> int:
    """Memory of ``root`` and all its descendants (from /proc): the sum of their proportional set
    sizes, so that pages a forked worker shares with its parent count once (resident set sizes
    where the kernel gives no PSS)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, parent = int(entry), int(fields[1])
        children.setdefault(parent, []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        if pid in rss:
            shared = _pss(pid)
            total += rss[pid] if shared is None else shared
        todo.extend(children.get(pid, []))
    return total


def run(command: list[str], stdout_path: Path | None = None) -> dict[str, float]:
    """Wall and CPU seconds and the peak RSS (MB) of ``command``'s process tree."""
    start = time.perf_counter()
    with open(stdout_path or os.devnull, "wb") as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=ROOT)
        peak, done = [0], threading.Event()

        def sample() -> None:
            while not done.wait(0.05):
                peak[0] = max(peak[0], _tree_rss(process.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        done.set()
        sampler.join()
        wall = time.perf_counter() - start
        if status:
            err.seek(0)
            raise SystemExit(f"{command[0]} failed ({status}): {err.read().decode(errors='replace')[-2000:]}")
    return {
        "seconds": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_mb": max(peak[0], usage.ru_maxrss * 1024) / 1e6,
    }


def tshark_command(tshark: str, pcap: Path, keys: Path) -> list[str]:
    """tshark decrypting with the key log, one line per packet with the request fields."""
    fields = ["frame.number", "http.request.method", "http.host", "http.request.uri"]
    fields += ["http2.header.name", "http2.header.value"]
    command = [tshark, "-r", str(pcap), "-n", "-o", f"tls.keylog_file:{keys}", "-T", "fields"]
    for field in fields:
        command += ["-e", field]
    return command


def _analyze_command(pcap: Path, keys: Path, visited: Path, out: Path, workers: int) -> list[str]:
    truth = json.loads((LAB / "normal.truth.json").read_text())
    ids = truth["identifiers"]
    command = [sys.executable, "-m", "toolkit", "analyze", str(pcap), "--keylog", str(keys)]
    command += ["--visited", str(visited), "--out", str(out)]
    command += ["--id", f"ANDROID_ID={ids['android_id']}", "--id", f"distinct_id={ids['distinct_id']}"]
    if workers != 1:
        command += ["--workers", str(workers)]
    return command


def _csv_mb(folder: Path) -> dict[str, float]:
    return {path.name: path.stat().st_size / 1e6 for path in sorted(folder.glob("*.csv"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=300, help="size of the capture to build (MB)")
    parser.add_argument("--workers", type=int, default=1, help="--workers passed to analyze")
    parser.add_argument("--no-tshark", action="store_true", help="skip the reference")
    args = parser.parse_args()
    started = time.perf_counter()
    pcap, keys = build(args.mb)
    made = json.loads(pcap.with_suffix(".json").read_text())
    print(
        f"{pcap.name}: {pcap.stat().st_size / 1e6:.0f} MB, {made['packets']:,} packets, "
        f"{made['copies']:,} copies of the lab session (ready in {time.perf_counter() - started:.0f} s)"
    )
    truth = json.loads((LAB / "normal.truth.json").read_text())
    visited = OUT / "analyze-visited.txt"
    visited.write_text("".join(visit["url"] + "\n" for visit in truth["visits"]))
    out = OUT / "analyze-out"
    shutil.rmtree(out, ignore_errors=True)
    env_note = f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    figures: dict[str, object] = {"file_mb": pcap.stat().st_size / 1e6, **made, "machine": env_note}
    toolkit = run(_analyze_command(pcap, keys, visited, out, args.workers))
    csv = _csv_mb(out)
    toolkit["csv_mb"] = sum(csv.values())
    figures["analyze"] = {**toolkit, "csv_files": csv}
    print(
        f"analyze:  {toolkit['seconds']:6.1f} s wall, {toolkit['cpu_s']:6.1f} s CPU, "
        f"peak {toolkit['peak_mb']:6.0f} MB, CSV {toolkit['csv_mb']:.1f} MB"
    )
    print("  CSV files: " + ", ".join(f"{name} {size:.1f} MB" for name, size in csv.items()))
    tshark = shutil.which("tshark")
    if args.no_tshark or tshark is None:
        print(
            "tshark: skipped (" + ("--no-tshark" if args.no_tshark else "not installed: apt-get install tshark") + ")"
        )
    else:
        reference = run(tshark_command(tshark, pcap, keys), OUT / "analyze-tshark.tsv")
        figures["tshark"] = reference
        print(
            f"tshark:   {reference['seconds']:6.1f} s wall, {reference['cpu_s']:6.1f} s CPU, "
            f"peak {reference['peak_mb']:6.0f} MB   (analyze / tshark: "
            f"{toolkit['seconds'] / reference['seconds']:.2f}x wall)"
        )
    unmet = [f"{name} {toolkit[name]:.1f} > {goal:g}" for name, goal in GOALS.items() if float(toolkit[name]) > goal]
    figures["not_met"] = unmet
    print("goals (<= 90 s, < 1000 MB peak, < 100 MB CSV): " + ("met" if not unmet else "NOT met: " + "; ".join(unmet)))
    (OUT / "analyze.json").write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Benchmark: reading a 200,000-packet capture with toolkit.load, against tshark and scapy.

Builds a realistic capture (many interleaved TCP and UDP flows: DNS exchanges, TLS connections with
a ClientHello carrying SNI and encrypted records, plaintext HTTP/1.1, other UDP), then times, in
the same run and each in its own process:

* ``toolkit.load`` (all tables: flows, dns, tls, requests);
* ``tshark -T fields`` extracting the same facts (5-tuples, DNS names, SNI, HTTP requests), when
  tshark is installed (``apt-get install -y tshark``), else skipped with a message;
* scapy's ``PcapReader`` iterating the packets (dissecting each one).

It reports wall times, the toolkit's speed-up over each reference and the peak resident memory of
each process (``ru_maxrss``). Usage::

    .venv/bin/python bench/bench_pcap.py [--packets 200000] [--keep FILE] [--no-scapy] [--pcapng] [--pcapdroid]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_TLDS = ["com", "net", "org", "io", "de"]


def build_capture(packets: int, seed: int = 4, pcapng: bool = False, pcapdroid: bool = False) -> bytes:
    """A capture of about ``packets`` packets, conversations interleaved in time (as pcapng: the
    same packets in Enhanced Packet Blocks, nanosecond times, as Wireshark writes by default).

    ``pcapdroid``: every packet names one of 7 apps (by its ports), as PCAPdroid writes: a 32-byte
    trailer in pcap, a ``u-<uid>`` comment in pcapng.
    """
    from toolkit.lab.pcap_builder import PcapBuilder, trailer_for_tests

    rng = random.Random(seed)
    conversations: list[list[tuple[int, bytes]]] = []
    total = 0
    names = [
        f"{rng.choice(['api', 'cdn', 'www', 'track', 'img'])}{i}.example{i % 97}.{rng.choice(_TLDS)}"
        for i in range(3000)
    ]
    while total < packets:
        builder = PcapBuilder(start_ns=0, step_ns=rng.randint(200_000, 5_000_000))
        client = f"10.0.{rng.randint(0, 3)}.{rng.randint(2, 250)}"
        server = f"203.0.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        kind = rng.random()
        name = rng.choice(names)
        if kind < 0.45:
            builder.dns_exchange(client, "10.0.0.1", name, [server], ident=rng.randint(0, 65535))
            builder.tls_connection(
                client,
                server,
                name,
                alpn=["h2", "http/1.1"],
                records=rng.randint(5, 60),
                record_size=rng.randint(200, 1000),
            )
        elif kind < 0.65:
            path = f"/collect?id={rng.getrandbits(64):x}&url=https%3A%2F%2Fnews.example%2F{rng.randint(0, 999)}"
            builder.http_exchange(
                client,
                server,
                name,
                path,
                method=rng.choice(["GET", "POST"]),
                body=b"x" * rng.randint(0, 400),
                response_body=b"y" * rng.randint(10, 3000),
            )
        elif kind < 0.85:
            builder.dns_exchange(client, "10.0.0.1", name, [server], ident=rng.randint(0, 65535))
        else:
            port = builder.ephemeral_port()
            for _ in range(rng.randint(2, 40)):
                builder.udp(client, port, server, 3478, bytes(rng.randint(40, 1200)))
                builder.udp(server, 3478, client, port, bytes(rng.randint(40, 1200)))
        offset = rng.randint(0, 600_000_000_000)
        conversations.append([(ts + offset, frame) for ts, frame in builder.packets])
        total += len(builder.packets)
    merged = PcapBuilder()
    merged.packets = sorted((p for c in conversations for p in c), key=lambda p: p[0])
    merged.packets = [(ts + 1_700_000_000_000_000_000, frame) for ts, frame in merged.packets]
    if not pcapdroid:
        return merged.pcapng() if pcapng else merged.pcap()
    app = [10100 + sum(struct.unpack_from("!HH", frame, 34)) % 7 for _ts, frame in merged.packets]
    if pcapng:
        return merged.pcapng(comments={i + 1: f"u-{uid}" for i, uid in enumerate(app)})
    trailers = {uid: trailer_for_tests(uid, f"com.example.app{uid}") for uid in set(app)}
    merged.packets = [(ts, frame + trailers[uid]) for (ts, frame), uid in zip(merged.packets, app, strict=True)]
    return merged.pcap()


_TOOLKIT = """
import sys, time
import toolkit
start, cpu = time.perf_counter(), time.process_time()
capture = toolkit.load(sys.argv[1])
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
print(elapsed)
print({name: len(frame) for name, frame in capture.tables.items()})
print(cpu)
"""

_SCAPY = """
import sys, time
from scapy.utils import PcapReader
start = time.perf_counter()
count = 0
with PcapReader(sys.argv[1]) as reader:
    for packet in reader:
        count += 1
print(time.perf_counter() - start)
print(count)
"""

_TSHARK_FIELDS = [
    "frame.number",
    "ip.src",
    "ip.dst",
    "ipv6.src",
    "ipv6.dst",
    "tcp.srcport",
    "tcp.dstport",
    "udp.srcport",
    "udp.dstport",
    "dns.qry.name",
    "dns.a",
    "tls.handshake.extensions_server_name",
    "http.request.method",
    "http.host",
    "http.request.uri",
]


def peak_rss_of(command: list[str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and peak RSS of one child process (measured with wait4).

    The benchmark's own process stays small (it imports neither pandas nor the toolkit), so a
    child's peak RSS is its own and not inherited from the parent at fork.
    """
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if status:
        raise SystemExit(f"{command[0]} exited with status {status}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


def child_with_rss(code: str, path: str) -> tuple[float, int, str]:
    """Time reported by the child (its first output line), its peak RSS, and its output."""
    process = subprocess.Popen(
        [sys.executable, "-c", code, path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT
    )
    assert process.stdout is not None and process.stderr is not None
    stdout = process.stdout.read()
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    if status:
        raise SystemExit(f"child failed: {stderr.decode(errors='replace')[-2000:]}")
    text = stdout.decode()
    return float(text.splitlines()[0]), usage.ru_maxrss * 1024, text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=200_000)
    parser.add_argument("--keep", help="write the capture here (default: a temporary file)")
    parser.add_argument("--no-scapy", action="store_true", help="skip scapy (it takes half a minute)")
    parser.add_argument("--pcapng", action="store_true", help="write the capture as pcapng instead of pcap")
    parser.add_argument("--pcapdroid", action="store_true", help="tag every packet with an app, as PCAPdroid does")
    parser.add_argument("--build-only", metavar="FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_only:
        Path(args.build_only).write_bytes(build_capture(args.packets, pcapng=args.pcapng, pcapdroid=args.pcapdroid))
        return

    workdir = tempfile.mkdtemp(prefix="bench_pcap_")
    path = args.keep or os.path.join(workdir, "bench.pcapng" if args.pcapng else "bench.pcap")
    start = time.perf_counter()
    build = [sys.executable, __file__, "--packets", str(args.packets), "--build-only", path]
    flags = [flag for flag, on in (("--pcapng", args.pcapng), ("--pcapdroid", args.pcapdroid)) if on]
    subprocess.run(build + flags, check=True)
    print(f"capture: {path}: {os.path.getsize(path) / 1e6:.1f} MB, built in {time.perf_counter() - start:.1f} s")
    print("each reader runs in its own process; wall time of the reading, CPU time of the process, peak RSS")

    toolkit_cmd = [sys.executable, "-c", _TOOLKIT, path]
    wall_total, cpu, rss = peak_rss_of(toolkit_cmd)
    seconds, _, text = child_with_rss(_TOOLKIT, path)
    load_cpu = float(text.splitlines()[2])
    print(
        f"toolkit.load        {seconds:7.2f} s wall, {load_cpu:5.2f} s CPU   (whole process {wall_total:5.2f} s "
        f"wall, {cpu:5.2f} s CPU incl. imports)   peak RSS {rss / 1e6:6.0f} MB   rows {text.splitlines()[1]}"
    )
    _, base_cpu, base_rss = peak_rss_of([sys.executable, "-c", "import toolkit, pandas"])
    print(
        f"  interpreter + toolkit + pandas imported, nothing read: {base_cpu:.2f} s CPU, peak RSS "
        f"{base_rss / 1e6:.0f} MB"
    )

    tshark = shutil.which("tshark")
    if tshark is None:
        print("tshark: not installed, skipped (apt-get install -y tshark)")
    else:
        command = [tshark, "-r", path, "-n", "-T", "fields"]
        for name in _TSHARK_FIELDS:
            command += ["-e", name]
        wall, tshark_cpu, tshark_rss = peak_rss_of(command)
        print(
            f"tshark -T fields    {wall:7.2f} s   (process {wall:5.2f} s wall, {tshark_cpu:5.2f} s CPU)   "
            f"peak RSS {tshark_rss / 1e6:6.0f} MB"
        )
        print(
            f"  toolkit.load is {wall / seconds:.1f}x faster than tshark in wall time ({wall / wall_total:.1f}x "
            f"counting the toolkit's interpreter start and imports) and {tshark_cpu / load_cpu:.1f}x in CPU "
            f"time ({tshark_cpu / cpu:.1f}x with imports); on a busy machine the CPU ratio is the steadier one"
        )

    if args.no_scapy:
        print("scapy: skipped (--no-scapy)")
    else:
        scapy_seconds, scapy_rss, scapy_text = child_with_rss(_SCAPY, path)
        print(
            f"scapy PcapReader    {scapy_seconds:7.2f} s   peak RSS {scapy_rss / 1e6:6.0f} MB   "
            f"({scapy_text.splitlines()[1]} packets)"
        )
        print(f"  toolkit.load is {scapy_seconds / seconds:.1f}x faster than scapy's PcapReader")
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

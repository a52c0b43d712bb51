"""Benchmark (issue 21): decrypting QUIC and reading HTTP/3, against tshark on the same capture.

Builds, once, a capture of QUIC v1 connections carrying HTTP/3 with
:class:`toolkit.lab.quic_builder.QuicConnectionBuilder` (both endpoints sealed with random TLS
secrets, AES-128-GCM, QPACK by ``pylsqpack``'s encoder with the dynamic table, one key update of
each side per connection), written to ``bench/out/`` as a classic pcap plus its NSS key log; then
times, each in a fresh process and in the same run:

* ``toolkit.load(pcap, keylog=KEYS)``: every table, QUIC decryption, HTTP/3, classification,
  hashing; the child checks that it read every request (method and URL) the generator sent and
  every STREAM frame;
* the reference, ``tshark -r pcap -n -o tls.keylog_file:KEYS -Y quic -T fields -e quic.frame_type``:
  tshark decrypts every packet to list its frame types; the script counts its STREAM frames (skipped
  with a message when tshark is absent).

Reported: wall and CPU seconds and peak RSS (``wait4``) of each process, medians over ``--repeat``
interleaved runs, and the ratio tshark / toolkit (above 1: the toolkit is faster). Usage::

    .venv/bin/python bench/bench_quic.py [--repeat 3] [--rebuild]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

GENERATOR_VERSION = 1
CONNECTIONS = 200
SEED = 21
STEM = OUT / f"quic-v{GENERATOR_VERSION}-{CONNECTIONS}"
_START_US = 1_700_000_000_000_000
_PATHS = ["/static/app.{n:x}.js", "/img/{n}.webp", "/api/v2/feed?id={n}", "/collect?v=2&cid={n}", "/index.html"]


def _settings() -> bytes:
    from toolkit.lab.quic_builder import varint

    payload = varint(0x01) + varint(4096) + varint(0x07) + varint(16)  # QPACK table capacity, blocked streams
    return b"\x00" + b"\x04" + varint(len(payload)) + payload


def _frame(kind: int, payload: bytes) -> bytes:
    from toolkit.lab.quic_builder import varint

    return varint(kind) + varint(len(payload)) + payload


def build(stem: Path) -> dict[str, object]:
    """Write ``stem``.pcap, ``stem``.keylog and ``stem``.truth.json; return the facts."""
    import pylsqpack

    from toolkit.lab.framing import Endpoint, Frame, udp_frame
    from toolkit.lab.pcap_writer import write_pcap
    from toolkit.lab.quic_builder import QuicConnectionBuilder

    rng = random.Random(SEED)
    noise = rng.randbytes(1 << 20)
    frames: list[Frame] = []
    keylog: list[str] = []
    truth: list[tuple[str, str]] = []
    stream_frames = 0
    ident = 0
    for index in range(CONNECTIONS):
        host = f"h3-{index % 40}.example-{rng.choice(['news', 'shop', 'ads', 'video'])}.com"
        builder = QuicConnectionBuilder(rng.randbytes(32), seed=rng.getrandbits(32), sni=host)
        keylog += builder.keylog_lines()
        client, server = Endpoint("192.0.2.15", 20000 + index), Endpoint(f"203.0.113.{index % 40 + 1}", 443)
        datagrams = builder.handshake()
        encoder, decoder = pylsqpack.Encoder(), pylsqpack.Encoder()
        client_setup, server_setup = encoder.apply_settings(4096, 16), decoder.apply_settings(4096, 16)
        sent = [
            builder.send(True, 2, _settings()),
            builder.send(False, 3, _settings()),
            builder.send(True, 6, b"\x02" + client_setup),
            builder.send(False, 7, b"\x02" + server_setup),
        ]
        datagrams += [
            (client, d) for client, group in zip((True, False, True, False), sent, strict=True) for d in group
        ]
        count = rng.randint(4, 12)
        for number in range(count):
            if number == count // 2:
                builder.update(True)
                builder.update(False)
            stream = 4 * number
            path = rng.choice(_PATHS).format(n=rng.getrandbits(24))
            post = path.startswith("/collect")
            headers = [
                (b":method", b"POST" if post else b"GET"),
                (b":scheme", b"https"),
                (b":authority", host.encode()),
                (b":path", path.encode()),
                (b"user-agent", b"Mozilla/5.0 (Linux; Android 10) Chrome/120 Mobile"),
                (b"cookie", f"sid={rng.getrandbits(64):016x}".encode()),
            ]
            inserts, block = encoder.encode(stream, headers)
            if inserts:
                datagrams += [(True, d) for d in builder.send(True, 6, inserts)]
            body = rng.randbytes(rng.randint(200, 1500)) if post else b""
            request = _frame(0x01, block) + (_frame(0x00, body) if body else b"")
            datagrams += [(True, d) for d in builder.send(True, stream, request, fin=True)]
            size = int(12_000 * rng.lognormvariate(0, 1.0)) if not post else 0
            response_inserts, response_block = decoder.encode(
                stream, [(b":status", b"204" if post else b"200"), (b"content-type", b"text/plain")]
            )
            if response_inserts:
                datagrams += [(False, d) for d in builder.send(False, 7, response_inserts)]
            start = rng.randrange(len(noise) - size) if size < len(noise) else 0
            response = _frame(0x01, response_block) + (_frame(0x00, noise[start : start + size]) if size else b"")
            datagrams += [(False, d) for d in builder.send(False, stream, response, fin=True)]
            truth.append(("POST" if post else "GET", f"https://{host}{path}"))
        stream_frames += len(datagrams) - 3  # every datagram after the three of the handshake carries one
        clock = _START_US + index * 50_000
        for from_client, payload in datagrams:
            clock += 200
            ident = (ident + 1) & 0xFFFF
            source, target = (client, server) if from_client else (server, client)
            frames.append(Frame(clock, udp_frame(source, target, payload, from_client=from_client, ident=ident)))
    frames.sort(key=lambda frame: frame.ts_us)
    with open(f"{stem}.pcap", "wb") as out:
        write_pcap(out, frames)
    Path(f"{stem}.keylog").write_text("\n".join(keylog) + "\n")
    facts = {
        "generator": GENERATOR_VERSION,
        "connections": CONNECTIONS,
        "requests": truth,
        "stream_frames": stream_frames,
        "frames": len(frames),
    }
    Path(f"{stem}.truth.json").write_text(json.dumps(facts))
    return facts


_TOOLKIT = """
import json, sys, time
import toolkit
pcap, keys, truth = sys.argv[1:4]
start, cpu = time.perf_counter(), time.process_time()
capture = toolkit.load(pcap, keylog=keys)
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
facts = json.load(open(truth))
requests = capture.requests
got = sorted(zip(requests["method"].astype(str), requests["url"].astype(str)))
print(json.dumps({"seconds": elapsed, "cpu": cpu, "requests": len(requests),
                  "match": got == sorted(map(tuple, facts["requests"])),
                  "stream_frames": sum(capture.meta.get("quic_stream_frames", {}).values()),
                  "decrypted_flows": int(capture.flows["decrypted"].fillna(False).astype(bool).sum()),
                  "problems": len(capture.problems)}))
"""


def run(command: list[str]) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (bytes) of one child, and its output."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE, cwd=ROOT)
        assert process.stderr is not None
        error = process.stderr.read()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    if status:
        raise SystemExit(f"{command[0]} failed ({status}): {error.decode(errors='replace')[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, text


def tshark_stream_frames(text: str) -> int:
    """STREAM frames (types 0x08 to 0x0f) in tshark's ``-e quic.frame_type`` output."""
    return sum(8 <= int(kind) <= 15 for line in text.splitlines() for kind in line.split(",") if kind.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs of each job (median reported)")
    parser.add_argument("--rebuild", action="store_true", help="build the capture again even if it exists")
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    pcap, keys, truth_path = f"{STEM}.pcap", f"{STEM}.keylog", f"{STEM}.truth.json"
    if args.build_only:
        build(STEM)
        return
    if args.rebuild or not all(os.path.exists(p) for p in (pcap, keys, truth_path)):
        start = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--build-only"], check=True)  # keeps this process small
        print(f"built in {time.perf_counter() - start:.0f} s")
    truth = json.loads(Path(truth_path).read_text())
    print(
        f"capture: {pcap}: {os.path.getsize(pcap) / 1e6:.1f} MB, {truth['frames']} frames, "
        f"{truth['connections']} QUIC connections, {len(truth['requests'])} HTTP/3 requests, "
        f"{truth['stream_frames']} STREAM frames"
    )
    tshark = shutil.which("tshark")
    if tshark is None:
        print("tshark: not installed, the reference is skipped (apt-get install -y tshark)")
    jobs: dict[str, list[tuple[float, float, int]]] = {"toolkit.load": [], "tshark": []}
    inner: list[tuple[float, float]] = []
    for _ in range(args.repeat):
        wall, cpu, rss, text = run([sys.executable, "-c", _TOOLKIT, pcap, keys, truth_path])
        facts = json.loads(text)
        if not facts["match"] or facts["stream_frames"] != truth["stream_frames"]:
            raise SystemExit(f"toolkit.load did not read the capture completely: {facts}")
        jobs["toolkit.load"].append((wall, cpu, rss))
        inner.append((facts["seconds"], facts["cpu"]))
        if tshark is not None:
            command = [
                tshark,
                "-r",
                pcap,
                "-n",
                "-o",
                f"tls.keylog_file:{keys}",
                "-Y",
                "quic",
                "-T",
                "fields",
                "-e",
                "quic.frame_type",
            ]
            wall, cpu, rss, text = run(command)
            counted = tshark_stream_frames(text)
            if counted != truth["stream_frames"]:
                raise SystemExit(f"tshark read {counted} STREAM frames, not {truth['stream_frames']}")
            jobs["tshark"].append((wall, cpu, rss))
    results: dict[str, object] = {"capture_mb": os.path.getsize(pcap) / 1e6, "frames": truth["frames"]}
    for name, runs in jobs.items():
        if not runs:
            continue
        wall, cpu, rss = (statistics.median(values) for values in zip(*runs, strict=True))
        results[name] = {"wall": wall, "cpu": cpu, "peak_mb": rss / 1e6, "runs": runs}
        print(f"{name:14} wall {wall:6.2f} s   cpu {cpu:6.2f} s   peak {rss / 1e6:6.0f} MB")
    load_wall, load_cpu = (statistics.median(values) for values in zip(*inner, strict=True))
    results["load_only"] = {"wall": load_wall, "cpu": load_cpu}
    print(f"{'of which load()':14} wall {load_wall:6.2f} s   cpu {load_cpu:6.2f} s")
    if jobs["tshark"]:
        for index, kind in ((0, "wall"), (1, "cpu")):
            reference = statistics.median(run[index] for run in jobs["tshark"])
            whole = statistics.median(run[index] for run in jobs["toolkit.load"])
            alone = load_wall if index == 0 else load_cpu
            print(
                f"{kind}: tshark / toolkit.load (whole process) {reference / whole:.2f}x;  "
                f"tshark / load() {reference / alone:.2f}x"
            )
    (OUT / "quic.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

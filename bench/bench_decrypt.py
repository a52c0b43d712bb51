"""Benchmark (issue 5): decrypting 1,000 TLS 1.3 connections carrying 20 MB, against tshark.

Builds, once, a capture of real TLS 1.3 connections with the lab's machinery (OpenSSL on both ends
over memory, ``h2`` for HTTP/2, HTTP/1.1 by hand, TCP/IP framing with handshakes, MSS segments and
ACKs), written to ``bench/out/`` as a classic pcap plus its NSS key log; then times, each in a fresh
process and in the same run:

* ``toolkit.load(pcap, keylog=KEYS)`` (every table, classification, hashing), checking that it
  decrypted every connection and read every request (method and URL) the lab sent;
* ``tshark -r pcap -o tls.keylog_file:KEYS -Y "http.request or http2.type == 1" -T fields`` with
  the request method, URI, host and HTTP/2 header values (skipped with a message when tshark is absent).

Reported: wall and CPU seconds and peak RSS (``wait4``) of each process, medians over ``--repeat``
interleaved runs, and the ratio tshark / toolkit (above 1: the toolkit is faster). Usage::

    .venv/bin/python bench/bench_decrypt.py [--repeat 3] [--rebuild]
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
CONNECTIONS = 1000
TARGET_BYTES = 20_000_000  # application data (request + response bodies and heads), both directions
SEED = 5
STEM = OUT / f"decrypt-v{GENERATOR_VERSION}-{CONNECTIONS}"
_START_US = 1_700_000_000_000_000

# What a page's connections fetch: (kind, method, path template, content type, median body size, spread).
# Sizes follow the shape of the HTTP Archive's per-type medians (a few kB of JSON and beacons,
# tens of kB of script, images and HTML), spread log-normally; then scaled to TARGET_BYTES in total.
_KINDS = [
    ("script", "GET", "/static/js/{name}.{n:x}.js", "application/javascript", 30_000, 1.0),
    ("style", "GET", "/static/css/{name}.{n:x}.css", "text/css", 12_000, 0.8),
    ("image", "GET", "/img/{name}/{n}.webp", "image/webp", 18_000, 1.1),
    ("html", "GET", "/{name}/{n}.html", "text/html; charset=utf-8", 40_000, 0.6),
    ("api", "GET", "/api/v2/{name}?id={n}&fields=all", "application/json", 2_500, 1.0),
    ("beacon", "POST", "/collect?v=2&tid={name}&cid={n}", "text/plain", 0, 0.0),
    ("upload", "POST", "/api/v2/{name}/events", "application/json", 800, 0.5),
]
_KIND_WEIGHTS = [22, 8, 28, 6, 20, 12, 4]
_WORDS = [
    "main",
    "vendor",
    "app",
    "chunk",
    "runtime",
    "analytics",
    "player",
    "consent",
    "feed",
    "story",
    "article",
    "search",
    "cart",
    "profile",
    "video",
    "comments",
    "widget",
    "ads",
    "sync",
]


def _plan(rng: random.Random) -> list[dict[str, object]]:
    """Connections: host, HTTP version, and their requests with body sizes (before scaling)."""
    hosts = [
        f"{prefix}{i}.example-{site}.{tld}"
        for i, (prefix, site, tld) in enumerate(
            (
                rng.choice(["www", "cdn", "api", "static", "img", "t"]),
                rng.choice(["news", "shop", "ads", "video", "maps"]),
                rng.choice(["com", "net", "org", "io"]),
            )
            for _ in range(60)
        )
    ]
    connections = []
    for index in range(CONNECTIONS):
        host = rng.choice(hosts)
        http2 = rng.random() < 0.6
        count = rng.randint(1, 14) if http2 else rng.randint(1, 6)
        requests = []
        for number in range(count):
            kind, method, template, ctype, median, spread = rng.choices(_KINDS, _KIND_WEIGHTS)[0]
            path = template.format(name=rng.choice(_WORDS), n=rng.getrandbits(24))
            size = int(median * rng.lognormvariate(0, spread)) if median else 0
            upload = int(rng.randint(200, 1500)) if kind == "beacon" else (size if kind == "upload" else 0)
            requests.append(
                {
                    "kind": kind,
                    "method": method,
                    "path": path,
                    "ctype": ctype,
                    "upload": upload,
                    "size": 0 if kind in ("beacon", "upload") else size,
                    "n": number,
                }
            )
        connections.append({"index": index, "host": host, "http2": http2, "requests": requests})
    total = sum(r["size"] + r["upload"] for c in connections for r in c["requests"])  # type: ignore[attr-defined]
    scale = (TARGET_BYTES * 0.93) / total  # heads and framing make up the rest
    for connection in connections:
        for request in connection["requests"]:  # type: ignore[attr-defined]
            request["size"] = int(request["size"] * scale)
            request["upload"] = int(request["upload"] * scale)
    return connections


def build(stem: Path) -> dict[str, object]:
    """Write ``stem``.pcap, ``stem``.keylog and ``stem``.truth.json; return the truth."""
    from h2.settings import SettingCodes

    from toolkit.lab import http1
    from toolkit.lab.certs import CertificateAuthority
    from toolkit.lab.exchange import Request, Response
    from toolkit.lab.framing import Clock, Endpoint, Frame, IpIdentifiers, TcpFlow
    from toolkit.lab.http2 import Http2Session
    from toolkit.lab.pcap_writer import write_pcap
    from toolkit.lab.tls_pair import TlsPair

    rng = random.Random(SEED)
    plan = _plan(rng)
    noise = random.Random(SEED + 1).randbytes(1 << 20)  # body bytes: slices of one incompressible block
    text = (" ".join(_WORDS) * 4000).encode()[: 1 << 20]
    authority = CertificateAuthority.from_seed(SEED)
    ids = IpIdentifiers()
    server_ips: dict[str, str] = {}
    responses: dict[tuple[str, str], Response] = {}
    frames: list[Frame] = []
    keylog: list[str] = []
    truth: list[tuple[str, str]] = []
    app_bytes = 0

    def body_of(size: int, binary: bool, salt: int) -> bytes:
        source = noise if binary else text
        start = salt % (len(source) - min(size, len(source) - 1))
        out = source[start : start + size]
        while len(out) < size:
            out += source[: size - len(out)]
        return out

    def serve(request: Request) -> Response:
        return responses[(request.host, request.path)]

    with tempfile.TemporaryDirectory() as folder:
        for connection in plan:
            index, host = int(connection["index"]), str(connection["host"])  # type: ignore[call-overload]
            folder_for = Path(folder) / str(index % 50)  # TlsPair globs its folder: keep folders small
            folder_for.mkdir(exist_ok=True)
            server_ip = server_ips.setdefault(host, f"203.0.113.{len(server_ips) + 1}")
            own: list[Frame] = []
            clock = Clock(_START_US + index * 60_000 + rng.randrange(50_000))  # overlapping connections
            flow = TcpFlow(
                clock,
                own,
                Endpoint("192.0.2.15", 32768 + index),
                Endpoint(server_ip, 443),
                rng.getrandbits(32),
                rng.getrandbits(32),
                ids,
            )
            flow.open()
            alpn = ["h2", "http/1.1"] if connection["http2"] else ["http/1.1"]

            def on_wire(from_client: bool, data: bytes, flow: TcpFlow = flow) -> None:
                flow.send(from_client, data)

            tls = TlsPair.open(host, authority, "1.3", alpn, folder_for, on_wire=on_wire)
            keylog += tls.keylog
            requests = []
            for spec in connection["requests"]:  # type: ignore[attr-defined]
                headers = [
                    ("user-agent", "Mozilla/5.0 (Linux; Android 10) Chrome/120 Mobile"),
                    ("accept", "*/*"),
                    ("accept-language", "en-GB,en;q=0.9"),
                    ("cookie", f"sid={rng.getrandbits(64):016x}; consent=1"),
                ]
                upload = body_of(spec["upload"], False, rng.getrandbits(20))
                if upload:
                    headers.append(("content-type", "application/json" if spec["kind"] == "upload" else "text/plain"))
                request = Request(spec["method"], host, spec["path"], headers, upload)
                binary = spec["kind"] == "image"
                status = 204 if spec["kind"] == "beacon" else 200
                response_headers = [
                    ("content-type", spec["ctype"]),
                    ("cache-control", "max-age=3600"),
                    ("server", "lab"),
                ]
                responses[(host, spec["path"])] = Response(
                    status, response_headers, body_of(spec["size"], binary, rng.getrandbits(20))
                )
                requests.append(request)
                truth.append((spec["method"], request.url))
                app_bytes += len(upload) + spec["size"]
            if tls.alpn == "h2":
                session = Http2Session(tls, serve)
                # Chrome's windows (6 MB per stream, 15 MB per connection); with the 64 kB defaults the
                # lab's HTTP/2 pump stalls on several large concurrent responses.
                session.client.update_settings({SettingCodes.INITIAL_WINDOW_SIZE: 6 << 20})
                session.client.increment_flow_control_window(15 << 20)
                for start in range(0, len(requests), 6):  # a browser's burst of concurrent streams
                    session.exchange_all(requests[start : start + 6])
                session.close()
            else:
                for request in requests:
                    received = tls.client_send(http1.request_bytes(request))
                    tls.server_send(http1.response_bytes(serve(http1.parse_request(received))))
            tls.close()
            flow.close()
            frames += own
            responses.clear()
    frames.sort(key=lambda frame: frame.ts_us)  # stable: each connection's frames keep their order
    with open(f"{stem}.pcap", "wb") as out:
        write_pcap(out, frames)
    Path(f"{stem}.keylog").write_text("\n".join(keylog) + "\n")
    facts = {
        "generator": GENERATOR_VERSION,
        "connections": CONNECTIONS,
        "http2_connections": sum(1 for c in plan if c["http2"]),
        "requests": truth,
        "body_bytes": app_bytes,
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
requests = capture.requests
decrypted = requests[requests["decrypted"].fillna(False).astype(bool)]
expected = sorted(map(tuple, json.load(open(truth))["requests"]))
got = sorted(zip(decrypted["method"].astype(str), decrypted["url"].astype(str)))
tls = capture.tls
print(json.dumps({"seconds": elapsed, "cpu": cpu, "requests": len(decrypted), "all_requests": len(requests),
                  "match": got == expected, "missing": len(set(expected) - set(got)),
                  "problems": len(capture.problems), "tls_rows": len(tls)}))
"""


def run(command: list[str], stdout_path: str | None = None) -> tuple[float, float, int, str]:
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


def tshark_command(tshark: str, pcap: str, keys: str) -> list[str]:
    """tshark decrypting with the key log and printing one line per HTTP/1.x or HTTP/2 request."""
    return [
        tshark,
        "-r",
        pcap,
        "-n",
        "-o",
        f"tls.keylog_file:{keys}",
        "-Y",
        "http.request or http2.type == 1",
        "-T",
        "fields",
        "-E",
        "occurrence=a",
        "-e",
        "frame.number",
        "-e",
        "http.request.method",
        "-e",
        "http.host",
        "-e",
        "http.request.uri",
        "-e",
        "http2.header.name",
        "-e",
        "http2.header.value",
    ]


def count_tshark_requests(text: str) -> int:
    """Requests in tshark's output: HTTP/1.x lines with a method, and each ``:method`` in HTTP/2 headers."""
    count = 0
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) < 6:
            continue
        if fields[1]:
            count += len(fields[1].split(","))
        else:
            count += fields[4].split(",").count(":method")
    return count


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
    expected = len(truth["requests"])
    print(
        f"capture: {pcap}: {os.path.getsize(pcap) / 1e6:.1f} MB, {truth['frames']} frames, "
        f"{truth['connections']} TLS 1.3 connections ({truth['http2_connections']} HTTP/2), {expected} requests, "
        f"{truth['body_bytes'] / 1e6:.1f} MB of bodies"
    )

    tshark = shutil.which("tshark")
    if tshark is None:
        print("tshark: not installed, the reference is skipped (apt-get install -y tshark)")
    jobs: dict[str, list[tuple[float, float, int]]] = {"toolkit.load": [], "tshark": [], "imports only": []}
    inner: list[tuple[float, float]] = []
    for _ in range(args.repeat):
        wall, cpu, rss, text = run([sys.executable, "-c", _TOOLKIT, pcap, keys, truth_path])
        facts = json.loads(text.splitlines()[-1])
        if facts["requests"] != expected or not facts["match"]:
            raise SystemExit(f"toolkit.load read {facts['requests']} decrypted requests, expected {expected}: {facts}")
        jobs["toolkit.load"].append((wall, cpu, rss))
        inner.append((facts["seconds"], facts["cpu"]))
        if tshark:
            wall, cpu, rss, text = run(tshark_command(tshark, pcap, keys))
            found = count_tshark_requests(text)
            if found != expected:
                print(f"  warning: tshark printed {found} requests, expected {expected}")
            jobs["tshark"].append((wall, cpu, rss))
        jobs["imports only"].append(run([sys.executable, "-c", "import toolkit, pandas, toolkit.io.pcap"])[:3])

    medians = {
        name: tuple(statistics.median(run[i] for run in runs) for i in range(3)) for name, runs in jobs.items() if runs
    }
    load_wall, load_cpu = (statistics.median(r[i] for r in inner) for i in range(2))
    print(
        f"toolkit.load read all {expected} requests (method and URL as sent) from {truth['connections']} "
        f"decrypted connections; medians of {args.repeat} runs, each a fresh process:"
    )
    for name, (wall, cpu, rss) in medians.items():
        print(f"  {name:14s} {wall:6.2f} s wall  {cpu:6.2f} s CPU  peak RSS {rss / 1e6:5.0f} MB")
    print(f"  inside the toolkit process, load() alone: {load_wall:.2f} s wall, {load_cpu:.2f} s CPU")
    figures: dict[str, object] = {
        "medians": medians,
        "load_only": [load_wall, load_cpu],
        "runs": jobs,
        "python": sys.version.split()[0],
        "file_mb": os.path.getsize(pcap) / 1e6,
    }
    if "tshark" in medians:
        t_wall, t_cpu, t_rss = medians["tshark"]
        k_wall, k_cpu, k_rss = medians["toolkit.load"]
        ratios = {"wall": t_wall / k_wall, "cpu": t_cpu / k_cpu, "memory": k_rss / t_rss}
        figures["ratios"] = ratios
        print(
            f"  tshark / toolkit (whole processes): {ratios['wall']:.2f}x wall, {ratios['cpu']:.2f}x CPU "
            f"(above 1: the toolkit is faster); toolkit peak RSS = {ratios['memory']:.2f}x tshark's"
        )
        print(f"  tshark / load() alone: {t_wall / load_wall:.2f}x wall, {t_cpu / load_cpu:.2f}x CPU")
    (OUT / "decrypt.json").write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()

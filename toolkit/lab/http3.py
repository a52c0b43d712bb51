"""The HTTP/3 lab scenario: a real headless Chromium browsing real HTTP/3 servers, recorded with tcpdump.

Unlike the other scenarios (written packet by packet from in-process stacks), this one is recorded
from real programs on loopback, in a network namespace of its own so nothing else is on the wire:

* ``aioquic`` HTTP/3 servers for ``www.example-news.com``, ``www.example-search.com`` and the
  Sensors Analytics collector ``sa.api.intl.miui.com``; a TCP TLS (HTTP/1.1) server from Python's
  ``ssl`` for the ad tag ``tag.example-ads.com``; each on its scenario address on ``lo``;
* Chromium, headless, with ``--origin-to-force-quic-on`` for the three HTTP/3 origins and
  ``SSLKEYLOGFILE`` (it logs the TLS 1.3 secrets of QUIC and of TCP TLS alike); the lab's private CA
  is made acceptable with ``--ignore-certificate-errors-spki-list``;
* each page's inline script posts a Sensors Analytics batch (the visited URL, or the search words,
  in ``data_list`` as the SDK encodes it) to the collector with a synchronous XHR: that telemetry
  goes over HTTP/3; the ad beacon (page URL in ``dl``) goes over TCP TLS.

The ground truth is what the servers themselves logged: every request's host, method, URL, body
and HTTP version. Recording needs root (network namespace, tcpdump), ``chromium``, ``tcpdump`` and
the ``lab`` extra (``aioquic``); reading the result needs none of them::

    python -m toolkit.lab.http3 record --out data/lab       # http3.pcap, http3.keylog, http3.truth.json

>>> [visit.url for visit in HTTP3_VISITS][1]
'https://www.example-search.com/search?q=hiv+test+clinic+near+me'
>>> sorted(host for host, site in HTTP3_HOSTS.items() if site.http3)
['sa.api.intl.miui.com', 'www.example-news.com', 'www.example-search.com']
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from toolkit.lab.certs import CertificateAuthority
from toolkit.lab.scenario import AD_TAG_CLIENT_ID, COLLECTOR, HOSTS, SCENARIOS, Device, sdk_event
from toolkit.lab.sensors import decode_batch, encode_batch

__all__ = ["HTTP3_HOSTS", "HTTP3_VISITS", "Http3Host", "Http3Visit", "main"]

NAMESPACE = "toolkit-lab-h3"
SEED = 2020


@dataclass(frozen=True)
class Http3Host:
    """A server of the HTTP/3 scenario: its address on the namespace's loopback, and its transport."""

    name: str
    address: str
    http3: bool
    """Served by aioquic over QUIC (HTTP/3); otherwise TCP TLS with HTTP/1.1."""


HTTP3_HOSTS: dict[str, Http3Host] = {
    name: Http3Host(name, HOSTS[name].ipv4, http3)
    for name, http3 in [
        ("www.example-news.com", True),
        ("www.example-search.com", True),
        ("sa.api.intl.miui.com", True),
        ("tag.example-ads.com", False),
    ]
}


@dataclass(frozen=True)
class Http3Visit:
    """A page Chromium opens: its URL, and what its script reports to the collector."""

    url: str
    title: str
    event: str
    properties: dict[str, str]


HTTP3_VISITS = (
    Http3Visit(
        "https://www.example-news.com/world/2020/04/30/election-results.html",
        "Election results",
        "page_load_event_finish",
        {"url": "https://www.example-news.com/world/2020/04/30/election-results.html"},
    ),
    Http3Visit(
        "https://www.example-search.com/search?q=hiv+test+clinic+near+me",
        "hiv test clinic near me - Example Search",
        "search",
        {"search_word": "hiv test clinic near me"},
    ),
)


def _telemetry_body(visit: Http3Visit, index: int) -> str:
    device, scenario = Device.from_seed(SEED), SCENARIOS["normal"]
    event = sdk_event(device, scenario, visit.event, 1588237200000 + index * 1000, index + 1, visit.properties)
    return encode_batch([event])


def _page(visit: Http3Visit, index: int) -> bytes:
    """The page: an ad beacon (TCP TLS) and a synchronous telemetry post (HTTP/3) before it loads."""
    beacon = f"https://tag.example-ads.com/collect?cid={AD_TAG_CLIENT_ID}&dl={quote(visit.url, safe='')}"
    body = json.dumps(_telemetry_body(visit, index))
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{visit.title}</title></head>
<body><h1>{visit.title}</h1><img src="{beacon}" alt="">
<script>
var xhr = new XMLHttpRequest();
xhr.open("POST", "{COLLECTOR}", false);
xhr.setRequestHeader("Content-Type", "application/x-www-form-urlencoded");
try {{ xhr.send({body}); }} catch (e) {{}}
</script></body></html>
""".encode()


def _respond(host: str, path: str) -> tuple[int, str, bytes]:
    """Status, content type and body the scenario's servers answer with."""
    for index, visit in enumerate(HTTP3_VISITS):
        if visit.url == f"https://{host}{path}":
            return 200, "text/html; charset=utf-8", _page(visit, index)
    if host == "tag.example-ads.com":
        return 200, "image/gif", base64.b64decode("R0lGODlhAQABAAAAACwAAAAAAQABAAACAkQBADs=")
    if host == "sa.api.intl.miui.com":
        return 200, "text/plain", b"ok"
    return 404, "text/plain", b"not found"


class _Log:
    """The servers' request log (JSON lines), shared by the HTTP/3 and HTTP/1.1 servers."""

    def __init__(self, path: Path) -> None:
        self._path, self._lock = path, threading.Lock()

    def write(self, host: str, method: str, path: str, version: str, body: bytes, content_type: str | None) -> None:
        row = {
            "ts": datetime.now(UTC).isoformat(),
            "host": host,
            "method": method,
            "url": f"https://{host}{path}",
            "http_version": version,
            "content_type": content_type,
            "body": body.decode("utf-8", "replace"),
        }
        with self._lock, self._path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")


# -- servers (run inside the namespace) -----------------------------------------------------------


async def _serve_http3(host: Http3Host, cert: Path, key: Path, log: _Log) -> None:
    from aioquic.asyncio import QuicConnectionProtocol, serve
    from aioquic.h3.connection import H3_ALPN, H3Connection
    from aioquic.h3.events import DataReceived, HeadersReceived
    from aioquic.quic.configuration import QuicConfiguration
    from aioquic.quic.events import ProtocolNegotiated

    class Server(QuicConnectionProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._http: Any = None
            self._requests: dict[int, tuple[dict[bytes, bytes], bytearray]] = {}

        def quic_event_received(self, event: Any) -> None:
            if isinstance(event, ProtocolNegotiated) and event.alpn_protocol in H3_ALPN:
                self._http = H3Connection(self._quic)
            if self._http is None:
                return
            for h3 in self._http.handle_event(event):
                if isinstance(h3, HeadersReceived):
                    self._requests[h3.stream_id] = (dict(h3.headers), bytearray())
                elif isinstance(h3, DataReceived) and h3.stream_id in self._requests:
                    self._requests[h3.stream_id][1].extend(h3.data)
                if isinstance(h3, HeadersReceived | DataReceived) and h3.stream_ended:
                    self._answer(h3.stream_id)

        def _answer(self, stream_id: int) -> None:
            headers, body = self._requests.pop(stream_id)
            path = headers.get(b":path", b"/").decode()
            content_type = headers.get(b"content-type")
            log.write(
                host.name,
                headers.get(b":method", b"").decode(),
                path,
                "HTTP/3",
                bytes(body),
                content_type.decode() if content_type else None,
            )
            status, kind, content = _respond(host.name, path)
            self._http.send_headers(
                stream_id,
                [
                    (b":status", str(status).encode()),
                    (b"content-type", kind.encode()),
                    (b"content-length", str(len(content)).encode()),
                ],
            )
            self._http.send_data(stream_id, content, end_stream=True)
            self.transmit()

    configuration = QuicConfiguration(is_client=False, alpn_protocols=H3_ALPN)
    configuration.load_cert_chain(cert, key)
    await serve(host.address, 443, configuration=configuration, create_protocol=Server)


def _serve_https(host: Http3Host, cert: Path, key: Path, log: _Log) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            log.write(host.name, self.command, self.path, "HTTP/1.1", body, self.headers.get("Content-Type"))
            status, kind, content = _respond(host.name, self.path)
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host.address, 443), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["http/1.1"])
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def serve(folder: Path) -> None:
    """Run every server of the scenario until killed (inside the namespace); log to requests.jsonl."""
    log = _Log(folder / "requests.jsonl")

    async def run() -> None:
        for host in HTTP3_HOSTS.values():
            cert, key = folder / f"{host.name}.crt", folder / f"{host.name}.key"
            if host.http3:
                await _serve_http3(host, cert, key, log)
            else:
                _serve_https(host, cert, key, log)
        (folder / "ready").touch()
        await asyncio.Event().wait()

    asyncio.run(run())


# -- recording (outside the namespace) ------------------------------------------------------------


def _spki_hash(certificate_pem: bytes) -> str:
    certificate = x509.load_pem_x509_certificate(certificate_pem)
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def _chromium_args(folder: Path, spki: list[str]) -> list[str]:
    rules = ", ".join(f"MAP {h.name} {h.address}" for h in HTTP3_HOSTS.values()) + ", MAP * ~NOTFOUND"
    quic = ",".join(f"{h.name}:443" for h in HTTP3_HOSTS.values() if h.http3)
    return [
        shutil.which("chromium") or "chromium",
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-features=OptimizationHints,MediaRouter,Translate",
        f"--user-data-dir={folder / 'profile'}",
        "--enable-quic",
        f"--origin-to-force-quic-on={quic}",
        f"--host-resolver-rules={rules}",
        f"--ignore-certificate-errors-spki-list={','.join(spki)}",
        "--virtual-time-budget=4000",
        "--dump-dom",
    ]


def record(out: Path) -> dict[str, Any]:
    """Record the scenario into ``out``: http3.pcap, http3.keylog and http3.truth.json."""
    out.mkdir(parents=True, exist_ok=True)
    authority = CertificateAuthority.from_seed(SEED)
    with tempfile.TemporaryDirectory(prefix="toolkit-h3-") as name:
        folder = Path(name)
        spki = []
        for host in HTTP3_HOSTS.values():
            issued = authority.issue(host.name)
            (folder / f"{host.name}.crt").write_bytes(issued.certificate_pem + authority.certificate_pem)
            (folder / f"{host.name}.key").write_bytes(issued.key_pem)
            spki.append(_spki_hash(issued.certificate_pem))
        subprocess.run(["ip", "netns", "del", NAMESPACE], capture_output=True, check=False)
        subprocess.run(["ip", "netns", "add", NAMESPACE], check=True)
        inside = ["ip", "netns", "exec", NAMESPACE]
        processes: list[subprocess.Popen[bytes]] = []
        try:
            subprocess.run(["ip", "-n", NAMESPACE, "link", "set", "lo", "up"], check=True)
            for host in HTTP3_HOSTS.values():
                subprocess.run(["ip", "-n", NAMESPACE, "addr", "add", f"{host.address}/32", "dev", "lo"], check=True)
            pcap = folder / "http3.pcap"
            processes.append(subprocess.Popen([*inside, "tcpdump", "-i", "lo", "-U", "-w", str(pcap), "port 443"]))
            env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
            server = [*inside, sys.executable, "-m", "toolkit.lab.http3", "serve", str(folder)]
            processes.append(subprocess.Popen(server, env=env))
            for _ in range(100):
                if (folder / "ready").exists():
                    break
                time.sleep(0.1)
            time.sleep(1.0)
            keylog = folder / "http3.keylog"
            browser_env = {**os.environ, "SSLKEYLOGFILE": str(keylog)}
            for visit in HTTP3_VISITS:
                subprocess.run(
                    [*inside, *_chromium_args(folder, spki), visit.url],
                    env=browser_env,
                    capture_output=True,
                    timeout=60,
                    check=False,
                )
            time.sleep(1.0)
        finally:
            for process in reversed(processes):
                process.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=10)
            subprocess.run(["ip", "netns", "del", NAMESPACE], capture_output=True, check=False)
        shutil.copy(folder / "http3.pcap", out / "http3.pcap")
        shutil.copy(keylog, out / "http3.keylog")
        log = [json.loads(line) for line in (folder / "requests.jsonl").read_text().splitlines()]
    truth = _truth(log)
    (out / "http3.truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return truth


def _truth(log: list[dict[str, Any]]) -> dict[str, Any]:
    telemetry = [
        {"url": row["url"], "http_version": row["http_version"], "events": decode_batch(row["body"])}
        for row in log
        if row["host"] == "sa.api.intl.miui.com" and row["method"] == "POST"
    ]
    return {
        "scenario": "http3",
        "description": "Headless Chromium over HTTP/3 (aioquic) and TCP TLS, on loopback in a network namespace; "
        "the requests are the servers' own logs.",
        "command": "python -m toolkit.lab.http3 record --out data/lab",
        "browser": subprocess.run(["chromium", "--version"], capture_output=True, text=True).stdout.strip(),
        "hosts": [
            {
                "host": h.name,
                "address": h.address,
                "transport": "QUIC" if h.http3 else "TCP",
                "http_version": "HTTP/3" if h.http3 else "HTTP/1.1",
            }
            for h in HTTP3_HOSTS.values()
        ],
        "visits": [visit.url for visit in HTTP3_VISITS],
        "requests": log,
        "telemetry": telemetry,
        "expected_leaks": expected_leaks(log),
        "identifiers": {
            "android_id": Device.from_seed(SEED).android_id,
            "distinct_id": Device.from_seed(SEED).distinct_id,
        },
    }


def expected_leaks(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The leaks a detector must report in the servers' ``log``: what each telemetry post and ad
    beacon carries, with the chain ``find_leaks`` names (location first).

    >>> visit = HTTP3_VISITS[1]
    >>> row = {"host": "sa.api.intl.miui.com", "method": "POST", "http_version": "HTTP/3",
    ...        "url": COLLECTOR, "body": _telemetry_body(visit, 1)}
    >>> [leak["kind"] for leak in expected_leaks([row])]
    ['search_term', 'android_id', 'distinct_id']
    >>> expected_leaks([row])[0]["chain"]
    'form:data_list > urldecode > base64 > gzip > json:[0].properties.search_word'
    """
    device, data_list = Device.from_seed(SEED), "form:data_list > urldecode > base64 > gzip"
    leaks: list[dict[str, Any]] = []
    for index, row in enumerate(log):
        base = {"request": index, "host": row["host"], "http_version": row["http_version"]}
        if row["host"] == "sa.api.intl.miui.com" and row["method"] == "POST":
            for position, event in enumerate(decode_batch(row["body"])):
                properties, path = event["properties"], f"{data_list} > json:[{position}]"
                if "url" in properties:
                    leaks.append(
                        {**base, "kind": "visited_url", "value": properties["url"], "chain": f"{path}.properties.url"}
                    )
                if "search_word" in properties:
                    leaks.append(
                        {
                            **base,
                            "kind": "search_term",
                            "value": properties["search_word"],
                            "chain": f"{path}.properties.search_word",
                        }
                    )
                leaks.append(
                    {**base, "kind": "android_id", "value": device.android_id, "chain": f"{path}.properties.$device_id"}
                )
                leaks.append(
                    {**base, "kind": "distinct_id", "value": device.distinct_id, "chain": f"{path}.distinct_id"}
                )
        elif row["host"] == "tag.example-ads.com":
            for visit in HTTP3_VISITS:
                if quote(visit.url, safe="") in row["url"]:
                    leaks.append({**base, "kind": "visited_url", "value": visit.url, "chain": "query:dl > urldecode"})
    return leaks


def main(argv: list[str] | None = None) -> int:
    """``record --out DIR`` (root, outside) or ``serve FOLDER`` (what ``record`` runs in the namespace)."""
    parser = argparse.ArgumentParser(prog="python -m toolkit.lab.http3", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("record").add_argument("--out", type=Path, default=Path("data/lab"))
    commands.add_parser("serve").add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.folder)
        return 0
    truth = record(args.out)
    print(f"{len(truth['requests'])} requests logged by the servers; files in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

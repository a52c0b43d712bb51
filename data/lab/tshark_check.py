"""Check the lab's captures with TShark (not part of the tests: TShark is not a dependency).

For every scenario, opens ``<name>.pcapng`` (keys only from its Decryption Secrets Block) and
``<name>.pcap`` with ``<name>.keylog``, and compares what TShark sees with ``<name>.truth.json``:
malformed packets, expert warnings and errors (IPv4/TCP/UDP checksums verified), TLS connections
and their versions, decrypted connections (Finished messages readable, HTTP inside), every HTTP/1.1
and HTTP/2 request, DNS queries.
Prints a Markdown table (pasted into README.md) and exits 1 on any mismatch.

    python data/lab/tshark_check.py [data/lab]
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCENARIOS = ("normal", "incognito", "incognito_toggle_off")
# Wireshark does not verify checksums unless asked; a bad one is then an expert warning (or error).
CHECKSUMS = [option for proto in ("ip", "tcp", "udp") for option in ("-o", f"{proto}.check_checksum:TRUE")]


def tshark(capture: Path, display_filter: str, fields: list[str], keylog: Path | None) -> list[list[str]]:
    command = ["tshark", "-n", "-r", str(capture), "-Y", display_filter, "-T", "fields", "-E", "aggregator=|"]
    command += CHECKSUMS
    if keylog is not None:
        command += ["-o", f"tls.keylog_file:{keylog}"]
    for field in fields:
        command += ["-e", field]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in output.splitlines()]


def check(capture: Path, keylog: Path | None, truth: dict) -> dict[str, object]:
    frames = len(tshark(capture, "frame", ["frame.number"], keylog))
    malformed = len(tshark(capture, "_ws.malformed", ["frame.number"], keylog))
    warnings = len(tshark(capture, "_ws.expert.severity >= 0x600000", ["frame.number"], keylog))
    hellos = tshark(capture, "tls.handshake.type == 2", ["tcp.stream", "tls.handshake.extensions.supported_version"],
                    keylog)  # fmt: skip
    tls13 = sum(row[1] == "0x0304" for row in hellos)
    finished = tshark(capture, "tls.handshake.type == 20", ["tcp.stream"], keylog)
    decrypted = {row[0] for row in tshark(capture, "http || http2", ["tcp.stream"], keylog)}
    http1 = tshark(capture, "http.request", ["http.request.method", "http.host", "http.request.uri"], keylog)
    http2 = tshark(capture, "http2.headers.method", ["http2.headers.method", "http2.headers.authority",
                                                      "http2.headers.path"], keylog)  # fmt: skip
    seen = sorted(f"{m} https://{h}{p}" for m, h, p in http1)
    for methods, hosts, paths in http2:
        columns = zip(methods.split("|"), hosts.split("|"), paths.split("|"), strict=True)
        seen += [f"{m} https://{h}{p}" for m, h, p in columns]
    expected = sorted(f"{r['method']} {r['url']}" for r in truth["requests"])
    dns = len(tshark(capture, "dns.flags.response == 0", ["dns.qry.name"], keylog))
    counts = truth["counts"]
    result = {
        "frames": frames,
        "malformed": malformed,
        "warnings": warnings,
        "tls": len(hellos),
        "tls13": tls13,
        "decrypted": sum(str(i) in decrypted for i in range(len(hellos))),
        "finished": len(finished),
        "http1": len(http1),
        "http2": sum(len(row[0].split("|")) for row in http2),
        "dns": dns,
    }
    result["ok"] = (
        malformed == 0
        and warnings == 0
        and len(hellos) == counts["tcp_connections"] == result["decrypted"]
        and tls13 == counts["tls13_connections"]
        and len(finished) == 2 * len(hellos)
        and result["http1"] == counts["http1_requests"]
        and result["http2"] == counts["http2_requests"]
        and sorted(seen) == expected
        and dns == counts["dns_queries"]
    )
    return result


def main(folder: Path) -> int:
    print("| file | keys from | frames | malformed | warnings | TLS conns (1.3) | decrypted | Finished "
          "| HTTP/1.1 req | HTTP/2 req | DNS queries | = truth |")  # fmt: skip
    print("|" + " --- |" * 12)
    ok = True
    for name in SCENARIOS:
        truth = json.loads((folder / f"{name}.truth.json").read_text(encoding="utf-8"))
        pairs = ((folder / f"{name}.pcapng", None), (folder / f"{name}.pcap", folder / f"{name}.keylog"))
        for capture, keylog in pairs:
            r = check(capture, keylog, truth)
            ok &= bool(r["ok"])
            keys = "DSB" if keylog is None else f"`{keylog.name}`"
            print(f"| `{capture.name}` | {keys} | {r['frames']} | {r['malformed']} | {r['warnings']} "
                  f"| {r['tls']} ({r['tls13']}) | {r['decrypted']} | {r['finished']} | {r['http1']} | {r['http2']} "
                  f"| {r['dns']} | {'yes' if r['ok'] else 'NO'} |")  # fmt: skip
    version = subprocess.run(["tshark", "-v"], capture_output=True, text=True, check=True).stdout.splitlines()[0]
    print(f"\n{version}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent))

"""Writes <name>.tshark.json (stdout): per TCP stream, the length and SHA-256 of each direction's plaintext
as TShark decrypts it (`tshark -z follow,tls,raw`). Used by make_capture.sh; needs tshark.

    python3 tshark_plaintext.py PCAP KEYLOG STREAMS [PORTS] > NAME.tshark.json
"""

import hashlib
import json
import subprocess
import sys


def plaintext(pcap: str, keylog: str, stream: int, ports: str) -> dict[str, bytes]:
    command = ["tshark", "-r", pcap, "-o", f"tls.keylog_file:{keylog}", "-d", f"tcp.port=={ports},tls", "-q"]
    text = subprocess.run([*command, "-z", f"follow,tls,raw,{stream}"], capture_output=True, text=True, check=True)
    parts = {"up": b"", "down": b""}
    for line in text.stdout.splitlines()[6:]:
        if line.startswith("="):
            break
        parts["down" if line.startswith("\t") else "up"] += bytes.fromhex(line.strip())
    return parts


def main() -> None:
    pcap, keylog, streams = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ports = sys.argv[4] if len(sys.argv) > 4 else "44301-44320"
    out = {}
    for stream in range(streams):
        parts = plaintext(pcap, keylog, stream, ports)
        out[str(stream)] = {
            f"{key}_{what}": value
            for key, data in parts.items()
            for what, value in (("len", len(data)), ("sha256", hashlib.sha256(data).hexdigest()))
        }
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()

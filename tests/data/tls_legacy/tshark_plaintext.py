"""Writes legacy.tshark.json: per TCP stream, the length and SHA-256 of each direction's plaintext as
TShark decrypts it (`tshark -z follow,tls,raw`). Used by make_capture.sh; needs tshark."""

import hashlib
import json
import subprocess
import sys

pcap, keylog, streams = sys.argv[1], sys.argv[2], int(sys.argv[3])
out = {}
for stream in range(streams):
    text = subprocess.run(
        ["tshark", "-r", pcap, "-o", f"tls.keylog_file:{keylog}", "-d", "tcp.port==44301-44320,tls", "-q",
         "-z", f"follow,tls,raw,{stream}"],
        capture_output=True, text=True, check=True,
    ).stdout
    parts = {"up": b"", "down": b""}
    for line in text.splitlines()[6:]:
        if line.startswith("="):
            break
        key = "down" if line.startswith("\t") else "up"
        parts[key] += bytes.fromhex(line.strip())
    out[str(stream)] = {
        f"{key}_{what}": value
        for key, data in parts.items()
        for what, value in (("len", len(data)), ("sha256", hashlib.sha256(data).hexdigest()))
    }
json.dump(out, sys.stdout, indent=1)

"""TrackHAR as an oracle for the data-types table (issue 18): on the same requests, what TrackHAR's
adapters find that ``toolkit.datatypes`` does not, and the reverse. Not a test; needs node and the
npm package ``trackhar`` (MIT) installed in a folder of your choice:

    npm install --prefix /tmp/trackhar trackhar
    .venv/bin/python bench/trackhar_oracle.py --trackhar /tmp/trackhar [HAR ...]

Without HAR files it compares on requests built from the SDKs' documented wire formats (the
adapters' doctest examples: Adjust, Amplitude, ironSource, Unity Ads, AppMetrica, Meta). A value
counts as found by both when both tools report it for the same request (types are named
differently by the two projects; both names are printed).
"""

from __future__ import annotations

import argparse
import base64
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolkit.capture import load  # noqa: E402
from toolkit.datatypes import find_datatypes  # noqa: E402

_ADID = "38400000-8cf0-11bd-b23e-10b96e40000d"
_EXAMPLES: list[tuple[str, str, bytes | None]] = [
    (
        "POST",
        "https://app.adjust.com/session",
        f"gps_adid={_ADID}&android_uuid=7d1c2f0e-5b7e-4f4b-9f0a-1c2d3e4f5a6b&package_name=com.example.app"
        "&os_version=10&device_name=Redmi%20Note%208&language=de&app_version=1.2.3".encode(),
    ),
    (
        "POST",
        "https://api2.amplitude.com/2/httpapi",
        b'{"api_key":"k","events":[{"user_id":"user-8812","device_id":"C8F9E604-F01A-4BD9-95C6-8E5357DF265D",'
        b'"event_type":"open","os_name":"android","device_model":"Redmi Note 8"}]}',
    ),
    (
        "GET",
        "https://logs.ironsrc.mobi/logs?data="
        + base64.b64encode(
            b'{"data":{"deviceoem":"Xiaomi","devicemodel":"Redmi Note 8","deviceosversion":"10",'
            b'"deviceid":"' + _ADID.encode() + b'","bundleid":"com.example.app"}}'
        ).decode(),
        None,
    ),
    (
        "GET",
        "https://publisher-config.unityads.unity3d.com/games/3268074/configuration?bundleId=com.example.app"
        f"&deviceMake=Xiaomi&deviceModel=Redmi%20Note%208&advertisingTrackingId={_ADID}&rooted=false&osVersion=10",
        None,
    ),
    (
        "GET",
        f"https://startup.mobile.yandex.net/analytics/startup?adv_id={_ADID}&android_id=8e5fbce04dc91566"
        "&model=Redmi%20Note%208&manufacturer=Xiaomi&is_rooted=0&app_id=com.example.app",
        None,
    ),
    (
        "POST",
        "https://graph.facebook.com/v17.0/1234/activities",
        b"format=json&event=MOBILE_APP_INSTALL&advertiser_id="
        + _ADID.encode()
        + b"&extinfo=%5B%22a2%22%2C%22com.example.app%22%2C%2242%22%2C%221.2.3%22%2C%2210%22%2C%22Redmi+Note+8%22%5D",
    ),
]

_NODE = """
import { readFile } from 'fs/promises';
import { process as processHar } from 'trackhar';
const har = JSON.parse(await readFile(process.argv[2], 'utf-8'));
const out = [];
for (const [i, found] of (await processHar(har)).entries())
  for (const f of found || []) out.push({request: i, property: f.property, path: f.path, value: String(f.value)});
console.log(JSON.stringify(out));
"""


def _har(examples: Iterable[tuple[str, str, bytes | None]]) -> dict[str, Any]:
    entries = []
    for method, url, body in examples:
        request: dict[str, Any] = {
            "method": method,
            "url": url,
            "httpVersion": "HTTP/1.1",
            "headers": [],
            "cookies": [],
            "queryString": [],
            "headersSize": -1,
            "bodySize": len(body or b""),
        }
        if body is not None:
            mime = "application/json" if body[:1] in b"{[" else "application/x-www-form-urlencoded"
            request["postData"] = {"mimeType": mime, "text": body.decode()}
        entries.append(
            {
                "startedDateTime": "2020-04-30T09:00:00.000Z",
                "time": 1,
                "request": request,
                "response": {
                    "status": 200,
                    "statusText": "OK",
                    "httpVersion": "HTTP/1.1",
                    "headers": [],
                    "cookies": [],
                    "content": {"size": 0, "mimeType": "text/plain"},
                    "redirectURL": "",
                    "headersSize": -1,
                    "bodySize": 0,
                },
                "cache": {},
                "timings": {"send": 0, "wait": 0, "receive": 0},
            }
        )
    return {"log": {"version": "1.2", "creator": {"name": "trackhar_oracle", "version": "1"}, "entries": entries}}


def compare(har_path: Path, trackhar: Path) -> dict[str, Any]:
    """Values per request found by TrackHAR only, by the toolkit only, and by both."""
    script = trackhar / "oracle.mjs"
    script.write_text(_NODE)
    done = subprocess.run(["node", str(script), str(har_path.resolve())], capture_output=True, text=True, cwd=trackhar)
    if done.returncode:
        raise SystemExit(f"TrackHAR failed on {har_path}: {done.stderr.strip()[-500:]}")
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    requests = load(har_path, classify=False).requests
    ours = find_datatypes(requests)
    index = {e: i for i, e in enumerate(requests["evidence"])}
    ours_by = {(index[e], v): t for e, v, t in zip(ours["evidence"], ours["value"], ours["datatype"], strict=True)}
    theirs_by = {(t["request"], t["value"]): t["property"] for t in theirs}
    urls = requests["url"].tolist()

    def rows(keys: Iterable[tuple[int, str]]) -> list[dict[str, Any]]:
        return [
            {
                "host": urlsplit(urls[i]).hostname,
                "value": v,
                "toolkit": ours_by.get((i, v)),
                "trackhar": theirs_by.get((i, v)),
            }
            for i, v in sorted(keys)
        ]

    return {
        "requests": len(requests),
        "both": rows(set(ours_by) & set(theirs_by)),
        "trackhar_only": rows(set(theirs_by) - set(ours_by)),
        "toolkit_only": rows(set(ours_by) - set(theirs_by)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trackhar", type=Path, required=True, help="folder with node_modules/trackhar")
    parser.add_argument("har", nargs="*", type=Path)
    args = parser.parse_args()
    paths = list(args.har)
    if not paths:
        built = Path(tempfile.mkdtemp()) / "documented.har"
        built.write_text(json.dumps(_har(_EXAMPLES)))
        paths = [built]
    for path in paths:
        result = compare(path, args.trackhar.resolve())
        counts = {k: len(v) for k, v in result.items() if isinstance(v, list)}
        print(
            f"{path.name}: {result['requests']} requests; values found by both {counts['both']}, "
            f"TrackHAR only {counts['trackhar_only']}, toolkit only {counts['toolkit_only']}"
        )
        for kind in ("trackhar_only", "toolkit_only"):
            for row in result[kind]:
                names = f"toolkit {row['toolkit']}, TrackHAR {row['trackhar']}"
                print(f"  {kind:13} {row['host']}: {row['value']!r} ({names})")


if __name__ == "__main__":
    main()

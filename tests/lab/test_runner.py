"""The lab end to end: files written, ground truth, the SA body decoded by hand, HAR and pcap(ng) read
back by independent readers, and the committed data/lab files matching a regeneration."""

from __future__ import annotations

import base64
import gzip
import itertools
import json
import struct
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from scapy.layers.dns import DNS
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.utils import PcapNgReader, rdpcap

import toolkit
from toolkit.cli import main as cli_main
from toolkit.lab import DEFAULT_SEED, SCENARIOS, VISITS, run_scenario

DATA_LAB = Path(__file__).resolve().parents[2] / "data" / "lab"
COLLECTOR_HOST = "sa.api.intl.miui.com"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lab")
    for name in SCENARIOS:
        run_scenario(name, seed=DEFAULT_SEED, out=out)
    return out


def _ip(frame: Ether) -> Any:
    return frame[IPv6] if IPv6 in frame else frame[IP]


def _truth(folder: Path, name: str) -> dict[str, Any]:
    return json.loads((folder / f"{name}.truth.json").read_text(encoding="utf-8"))


def _har(folder: Path, name: str) -> dict[str, Any]:
    return json.loads((folder / f"{name}.har").read_text(encoding="utf-8"))


def test_tiny_scenario_writes_every_file(tmp_path: Path) -> None:
    result = run_scenario("normal", seed=1, out=tmp_path, visits=VISITS[2:3])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"normal{suffix}" for suffix in (".pcapng", ".pcap", ".keylog", ".har", ".truth.json")
    )
    counts = result.truth["counts"]
    # $AppStart batch, the search page with its ad tag (2 requests), its batch, $AppEnd batch
    assert (counts["requests"], counts["telemetry_requests"], counts["search_events"]) == (6, 3, 1)
    assert [v["search_word"] for v in result.truth["visits"]] == ["hiv test clinic near me"]


def _java_hash(text: str) -> int:
    value = 0
    for char in text:  # base64 text is ASCII: one UTF-16 unit per character
        value = (value * 31 + ord(char)) % 2**32
    return value - 2**32 if value >= 2**31 else value


def test_sensors_body_decodes_by_hand_to_the_ground_truth(lab: Path) -> None:
    truth = _truth(lab, "normal")
    entries = _har(lab, "normal")["log"]["entries"]
    posts = [e for e in entries if urlsplit(e["request"]["url"]).hostname == COLLECTOR_HOST]
    assert len(posts) == len(truth["telemetry"]) == 6
    for entry, expected in zip(posts, truth["telemetry"], strict=True):
        assert entry["request"]["url"] == "https://sa.api.intl.miui.com/sa?project=global_browser_mini&r=ES"
        assert entry["request"]["postData"]["mimeType"] == "application/x-www-form-urlencoded"
        body = entry["request"]["postData"]["text"]
        # 1. form fields, in the SDK's order
        fields = [pair.split("=", 1) for pair in body.split("&")]
        assert [name for name, _ in fields] == ["crc", "gzip", "data_list"]
        form = dict(fields)
        # 2. URL-decode data_list (Android's Uri.encode left no '+', so unquote is exact)
        data_list = unquote(form["data_list"])
        assert int(form["crc"]) == _java_hash(data_list) and form["gzip"] == "1"
        # 3. base64, 4. gunzip, 5. JSON
        packed = base64.b64decode(data_list, validate=True)
        assert packed[:2] == b"\x1f\x8b"
        events = json.loads(gzip.decompress(packed).decode("utf-8"))
        assert events == expected["events"]
    events = [event for t in truth["telemetry"] for event in t["events"]]
    urls = {e["properties"]["url"] for e in events if e["event"].startswith("page_load_event")}
    assert urls == {v["reported_url"] for v in truth["visits"]}
    assert "https://shop.example-store.com/cart?item=1234#reviews" in urls  # the fragment never on the wire
    assert [e["properties"]["search_word"] for e in events if e["event"] == "search"] == ["hiv test clinic near me"]


def test_scenarios_follow_the_published_behaviour(lab: Path) -> None:
    truths = {name: _truth(lab, name) for name in SCENARIOS}
    kinds = {name: [e["event"] for t in truth["telemetry"] for e in t["events"]] for name, truth in truths.items()}
    assert kinds["incognito"] == kinds["normal"]  # 3.4.0: incognito changes nothing
    assert "search" in kinds["normal"] and kinds["normal"].count("page_load_event_start") == len(VISITS)
    assert kinds["incognito_toggle_off"] == ["$AppStart", "$AppEnd"]  # 3.4.3 toggle: no page or search events
    for truth in truths.values():
        ids = truth["identifiers"]
        events = [e for t in truth["telemetry"] for e in t["events"]]
        assert {e["distinct_id"] for e in events} == {ids["distinct_id"]}
        assert {e["properties"]["$device_id"] for e in events} == {ids["android_id"]}
        assert [v["url"] for v in truth["visits"]] == [v.url for v in VISITS]  # same pages in every mode
    assert len({json.dumps(t["identifiers"]) for t in truths.values()}) == 1  # permanent ids
    assert truths["incognito_toggle_off"]["app"]["version"] == "3.4.3"


def test_no_visits_and_unknown_scenario(tmp_path: Path) -> None:
    truth = run_scenario("normal", seed=1, out=tmp_path, visits=()).truth
    assert [e["event"] for t in truth["telemetry"] for e in t["events"]] == ["$AppStart", "$AppEnd"]
    with pytest.raises(ValueError, match="scenarios are normal, incognito, incognito_toggle_off"):
        run_scenario("private", out=tmp_path)


def test_other_seed_other_identifiers(tmp_path: Path) -> None:
    one = run_scenario("incognito", seed=1, out=tmp_path / "a", visits=VISITS[:1]).truth
    two = run_scenario("incognito", seed=2, out=tmp_path / "b", visits=VISITS[:1]).truth
    assert one["identifiers"]["android_id"] != two["identifiers"]["android_id"]
    assert one["identifiers"]["distinct_id"] != two["identifiers"]["distinct_id"]


def test_har_loads_with_the_toolkit(lab: Path) -> None:
    for name in SCENARIOS:
        truth = _truth(lab, name)
        capture = toolkit.load(lab / f"{name}.har")
        assert capture.problems.empty
        requests = capture.requests
        assert list(requests["method"].astype(str) + " " + requests["url"]) == [
            f"{r['method']} {r['url']}" for r in truth["requests"]
        ]
        assert list(requests["http_version"].astype(str)) == [r["http_version"] for r in truth["requests"]]
        assert list(requests["server_ip"]) == [
            next(h["connected_to"] for h in truth["hosts"] if h["host"] == r["host"]) for r in truth["requests"]
        ]
        telemetry = requests[requests["host"] == COLLECTOR_HOST]
        assert [bytes(b).decode() for b in telemetry["body"]] == [t["body"] for t in truth["telemetry"]]
        assert capture.provenance.tool == "toolkit.lab 0.1.0"


def _pcapng_blocks(path: Path) -> list[tuple[int, bytes]]:
    data, blocks, offset = path.read_bytes(), [], 0
    while offset < len(data):
        kind, length = struct.unpack_from("<II", data, offset)
        blocks.append((kind, data[offset + 8 : offset + length - 4]))
        offset += length
    return blocks


def test_pcap_and_pcapng_hold_the_session(lab: Path) -> None:
    for name in SCENARIOS:
        truth = _truth(lab, name)
        classic = rdpcap(str(lab / f"{name}.pcap"))
        with PcapNgReader(str(lab / f"{name}.pcapng")) as reader:
            packets = list(reader)
        assert [bytes(p) for p in packets] == [bytes(p) for p in classic]
        assert all(a.time <= b.time for a, b in itertools.pairwise(packets))
        frames = [Ether(bytes(p)) for p in packets]
        syns = [f for f in frames if TCP in f and str(f[TCP].flags) == "S"]
        assert [(_ip(f).src, _ip(f).dst, f[TCP].dport, f[TCP].sport) for f in syns] == [
            (c["client_ip"], c["server_ip"], 443, c["client_port"]) for c in truth["connections"]
        ]
        assert any(IPv6 in f for f in syns) and any(IP in f for f in syns)
        fins = [f for f in frames if TCP in f and "F" in str(f[TCP].flags)]
        assert len(fins) == 2 * len(truth["connections"])
        queries = [f[DNS] for f in frames if UDP in f and f[DNS].qr == 0]
        assert [(q.qd[0].qname.decode().rstrip("."), q.qd[0].qtype) for q in queries] == [
            (d["name"], {"A": 1, "AAAA": 28}[d["qtype"]]) for d in truth["dns"]
        ]
        # the key log inside the pcapng (Decryption Secrets Block) is the .keylog file
        dsb = [body for kind, body in _pcapng_blocks(lab / f"{name}.pcapng") if kind == 0x0A]
        secrets_type, length = struct.unpack_from("<II", dsb[0])
        assert secrets_type == 0x544C534B
        assert dsb[0][8 : 8 + length].decode() == (lab / f"{name}.keylog").read_text()


def test_tcp_streams_are_gapless_and_start_with_a_client_hello(lab: Path) -> None:
    truth = _truth(lab, "normal")
    frames = [Ether(bytes(p)) for p in rdpcap(str(lab / "normal.pcap"))]
    for connection in truth["connections"]:
        upstream = [f[TCP] for f in frames if TCP in f and f[TCP].sport == connection["client_port"]]
        isn = upstream[0].seq
        stream, expected_seq = b"", isn + 1
        for segment in upstream[1:]:
            payload = bytes(segment.payload)
            if payload:
                assert segment.seq == expected_seq
                stream += payload
                expected_seq += len(payload)
        assert stream[:3] == b"\x16\x03\x01" and stream[5] == 1  # TLS handshake record, ClientHello
        assert connection["sni"].encode() in stream[:600]


def test_committed_data_matches_a_regeneration(lab: Path) -> None:
    """data/lab is what `python -m toolkit lab --out data/lab` writes, but for TLS randomness."""
    for name in SCENARIOS:
        assert _truth(DATA_LAB, name) == _truth(lab, name)
        assert _har(DATA_LAB, name) == _har(lab, name)
        committed, fresh = (_keylog_labels(folder / f"{name}.keylog") for folder in (DATA_LAB, lab))
        assert committed == fresh  # the same secrets, labels in order; only the random values differ
        # Addresses, ports, DNS ids, initial sequence numbers and times; IPv4 ids are left out, as
        # they count packets and TLS record sizes (random) may change how many segments a flight takes.
        assert _stable_frames(DATA_LAB / f"{name}.pcap") == _stable_frames(lab / f"{name}.pcap")


def _keylog_labels(path: Path) -> list[str]:
    return [line.split()[0] for line in path.read_text().splitlines()]


def _stable_frames(path: Path) -> list[tuple[Any, ...]]:
    frames = [(p.time, Ether(bytes(p))) for p in rdpcap(str(path))]
    dns = [(t, _ip(f).src, _ip(f).dst, f[UDP].sport, bytes(f[UDP].payload)) for t, f in frames if UDP in f]
    syns = [
        (t, _ip(f).src, _ip(f).dst, f[TCP].sport, f[TCP].dport, f[TCP].seq, f[TCP].ack, str(f[TCP].flags))
        for t, f in frames
        if TCP in f and "S" in str(f[TCP].flags)
    ]
    return dns + syns


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["lab", "--out", str(tmp_path), "--scenario", "incognito_toggle_off", "--seed", "9"]) == 0
    assert "incognito_toggle_off: 14 requests" in capsys.readouterr().out
    assert (tmp_path / "incognito_toggle_off.pcapng").stat().st_size > 10_000
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    assert cli_main(["lab", "--out", str(blocked), "--scenario", "normal"]) == 2
    assert "cannot write" in capsys.readouterr().err

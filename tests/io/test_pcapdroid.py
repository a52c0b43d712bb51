"""App attribution: PCAPdroid's trailer and pcapng UID map, Apple's process information blocks."""

from __future__ import annotations

import io
import struct

from toolkit.io.pcap import read_pcap
from toolkit.io.pcapdroid import read_trailer, uid_from_comment
from toolkit.io.pcapfile import PCAPDROID_PEN
from toolkit.lab.pcap_builder import PcapBuilder, trailer_for_tests
from toolkit.problems import ProblemLog


def _conversation() -> PcapBuilder:
    builder = PcapBuilder()
    builder.dns_exchange("10.215.173.1", "10.215.173.2", "tracker.example", ["192.0.2.9"])
    builder.http_exchange("10.215.173.1", "192.0.2.9", "tracker.example", "/p?id=1")
    return builder


def test_trailer_pcap_attributes_flows_dns_and_requests() -> None:
    builder = _conversation()
    builder.packets = [
        (ts, frame + bytes(-len(frame) % 4) + trailer_for_tests(10145, "com.example.app"))
        for ts, frame in builder.packets
    ]
    result = read_pcap("droid.pcap", io.BytesIO(builder.pcap()), ProblemLog("droid.pcap"))
    assert set(result.flows["uid"]) == {10145} and set(result.flows["app"]) == {"com.example.app"}
    assert set(result.dns["app"]) == {"com.example.app"}
    assert result.requests["app"].tolist() == ["com.example.app"]
    assert result.flows["bytes_up"].sum() > 0  # the trailer is not counted as payload
    assert result.requests["body"].tolist() == [None]


def test_pcapng_uid_map_and_comments() -> None:
    builder = _conversation()
    body = struct.pack("<IHBxiBB", PCAPDROID_PEN, 1, 1, 10145, 15, 3) + b"com.example.app" + b"App"
    body += bytes(-len(body) % 4)
    block = struct.pack("<II", 0xBAD, len(body) + 12) + body + struct.pack("<I", len(body) + 12)
    comments = {n: "u-10145" for n in range(1, len(builder.packets) + 1)}
    data = builder.pcapng(extra_blocks=[block], comments=comments)
    result = read_pcap("droid.pcapng", io.BytesIO(data), ProblemLog("droid.pcapng"))
    assert set(result.flows["app"]) == {"com.example.app"}
    assert result.meta["uid_map"] == {10145: ["com.example.app", "App"]}


def test_helpers() -> None:
    assert read_trailer(b"\x00" * 60) is None
    assert uid_from_comment("u--1") == -1 and uid_from_comment("u-x") is None


def test_apple_process_information_blocks() -> None:
    builder = _conversation()

    def block(kind: int, body: bytes) -> bytes:
        body += bytes(-len(body) % 4)
        return struct.pack("<II", kind, len(body) + 12) + body + struct.pack("<I", len(body) + 12)

    def process(pid: int, name: bytes) -> bytes:
        return block(0x80000001, struct.pack("<IHH", pid, 2, len(name)) + name + bytes(-len(name) % 4) + bytes(4))

    safari = process(202, b"Safari")
    data = builder.pcapng(extra_blocks=[process(101, b"mDNSResponder"), safari])
    # packets with the EPB process option: DNS from mDNSResponder (block 0), HTTP from Safari (block 1)
    epbs = b""
    for number, (ts, frame) in enumerate(builder.packets, start=1):
        index = 0 if number <= 2 else 1
        body = struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(frame), len(frame)) + frame
        body += bytes(-len(body) % 4) + struct.pack("<HHI", 0x8001, 4, index) + bytes(4)
        epbs += block(6, body)
    head = data[: data.index(safari) + len(safari)]  # the header blocks, without the plain EPBs
    result = read_pcap("mac.pcapng", io.BytesIO(head + epbs), ProblemLog("mac.pcapng"))
    assert result.flows["app"].tolist() == ["mDNSResponder", "Safari"]
    assert result.flows["uid"].isna().all()
    assert result.requests["app"].tolist() == ["Safari"] and set(result.dns["app"]) == {"mDNSResponder"}

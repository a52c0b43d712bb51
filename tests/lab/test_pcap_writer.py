"""Classic pcap output, read with scapy's reader."""

from __future__ import annotations

from pathlib import Path

from scapy.layers.l2 import Ether
from scapy.utils import rdpcap

from toolkit.lab.framing import Clock, Endpoint, Frame, TcpFlow
from toolkit.lab.pcap_writer import write_pcap


def test_scapy_reads_frames_and_microsecond_times(tmp_path: Path) -> None:
    frames: list[Frame] = []
    flow = TcpFlow(Clock(1_588_237_200_123_456), frames, Endpoint("192.0.2.15", 1), Endpoint("192.0.2.1", 2), 5, 6)
    flow.open()
    flow.send(True, b"hello")
    flow.close()
    path = tmp_path / "x.pcap"
    with open(path, "wb") as out:
        write_pcap(out, frames)
    packets = rdpcap(str(path))
    assert len(packets) == len(frames) == 8
    assert [bytes(p) for p in packets] == [f.data for f in frames]
    assert int(packets[0].time * 1_000_000) == 1_588_237_200_123_456
    assert Ether(bytes(packets[3])).load == b"hello"

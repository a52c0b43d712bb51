"""Frames: checksums, sequence numbers, handshake, segmentation and teardown, checked with scapy."""

from __future__ import annotations

import itertools

import pytest
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether

from toolkit.lab.framing import Clock, Endpoint, Frame, TcpFlow, udp_frame

CLIENT, SERVER = Endpoint("192.0.2.15", 40001), Endpoint("198.51.100.10", 443)
CLIENT6, SERVER6 = Endpoint("2001:db8:15::15", 40002), Endpoint("2001:db8:20::20", 443)


def _checksums_valid(frame: bytes) -> bool:
    packet = Ether(frame)
    rebuilt = Ether(frame)
    if IP in rebuilt:
        del rebuilt[IP].chksum
    layer = TCP if TCP in rebuilt else UDP
    del rebuilt[layer].chksum
    rebuilt = Ether(bytes(rebuilt))
    ip_ok = IPv6 in packet or packet[IP].chksum == rebuilt[IP].chksum
    return bool(ip_ok and packet[layer].chksum == rebuilt[layer].chksum)


def _flow(*flights: tuple[bool, bytes], client: Endpoint = CLIENT, server: Endpoint = SERVER) -> list[Frame]:
    frames: list[Frame] = []
    flow = TcpFlow(Clock(1_000_000_000_000), frames, client, server, 1000, 0xFFFFFFF0)
    flow.open()
    for from_client, data in flights:
        flow.send(from_client, data)
    flow.close()
    return frames


def test_every_checksum_is_valid() -> None:
    frames = _flow((True, b"a" * 3001), (False, b"b" * 17))
    frames.append(Frame(0, udp_frame(CLIENT, Endpoint("192.0.2.53", 53), b"xyz", from_client=True, ident=1)))
    frames += _flow((True, b"c" * 2000), (False, b"d" * 3), client=CLIENT6, server=SERVER6)
    frames.append(Frame(0, udp_frame(CLIENT6, Endpoint("2001:db8::53", 53), b"xyz", from_client=True, ident=0)))
    assert all(_checksums_valid(f.data) for f in frames)


def test_ipv6_frames() -> None:
    frames = _flow((True, b"c" * 2000), client=CLIENT6, server=SERVER6)
    packets = [Ether(f.data) for f in frames]
    assert all(p.type == 0x86DD and p[IPv6].hlim == 64 for p in packets)
    assert packets[0][TCP].options == [("MSS", 1440)]
    assert [len(p[TCP].payload) for p in packets[3:5]] == [1440, 560]
    assert packets[0][IPv6].src == "2001:db8:15::15" and packets[0][IPv6].plen == len(packets[0][TCP])


def test_mixed_ip_versions_are_refused() -> None:
    with pytest.raises(ValueError, match="different IP versions"):
        TcpFlow(Clock(0), [], CLIENT, SERVER6, 1, 2)


def test_handshake_segments_and_teardown() -> None:
    frames = _flow((True, b"a" * 3001), (False, b"b" * 17))
    tcp = [Ether(f.data)[TCP] for f in frames]
    assert [str(t.flags) for t in tcp] == ["S", "SA", "A", "A", "A", "PA", "A", "PA", "A", "FA", "FA", "A"]
    assert [len(t.payload) for t in tcp[3:6]] == [1460, 1460, 81]
    assert tcp[0].options == [("MSS", 1460)]
    # client data starts at ISN + 1, the server's sequence wraps around 2**32
    assert tcp[3].seq == 1001 and tcp[5].seq == 1001 + 2920
    assert tcp[6].ack == 1001 + 3001  # the server acknowledges everything
    assert tcp[7].seq == (0xFFFFFFF0 + 1) & 0xFFFFFFFF
    assert tcp[9].seq == 1001 + 3001 and tcp[11].ack == (0xFFFFFFF0 + 1 + 17 + 1) & 0xFFFFFFFF


def test_time_only_moves_forward_and_does_not_depend_on_segment_count() -> None:
    one = _flow((True, b"a" * 100), (False, b"b"))
    three = _flow((True, b"a" * 4000), (False, b"b"))
    assert all(a.ts_us <= b.ts_us for a, b in itertools.pairwise(three))
    assert one[-1].ts_us == three[-1].ts_us


def test_directions_use_the_right_addresses() -> None:
    frames = _flow((True, b"x"))
    first, second = Ether(frames[0].data), Ether(frames[1].data)
    assert (first[IP].src, first[TCP].sport, first[IP].dst, first[TCP].dport) == (
        "192.0.2.15",
        40001,
        "198.51.100.10",
        443,
    )
    assert (second[IP].src, second[Ether].dst) == ("198.51.100.10", first[Ether].src)

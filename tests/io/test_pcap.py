"""The pcap reader end to end on synthetic captures: flows, dns, tls, requests, problems."""

from __future__ import annotations

import io
import struct

from toolkit.io.pcap import read_pcap, tcp_streams
from toolkit.io.tcp import Chunk
from toolkit.lab.pcap_builder import PcapBuilder, dns_message
from toolkit.lab.tls_hellos import client_hello_for_tests
from toolkit.problems import ProblemLog


def _read(builder: PcapBuilder, **options: bool) -> tuple:
    problems = ProblemLog("t.pcap")
    return read_pcap("t.pcap", io.BytesIO(builder.pcap(**options)), problems), problems


def test_flow_counters_state_and_hostname_sources() -> None:
    builder = PcapBuilder()
    builder.dns_exchange("10.0.0.2", "10.0.0.1", "cdn.example", ["192.0.2.5"], cname="edge.example")
    builder.tls_connection("10.0.0.2", "192.0.2.5", None, records=3)  # no SNI: the DNS answer names it
    builder.tls_connection("10.0.0.2", "192.0.2.6", "api.example", alpn=["h2", "http/1.1"])
    builder.http_exchange("10.0.0.2", "192.0.2.7", "plain.example")
    result, problems = _read(builder)
    flows = result.flows.set_index("server_ip")
    named = flows.loc["192.0.2.5"]
    assert (named["hostname"], named["hostname_source"], named["protocol"]) == ("cdn.example", "dns", "tls")
    assert (named["packets_up"], named["packets_down"], named["handshake"], named["closed"]) == (7, 6, True, "fin")
    assert named["bytes_up"] == len(client_hello_for_tests(None)) + 3 * 1205
    assert named["not_decrypted_reason"] == "no key log" and not named["decrypted"]
    sni = flows.loc["192.0.2.6"]
    assert (sni["hostname_source"], sni["tls_version"], sni["alpn"]) == ("sni", "TLS 1.3", "h2")
    assert flows.loc["192.0.2.7", "hostname_source"] == "http_host"
    dns = result.dns
    assert dns["cnames"].iloc[1] == ["cdn.example", "edge.example"] and dns["rcode"].iloc[1] == "NOERROR"
    assert dns["client"].tolist() == ["10.0.0.2", "10.0.0.2"] and dns["kind"].tolist() == ["dns", "dns"]
    tls = result.tls.set_index("sni")
    assert tls.loc["api.example", "alpn_offered"] == ["h2", "http/1.1"]
    assert tls.loc["api.example", "evidence"].startswith("t.pcap#frames=")
    assert problems.frame().empty


def test_client_hello_over_many_segments_and_out_of_order() -> None:
    builder = PcapBuilder()
    state = builder.tcp_open("10.0.0.2", 40001, "192.0.2.8", 443)
    hello = client_hello_for_tests("split.example", alpn=["h2"])
    start = len(builder.packets)
    builder.tcp_send(state, "10.0.0.2", 40001, "192.0.2.8", 443, hello, True, segment_size=20)
    sent = builder.packets[start:]
    builder.packets[start:] = [sent[1], sent[0], *sent[2:], sent[3]]  # reordered, one retransmitted
    result, _ = _read(builder)
    assert result.tls["sni"].tolist() == ["split.example"]


def test_mid_stream_capture_finds_the_client_by_port() -> None:
    builder = PcapBuilder()
    # the capture starts with the server's data: no SYN, no ClientHello
    builder.tcp("198.51.100.1", 443, "10.0.0.2", 51000, 777, 555, 0x18, b"\x17\x03\x03\x00\x02ab")
    builder.tcp("10.0.0.2", 51000, "198.51.100.1", 443, 555, 784, 0x10)
    result, _ = _read(builder)
    flow = result.flows.iloc[0]
    assert (flow["client"], flow["server_port"], flow["handshake"]) == ("10.0.0.2", 443, False)


def test_dns_over_tcp_and_mdns_kinds() -> None:
    builder = PcapBuilder()
    state = builder.tcp_open("10.0.0.2", 40002, "10.0.0.1", 53)
    query = dns_message("tcp.example", ident=3)
    reply = dns_message("tcp.example", ident=3, response=True, answers=["192.0.2.1"])
    builder.tcp_send(state, "10.0.0.2", 40002, "10.0.0.1", 53, struct.pack("!H", len(query)) + query, True)
    builder.tcp_send(
        state, "10.0.0.2", 40002, "10.0.0.1", 53, struct.pack("!H", len(reply)) + reply, False, segment_size=10
    )
    builder.udp("fe80::1", 5353, "ff02::fb", 5353, dns_message("printer.local", qtype=12))
    builder.udp("10.0.0.2", 5355, "224.0.0.252", 5355, dns_message("wpad"))
    result, _ = _read(builder)
    assert result.dns[["qname", "kind", "response"]].values.tolist() == [
        ["tcp.example", "dns", False],
        ["tcp.example", "dns", True],
        ["printer.local", "mdns", False],
        ["wpad", "llmnr", False],
    ]
    assert result.dns["answers"].iloc[1] == ["192.0.2.1"]
    assert result.flows["transport"].tolist() == ["tcp", "udp", "udp"]


def test_damaged_packets_are_problems_not_errors() -> None:
    builder = PcapBuilder()
    builder.add_frame(bytes(12) + b"\x08\x00" + b"\x45" + bytes(5))  # IPv4 header cut short
    builder.add_frame(bytes(12) + b"\x08\x06" + bytes(28))  # ARP: not IP, no problem
    builder.udp("10.0.0.2", 5000, "10.0.0.1", 53, b"\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c")
    result, problems = _read(builder)
    rows = problems.frame()[["record", "kind", "severity"]].values.tolist()
    assert rows == [["frame 1", "malformed", "error"], ["frame 3", "malformed", "error"]]
    assert result.meta["frames_not_ip"] == 1 and result.dns.empty and len(result.flows) == 1


def test_unsupported_link_type_is_one_problem_naming_the_frames() -> None:
    builder = PcapBuilder()
    builder.add_frame(bytes(40))
    builder.add_frame(bytes(40))
    problems = ProblemLog("t.pcap")
    read_pcap("t.pcap", io.BytesIO(builder.pcap(linktype=127)), problems)
    (message,) = problems.frame()["message"].tolist()
    assert "link type 127" in message and "2 frames" in message


def test_ssdp_requests_and_port_reuse() -> None:
    builder = PcapBuilder()
    builder.udp(
        "10.0.0.2",
        50000,
        "239.255.255.250",
        1900,
        b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nST: ssdp:all\r\n\r\n",
    )
    builder.http_exchange("10.0.0.2", "192.0.2.7", "a.example")
    builder._next_port -= 1  # the same client port again, after the first connection closed
    builder.http_exchange("10.0.0.2", "192.0.2.7", "b.example")
    result, _ = _read(builder)
    assert result.requests[["scheme", "method", "host"]].values.tolist() == [
        ["httpu", "M-SEARCH", "239.255.255.250"],
        ["http", "GET", "a.example"],
        ["http", "GET", "b.example"],
    ]
    assert result.requests["flow_id"].tolist() == [0, 1, 2]


def test_tcp_streams_for_later_readers() -> None:
    builder = PcapBuilder()
    builder.http_exchange("10.0.0.2", "192.0.2.7", "a.example", response_body=b"z" * 3000)
    streams = list(tcp_streams("t.pcap", io.BytesIO(builder.pcap()), ProblemLog("t.pcap")))
    (flow, up, request), (_, down, response) = streams
    assert up and not down and flow.server_port == 80
    assert b"".join(c.data for c in request if isinstance(c, Chunk)).startswith(b"GET / HTTP/1.1")
    assert sum(len(c.data) for c in response if isinstance(c, Chunk)) > 3000
    assert {c.frame for c in response if isinstance(c, Chunk)} == {5, 6, 7}


def test_lost_segment_is_a_warning_and_the_next_request_is_still_read() -> None:
    builder = PcapBuilder()
    state = builder.tcp_open("10.0.0.2", 40003, "192.0.2.7", 80)
    first = b"POST /upload HTTP/1.1\r\nHost: a.example\r\nContent-Length: 3000\r\n\r\n" + b"x" * 3000
    second = b"GET /after HTTP/1.1\r\nHost: a.example\r\n\r\n"
    builder.tcp_send(state, "10.0.0.2", 40003, "192.0.2.7", 80, first, True, segment_size=1000)
    del builder.packets[4]  # the second segment was never captured
    builder.tcp_send(state, "10.0.0.2", 40003, "192.0.2.7", 80, second, True)
    result, problems = _read(builder)
    assert result.requests["path"].tolist() == ["/upload", "/after"]
    (row,) = problems.frame()[["record", "kind", "severity"]].values.tolist()
    assert row == ["flow 0", "missing", "warning"]

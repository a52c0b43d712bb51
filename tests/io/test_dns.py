"""DNS wire format: names, compression, answers, damage."""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.io.dns import DnsError, cname_chain, parse_dns, read_name
from toolkit.lab.pcap_builder import dns_message

HEADER = struct.pack("!HHHHHH", 1, 0x8180, 1, 1, 0, 0)


def test_query_and_answers() -> None:
    reply = parse_dns(
        dns_message("WWW.Example.org", response=True, answers=["192.0.2.1", "2001:db8::1"], cname="edge.cdn.example")
    )
    assert reply.questions == [("www.example.org", "A")]
    assert reply.rcode == "NOERROR"
    assert [a[2] for a in reply.answers] == ["edge.cdn.example", "192.0.2.1", "2001:db8::1"]
    assert cname_chain("www.example.org", reply.answers) == ["www.example.org", "edge.cdn.example"]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        (b"\xc0\x0c", "does not point backwards"),  # a pointer to itself
        (b"\x01a\xc0\x0c", "longer than 255 bytes"),  # label "a", then back to the label: a loop
    ],
)
def test_pointer_loop_is_an_error_not_a_hang(name: bytes, reason: str) -> None:
    message = HEADER[:4] + struct.pack("!HHHH", 1, 0, 0, 0) + name + b"\x00\x01\x00\x01"
    with pytest.raises(DnsError, match=reason):
        parse_dns(message)


def test_long_chain_of_backward_pointers_is_bounded() -> None:
    data = bytearray(b"\x00" * 12 + b"\x00")  # a root name at offset 12
    for _ in range(200):
        offset = len(data) - 2 if len(data) > 13 else 12
        data += bytes([0xC0 | (offset >> 8), offset & 0xFF])
    with pytest.raises(DnsError):
        read_name(bytes(data), len(data) - 2)


def test_svcb_target_and_nxdomain() -> None:
    name = b"\x03svc\x07example\x00"
    rdata = struct.pack("!H", 1) + b"\x00" + b"\x00\x01\x00\x00"  # priority 1, target ".", one param
    message = struct.pack("!HHHHHH", 9, 0x8183, 1, 1, 0, 0) + name + struct.pack("!HH", 65, 1)
    message += b"\xc0\x0c" + struct.pack("!HHIH", 65, 1, 60, len(rdata)) + rdata
    parsed = parse_dns(message)
    assert parsed.rcode == "NXDOMAIN"
    assert parsed.answers == [("svc.example", "HTTPS", "svc.example")]


def test_damaged_answers_keep_the_question() -> None:
    message = dns_message("a.example", response=True, answers=["192.0.2.1"])[:-3]
    parsed = parse_dns(message)
    assert parsed.questions == [("a.example", "A")] and parsed.damage


@given(st.binary(max_size=300))
@settings(max_examples=300, deadline=None)
def test_garbage_parses_or_raises_dns_error(data: bytes) -> None:
    with contextlib.suppress(DnsError):
        parse_dns(data)


def test_repeated_message_keeps_its_own_id_and_lists() -> None:
    message = dns_message("repeat.example", response=True, answers=["192.0.2.7"])
    first = parse_dns(message)
    again = parse_dns(b"\xbe\xef" + message[2:])  # the same message under another ID
    assert again.id == 0xBEEF and first.id == (message[0] << 8) | message[1]
    assert again.answers == first.answers and again.questions == first.questions
    again.answers.clear()  # the copies are the caller's own
    assert parse_dns(message).answers == first.answers != []


def test_non_ascii_names_lowered_label_by_label() -> None:
    # "ΑΣ" then "b": lowered whole, the sigma would not be final; label by label it is (as before).
    labels = ["ΑΣ".encode(), b"B"]
    data = HEADER[:4] + struct.pack("!HHHH", 1, 0, 0, 0)
    data += b"".join(bytes([len(label)]) + label for label in labels) + b"\x00" + struct.pack("!HH", 1, 1)
    assert parse_dns(data).questions == [("ας.b", "A")]

"""DNS wire format, read back with scapy."""

from __future__ import annotations

import pytest
from scapy.layers.dns import DNS

from toolkit.lab.dns import dns_answer, dns_query, encode_name


def test_query_and_answer_parse_with_scapy() -> None:
    query = dns_query(0xBEEF, "sa.api.intl.miui.com", "AAAA")
    answer = DNS(dns_answer(query, ["2001:db8:80::80"], ttl=60))
    assert DNS(query).qd[0].qname == b"sa.api.intl.miui.com." and DNS(query).qd[0].qtype == 28
    assert answer.id == 0xBEEF and answer.qr == 1 and answer.rcode == 0 and answer.ancount == 1
    assert answer.an[0].rdata == "2001:db8:80::80" and answer.an[0].ttl == 60
    assert answer.an[0].rrname == b"sa.api.intl.miui.com."


def test_answer_type_must_match_the_query() -> None:
    with pytest.raises(ValueError, match="does not answer"):
        dns_answer(dns_query(1, "a.example", "A"), ["2001:db8::1"], ttl=1)


def test_bad_names_are_refused() -> None:
    with pytest.raises(ValueError, match="bad DNS name"):
        encode_name("a..example")

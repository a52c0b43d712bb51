"""The phone's network stack: DNS once per host, connections kept alive, ALPN decides HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.lab.exchange import Request
from toolkit.lab.session import Session


def test_keep_alive_and_dns_cache(tmp_path: Path) -> None:
    session = Session(seed=4, label="t", start_us=1_588_237_200_000_000, folder=tmp_path)
    for path in ("/js/app.js", "/css/site.css"):
        session.fetch(Request("GET", "cdn.example-cdn.com", path))
    session.fetch(Request("GET", "tag.example-ads.com", "/tag.js"))
    session.close()
    assert [(c.host, c.requests, c.alpn, c.tls_version) for c in session.connections] == [
        ("cdn.example-cdn.com", 2, "h2", "TLSv1.3"),
        ("tag.example-ads.com", 1, "http/1.1", "TLSv1.3"),
    ]
    assert [(q.name, q.qtype) for q in session.dns_queries] == [
        ("cdn.example-cdn.com", "A"),
        ("cdn.example-cdn.com", "AAAA"),
        ("tag.example-ads.com", "A"),
        ("tag.example-ads.com", "AAAA"),
    ]
    assert [e.stream_id for e in session.exchanges] == [1, 3, None]
    assert all(e.started_us <= e.ended_us for e in session.exchanges)
    assert session.exchanges[2].response_body.startswith(b"(function(){")  # gzip removed
    assert len(session.keylog) == 10  # five TLS 1.3 secrets per connection


def test_unknown_path_is_a_404(tmp_path: Path) -> None:
    session = Session(seed=4, label="t", start_us=0, folder=tmp_path)
    assert session.fetch(Request("GET", "shop.example-store.com", "/nothing")).response_status == 404


def test_unknown_host_is_named(tmp_path: Path) -> None:
    session = Session(seed=4, label="t", start_us=0, folder=tmp_path)
    with pytest.raises(ValueError, match=r"'www\.example\.org' is not a lab server"):
        session.fetch(Request("GET", "www.example.org", "/"))

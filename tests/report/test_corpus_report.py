"""Reports of real third-party captures: every figure draws and no captured byte becomes markup."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest

import toolkit
from tests.report.test_html import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, _parse
from toolkit.endpoints.classify import classify
from toolkit.leaks.detect import find_leaks
from toolkit.report import build_report, render_html, render_markdown
from toolkit.report.document import FigureBlock

#: Browsers, proxies and phones; HTTP/1.1, HTTP/2, QUIC; PCAPdroid app metadata.
FILES = [
    "har/haralyzer__cnn-chrome.har",
    "har/mitmproxy__firefox.har",
    "har/harviewer__ie11.har",
    "pcap/ndpi__instagram.pcap",
    "pcap/pcapdroid__metadata.pcap",
    "pcap/ndpi__youtube_quic.pcap",
    "pcap/ja4__http2-with-cookies.pcapng",
]


@pytest.mark.parametrize("name", FILES)
@pytest.mark.slow
def test_corpus_capture_report(corpus: Path, name: str) -> None:
    capture = toolkit.load(corpus / name)
    tables = dict(capture.tables)
    tables["endpoints"] = classify(capture)
    tables["leaks"] = find_leaks(capture)
    report = build_report(tables, provenance=[capture.provenance], command=f"analyze {name}")
    page = render_html(report)
    parsed = _parse(page)
    assert {tag for tag, _attrs in parsed.elements} <= ALLOWED_TAGS
    for _tag, attrs in parsed.elements:
        assert {attr for attr, _value in attrs} <= ALLOWED_ATTRIBUTES
        for attr, value in attrs:
            if attr == "href":
                assert value is not None and value.startswith("#")
            if attr == "src":
                assert value is not None and value.startswith("data:image/png;base64,")
    assert capture.provenance.sha256 in page
    figures = [b for s in report.sections for b in s.walk() if isinstance(b, FigureBlock)]
    assert figures and all(f.png.startswith(b"\x89PNG") for f in figures)
    if len(capture.requests):
        assert any(f.name.startswith("timeline") for f in figures)
    if len(capture.flows):
        encrypted = capture.flows[capture.flows["protocol"].astype("string").isin(["tls", "quic", "http"]).to_numpy()]
        every_one_read = len(encrypted) > 0 and bool(encrypted["decrypted"].astype("boolean").fillna(False).all())
        # a figure of coverage when some connection could not be read; a sentence when every one was
        assert any(f.name == "decryption" for f in figures) != every_one_read
        assert every_one_read == (f"All {len(encrypted)} encrypted connections were decrypted and read." in page)
    markdown = render_markdown(report)
    assert markdown.startswith("# What the captures show\n")

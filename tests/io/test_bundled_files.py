"""The readers against the real files of other projects kept in the repository (tests/data/corpus,
listed with source and licence in tests/data/SOURCES): these run on any clone, with or without
../shared. Reference values are TShark 4.0's (tests/data/corpus/TSHARK.tsv) unless said otherwise;
``test_pcap_corpus.test_matches_tshark`` and ``test_har_corpus`` also run over these files.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import toolkit
from tests.paths import BUNDLED
from toolkit.io.keylog import KeyLog

PCAP = BUNDLED / "pcap"
KEYS = BUNDLED / "keys"


def _tshark(name: str) -> dict[str, str]:
    with (BUNDLED / "TSHARK.tsv").open(newline="") as handle:
        return next(r for r in csv.DictReader(handle, delimiter="\t") if r["local_path"] == f"pcap/{name}")


def _decrypted(capture: toolkit.Capture) -> list[str]:
    requests = capture.requests
    return requests[requests["decrypted"].fillna(False).astype(bool)]["url"].tolist()


def test_sources_lists_every_bundled_file_with_a_licence() -> None:
    with (BUNDLED.parent / "SOURCES").open(newline="") as handle:
        lines = [line for line in handle if not line.startswith("#")]
    listed = {row["path"]: row for row in csv.DictReader(lines, delimiter="\t")}
    files = {str(p.relative_to(BUNDLED.parent)) for p in BUNDLED.rglob("*") if p.is_file() and p.name != "TSHARK.tsv"}
    assert files <= set(listed), sorted(files - set(listed))
    assert all(row["licence"] and "unclear" not in row["licence"] for row in listed.values())
    assert sum(p.stat().st_size for p in BUNDLED.rglob("*") if p.is_file()) < 2_000_000


@pytest.mark.parametrize("name", ["hotplace__http1.keys", "hotplace__http2.keys", "zeek__tls12-decryption.keys"])
def test_key_logs_read_every_secret(name: str) -> None:
    text = (KEYS / name).read_text()
    secrets = {tuple(line.split()[:2]) for line in text.splitlines() if line.strip() and not line.startswith("#")}
    keylog = KeyLog.read(KEYS / name)
    assert len(keylog) == len(secrets) and keylog.bad_lines == []


def test_pcap_with_key_log_tls12_http1() -> None:
    row = _tshark("zeek__tls12-decryption.pcap")
    capture = toolkit.load(PCAP / "zeek__tls12-decryption.pcap", keylog=KEYS / "zeek__tls12-decryption.keys")
    assert len(_decrypted(capture)) == int(row["keyed_http_request_pkts"]) == 1
    assert set(capture.requests["host"]) == set(row["keyed_http_hosts"].split(";")) == {"heise.de"}


def test_pcapng_with_key_log_tls13_http1() -> None:
    row = _tshark("hotplace__http1.pcapng")
    capture = toolkit.load(PCAP / "hotplace__http1.pcapng", keylog=KEYS / "hotplace__http1.keys")
    assert len(_decrypted(capture)) == int(row["keyed_http_request_pkts"]) == 11
    assert {f"{h}:{p}" for h, p in zip(capture.requests["host"], capture.requests["server_port"], strict=True)} == {
        row["keyed_http_hosts"]
    }
    assert capture.provenance.tool.startswith("Dumpcap (Wireshark) 4.4.6")


# TShark 4.0.17 shows the HTTP/2 file's five requests (10 HEADERS frames: 5 requests, 5 responses) as
# GET / (200), /favicon.ico (404), /api/html, /api/json, /api/test (200): `tshark -Y http2.type==1`.
HTTP2_URLS = [f"https://localhost:9000{p}" for p in ("/", "/favicon.ico", "/api/html", "/api/json", "/api/test")]


def test_pcapng_with_key_log_tls13_http2() -> None:
    row = _tshark("hotplace__http2.pcapng")
    capture = toolkit.load(PCAP / "hotplace__http2.pcapng", keylog=KEYS / "hotplace__http2.keys")
    assert int(row["keyed_http2_headers_frames"]) == 2 * len(HTTP2_URLS)
    assert _decrypted(capture) == HTTP2_URLS
    assert capture.requests["status"].tolist() == [200, 404, 200, 200, 200]
    assert set(capture.requests["http_version"]) == {"HTTP/2"}


def test_pcapng_with_decryption_secrets_block_decrypts_alone() -> None:
    """The same capture with its key log embedded (editcap --inject-secrets): no key log file needed."""
    capture = toolkit.load(PCAP / "hotplace__http2.dsb.pcapng")
    assert capture.meta["decryption_secrets_blocks"] == 1
    assert _decrypted(capture) == HTTP2_URLS
    without = toolkit.load(PCAP / "hotplace__http2.pcapng")  # same packets, no secrets: nothing decrypted
    assert _decrypted(without) == [] and len(without.tls) == len(capture.tls) > 0


def test_quic_pcapng_with_decryption_secrets_block() -> None:
    row = _tshark("ndpi__quic-v2.pcapng")
    capture = toolkit.load(PCAP / "ndpi__quic-v2.pcapng")
    assert row["keyfile"].startswith("(embedded DSB") and capture.meta["decryption_secrets_blocks"] == 1
    assert capture.tls["sni"].tolist() == row["sni_values"].split(";") == ["test"]
    assert capture.meta["interfaces"][0]["linktype_name"] == "linux_sll"


def test_pcapdroid_capture_names_its_connections() -> None:
    """PCAPdroid's DPI test capture: its tests/README.md lists these hostnames for its connections."""
    flows = toolkit.load(PCAP / "pcapdroid__metadata.pcap").flows
    by_source = flows.dropna(subset=["hostname"]).groupby("hostname_source", observed=True)["hostname"]
    found = {source: set(names) for source, names in by_source}
    assert {"google.it", "www.google.it", "example.org"} <= found["sni"]
    assert {"www.google.com", "www.internetbadguys.com"} <= found["http_host"]


def test_plain_http_pcap() -> None:
    row = _tshark("zeek__http-get.pcap")
    requests = toolkit.load(PCAP / "zeek__http-get.pcap").requests
    assert len(requests) == int(row["http_request_pkts"]) == 1
    assert requests["host"].tolist() == row["http_hosts"].split(";") == ["bro.org"]


def test_bundled_files_are_found_without_the_shared_corpus(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import tests.paths

    monkeypatch.setattr(tests.paths, "CORPUS", tmp_path / "absent")
    assert tests.paths.corpus_file("pcap/zeek__http-get.pcap") == PCAP / "zeek__http-get.pcap"

"""The pcap reader against TShark on every capture of the shared corpus (``TSHARK.tsv``).

For each file: the distinct DNS query names, the distinct TLS SNI values (TCP and QUIC) and the
number of plaintext HTTP requests must equal TShark 4.0's. Where the toolkit disagrees on purpose,
:data:`EXCEPTIONS` says what it finds instead and why it is right.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

import toolkit
from tests.paths import BUNDLED, CORPUS, corpus_file
from toolkit.errors import CaptureError

TSHARK = CORPUS / "TSHARK.tsv"


def _rows(table: Path) -> list[dict[str, str]]:
    if not table.is_file():
        return []
    with table.open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


#: TShark's values for the bundled files (tests/data/corpus/TSHARK.tsv) and, where present, every corpus file
ROWS = {row["local_path"]: row for table in (BUNDLED / "TSHARK.tsv", TSHARK) for row in _rows(table)}

#: file -> {measure: (toolkit's value, why it differs from TShark's)}
EXCEPTIONS: dict[str, dict[str, tuple[int, str]]] = {
    "pcap/ndpi__malformed_dns.malformed.pcap": {
        "qnames": (
            1,
            "the responses carry a second question whose name is longer than 255 bytes; TShark counts "
            "its placeholder '<Name too long>' as a query name, the toolkit keeps the readable first "
            "question (www.xt.com) and lists the damage in problems",
        ),
    },
    "pcap/zeek__quic-vector-max-size-crash.malformed.pcap": {
        "qnames": (
            0,
            "a fuzzed UDP datagram to port 443 that TShark's heuristics take for DNS and names "
            "'<Unknown extended label>'; it is not a DNS message (no DNS port), so no query name",
        ),
    },
    "pcap/ndpi__http2.pcapng": {
        "http": (
            1,
            "cleartext HTTP/2 with prior knowledge (h2c, 5G core SBI traffic on port 29518): the toolkit "
            "reads its POST /namf-comm/v1/subscriptions; TShark's count is of HTTP/1 request packets",
        ),
    },
    "pcap/zeek__te_cl_desync.pcap": {
        "http": (
            2,
            "one packet carries two requests (POST / with Transfer-Encoding: chunked and a smuggled "
            "GET /smuggled-te-cl); TShark counts packets with a request (1) although it shows both "
            "methods; the toolkit counts requests (RFC 9112 6.3: chunked wins over Content-Length)",
        ),
    },
}


def _expected_sni(row: dict[str, str]) -> tuple[set[str], int]:
    """Listed SNI values and how many more the (shortened) TSV column stands for."""
    values = [v for v in row["sni_values"].split(";") if v]
    extra = 0
    if values and (match := re.fullmatch(r"…\(\+(\d+)\)", values[-1])):
        extra = int(match.group(1))
        values = values[:-1]
    return set(values), extra


@pytest.mark.parametrize("local_path", sorted(ROWS))
def test_matches_tshark(local_path: str) -> None:
    row = ROWS[local_path]
    path = corpus_file(local_path)
    if path is None:
        pytest.skip(f"{local_path} is neither in ../shared/corpus nor bundled")
    exceptions = EXCEPTIONS.get(local_path, {})
    if row["file_type"] == "ERR":  # TShark itself stops with an error: the toolkit reports a problem
        capture = toolkit.load(path)
        assert len(capture.problems) >= 1
        with pytest.raises(CaptureError):
            toolkit.load(path, strict=True)
        return
    capture = toolkit.load(path)
    qnames = set(capture.dns["qname"].dropna())
    expected_q = exceptions.get("qnames", (int(row["dns_qnames_distinct"] or 0), ""))[0]
    assert len(qnames) == expected_q, sorted(qnames)
    sni = set(capture.tls["sni"].dropna())
    listed, extra = _expected_sni(row)
    assert listed <= sni and len(sni) == len(listed) + extra, sorted(sni)
    expected_http = exceptions.get("http", (int(row["http_request_pkts"] or 0), ""))[0]
    plaintext = capture.requests[~capture.requests["decrypted"].fillna(False).astype(bool)]  # DSB captures decrypt
    assert len(plaintext) == expected_http, plaintext[["method", "url"]].values.tolist()
    packets = capture.flows["packets_up"].sum() + capture.flows["packets_down"].sum()
    assert packets <= int(row["packets"])


def test_exceptions_name_real_files() -> None:
    if not TSHARK.is_file():
        pytest.skip("../shared/corpus is not present")
    assert set(EXCEPTIONS) <= set(ROWS)


def test_hostnames_of_flows(corpus: Path) -> None:
    """PCAPdroid's own test capture: its README lists the hostnames of the connections."""
    flows = toolkit.load(corpus / "pcap/pcapdroid__metadata.pcap").flows
    by_source = flows.dropna(subset=["hostname"]).groupby("hostname_source", observed=True)["hostname"]
    found = {source: set(names) for source, names in by_source}
    assert {"google.it", "www.google.it", "example.org"} <= found["sni"]
    assert {"www.google.com", "www.internetbadguys.com"} <= found["http_host"]
    android = toolkit.load(corpus / "pcap/ndpi__android.pcap").flows
    ntp = android[(android["server_port"] == 123) & (android["transport"] == "udp")].iloc[0]
    # No name travels in NTP: the name comes from the DNS answer that gave the server's address.
    assert (ntp["hostname"], ntp["hostname_source"]) == ("time.android.com", "dns")


def test_quic_sni_and_versions(corpus: Path) -> None:
    v2 = toolkit.load(corpus / "pcap/ndpi__quic-v2.pcapng")
    assert v2.tls["sni"].tolist() == ["test"]
    flow = v2.flows.set_index("flow_id").loc[v2.tls["flow_id"].iloc[0]]
    assert (flow["protocol"], flow["hostname_source"]) == ("quic", "quic_sni")
    assert flow["decrypted"]  # with the keys of the file's own Decryption Secrets Block
    curl = toolkit.load(corpus / "pcap/zeek__curl-8.1.2-http3-www-google-de.pcap")
    row = curl.tls.iloc[0]
    assert (row["sni"], row["alpn_offered"][0], row["version"]) == ("www.google.de", "h3", "TLS 1.3")


def test_tls_details(corpus: Path) -> None:
    tls = toolkit.load(corpus / "pcap/zeek__tls13-ech.pcap").tls
    assert tls["ech"].any()
    illustrated = toolkit.load(corpus / "pcap/illustrated-tls12__capture.pcap").tls.iloc[0]
    assert illustrated["version"] == "TLS 1.2"
    assert illustrated["cipher"] == "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"
    fragmented = toolkit.load(corpus / "pcap/scapy__tls_tcp_frag_withnss.pcap.gz").tls.iloc[0]
    assert fragmented["sni"] == "httpbin.org"
    assert len(fragmented["evidence"].split("=")[1].split(",")) >= 2  # ClientHello over several segments


def test_plaintext_http_details(corpus: Path) -> None:
    chunked = toolkit.load(corpus / "pcap/scapy__http_chunk.pcap.gz").requests.iloc[0]
    assert chunked["host"] == "www.httpwatch.com" and chunked["status"] == 200
    assert len(chunked["response_body"]) > 1000
    brotli = toolkit.load(corpus / "pcap/scapy__http_compressed-brotli.pcap")
    assert brotli.requests.empty  # TShark agrees: the file holds one response, no request
    connect = toolkit.load(corpus / "pcap/ndpi__http_connect.pcap")
    assert connect.requests["method"].tolist() == ["CONNECT"]
    assert set(connect.tls["sni"]) == {"apache.org"}  # the ClientHellos inside the tunnel
    assert connect.requests["evidence"].iloc[0].startswith("ndpi__http_connect.pcap#frames=")


def test_mdns_and_link_types(corpus: Path) -> None:
    mdns = toolkit.load(corpus / "pcap/zeek__mdns.pcap").dns
    assert set(mdns["kind"]) == {"mdns"}
    ppp = toolkit.load(corpus / "pcap/tcpdump__ppp_ip_udp_dns.pcap")  # fuzzed PPP: not IP, as for TShark
    assert ppp.meta["interfaces"][0]["linktype_name"] == "ppp_hdlc" and ppp.flows.empty
    sll = toolkit.load(corpus / "pcap/ndpi__KakaoTalk_chat.pcap")
    assert sll.meta["interfaces"][0]["linktype_name"] == "linux_sll" and len(sll.dns) > 0
    nano = toolkit.load(corpus / "pcap/tcpdump__tcp-handshake-nano.pcap").flows.iloc[0]
    assert (nano["handshake"] and nano["ts_start"].nanosecond != 0) or nano["ts_start"].microsecond != 0


def test_pcapng_tool_and_interfaces(corpus: Path) -> None:
    capture = toolkit.load(corpus / "pcap/hotplace__http1.pcapng")
    assert capture.provenance.tool.startswith("Dumpcap (Wireshark) 4.4.6")
    assert capture.meta["interfaces"][0]["linktype"] == 0


MALFORMED = sorted(p for p in ROWS if ".malformed." in p)


@pytest.mark.parametrize("local_path", MALFORMED)
@pytest.mark.parametrize("strict", [False, True])
def test_malformed_captures_raise_only_capture_error(corpus: Path, local_path: str, strict: bool) -> None:
    try:
        capture = toolkit.load(corpus / local_path, strict=strict)
    except CaptureError as error:
        assert corpus.joinpath(local_path).name in str(error)
    else:
        assert not strict or capture.problems.empty

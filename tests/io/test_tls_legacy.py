"""TLS 1.0/1.1 and the older TLS 1.2 suites (CAMELLIA, SEED, NULL; 3DES, RC4 and Camellia-GCM by their
primitives): our plaintext equals TShark's on real captures made with OpenSSL (tests/data/tls_legacy,
made by its make_capture.sh), and in-memory connections decrypt whatever the segmentation."""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4, Camellia, TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.ciphers.algorithms import AES

import toolkit
from tests.io.test_tls_decrypt import EXCHANGES, decrypt
from tests.io.tls_memory import converse
from tests.paths import CORPUS
from toolkit.io.keylog import KeyLog
from toolkit.io.pcap import tcp_streams
from toolkit.io.tcp import Chunk
from toolkit.io.tls_crypto import SUITES, BlockGcm, DecryptError, RecordKeys, prf
from toolkit.io.tls_decrypt import DOWN, UP, TlsDecryptor
from toolkit.problems import ProblemLog

FOLDER = Path(__file__).resolve().parent.parent / "data" / "tls_legacy"
PCAP, KEYLOG = FOLDER / "legacy.pcap", FOLDER / "legacy.keylog"
# The cases of make_capture.sh, in connection order: (TLS version, IANA suite code).
CASES = [
    ("TLS 1.0", 0x002F),
    ("TLS 1.1", 0x0035),
    ("TLS 1.0", 0x0084),
    ("TLS 1.2", 0x00BA),
    ("TLS 1.2", 0x0096),
    ("TLS 1.0", 0x0096),
    ("TLS 1.2", 0x00C4),
    ("TLS 1.2", 0x003B),
    ("TLS 1.2", 0xC050),  # ARIA-128-GCM: neither TShark 4.0 nor we (no ARIA in `cryptography`)
]


def our_plaintext(pcap: Path = PCAP, keylog: Path = KEYLOG) -> dict[int, dict[str, bytes]]:
    """Each TCP connection's decrypted bytes per direction, fed to the decryptor in frame order."""
    flows: dict[int, list[tuple[int, int, bytes]]] = {}
    with pcap.open("rb") as handle:
        for flow, up, events in tcp_streams(pcap, handle, ProblemLog(str(pcap))):
            for event in events:
                assert isinstance(event, Chunk)
                flows.setdefault(flow.id, []).append((event.frame, UP if up else DOWN, event.data))
    keys = KeyLog.read(keylog)
    out = {}
    for flow_id, chunks in flows.items():
        decryptor, parts = TlsDecryptor(keys), {"up": b"", "down": b""}
        for frame, direction, data in sorted(chunks, key=lambda chunk: chunk[0]):
            for plain in decryptor.feed(direction, data, frame):
                parts["up" if plain.direction == UP else "down"] += plain.data
        out[flow_id] = parts
    return out


# tlslite.pcap (tlslite_capture.py): 3DES and RC4, which OpenSSL 3 no longer negotiates.
TLSLITE_CASES = [
    ("TLS 1.0", 0x000A),
    ("TLS 1.2", 0x000A),
    ("TLS 1.0", 0x0005),
    ("TLS 1.1", 0x0004),
    ("TLS 1.1", 0x000A),
]


@pytest.mark.parametrize(("name", "cases"), [("legacy", CASES), ("tlslite", TLSLITE_CASES)])
def test_capture_plaintext_equals_tsharks(name: str, cases: list[tuple[str, int]]) -> None:
    tshark = json.loads((FOLDER / f"{name}.tshark.json").read_text())
    ours = our_plaintext(FOLDER / f"{name}.pcap", FOLDER / f"{name}.keylog")
    assert len(ours) == len(tshark) == len(cases)
    for stream, expected in tshark.items():
        for direction in ("up", "down"):
            data = ours[int(stream)][direction]
            got = {f"{direction}_len": len(data), f"{direction}_sha256": hashlib.sha256(data).hexdigest()}
            assert got == {key: expected[key] for key in got}, (stream, cases[int(stream)])
    assert all(ours[i]["down"] for i, (_, code) in enumerate(cases) if code != 0xC050)
    tls = toolkit.load(FOLDER / f"{name}.pcap", keylog=FOLDER / f"{name}.keylog", classify=False).tls
    assert list(zip(tls["version"], tls["cipher"], strict=True)) == [
        (version, SUITES[code].name if code in SUITES else f"0x{code:04X}") for version, code in cases
    ]


def test_capture_requests_equal_tsharks_and_coverage_says_why_not() -> None:
    capture = toolkit.load(PCAP, keylog=KEYLOG, classify=False)
    with (FOLDER / "legacy.tshark.tsv").open(newline="") as handle:
        tshark = [row for row in csv.DictReader(handle, delimiter="\t") if row["http.request.method"]]
    requests = capture.requests.sort_values("flow_id")
    ours = [
        (method, path, dict(headers).get("User-Agent") or dict(headers).get("user-agent"))
        for method, path, headers in zip(requests["method"], requests["path"], requests["request_headers"], strict=True)
    ]
    assert ours == [(r["http.request.method"], r["http.request.uri"], r["http.user_agent"]) for r in tshark]
    assert all(body.startswith(b"case ") for body in requests["response_body"])
    flows = capture.flows.sort_values("flow_id")
    assert list(flows["tls_version"]) == [version for version, _ in CASES]
    assert list(flows["decrypted"]) == [code != 0xC050 for _, code in CASES]
    assert flows["not_decrypted_reason"].dropna().tolist() == ["unsupported cipher suite 0xc050"]


def test_ssl3_corpus_capture_decrypts_like_tshark() -> None:
    pcap, keylog = CORPUS / "pcap" / "snet__ssl3_0.pcap", CORPUS / "keys" / "snet__ssl3_0.keys"
    if not pcap.exists():
        pytest.skip("corpus not present")
    # TShark 4.0.17 on the same files (`-z follow,tls,raw,1`): the client's 595 bytes, nothing back.
    up = b"".join(flow["up"] for flow in our_plaintext(pcap, keylog).values())
    assert len(up) == 595 and up.startswith(b"GET / HTTP/1.1\nA\nAA\n")
    assert hashlib.sha256(up).hexdigest() == "fab5abcbd36b6108a0578a58fdb5667e278069666f63a22df76c6bffe7e44190"
    flows = toolkit.load(pcap, keylog=keylog, classify=False).flows
    tls = flows[flows["protocol"] == "tls"]
    assert tls["tls_version"].tolist() == ["SSL 3.0"] and tls["decrypted"].all()


@pytest.mark.parametrize(
    ("version", "ciphers"),
    [
        ("1.0", "ECDHE-ECDSA-AES128-SHA"),
        ("1.1", "ECDHE-ECDSA-AES256-SHA"),
        ("1.0", "ECDHE-ECDSA-AES256-SHA"),
        ("1.2", "ECDHE-ECDSA-CAMELLIA128-SHA256"),
        ("1.2", "ECDHE-ECDSA-CAMELLIA256-SHA384"),
        ("1.2", "ECDHE-ECDSA-NULL-SHA"),
        ("1.2", "ECDHE-ECDSA-AES128-CCM8"),
    ],
)
@pytest.mark.parametrize("split", [None, 5])
@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
def test_in_memory_connections_decrypt(version: str, ciphers: str, split: int | None) -> None:
    transcript = converse(EXCHANGES, version=version, ciphers=ciphers + ":@SECLEVEL=0", alpn=["http/1.1"])
    assert not isinstance(transcript, list)
    up, down, decryptor = decrypt(transcript.wire, transcript.keylog, split=split)
    assert up == b"".join(request for request, _ in EXCHANGES)
    assert down == b"".join(response for _, response in EXCHANGES)
    outcome = decryptor.finish()
    assert outcome.reason is None and outcome.records_failed == 0
    assert outcome.version == {"1.0": 0x0301, "1.1": 0x0302, "1.2": 0x0303}[version]


def test_tls10_prf_matches_openssl() -> None:
    # Expected: `openssl kdf -keylen 104 -kdfopt digest:MD5-SHA1 -kdfopt hexsecret:ab*48
    # -kdfopt seed:"PRF Testvector" -kdfopt hexseed:cd*64 TLS1-PRF` (OpenSSL 3.0.19).
    out = prf(0x0301, "sha256", b"\xab" * 48, b"PRF Testvector" + b"\xcd" * 64, 104)
    assert out.hex() == (
        "d3d4d1e349b5d515044666d51de32bab258cb521b6b053463e354832fd976754443bcf9a296519bc289abcbc1187e4eb"
        "d31e602353776c408aafb74cbc85eff69255f9788faa184cbb957a9819d84a5d7eb006eb459d3ae8de9810454b8b2d8f"
        "1afbc655a8c9a013"
    )


def _mac(keys: RecordKeys, seq: int, plain: bytes, version: int) -> bytes:
    header = struct.pack("!QBHH", seq, 23, version, len(plain))
    return hmac.digest(keys.mac_key, header + plain, keys.suite.hash_name)


def _seal_cbc(keys: RecordKeys, algorithm: type, iv: bytes, plain: bytes, seq: int, version: int) -> bytes:
    """What a TLS 1.0-1.2 peer sends for ``plain``: MAC, padding, CBC; the IV in front from TLS 1.1 on."""
    block = keys.suite.block_size
    data = plain + _mac(keys, seq, plain, version)
    pad = block - 1 - len(data) % block
    data += bytes([pad]) * (pad + 1)
    encryptor = Cipher(algorithm(keys.key), modes.CBC(iv)).encryptor()
    sealed = encryptor.update(data) + encryptor.finalize()
    return iv + sealed if version >= 0x0302 else sealed


@pytest.mark.parametrize("version", [0x0301, 0x0302, 0x0303])
def test_3des_records_open_with_chained_or_explicit_ivs(version: int) -> None:
    suite = SUITES[0x000A]  # TLS_RSA_WITH_3DES_EDE_CBC_SHA: OpenSSL 3 as shipped cannot negotiate it
    client, _server = RecordKeys.tls12(suite, bytes(range(48)), b"c" * 32, b"s" * 32, version)
    assert len(client.key) == 24 and len(client.iv) == 8
    iv, records = client.iv, []
    for seq, text in enumerate((b"GET / HTTP/1.1\r\n", b"Host: old.example\r\n\r\n")):
        record = _seal_cbc(client, TripleDES, iv if version < 0x0302 else b"\x07" * 8, text, seq, version)
        iv = record[-8:]  # TLS 1.0: the next record's IV
        records.append(record)
    assert [client.open_tls12(23, version, record, seq) for seq, record in enumerate(records)] == [
        b"GET / HTTP/1.1\r\n",
        b"Host: old.example\r\n\r\n",
    ]


def test_a_tls10_record_out_of_chain_does_not_open() -> None:
    suite = SUITES[0x0041]  # TLS_RSA_WITH_CAMELLIA_128_CBC_SHA
    client, _ = RecordKeys.tls12(suite, bytes(48), b"c" * 32, b"s" * 32, 0x0301)
    record = _seal_cbc(client, Camellia, b"\x01" * 16, b"x" * 40, 0, 0x0301)  # not the chained IV
    with pytest.raises(DecryptError):
        client.open_tls12(23, 0x0301, record, 0)


def test_rc4_keeps_its_state_across_records() -> None:
    suite = SUITES[0x0005]  # TLS_RSA_WITH_RC4_128_SHA
    client, _ = RecordKeys.tls12(suite, bytes(48), b"c" * 32, b"s" * 32, 0x0301)
    encryptor = Cipher(ARC4(client.key), mode=None).encryptor()
    first, second = (
        encryptor.update(text + _mac(client, seq, text, 0x0301)) for seq, text in enumerate((b"first", b"second"))
    )
    assert client.open_tls12(23, 0x0301, first, 0) == b"first"
    assert client.open_tls12(23, 0x0301, second, 1) == b"second"


def test_camellia_gcm_record_opens_and_a_flipped_bit_does_not() -> None:
    suite = SUITES[0xC08A]  # TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256 (RFC 6367)
    client, _ = RecordKeys.tls12(suite, bytes(48), b"c" * 32, b"s" * 32)
    explicit, plain = b"\x00" * 7 + b"\x01", b"POST /sa HTTP/1.1\r\n\r\n" * 3
    aad = struct.pack("!QBHH", 0, 23, 0x0303, len(plain))
    sealed = BlockGcm(Camellia(client.key)).encrypt(client.iv + explicit, plain, aad)
    assert client.open_tls12(23, 0x0303, explicit + sealed, 0) == plain
    damaged = explicit + bytes([sealed[0] ^ 1]) + sealed[1:]
    with pytest.raises(DecryptError):
        client.open_tls12(23, 0x0303, damaged, 0)


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 1000, 16384])
def test_block_gcm_over_aes_equals_aesgcm(size: int) -> None:
    # The hand-written GCM is the one Camellia-GCM uses; over AES it must give what OpenSSL's AES-GCM gives.
    key, nonce = bytes(range(16, 32)), bytes(range(12))
    plain, aad = bytes(i * 7 % 256 for i in range(size)), b"\x00\x01record header"
    sealed = AESGCM(key).encrypt(nonce, plain, aad)
    assert BlockGcm(AES(key)).encrypt(nonce, plain, aad) == sealed
    assert BlockGcm(AES(key)).decrypt(nonce, sealed, aad) == plain

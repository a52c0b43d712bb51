"""A real TLS connection in memory (Python's ssl, i.e. OpenSSL, at both ends) for decryption tests.

Returns the bytes each side put on the wire, in order, and the client's NSS key log.
"""

from __future__ import annotations

import contextlib
import datetime
import ssl
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Transcript:
    wire: list[tuple[int, bytes]] = field(default_factory=list)
    """(direction: 0 client→server, 1 server→client, bytes) in the order they were sent."""
    keylog: str = ""
    session: ssl.SSLSession | None = None
    cipher: str = ""
    version: str = ""
    resumed: bool = False


def _certificate(folder: Path, host: str) -> tuple[Path, Path]:
    key = ec.derive_private_key(12345, ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def converse(
    exchanges: list[tuple[bytes, bytes]],
    *,
    version: str = "1.3",
    ciphers: str | None = None,
    alpn: list[str] | None = None,
    host: str = "example.test",
    connections: int = 1,
) -> list[Transcript] | Transcript:
    """Handshake, then for each (request, response) the client sends and the server answers.

    With ``connections`` > 1, the later connections resume the first one's session and a list
    of transcripts is returned (the key log of each holds every line written so far).
    """
    transcripts = []
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        cert, key = _certificate(folder, host)
        tls_version = {
            "1.0": ssl.TLSVersion.TLSv1,
            "1.1": ssl.TLSVersion.TLSv1_1,
            "1.2": ssl.TLSVersion.TLSv1_2,
            "1.3": ssl.TLSVersion.TLSv1_3,
        }[version]
        server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_ctx.load_cert_chain(cert, key)
        client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client_ctx.load_verify_locations(cert)
        for ctx in (server_ctx, client_ctx):
            ctx.minimum_version = ctx.maximum_version = tls_version
            if ciphers:
                ctx.set_ciphers(ciphers)
            if alpn:
                ctx.set_alpn_protocols(alpn)
        client_ctx.keylog_filename = str(folder / "keys.log")
        session = None
        for _ in range(connections):
            transcript = _connect(client_ctx, server_ctx, host, exchanges, session)
            transcript.keylog = (folder / "keys.log").read_text()
            session = transcript.session
            transcripts.append(transcript)
    return transcripts if connections > 1 else transcripts[0]


def _connect(
    client_ctx: ssl.SSLContext,
    server_ctx: ssl.SSLContext,
    host: str,
    exchanges: list[tuple[bytes, bytes]],
    session: ssl.SSLSession | None,
) -> Transcript:
    transcript = Transcript()
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    client = client_ctx.wrap_bio(c_in, c_out, server_hostname=host, session=session)
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)

    def pump() -> None:
        for data, direction, target in ((c_out.read(), 0, s_in), (s_out.read(), 1, c_in)):
            if data:
                transcript.wire.append((direction, data))
                target.write(data)

    def step(obj: ssl.SSLObject) -> None:
        with contextlib.suppress(ssl.SSLWantReadError):
            obj.do_handshake()

    for _ in range(10):
        step(client)
        pump()
        step(server)
        pump()
    for request, response in exchanges:
        client.write(request)
        pump()
        got = b""
        while len(got) < len(request):
            got += server.read(65536)
        assert got == request
        server.write(response)
        pump()
        received = b""
        while len(received) < len(response):
            received += client.read(65536)
    transcript.session = client.session
    transcript.cipher = client.cipher()[0]  # type: ignore[index]
    transcript.version = client.version() or ""
    transcript.resumed = client.session_reused
    with contextlib.suppress(ssl.SSLWantReadError):
        client.unwrap()
    pump()
    return transcript

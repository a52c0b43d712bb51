"""A real TLS connection between two in-memory endpoints, with its key log and its wire bytes.

Python's :mod:`ssl` runs both ends (OpenSSL) over :class:`ssl.MemoryBIO` pairs: no socket, no
network. Every TLS record that one end writes is handed to ``on_wire`` (so the lab can frame it
into TCP segments) before the other end reads it. The client's secrets are written by OpenSSL
itself through ``SSLContext.keylog_filename``, in the NSS key log format Wireshark reads.

>>> import tempfile
>>> from toolkit.lab.certs import CertificateAuthority
>>> ca = CertificateAuthority.from_seed(1)
>>> wire = []
>>> with tempfile.TemporaryDirectory() as folder:
...     pair = TlsPair.open("www.example-news.com", ca, "1.3", ["h2"], folder,
...                         on_wire=lambda from_client, data: wire.append(from_client))
...     pair.client_send(b"ping")
...     pair.close()
b'ping'
>>> pair.version, pair.alpn, wire[0], any(line.startswith("CLIENT_TRAFFIC_SECRET_0") for line in pair.keylog)
('TLSv1.3', 'h2', True, True)
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from toolkit.lab.certs import CertificateAuthority

__all__ = ["TlsPair", "TlsVersion", "WireCallback"]

TlsVersion = Literal["1.2", "1.3"]
WireCallback = Callable[[bool, bytes], None]
"""Called with (``from_client``, bytes) for every flight of records one end sends."""

_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}
# TLS 1.2 suites a phone's browser offers first; all ephemeral (ECDHE), all AEAD.
_TLS12_CIPHERS = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384"
_MAX_ROUNDS = 20


@dataclass
class TlsPair:
    """Client and server ends of one TLS connection, both in this process."""

    host: str
    client: ssl.SSLObject
    server: ssl.SSLObject
    on_wire: WireCallback
    keylog_path: Path
    _bios: tuple[ssl.MemoryBIO, ssl.MemoryBIO, ssl.MemoryBIO, ssl.MemoryBIO]
    keylog: list[str] = field(default_factory=list)
    """The client's key log lines for this connection (NSS format), read after the handshake."""

    @classmethod
    def open(
        cls,
        host: str,
        authority: CertificateAuthority,
        version: TlsVersion,
        alpn: list[str],
        folder: str | Path,
        on_wire: WireCallback,
    ) -> TlsPair:
        """Create both ends for ``host`` and run the handshake (the ClientHello carries SNI and ALPN)."""
        folder = Path(folder)
        issued = authority.issue(host)
        cert_file, key_file = folder / f"{host}.crt", folder / f"{host}.key"
        cert_file.write_bytes(issued.certificate_pem)
        key_file.write_bytes(issued.key_pem)
        keylog_path = folder / f"{host}-{len(list(folder.glob('*.keylog')))}.keylog"

        client_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client_context.load_verify_locations(cadata=authority.certificate_pem.decode("ascii"))
        server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_context.load_cert_chain(cert_file, key_file)
        for context in (client_context, server_context):
            context.minimum_version = context.maximum_version = _VERSIONS[version]
            context.set_alpn_protocols(alpn)
            if version == "1.2":
                context.set_ciphers(_TLS12_CIPHERS)
        client_context.keylog_filename = str(keylog_path)

        bios = (ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO())
        client = client_context.wrap_bio(bios[0], bios[1], server_hostname=host)
        server = server_context.wrap_bio(bios[2], bios[3], server_side=True)
        pair = cls(host, client, server, on_wire, keylog_path, bios)
        pair._handshake()
        return pair

    @property
    def version(self) -> str | None:
        """The negotiated protocol version, e.g. ``"TLSv1.3"``."""
        return self.client.version()

    @property
    def alpn(self) -> str | None:
        """The negotiated application protocol, e.g. ``"h2"``."""
        return self.client.selected_alpn_protocol()

    @property
    def cipher(self) -> str | None:
        """The negotiated cipher suite name (OpenSSL's spelling)."""
        found = self.client.cipher()
        return found[0] if found else None

    def client_send(self, data: bytes) -> bytes:
        """Send application data from the client; returns what the server read."""
        self.client.write(data)
        self._flush(from_client=True)
        received = self._drain(self.server)
        self._flush(from_client=False)
        return received

    def server_send(self, data: bytes) -> bytes:
        """Send application data from the server; returns what the client read."""
        self.server.write(data)
        self._flush(from_client=False)
        received = self._drain(self.client)
        self._flush(from_client=True)
        return received

    def close(self) -> None:
        """Exchange close_notify alerts, client first."""
        for end, from_client in ((self.client, True), (self.server, False), (self.client, True)):
            with contextlib.suppress(ssl.SSLWantReadError, ssl.SSLZeroReturnError):
                end.unwrap()
            self._flush(from_client=from_client)

    def _handshake(self) -> None:
        done = [False, False]
        for _ in range(_MAX_ROUNDS):
            for index, end in enumerate((self.client, self.server)):
                if not done[index]:
                    try:
                        end.do_handshake()
                        done[index] = True
                    except ssl.SSLWantReadError:
                        pass
                self._flush(from_client=index == 0)
            if all(done):
                break
        else:  # pragma: no cover - OpenSSL always finishes in a few rounds
            raise RuntimeError(f"TLS handshake with {self.host} did not finish")
        self.keylog = [line for line in self.keylog_path.read_text().splitlines() if line and not line.startswith("#")]

    def _flush(self, *, from_client: bool) -> None:
        outgoing = self._bios[1] if from_client else self._bios[3]
        incoming = self._bios[2] if from_client else self._bios[0]
        data = outgoing.read()
        if data:
            self.on_wire(from_client, data)
            incoming.write(data)

    @staticmethod
    def _drain(end: ssl.SSLObject) -> bytes:
        received = bytearray()
        while True:
            try:
                chunk = end.read(1 << 16)
            except ssl.SSLWantReadError:
                break
            if not chunk:
                break
            received += chunk
        return bytes(received)

"""A phone on a simulated network: DNS lookups, TCP connections, TLS and HTTP, written as frames.

:class:`Session` is the browser's and the SDK's network stack: ``fetch`` resolves the host (DNS
over UDP), opens a TCP connection and a real TLS connection when none is open (keeping it alive
for later requests, as browsers do), sends the request over HTTP/1.1 or HTTP/2 as ALPN decided,
and records the exchange. Every byte either end sends is framed by :mod:`toolkit.lab.framing`.

>>> import tempfile
>>> from toolkit.lab.exchange import Request
>>> with tempfile.TemporaryDirectory() as folder:
...     session = Session(seed=1, label="demo", start_us=1_588_237_200_000_000, folder=folder)
...     exchange = session.fetch(Request("GET", "cdn.example-cdn.com", "/css/site.css"))
...     session.close()
>>> exchange.response_status, exchange.http_version, session.connections[0].tls_version
(200, 'HTTP/2', 'TLSv1.3')
>>> [q.qtype for q in session.dns_queries]
['A', 'AAAA']
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from toolkit.lab import http1
from toolkit.lab.certs import CertificateAuthority
from toolkit.lab.dns import dns_answer, dns_query
from toolkit.lab.exchange import Exchange, Request, Response
from toolkit.lab.framing import Clock, Endpoint, Frame, IpIdentifiers, TcpFlow, udp_frame
from toolkit.lab.http2 import Http2Session
from toolkit.lab.scenario import CLIENT_IPV4, CLIENT_IPV6, HOSTS, RESOLVER_IPV4
from toolkit.lab.sites import respond
from toolkit.lab.tls_pair import TlsPair

__all__ = ["Connection", "DnsQuery", "Session"]

_DNS_TTL = 300
_RESOLVER_DELAY_US = 14_000
_SERVER_THINK_US = 6_000


@dataclass
class DnsQuery:
    """One DNS query the phone sent and the answer it got."""

    name: str
    qtype: str
    answers: list[str]
    client_port: int
    ident: int
    ts_us: int


@dataclass
class Connection:
    """One TCP connection with TLS on top, and how it was negotiated."""

    index: int
    host: str
    server_ip: str
    client_ip: str
    client_port: int
    tls_version: str
    alpn: str
    cipher: str
    flow: TcpFlow
    tls: TlsPair
    http2: Http2Session | None
    requests: int = 0
    keylog: list[str] = field(default_factory=list)


class Session:
    """The network traffic of one phone session, built up request by request."""

    def __init__(self, *, seed: int, label: str, start_us: int, folder: str | Path) -> None:
        self.rng = random.Random(f"session/{seed}/{label}")
        self.clock = Clock(start_us)
        self.frames: list[Frame] = []
        self.folder = Path(folder)
        self.authority = CertificateAuthority.from_seed(seed)
        self.ids = IpIdentifiers()
        self.client_ip = CLIENT_IPV4
        self.connections: list[Connection] = []
        self.open_connections: dict[str, Connection] = {}
        self.dns_queries: list[DnsQuery] = []
        self.exchanges: list[Exchange] = []
        self._resolved: set[str] = set()
        self._next_port = 40000 + self.rng.randrange(20000)

    def _port(self) -> int:
        port = self._next_port
        self._next_port = 32768 + (self._next_port - 32768 + 1 + self.rng.randrange(7)) % 28000
        return port

    def resolve(self, name: str) -> str:
        """Look ``name`` up (A then AAAA, as Android does) unless cached; returns the address to use.

        Raises:
            ValueError: ``name`` is not one of the lab's servers (:data:`~toolkit.lab.scenario.HOSTS`).
        """
        if name not in HOSTS:
            raise ValueError(f"{name!r} is not a lab server; the servers are {', '.join(HOSTS)}")
        host = HOSTS[name]
        if name not in self._resolved:
            for qtype, address in (("A", host.ipv4), ("AAAA", host.ipv6)):
                ident, port = self.rng.randrange(1 << 16), self._port()
                client, resolver = Endpoint(self.client_ip, port), Endpoint(RESOLVER_IPV4, 53)
                query = dns_query(ident, name, qtype)  # type: ignore[arg-type]
                self.frames.append(
                    Frame(
                        self.clock.now_us,
                        udp_frame(client, resolver, query, from_client=True, ident=self.ids.take(client.ip)),
                    )
                )
                sent = self.clock.now_us
                self.clock.advance(_RESOLVER_DELAY_US)
                answer = dns_answer(query, [address], ttl=_DNS_TTL)
                self.frames.append(
                    Frame(
                        self.clock.now_us,
                        udp_frame(resolver, client, answer, from_client=False, ident=self.ids.take(resolver.ip)),
                    )
                )
                self.clock.advance(200)
                self.dns_queries.append(DnsQuery(name, qtype, [address], port, ident, sent))
            self._resolved.add(name)
        return host.address

    def connect(self, name: str) -> Connection:
        """The open connection to ``name``, or a new one (DNS, TCP handshake, TLS handshake)."""
        if name in self.open_connections:
            return self.open_connections[name]
        server_ip = self.resolve(name)
        host = HOSTS[name]
        flow = TcpFlow(
            self.clock,
            self.frames,
            Endpoint(CLIENT_IPV6 if host.over_ipv6 else self.client_ip, self._port()),
            Endpoint(server_ip, 443),
            self.rng.getrandbits(32),
            self.rng.getrandbits(32),
            self.ids,
        )
        flow.open()
        alpn = ["h2", "http/1.1"] if host.alpn == "h2" else ["http/1.1"]
        tls = TlsPair.open(name, self.authority, host.tls_version, alpn, self.folder, on_wire=flow.send)
        negotiated = tls.alpn or "http/1.1"
        connection = Connection(
            index=len(self.connections),
            host=name,
            server_ip=server_ip,
            client_ip=flow.client.ip,
            client_port=flow.client.port,
            tls_version=tls.version or "",
            alpn=negotiated,
            cipher=tls.cipher or "",
            flow=flow,
            tls=tls,
            http2=Http2Session(tls, self._serve) if negotiated == "h2" else None,
            keylog=list(tls.keylog),
        )
        self.connections.append(connection)
        self.open_connections[name] = connection
        return connection

    def _serve(self, request: Request) -> Response:
        """The server's side: think a little, answer, stamp the answer with the (virtual) time."""
        self.clock.advance(_SERVER_THINK_US)
        response = respond(request)
        moment = datetime.fromtimestamp(self.clock.now_us // 1_000_000, tz=UTC)
        return replace(response, headers=[*response.headers, ("date", format_datetime(moment, usegmt=True))])

    def fetch(self, request: Request) -> Exchange:
        """Send ``request`` and read the response; returns the recorded exchange."""
        return self.fetch_all([request])[0]

    def fetch_all(self, requests: list[Request]) -> list[Exchange]:
        """Send requests to one host together: concurrent streams on HTTP/2, one after the other on
        HTTP/1.1 (keep-alive); returns the exchanges in request order."""
        hosts = {request.host for request in requests}
        if len(hosts) != 1:
            raise ValueError(f"fetch_all sends to one host at a time, not {sorted(hosts)}")
        connection = self.connect(requests[0].host)
        exchanges = []
        if connection.http2 is not None:
            started = self.clock.now_us
            replies = connection.http2.exchange_all(requests)
            exchanges = [
                self._record(
                    connection,
                    request,
                    started,
                    "HTTP/2",
                    reply.status,
                    reply.headers,
                    reply.body,
                    reply.wire_headers,
                    reply.stream_id,
                )
                for request, reply in zip(requests, replies, strict=True)
            ]
        else:
            for request in requests:
                started = self.clock.now_us
                received = connection.tls.client_send(http1.request_bytes(request))
                response = self._serve(http1.parse_request(received))
                status, headers, body = http1.parse_response(connection.tls.server_send(http1.response_bytes(response)))
                exchanges.append(
                    self._record(
                        connection,
                        request,
                        started,
                        "HTTP/1.1",
                        status,
                        headers,
                        body,
                        http1.request_wire_headers(request),
                        None,
                    )
                )
        return exchanges

    def _record(
        self,
        connection: Connection,
        request: Request,
        started: int,
        version: str,
        status: int,
        headers: list[tuple[str, str]],
        body: bytes,
        wire_headers: list[tuple[str, str]],
        stream_id: int | None,
    ) -> Exchange:
        connection.requests += 1
        exchange = Exchange(
            request=request,
            response_status=status,
            response_headers=headers,
            response_body=body,
            http_version=version,
            wire_request_headers=wire_headers,
            started_us=started,
            ended_us=self.clock.now_us,
            connection=connection.index,
            server_ip=connection.server_ip,
            stream_id=stream_id,
        )
        self.exchanges.append(exchange)
        return exchange

    def idle(self, microseconds: int) -> None:
        """Let time pass (the user reads the page)."""
        self.clock.advance(microseconds)

    def close(self) -> None:
        """Close every open connection: HTTP/2 GOAWAY, TLS close_notify, TCP FIN, in opening order."""
        for connection in list(self.open_connections.values()):
            if connection.http2 is not None:
                connection.http2.close()
            connection.tls.close()
            connection.flow.close()
            self.clock.advance(1_000)
        self.open_connections.clear()

    @property
    def keylog(self) -> list[str]:
        """All key log lines of the session, in connection order."""
        return [line for connection in self.connections for line in connection.keylog]

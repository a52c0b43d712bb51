"""Decrypt one TLS connection from its two byte streams and a key log (sans-IO).

Feed the bytes of each direction in capture order, as TCP reassembly delivers them, with the
frame number they came in; get back the decrypted application data of each direction with the
frames that carried it. SSL 3.0, TLS 1.0, 1.1 and 1.2 (AEAD, CBC, RC4 and NULL suites, renegotiation,
resumption, encrypt-then-MAC) and TLS 1.3 (handshake and traffic secrets, KeyUpdate,
HelloRetryRequest, resumption, 0-RTT) are read. Whatever cannot be decrypted is said in
:attr:`TlsOutcome.reason`.

>>> from toolkit.io.keylog import KeyLog
>>> decryptor = TlsDecryptor(KeyLog())
>>> decryptor.feed(UP, b"\\x17\\x03\\x03\\x00\\x05hello", frame=4)  # data, but no handshake seen
[]
>>> decryptor.finish().reason
'missing handshake (capture started mid-connection)'
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass, field

from toolkit.io.keylog import KeyLog
from toolkit.io.tls_crypto import SUITES, DecryptError, RecordKeys

__all__ = ["DOWN", "UP", "Plaintext", "TlsDecryptor", "TlsOutcome"]

UP, DOWN = 0, 1
"""Directions: client to server, server to client."""

_HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")
_MAX_RECORD = (1 << 14) + 2048
_RECORD_HEADER = struct.Struct("!BHH")  # content type, legacy version, length (RFC 8446 §5.1)
_RECORD_TYPES = frozenset(range(20, 25))
_MAX_FAILURES = 3  # consecutive records that do not open before a direction is given up


@dataclass(frozen=True)
class Plaintext:
    """Decrypted application data of one record."""

    direction: int
    data: bytes
    frames: tuple[int, ...]


@dataclass
class TlsOutcome:
    """What became of a connection."""

    client_random: bytes | None = None
    version: int | None = None
    cipher: int | None = None
    alpn: str | None = None
    records_decrypted: int = 0
    records_failed: int = 0
    application_bytes: list[int] = field(default_factory=lambda: [0, 0])
    reason: str | None = None
    """Why (part of) the connection was not decrypted; None when all of it was."""

    @property
    def decrypted(self) -> bool:
        return self.records_decrypted > 0


@dataclass
class _Direction:
    buf: bytearray = field(default_factory=bytearray)
    spans: deque[tuple[int, int, int]] = field(default_factory=deque)  # (start, end, frame)
    consumed: int = 0  # stream offset of buf[0]
    keys: RecordKeys | None = None
    seq: int = 0
    pending: RecordKeys | None = None
    early: RecordKeys | None = None
    early_seq: int = 0
    encrypted: bool = False  # TLS 1.2: a ChangeCipherSpec was seen
    handshake: bytearray = field(default_factory=bytearray)
    queue: list[tuple[int, int, bytes, tuple[int, ...]]] = field(default_factory=list)
    failures: int = 0
    stopped: str | None = None


class TlsDecryptor:
    """One TLS connection, both directions."""

    def __init__(self, keys: KeyLog) -> None:
        self.keys = keys
        self.outcome = TlsOutcome()
        self._dirs = (_Direction(), _Direction())
        self._tls13 = False
        self._server_hello_seen = False
        self._client_hello_seen = False
        self._etm = False
        self._pending_client_random: bytes | None = None
        self._out: list[Plaintext] = []
        self._problems: list[str] = []

    @property
    def hopeless(self) -> bool:
        """Nothing more can be decrypted (no key, unsupported suite, or both directions lost)."""
        up, down = self._dirs
        return self.outcome.reason is not None or (up.stopped is not None and down.stopped is not None)

    # -- input ---------------------------------------------------------------------------------

    def feed(self, direction: int, data: bytes, frame: int) -> list[Plaintext]:
        """Add stream bytes of ``direction``; return the application data now decrypted."""
        d = self._dirs[direction]
        if d.stopped:
            return []
        d.spans.append((d.consumed + len(d.buf), d.consumed + len(d.buf) + len(data), frame))
        if d.buf:
            d.buf += data
            if len(d.buf) < 5 or (len(d.buf) < 5 + int.from_bytes(d.buf[3:5], "big") and d.buf[0] in _RECORD_TYPES):
                return []  # the record is still incomplete: wait for more bytes, without copying
            data = bytes(d.buf)
            d.buf.clear()
        # Whole records are read straight from ``data`` (one copy per fragment); a partial record at
        # the end waits in ``d.buf`` for the next segment.
        pos, size = 0, len(data)
        while size - pos >= 5 and not d.stopped:
            ctype, version, length = _RECORD_HEADER.unpack_from(data, pos)
            if not (20 <= ctype <= 24 and version >> 8 == 3 and length <= _MAX_RECORD):
                self._stop(direction, "stream is not TLS records (desynchronised)")
                break
            end = pos + 5 + length
            if size < end:
                break
            fragment = data[pos + 5 : end]
            spans = d.spans
            if spans and spans[0][0] <= d.consumed and d.consumed + 5 + length < spans[0][1]:
                frames: tuple[int, ...] = (spans[0][2],)  # inside one segment: the usual case, no call
            else:
                frames = self._frames(d, 5 + length)
            d.consumed += 5 + length
            pos = end
            if ctype == 23 and d.keys is not None and (d.encrypted or self._tls13):
                self._open(direction, ctype, version, fragment, frames)  # application data: as _record would
            else:
                self._record(direction, ctype, version, fragment, frames)
        if pos < size:
            d.buf += data[pos:] if pos else data
        out, self._out = self._out, []
        return out

    def gap(self, direction: int) -> None:
        """Bytes of ``direction`` were not captured: records after this point cannot be read."""
        self._stop(direction, "a gap in the TCP stream")

    def finish(self) -> TlsOutcome:
        """The outcome, once every byte has been fed."""
        outcome = self.outcome
        if outcome.reason is None:
            if not self._client_hello_seen and not self._server_hello_seen:
                outcome.reason = "missing handshake (capture started mid-connection)"
            elif not self._server_hello_seen and any(d.queue for d in self._dirs):
                outcome.reason = "no ServerHello seen"
            elif self._problems:
                outcome.reason = self._problems[0]
            elif any(d.queue for d in self._dirs):
                outcome.reason = "no key for this session"
        return outcome

    # -- records -------------------------------------------------------------------------------

    @staticmethod
    def _frames(d: _Direction, size: int) -> tuple[int, ...]:
        """Frames that carried the next ``size`` bytes of ``d``; spans wholly used are dropped."""
        start, end = d.consumed, d.consumed + size
        frames: list[int] = []
        while d.spans:
            span_start, span_end, frame = d.spans[0]
            if span_start < end and span_end > start and (not frames or frames[-1] != frame):
                frames.append(frame)
            if span_end > end:
                break
            d.spans.popleft()
        return tuple(frames)

    def _record(self, direction: int, ctype: int, version: int, fragment: bytes, frames: tuple[int, ...]) -> None:
        d = self._dirs[direction]
        if ctype == 20:  # ChangeCipherSpec
            if not self._tls13 and self._server_hello_seen:
                d.keys, d.seq, d.encrypted = d.pending, 0, True
            return
        protected = d.encrypted or (self._tls13 and ctype == 23)
        if not protected:
            if ctype == 22:
                self._handshake(direction, fragment)
            elif ctype == 23:
                d.queue.append((ctype, version, fragment, frames))  # before any handshake: wait
            return
        if d.keys is None:
            d.queue.append((ctype, version, fragment, frames))
            return
        self._open(direction, ctype, version, fragment, frames)

    def _open(self, direction: int, ctype: int, version: int, fragment: bytes, frames: tuple[int, ...]) -> None:
        d = self._dirs[direction]
        assert d.keys is not None
        try:
            if self._tls13:
                try:
                    inner_type, content = d.keys.open_tls13(fragment, d.seq)
                    d.seq += 1
                except DecryptError:
                    if d.early is None:
                        raise
                    inner_type, content = d.early.open_tls13(fragment, d.early_seq)
                    d.early_seq += 1
            else:
                content = d.keys.open_tls12(ctype, version, fragment, d.seq, encrypt_then_mac=self._etm)
                inner_type = ctype
                d.seq += 1
        except DecryptError as exc:
            d.failures += 1
            self.outcome.records_failed += 1
            if d.failures >= _MAX_FAILURES:
                self._stop(direction, f"records do not decrypt with the logged keys ({exc})")
            return
        d.failures = 0
        self.outcome.records_decrypted += 1
        if inner_type == 23:
            self.outcome.application_bytes[direction] += len(content)
            if content:
                self._out.append(Plaintext(direction, content, frames))
        elif inner_type == 22:
            self._handshake(direction, content)

    def _stop(self, direction: int, reason: str) -> None:
        d = self._dirs[direction]
        if d.stopped is None:
            d.stopped = reason
            self._problems.append(reason)

    # -- handshake ---------------------------------------------------------------------------

    def _handshake(self, direction: int, data: bytes) -> None:
        d = self._dirs[direction]
        d.handshake += data
        while len(d.handshake) >= 4:
            kind = d.handshake[0]
            length = int.from_bytes(d.handshake[1:4], "big")
            if len(d.handshake) < 4 + length:
                if length > 1 << 20:
                    self._stop(direction, "handshake message too long")
                return
            body = bytes(d.handshake[4 : 4 + length])
            del d.handshake[: 4 + length]
            self._message(direction, kind, body)

    def _message(self, direction: int, kind: int, body: bytes) -> None:
        d = self._dirs[direction]
        if kind == 1 and direction == UP and len(body) >= 34:  # ClientHello
            self._client_hello_seen = True
            client_random = body[2:34]
            if self.outcome.client_random is None:
                self.outcome.client_random = client_random
            if not self._tls13:  # the first hello, or a TLS 1.2 renegotiation
                self._pending_client_random = client_random
        elif kind == 2 and direction == DOWN:  # ServerHello
            self._server_hello(body)
        elif kind == 8 and direction == DOWN:  # EncryptedExtensions (TLS 1.3)
            alpn = _extension(body, 16, skip=0)
            if alpn and len(alpn) > 3:
                self.outcome.alpn = alpn[3 : 3 + alpn[2]].decode("ascii", "replace")
        elif kind == 20 and self._tls13:  # Finished: traffic keys from now on
            if d.pending is not None:
                d.keys, d.seq, d.pending = d.pending, 0, None
        elif kind == 5 and direction == UP and self._tls13:  # EndOfEarlyData
            d.early = None
        elif kind == 24 and self._tls13 and d.keys is not None and d.keys.secret:  # KeyUpdate
            d.keys, d.seq = d.keys.next_generation(), 0

    def _server_hello(self, body: bytes) -> None:
        if len(body) < 38:
            return
        version = int.from_bytes(body[0:2], "big")
        server_random = body[2:34]
        sid_len = body[34]
        pos = 35 + sid_len
        if len(body) < pos + 3:
            return
        cipher = int.from_bytes(body[pos : pos + 2], "big")
        supported = _extension(body, 43, skip=pos + 3)
        if supported and len(supported) == 2:
            version = int.from_bytes(supported, "big")
        if server_random == _HRR_RANDOM:
            return  # HelloRetryRequest: the real ServerHello follows
        self._server_hello_seen = True
        outcome = self.outcome
        outcome.version, outcome.cipher = version, cipher
        alpn = _extension(body, 16, skip=pos + 3)
        if alpn and len(alpn) > 3:
            outcome.alpn = alpn[3 : 3 + alpn[2]].decode("ascii", "replace")
        self._etm = _extension(body, 22, skip=pos + 3) is not None
        suite = SUITES.get(cipher)
        client_random = self._pending_client_random
        if version not in (0x0300, 0x0301, 0x0302, 0x0303, 0x0304):
            outcome.reason = f"unsupported TLS version 0x{version:04x}"
            return
        if suite is None or (version == 0x0304) != (cipher >> 8 == 0x13):
            outcome.reason = f"unsupported cipher suite 0x{cipher:04x}"
            return
        if client_random is None:
            outcome.reason = "missing handshake (no ClientHello)"
            return
        up, down = self._dirs
        if version == 0x0304:
            self._tls13 = True
            secrets = [self.keys.secret(client_random, label) for label in _TLS13_LABELS]
            if not all(secrets[:2]):
                outcome.reason = "no key for this session"
                return
            chts, shts, cts, sts, early = secrets
            assert chts is not None and shts is not None
            up.keys, down.keys = RecordKeys.tls13(suite, chts), RecordKeys.tls13(suite, shts)
            up.seq = down.seq = 0
            up.pending = RecordKeys.tls13(suite, cts) if cts else None
            down.pending = RecordKeys.tls13(suite, sts) if sts else None
            up.early = RecordKeys.tls13(suite, early) if early else None
        else:
            master = self.keys.secret(client_random, "CLIENT_RANDOM")
            if master is None:
                outcome.reason = "no key for this session"
                return
            up.pending, down.pending = RecordKeys.tls12(suite, master, client_random, server_random, version)
        for direction in (UP, DOWN):  # records that came before the keys were known
            d = self._dirs[direction]
            queued, d.queue = d.queue, []
            for ctype, record_version, fragment, frames in queued:
                if d.keys is not None:
                    self._open(direction, ctype, record_version, fragment, frames)
                else:
                    d.queue.append((ctype, record_version, fragment, frames))


_TLS13_LABELS = (
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "SERVER_TRAFFIC_SECRET_0",
    "CLIENT_EARLY_TRAFFIC_SECRET",
)


def _extension(body: bytes, wanted: int, *, skip: int) -> bytes | None:
    """The data of extension ``wanted`` in a hello/EncryptedExtensions body whose extension
    block starts at ``skip`` (ServerHello: after the compression byte), or None."""
    pos = skip
    if len(body) < pos + 2:
        return None
    end = min(len(body), pos + 2 + int.from_bytes(body[pos : pos + 2], "big"))
    pos += 2
    while pos + 4 <= end:
        kind = int.from_bytes(body[pos : pos + 2], "big")
        size = int.from_bytes(body[pos + 2 : pos + 4], "big")
        if kind == wanted:
            return body[pos + 4 : pos + 4 + size]
        pos += 4 + size
    return None

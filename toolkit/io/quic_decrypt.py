"""QUIC packet protection removed passively: one connection's packets in, its STREAM bytes out.

Why one module: header protection, packet numbers, key updates and stream reassembly are the steps of
one connection's decryption and share its key state.

Keys come from the TLS 1.3 secrets a key log (or a pcapng Decryption Secrets Block) holds for the
connection's client random, which is read from the ClientHello in the Initial packets: Handshake
packets use ``CLIENT/SERVER_HANDSHAKE_TRAFFIC_SECRET``, 0-RTT ``CLIENT_EARLY_TRAFFIC_SECRET`` and
1-RTT ``CLIENT/SERVER_TRAFFIC_SECRET_0`` and the secrets derived from them at each key update (RFC
9001 section 6). Versions 1 (RFC 9001) and 2 (RFC 9369) differ in their labels, salts and long
header type codes.

Hand written, because no library offers a passive reader: ``aioquic`` and the other QUIC stacks
are endpoints (they hold one side's keys and drive a state machine). Header protection removal,
packet-number recovery (RFC 9000 appendix A.3), coalesced packets, the frame walk, key-phase
tracking, CRYPTO/STREAM reassembly and connection-id bookkeeping are written here;
``cryptography`` supplies HKDF, AES-GCM, ChaCha20-Poly1305 and the header-protection ciphers.

>>> connection = QuicDecryptor(KeyLog())
>>> connection.datagram(bytes.fromhex("c0") + bytes(20), True, 1)   # not a QUIC packet it can read
>>> outcome = connection.finish()
>>> outcome.decrypted, outcome.reason
(False, 'no ClientHello in the capture')
>>> hex(next_packet_number(0x9B32, 2, 0xA82F30EA))   # RFC 9000 appendix A.3
'0xa82f9b32'
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from toolkit.io.keylog import KeyLog
from toolkit.io.quic import QUIC_V2, QUIC_VERSIONS, initial_keys, read_varint, version_label
from toolkit.io.tls_crypto import hkdf_expand_label

__all__ = [
    "QuicDecryptor",
    "QuicOutcome",
    "StreamAssembler",
    "StreamSink",
    "next_packet_number",
    "next_secret",
    "packet_keys",
    "read_varint",
]

#: Cipher suite -> (AEAD, key length, hash) of TLS 1.3 (RFC 8446 appendix B.4).
_SUITES: dict[int, tuple[type[AESGCM] | type[ChaCha20Poly1305], int, str]] = {
    0x1301: (AESGCM, 16, "sha256"),
    0x1302: (AESGCM, 32, "sha384"),
    0x1303: (ChaCha20Poly1305, 32, "sha256"),
}
_INITIAL, _ZERO_RTT, _HANDSHAKE, _ONE_RTT = "Initial", "0-RTT", "Handshake", "1-RTT"
_MAX_DEFERRED = 256  # packets held until the ServerHello names the cipher suite
_MAX_CRYPTO = 256 * 1024  # handshake bytes read per direction and level
_MAX_STREAM_BYTES = 256 * 1024 * 1024  # buffered out-of-order STREAM bytes per connection
_MAX_FAILURES = 64  # packets that fail to decrypt before the connection is given up


def next_packet_number(truncated: int, length: int, largest: int) -> int:
    """The full packet number from its ``length``-byte truncation and the largest one seen (-1: none)."""
    bits = length * 8
    expected = largest + 1
    window = 1 << bits
    half, mask = window // 2, window - 1
    candidate = (expected & ~mask) | truncated
    if candidate <= expected - half and candidate < (1 << 62) - window:
        return candidate + window
    if candidate > expected + half and candidate >= window:
        return candidate - window
    return candidate


class _Keys:
    """Packet protection of one direction at one level (and, for 1-RTT, one key phase)."""

    __slots__ = ("aead", "following", "iv", "iv_number", "mask", "phase")

    def __init__(self, aead: AESGCM | ChaCha20Poly1305, iv: bytes, mask: Callable[[bytes], bytes]) -> None:
        self.aead = aead
        self.iv = iv
        self.iv_number = int.from_bytes(iv, "big")
        self.mask = mask
        self.phase = 0
        self.following: Callable[[], _Keys] | None = None

    def open(self, packet_number: int, payload: bytes, header: bytes) -> bytes:
        nonce = (self.iv_number ^ packet_number).to_bytes(12, "big")
        return self.aead.decrypt(nonce, payload, header)


def _aes_mask(key: bytes) -> Callable[[bytes], bytes]:
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # ECB keeps no state between blocks
    return encryptor.update


def _chacha_mask(key: bytes) -> Callable[[bytes], bytes]:
    def mask(sample: bytes) -> bytes:  # RFC 9001 section 5.4.4: counter and nonce are the sample
        return Cipher(algorithms.ChaCha20(key, sample), None).encryptor().update(bytes(5))

    return mask


def next_secret(secret: bytes, suite: int, version: int) -> bytes:
    """The secret of the next key phase (RFC 9001 section 6.1).

    >>> next_secret(bytes.fromhex("9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b"),
    ...             0x1303, 1).hex()   # RFC 9001 appendix A.5
    '1223504755036d556342ee9361d253421a826c9ecdf3c7148684b36b714881f9'
    """
    hash_name = _SUITES[suite][2]
    size = 48 if hash_name == "sha384" else 32  # the hash's output size, as in TLS 1.3's key update
    return hkdf_expand_label(secret, f"{QUIC_VERSIONS[version][1]} ku", b"", size, hash_name)


def packet_keys(secret: bytes, suite: int, version: int, hp: Callable[[bytes], bytes] | None = None) -> _Keys:
    """The packet protection derived from a TLS traffic secret (``hp``: keep this header protection).

    >>> keys = packet_keys(bytes.fromhex("9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b"),
    ...                    0x1303, 1)   # RFC 9001 appendix A.5
    >>> keys.mask(bytes.fromhex("5e5cd55c41f69080575d7999c25a5bfb")).hex(), keys.iv.hex()
    ('aefefe7d03', 'e0459b3474bdd0e44a41c144')
    """
    aead_type, key_length, hash_name = _SUITES[suite]
    prefix = QUIC_VERSIONS[version][1]
    key = hkdf_expand_label(secret, f"{prefix} key", b"", key_length, hash_name)
    iv = hkdf_expand_label(secret, f"{prefix} iv", b"", 12, hash_name)
    if hp is None:
        hp_key = hkdf_expand_label(secret, f"{prefix} hp", b"", key_length, hash_name)
        hp = _chacha_mask(hp_key) if aead_type is ChaCha20Poly1305 else _aes_mask(hp_key)
    keys = _Keys(aead_type(key), iv, hp)
    mask = hp

    def following() -> _Keys:  # the next key phase keeps the header-protection key (section 6.1)
        updated = packet_keys(next_secret(secret, suite, version), suite, version, mask)
        updated.phase = keys.phase ^ 1
        return updated

    keys.following = following
    return keys


class StreamAssembler:
    """One direction of a stream: chunks at any offset in, contiguous new bytes out.

    >>> stream = StreamAssembler()
    >>> stream.add(3, b"def"), stream.add(0, b"abcd"), stream.add(0, b"ab"), stream.add(6, b"gh")
    (b'', b'abcdef', b'', b'gh')
    """

    __slots__ = ("fin", "held", "order", "pending", "received")

    def __init__(self) -> None:
        self.received = 0
        self.pending: dict[int, bytes] = {}
        self.order: list[int] = []
        """Offsets of :attr:`pending` as a heap: the next one to deliver is the smallest."""
        self.held = 0
        self.fin: int | None = None

    def add(self, offset: int, data: bytes) -> bytes:
        """New contiguous bytes after adding ``data`` at ``offset`` (empty when none)."""
        end = offset + len(data)
        if end <= self.received:
            return b""  # a retransmission of bytes already delivered
        if offset > self.received:
            known = self.pending.get(offset)
            if known is None:
                heapq.heappush(self.order, offset)
                self.pending[offset] = data
                self.held += len(data)
            elif len(data) > len(known):
                self.pending[offset] = data
                self.held += len(data) - len(known)
            return b""
        out = [data[self.received - offset :]]
        self.received = end
        order, pending = self.order, self.pending
        while order and order[0] <= self.received:
            start = heapq.heappop(order)
            chunk = pending.pop(start)
            self.held -= len(chunk)
            if start + len(chunk) > self.received:
                out.append(chunk[self.received - start :])
                self.received = start + len(chunk)
        return b"".join(out)

    @property
    def missing(self) -> bool:
        """Bytes past a hole wait here, or the stream's end was announced and not reached."""
        return bool(self.pending) or (self.fin is not None and self.received < self.fin)


@dataclass
class QuicOutcome:
    """What became of one QUIC connection."""

    version: int | None = None
    client_random: bytes | None = None
    cipher: int | None = None
    alpn: str | None = None
    packets: int = 0
    packets_decrypted: dict[str, int] = field(default_factory=dict)
    """Decrypted packets by level: Initial, 0-RTT, Handshake, 1-RTT."""
    stream_frames: int = 0
    """STREAM frames read, retransmissions included (as Wireshark counts them)."""
    key_updates: int = 0
    reason: str | None = None
    """Why the connection's application data was not (all) decrypted; None when it was."""
    problems: list[str] = field(default_factory=list)

    @property
    def decrypted(self) -> bool:
        """Application data (0-RTT or 1-RTT) was decrypted."""
        return bool(self.packets_decrypted.get(_ONE_RTT) or self.packets_decrypted.get(_ZERO_RTT))


#: Called with (from_client, stream id, new contiguous bytes, frame) as STREAM data becomes readable.
StreamSink = Callable[[bool, int, bytes, int], None]


class _Side:
    __slots__ = ("crypto", "handshake", "hello", "initial", "largest", "old_rtt", "one_rtt", "zero_rtt")

    def __init__(self) -> None:
        self.crypto = {_INITIAL: StreamAssembler(), _HANDSHAKE: StreamAssembler()}
        self.hello = bytearray()
        self.initial: _Keys | None = None
        self.handshake: _Keys | None = None
        self.zero_rtt: _Keys | None = None
        self.one_rtt: _Keys | None = None
        self.old_rtt: _Keys | None = None
        self.largest = {_INITIAL: -1, _HANDSHAKE: -1, _ONE_RTT: -1}


class QuicDecryptor:
    """One QUIC connection, both directions: datagrams in, STREAM bytes to ``sink``."""

    def __init__(self, keys: KeyLog, sink: StreamSink | None = None) -> None:
        self.keys = keys
        self.sink = sink
        self.outcome = QuicOutcome()
        self.original_dcid: bytes | None = None
        self.cids: dict[bytes, bool] = {}
        """Connection ids seen, each with True when the client chose it (so packets to it go down)."""
        self.finished = False
        self._sides = {True: _Side(), False: _Side()}
        self._deferred: list[tuple[bytes, bool, int]] = []
        self._streams: dict[tuple[bool, int], StreamAssembler] = {}
        self._held = 0
        self._failures = 0
        self._missing: set[str] = set()
        self._cid_lengths: dict[bool, tuple[int, list[int]]] = {}

    # -- datagrams and packets ------------------------------------------------------------------
    def datagram(self, data: bytes, from_client: bool, frame: int) -> None:
        """One UDP payload, which may hold several coalesced QUIC packets."""
        if self.finished:
            return
        position = 0
        try:
            if data and not data[0] & 0x80 and data[0] & 0x40:  # one 1-RTT packet: the common case
                self.outcome.packets += 1
                self._short(data, 0, from_client, frame)
                return
            while position < len(data):
                end = self._packet(data, position, from_client, frame)
                if end is None:
                    break
                position = end
        except (ValueError, IndexError) as exc:
            self._problem(f"frame {frame}: QUIC packet unreadable: {exc}")

    def _problem(self, text: str) -> None:
        if len(self.outcome.problems) < 32:
            self.outcome.problems.append(text)

    def _packet(self, data: bytes, pos: int, from_client: bool, frame: int) -> int | None:
        first = data[pos]
        self.outcome.packets += 1
        if not first & 0x80:
            if first == 0 and not data[pos:].strip(b"\x00"):
                self.outcome.packets -= 1
                return None  # zeros padding a datagram after its coalesced packets (RFC 9000 section 12.2)
            self._short(data, pos, from_client, frame)
            return None  # a short header runs to the end of its datagram
        if len(data) < pos + 7:
            raise ValueError("long header cut short")
        version = int.from_bytes(data[pos + 1 : pos + 5], "big")
        if version == 0:
            return None  # Version Negotiation
        if version not in QUIC_VERSIONS:
            self.outcome.reason = self.outcome.reason or f"unknown version 0x{version:08x}"
            return None
        if self.outcome.version is None:
            self.outcome.version = version
        dcid_len = data[pos + 5]
        dcid = data[pos + 6 : pos + 6 + dcid_len]
        cursor = pos + 6 + dcid_len
        scid_len = data[cursor]
        scid = data[cursor + 1 : cursor + 1 + scid_len]
        if dcid_len > 20 or scid_len > 20 or cursor + 1 + scid_len > len(data):
            raise ValueError("connection id longer than 20 bytes or past the end")
        cursor += 1 + scid_len
        self.cids.setdefault(scid, from_client)
        kind = (first >> 4) & 0x03
        if version == QUIC_V2:
            kind = (kind - 1) % 4  # v2 numbers them Retry 0, Initial 1, 0-RTT 2, Handshake 3
        if kind == 3:  # Retry: the client's next Initials use the server's new connection id
            if not from_client:
                self.original_dcid = scid
                self._sides[True].initial = self._sides[False].initial = None
            return None
        if kind == 0:
            token_len, cursor = read_varint(data, cursor)
            cursor += token_len
            if from_client and self.original_dcid is None:
                self.original_dcid = dcid
        length, cursor = read_varint(data, cursor)
        end = cursor + length
        if end > len(data):
            raise ValueError("QUIC packet longer than its datagram")
        level = (_INITIAL, _ZERO_RTT, _HANDSHAKE)[kind]
        side = self._sides[from_client]
        keys = self._level_keys(side, level, version, from_client)
        if keys is None:
            if level != _INITIAL and len(self._deferred) < _MAX_DEFERRED and not self._gave_up(level, from_client):
                self._deferred.append((data[pos:end], from_client, frame))
            return end
        self._open(data, pos, cursor, end, keys, side, level, from_client, frame)
        return end

    def _short(self, data: bytes, pos: int, from_client: bool, frame: int) -> None:
        side = self._sides[from_client]
        if side.one_rtt is None and self.outcome.version is not None:
            side.one_rtt = self._secret_keys("CLIENT_TRAFFIC_SECRET_0" if from_client else "SERVER_TRAFFIC_SECRET_0")
        if side.one_rtt is None:
            if len(self._deferred) < _MAX_DEFERRED and not self._gave_up(_ONE_RTT, from_client):
                self._deferred.append((data[pos:], from_client, frame))
            return None
        cid_len = self._cid_length(data, pos, from_client)
        self._open(data, pos, pos + 1 + cid_len, len(data), side.one_rtt, side, _ONE_RTT, from_client, frame)
        return None

    def _cid_length(self, data: bytes, pos: int, from_client: bool) -> int:
        """Length of a short header's destination connection id: one the receiver chose and announced."""
        known = self._cid_lengths.get(from_client)
        if known is None or known[0] != len(self.cids):
            lengths = sorted({len(cid) for cid, client in self.cids.items() if client != from_client}, reverse=True)
            known = self._cid_lengths[from_client] = (len(self.cids), lengths)
        lengths = known[1]
        if len(lengths) == 1:
            return lengths[0]
        for length in lengths:
            if data[pos + 1 : pos + 1 + length] in self.cids:
                return length
        return lengths[0] if lengths else 0

    def _gave_up(self, level: str, from_client: bool) -> bool:
        return self.outcome.client_random is not None and self.outcome.cipher is not None

    def _open(
        self,
        data: bytes,
        pos: int,
        pn_offset: int,
        end: int,
        keys: _Keys,
        side: _Side,
        level: str,
        from_client: bool,
        frame: int,
    ) -> None:
        sample = data[pn_offset + 4 : pn_offset + 20]
        if len(sample) < 16:
            raise ValueError("packet too short for its header-protection sample")
        mask = keys.mask(sample)
        first = data[pos] ^ (mask[0] & (0x1F if level == _ONE_RTT else 0x0F))
        pn_len = (first & 0x03) + 1
        truncated = int.from_bytes(data[pn_offset : pn_offset + pn_len], "big") ^ int.from_bytes(
            mask[1 : 1 + pn_len], "big"
        )
        space = _ONE_RTT if level == _ZERO_RTT else level
        number = next_packet_number(truncated, pn_len, side.largest[space])
        header = bytes([first]) + data[pos + 1 : pn_offset] + truncated.to_bytes(pn_len, "big")
        payload = data[pn_offset + pn_len : end]
        plain = None
        if level == _ONE_RTT and (first >> 2) & 1 != keys.phase:
            plain = self._other_phase(side, keys, number, payload, header)
        else:
            try:
                plain = keys.open(number, payload, header)
            except InvalidTag:
                plain = None
        if plain is None:
            self._failures += 1
            if self._failures == 1:
                self._problem(f"frame {frame}: {level} packet failed to decrypt (wrong key or damaged packet)")
            if self._failures >= _MAX_FAILURES and not any(self.outcome.packets_decrypted.values()):
                self.finished = True
            return
        side.largest[space] = max(side.largest[space], number)
        counts = self.outcome.packets_decrypted
        counts[level] = counts.get(level, 0) + 1
        self._frames(plain, level, from_client, frame)

    def _other_phase(self, side: _Side, keys: _Keys, number: int, payload: bytes, header: bytes) -> bytes | None:
        """A key update (the peer moved to the next phase) or a late packet of the previous phase."""
        if side.old_rtt is not None and number < side.largest[_ONE_RTT]:
            try:
                return side.old_rtt.open(number, payload, header)
            except InvalidTag:
                return None
        assert keys.following is not None
        following = keys.following()
        try:
            plain = following.open(number, payload, header)
        except InvalidTag:
            return None
        side.old_rtt, side.one_rtt = keys, following
        self.outcome.key_updates += 1
        return plain

    # -- keys -----------------------------------------------------------------------------------
    def _level_keys(self, side: _Side, level: str, version: int, from_client: bool) -> _Keys | None:
        if level == _INITIAL:
            if side.initial is None and self.original_dcid is not None:
                key, iv, hp = initial_keys(version, self.original_dcid, from_client)
                side.initial = _Keys(AESGCM(key), iv, _aes_mask(hp))
            return side.initial
        if level == _HANDSHAKE:
            if side.handshake is None:
                label = "CLIENT_HANDSHAKE_TRAFFIC_SECRET" if from_client else "SERVER_HANDSHAKE_TRAFFIC_SECRET"
                side.handshake = self._secret_keys(label)
            return side.handshake
        if side.zero_rtt is None:
            side.zero_rtt = self._secret_keys("CLIENT_EARLY_TRAFFIC_SECRET")
        return side.zero_rtt

    def _secret_keys(self, label: str) -> _Keys | None:
        outcome = self.outcome
        if outcome.client_random is None or outcome.version is None:
            return None
        secret = self.keys.secret(outcome.client_random, label)
        if secret is None:
            self._missing.add(label)
            return None
        if outcome.cipher not in _SUITES:
            return None  # 0-RTT waits for the ServerHello: accepting early data, it names the same suite
        return packet_keys(secret, outcome.cipher, outcome.version)

    # -- frames ---------------------------------------------------------------------------------
    def _frames(self, plain: bytes, level: str, from_client: bool, frame: int) -> None:
        pos = 0
        size = len(plain)
        while pos < size:
            kind, pos = read_varint(plain, pos)
            if 0x08 <= kind <= 0x0F:  # the most frequent frame first
                stream, pos = read_varint(plain, pos)
                offset = 0
                if kind & 0x04:
                    offset, pos = read_varint(plain, pos)
                if kind & 0x02:
                    length, pos = read_varint(plain, pos)
                else:
                    length = size - pos
                if pos + length > size:
                    raise ValueError("STREAM frame past the end of its packet")
                self.outcome.stream_frames += 1
                self._stream(from_client, stream, offset, plain[pos : pos + length], bool(kind & 0x01), frame)
                pos += length
            elif kind == 0x00:
                pos = size - len(plain[pos:].lstrip(b"\x00"))
            elif kind in (0x01, 0x1E):
                continue
            elif kind in (0x02, 0x03):
                _, pos = read_varint(plain, pos)
                _, pos = read_varint(plain, pos)
                count, pos = read_varint(plain, pos)
                _, pos = read_varint(plain, pos)
                for _ in range(min(count, 4096) * 2 + (3 if kind == 0x03 else 0)):
                    _, pos = read_varint(plain, pos)
            elif kind == 0x04:
                for _ in range(3):
                    _, pos = read_varint(plain, pos)
            elif kind == 0x05 or kind == 0x11 or kind == 0x15:
                _, pos = read_varint(plain, pos)
                _, pos = read_varint(plain, pos)
            elif kind == 0x06:
                offset, pos = read_varint(plain, pos)
                length, pos = read_varint(plain, pos)
                self._crypto(level, from_client, offset, plain[pos : pos + length])
                pos += length
            elif kind == 0x07:
                length, pos = read_varint(plain, pos)
                pos += length
            elif kind in (0x10, 0x12, 0x13, 0x14, 0x16, 0x17, 0x19):
                _, pos = read_varint(plain, pos)
            elif kind == 0x18:
                _, pos = read_varint(plain, pos)
                _, pos = read_varint(plain, pos)
                length = plain[pos] if pos < size else 0
                self.cids.setdefault(plain[pos + 1 : pos + 1 + length], from_client)
                pos += 1 + length + 16
            elif kind in (0x1A, 0x1B):
                pos += 8
            elif kind in (0x1C, 0x1D):
                _, pos = read_varint(plain, pos)
                if kind == 0x1C:
                    _, pos = read_varint(plain, pos)
                length, pos = read_varint(plain, pos)
                pos += length
            elif kind in (0x30, 0x31):  # DATAGRAM (RFC 9221)
                length = size - pos
                if kind == 0x31:
                    length, pos = read_varint(plain, pos)
                pos += length
            elif kind == 0xAF:  # ACK_FREQUENCY (draft-ietf-quic-ack-frequency-04 and later)
                for _ in range(4):
                    _, pos = read_varint(plain, pos)
            elif kind == 0x1F:  # IMMEDIATE_ACK (same draft)
                continue
            elif kind == 0x2F5:  # TIME_STAMP (draft-huitema-quic-ts)
                _, pos = read_varint(plain, pos)
            else:
                self._problem(f"frame {frame}: unknown QUIC frame type 0x{kind:x}; rest of the packet skipped")
                return
        if pos > size:
            raise ValueError("frame past the end of its packet")

    def _crypto(self, level: str, from_client: bool, offset: int, data: bytes) -> None:
        if level not in (_INITIAL, _HANDSHAKE) or offset + len(data) > _MAX_CRYPTO:
            return
        side = self._sides[from_client]
        fresh = side.crypto[level].add(offset, data)
        if level == _HANDSHAKE and not from_client and fresh and self.outcome.alpn is None:
            side.hello += fresh  # the Initial's ServerHello is read: now EncryptedExtensions
            self._encrypted_extensions(side.hello)
        if level != _INITIAL or not fresh:
            return
        side.hello += fresh
        hello = side.hello
        if len(hello) < 4 or len(hello) < 4 + int.from_bytes(hello[1:4], "big"):
            return
        outcome = self.outcome
        if from_client and hello[0] == 1 and outcome.client_random is None and len(hello) >= 38:
            outcome.client_random = bytes(hello[6:38])
            if not self._keyed(outcome.client_random):
                self.finished = True  # nothing more to read here: keep the counters cheap
        elif not from_client and hello[0] == 2 and outcome.cipher is None and len(hello) >= 39:
            session = hello[38]
            outcome.cipher = int.from_bytes(hello[39 + session : 41 + session], "big")
            if outcome.cipher not in _SUITES:
                outcome.reason = f"cipher suite 0x{outcome.cipher:04x} is not a QUIC suite"
            del side.hello[:]
            self._retry_deferred()

    def _keyed(self, client_random: bytes) -> bool:
        """Whether the key log holds any secret of this connection."""
        return (
            self.keys.has(client_random) or self.keys.secret(client_random, "CLIENT_EARLY_TRAFFIC_SECRET") is not None
        )

    def _encrypted_extensions(self, messages: bytearray) -> None:
        """The ALPN the server chose, from its EncryptedExtensions (RFC 8446 section 4.3.1)."""
        if len(messages) < 6 or messages[0] != 8 or len(messages) < 4 + int.from_bytes(messages[1:4], "big"):
            return
        end = 4 + int.from_bytes(messages[1:4], "big")
        pos = 6
        while pos + 4 <= end:
            kind, length = (
                int.from_bytes(messages[pos : pos + 2], "big"),
                int.from_bytes(messages[pos + 2 : pos + 4], "big"),
            )
            if kind == 16 and length >= 3:
                self.outcome.alpn = bytes(messages[pos + 7 : pos + 7 + messages[pos + 6]]).decode("ascii", "replace")
            pos += 4 + length
        del messages[:]

    def _retry_deferred(self) -> None:
        deferred, self._deferred = self._deferred, []
        for packet, from_client, frame in deferred:
            self.datagram(packet, from_client, frame)
            self.outcome.packets -= 1

    def _stream(self, from_client: bool, stream: int, offset: int, data: bytes, fin: bool, frame: int) -> None:
        assembler = self._streams.get((from_client, stream))
        if assembler is None:
            assembler = self._streams[(from_client, stream)] = StreamAssembler()
        if fin:
            assembler.fin = offset + len(data)
        before = assembler.held
        fresh = assembler.add(offset, data)
        self._held += assembler.held - before
        if self._held > _MAX_STREAM_BYTES:
            self._problem(f"frame {frame}: more than {_MAX_STREAM_BYTES} out-of-order STREAM bytes; stopped reading")
            self.finished = True
            return
        if fresh and self.sink is not None:
            self.sink(from_client, stream, fresh, frame)

    # -- end ------------------------------------------------------------------------------------
    def finish(self) -> QuicOutcome:
        """The outcome, with the reason when application data stayed unreadable."""
        outcome = self.outcome
        self.finished = True
        gaps = sorted(stream for (_, stream), assembler in self._streams.items() if assembler.missing)
        if gaps:
            shown = ", ".join(map(str, gaps[:10]))
            self._problem(f"STREAM data missing (not captured) on streams {shown}; read up to the first hole")
        zero_rtt_lost = any(not from_client or packet[0] & 0x80 for packet, from_client, _ in self._deferred)
        keyed = outcome.client_random is not None and self.keys.has(outcome.client_random)
        if "CLIENT_EARLY_TRAFFIC_SECRET" in self._missing and keyed:
            self._problem("0-RTT packets not decrypted: 0-RTT without early secret (CLIENT_EARLY_TRAFFIC_SECRET)")
        if outcome.reason is None and not outcome.decrypted:
            if outcome.client_random is None:
                outcome.reason = "no ClientHello in the capture"
            elif not self._keyed(outcome.client_random):
                outcome.reason = "no key for this connection"
            elif "CLIENT_EARLY_TRAFFIC_SECRET" in self._missing and not self._missing - {"CLIENT_EARLY_TRAFFIC_SECRET"}:
                outcome.reason = "0-RTT without early secret"
            elif outcome.cipher is None and zero_rtt_lost:
                outcome.reason = "no ServerHello in the capture"
            elif self._failures:
                outcome.reason = "QUIC packets failed to decrypt (wrong key?)"
            else:
                outcome.reason = "no application data in the capture"
        if outcome.reason is None and "CLIENT_EARLY_TRAFFIC_SECRET" in self._missing and keyed:
            outcome.reason = "0-RTT without early secret"  # the rest was decrypted: part of the data is missing
        if outcome.version is not None and outcome.reason is None and self._failures:
            outcome.reason = f"{self._failures} packets failed to decrypt"
        outcome.problems = [f"{version_label(outcome.version or 1)}: {p}" for p in outcome.problems]
        return outcome

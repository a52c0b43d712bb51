"""pcapng files, with the TLS keys inside: SHB, IDB, a Decryption Secrets Block, then packets.

Blocks (draft-ietf-opsawg-pcapng): the Section Header Block names the writing application
(``shb_userappl``); one Interface Description Block (Ethernet, micro- or nanosecond resolution);
a Decryption Secrets Block (type ``0x0000000A``) of secrets type ``0x544c534b`` ("TLSK") carrying
the NSS key log, placed before the packets it decrypts so that Wireshark needs no separate key
file; any other blocks the caller adds; then one Enhanced Packet Block per frame, with an
``opt_comment`` where asked (PCAPdroid writes ``u-<uid>`` there).

>>> import io
>>> from toolkit.lab.framing import Frame
>>> out = io.BytesIO()
>>> write_pcapng(out, [Frame(1_588_237_200_000_001, b"\\x00" * 60)], keylog=["CLIENT_RANDOM aa bb"],
...              application="toolkit.lab")
>>> data = out.getvalue()
>>> data[:4].hex(), DSB_TYPE.to_bytes(4, "little") in data, len(data) % 4
('0a0d0d0a', True, 0)
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import BinaryIO

from toolkit.lab.framing import Frame
from toolkit.lab.pcap_writer import LINKTYPE_ETHERNET, SNAPLEN

__all__ = ["DSB_TYPE", "SECRETS_TLS_KEYLOG", "pcapng_parts", "write_pcapng"]

SHB_TYPE = 0x0A0D0D0A
IDB_TYPE = 0x00000001
EPB_TYPE = 0x00000006
DSB_TYPE = 0x0000000A
SECRETS_TLS_KEYLOG = 0x544C534B
_BYTE_ORDER_MAGIC = 0x1A2B3C4D
_OPT_ENDOFOPT = 0
_OPT_COMMENT = 1
_SHB_USERAPPL = 4
_IF_NAME = 2
_IF_TSRESOL = 9


def _padded(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + _padded(value)


def _options(*options: bytes) -> bytes:
    return b"".join(options) + struct.pack("<HH", _OPT_ENDOFOPT, 0) if options else b""


def _block(block_type: int, body: bytes) -> bytes:
    length = 12 + len(body)
    return struct.pack("<II", block_type, length) + body + struct.pack("<I", length)


def pcapng_parts(
    packets: Iterable[tuple[int, bytes]],
    *,
    application: str,
    comment: str | None = None,
    interface: str = "lab0",
    nanoseconds: bool = False,
    keylog: Sequence[str] = (),
    packet_comments: Mapping[int, str] | None = None,
    extra_blocks: Sequence[bytes] = (),
) -> Iterator[bytes]:
    """The blocks of one section with one Ethernet interface for ``packets`` (time in ns since the
    epoch, frame), in file order; ``packet_comments`` by packet number (from 1)."""
    shb_options = [_option(_SHB_USERAPPL, application.encode())]
    if comment:
        shb_options.insert(0, _option(_OPT_COMMENT, comment.encode()))
    yield _block(SHB_TYPE, struct.pack("<IHHq", _BYTE_ORDER_MAGIC, 1, 0, -1) + _options(*shb_options))
    resolution = b"\x09" if nanoseconds else b"\x06"
    idb_options = _options(_option(_IF_NAME, interface.encode()), _option(_IF_TSRESOL, resolution))
    yield _block(IDB_TYPE, struct.pack("<HHI", LINKTYPE_ETHERNET, 0, SNAPLEN) + idb_options)
    if keylog:
        secrets = "".join(line + "\n" for line in keylog).encode("ascii")
        yield _block(DSB_TYPE, struct.pack("<II", SECRETS_TLS_KEYLOG, len(secrets)) + _padded(secrets))
    yield from extra_blocks
    divisor = 1 if nanoseconds else 1000
    comments = packet_comments or {}
    for number, (ts_ns, data) in enumerate(packets, start=1):
        units = ts_ns // divisor
        body = struct.pack("<IIIII", 0, units >> 32, units & 0xFFFFFFFF, len(data), len(data)) + _padded(data)
        text = comments.get(number)
        if text is not None:
            body += _options(_option(_OPT_COMMENT, text.encode()))
        yield _block(EPB_TYPE, body)


def write_pcapng(
    out: BinaryIO,
    frames: Iterable[Frame],
    *,
    keylog: Sequence[str],
    application: str,
    comment: str | None = None,
) -> None:
    """Write one section with one Ethernet interface, the key log in a DSB, and ``frames``."""
    packets = ((frame.ts_us * 1000, frame.data) for frame in frames)
    for block in pcapng_parts(packets, application=application, comment=comment, keylog=keylog):
        out.write(block)

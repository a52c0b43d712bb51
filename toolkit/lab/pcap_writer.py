"""Classic libpcap files (the format tcpdump writes): a global header, then one record per frame.

Micro- or nanosecond timestamps, either byte order, any link type (Ethernet by default). Format:
the pcap file format description,
https://ietf-opsawg-wg.github.io/draft-ietf-opsawg-pcap/draft-ietf-opsawg-pcap.html

>>> import io
>>> from toolkit.lab.framing import Frame
>>> out = io.BytesIO()
>>> write_pcap(out, [Frame(1_588_237_200_000_001, b"\\x00" * 60)])
>>> data = out.getvalue()
>>> data[:4].hex(), len(data)
('d4c3b2a1', 100)
>>> pcap_bytes([(1_500_000_000, b"abc")], nanoseconds=True, big_endian=True)[:4].hex()
'a1b23c4d'
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from toolkit.lab.framing import Frame

__all__ = ["LINKTYPE_ETHERNET", "SNAPLEN", "pcap_bytes", "pcap_parts", "write_pcap"]

LINKTYPE_ETHERNET = 1
SNAPLEN = 262144


def pcap_parts(
    packets: Iterable[tuple[int, bytes]],
    *,
    nanoseconds: bool = False,
    big_endian: bool = False,
    linktype: int = LINKTYPE_ETHERNET,
) -> Iterator[bytes]:
    """The pieces of a pcap file of ``packets`` (time in ns since the epoch, frame): its header, then
    each record's header and data (times cut to microseconds unless ``nanoseconds``)."""
    order = ">" if big_endian else "<"
    magic = 0xA1B23C4D if nanoseconds else 0xA1B2C3D4
    yield struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, SNAPLEN, linktype)
    record = struct.Struct(order + "IIII").pack
    divisor = 1 if nanoseconds else 1000
    for ts_ns, data in packets:
        seconds, rest = divmod(ts_ns, 1_000_000_000)
        yield record(seconds, rest // divisor, len(data), len(data))
        yield data


def pcap_bytes(
    packets: Iterable[tuple[int, bytes]],
    *,
    nanoseconds: bool = False,
    big_endian: bool = False,
    linktype: int = LINKTYPE_ETHERNET,
) -> bytes:
    """A whole pcap file in memory (see :func:`pcap_parts`)."""
    return b"".join(pcap_parts(packets, nanoseconds=nanoseconds, big_endian=big_endian, linktype=linktype))


def write_pcap(out: BinaryIO, frames: Iterable[Frame]) -> None:
    """Write a pcap file of Ethernet ``frames`` (microsecond times) to ``out``."""
    for part in pcap_parts((frame.ts_us * 1000, frame.data) for frame in frames):
        out.write(part)

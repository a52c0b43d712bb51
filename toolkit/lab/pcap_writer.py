"""Classic libpcap files (the format tcpdump writes): a global header, then one record per frame.

Little-endian, microsecond timestamps, link type 1 (Ethernet). Format: the pcap file format
description, https://ietf-opsawg-wg.github.io/draft-ietf-opsawg-pcap/draft-ietf-opsawg-pcap.html

>>> import io
>>> from toolkit.lab.framing import Frame
>>> out = io.BytesIO()
>>> write_pcap(out, [Frame(1_588_237_200_000_001, b"\\x00" * 60)])
>>> data = out.getvalue()
>>> data[:4].hex(), len(data)
('d4c3b2a1', 100)
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import BinaryIO

from toolkit.lab.framing import Frame

__all__ = ["LINKTYPE_ETHERNET", "SNAPLEN", "write_pcap"]

LINKTYPE_ETHERNET = 1
SNAPLEN = 262144


def write_pcap(out: BinaryIO, frames: Iterable[Frame]) -> None:
    """Write a pcap file of Ethernet ``frames`` to ``out``."""
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, SNAPLEN, LINKTYPE_ETHERNET))
    for frame in frames:
        seconds, micros = divmod(frame.ts_us, 1_000_000)
        out.write(struct.pack("<IIII", seconds, micros, len(frame.data), len(frame.data)))
        out.write(frame.data)

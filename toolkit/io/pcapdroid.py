"""PCAPdroid's app attribution: which Android app sent each packet.

PCAPdroid (https://github.com/emanuele-f/PCAPdroid) marks packets in two ways:

* pcap "with trailer": a fake Ethernet header in front of the IP packet and a 32-byte trailer at
  the end of the frame: magic ``0x01072021``, the app's UID, its name (20 bytes, NUL-padded) and
  a CRC32 (all big-endian);
* pcapng: a custom block (type ``0x00000BAD``, PEN 62652) mapping each UID to its package and
  app name (read by :mod:`toolkit.io.pcapfile`) and a ``u-<uid>`` comment on every packet.

>>> from toolkit.lab.pcap_builder import trailer_for_tests
>>> frame = bytes(14) + bytes(20) + trailer_for_tests(10123, "com.example")
>>> read_trailer(frame)
(10123, 'com.example')
>>> uid_from_comment("u-10123"), uid_from_comment("hello")
(10123, None)
"""

from __future__ import annotations

__all__ = ["TRAILER_MAGIC", "TRAILER_SIZE", "read_trailer", "uid_from_comment"]

TRAILER_MAGIC = 0x01072021
TRAILER_SIZE = 32
_MAGIC_BYTES = TRAILER_MAGIC.to_bytes(4, "big")


def read_trailer(frame: bytes) -> tuple[int, str] | None:
    """(uid, app name) from a PCAPdroid trailer at the end of ``frame``, or None."""
    if len(frame) < TRAILER_SIZE + 14 or frame[-TRAILER_SIZE : -TRAILER_SIZE + 4] != _MAGIC_BYTES:
        return None
    uid = int.from_bytes(frame[-28:-24], "big", signed=True)
    name = frame[-24:-4].split(b"\0", 1)[0].decode("utf-8", "replace")
    return uid, name


def uid_from_comment(comment: str | None) -> int | None:
    """The UID of a ``u-<uid>`` packet comment, or None."""
    if not comment or not comment.startswith("u-"):
        return None
    digits = comment[2:].strip()
    if not digits.lstrip("-").isdigit():
        return None
    return int(digits)

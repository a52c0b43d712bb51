"""Format detection from a file's first bytes, never from its name.

>>> import gzip, io
>>> sniff_bytes(b"\\xef\\xbb\\xbf{\\"log\\": {}}")
'har'
>>> sniff_bytes(b"onInputData({\\"log\\": {}});")
'har'
>>> sniff_bytes(bytes.fromhex("0a0d0d0a") + b"\\x00" * 24)
'pcapng'
>>> sniff_bytes(bytes.fromhex("d4c3b2a1") + b"\\x00" * 20)
'pcap'
>>> sniff_bytes(b"# keys\\nCLIENT_RANDOM 00 11\\n")
'keylog'
>>> sniff_bytes(b"GIF89a") is None
True
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from dataclasses import dataclass
from typing import Literal

from toolkit.errors import CaptureNotFoundError, MalformedCaptureError, UnsupportedFormatError
from toolkit.userfiles import UserFileError, open_user_file

__all__ = ["Format", "Sniffed", "looks_like", "sniff", "sniff_bytes"]

Format = Literal["har", "pcap", "pcapng", "keylog"]

_PCAP_MAGICS = {bytes.fromhex(m) for m in ("a1b2c3d4", "d4c3b2a1", "a1b23c4d", "4d3cb2a1", "a1b2cd34", "34cdb2a1")}
_PCAPNG_MAGIC = bytes.fromhex("0a0d0d0a")
_GZIP_MAGIC = b"\x1f\x8b"
_JSON_START = re.compile(rb"\s*(\{|[A-Za-z_$][\w$.]*\s*\(\s*\{)")
_KEYLOG_LINE = re.compile(
    rb"\s*(#[^\n]*\n\s*)*(CLIENT_RANDOM|CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET"
    rb"|CLIENT_TRAFFIC_SECRET_0|SERVER_TRAFFIC_SECRET_0|EXPORTER_SECRET|CLIENT_EARLY_TRAFFIC_SECRET"
    rb"|EARLY_EXPORTER_SECRET|RSA) "
)
_HEAD = 4096


@dataclass(frozen=True)
class Sniffed:
    """What a file is."""

    format: Format
    compression: Literal["gzip"] | None = None


def sniff_bytes(head: bytes) -> Format | None:
    """The format of a file whose (decompressed) content starts with ``head``, or None."""
    if head[:4] in _PCAP_MAGICS:
        return "pcap"
    if head[:4] == _PCAPNG_MAGIC:
        return "pcapng"
    text = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    if _JSON_START.match(text):
        return "har"
    if _KEYLOG_LINE.match(text):
        return "keylog"
    return None


def sniff(path: str | os.PathLike[str]) -> Sniffed:
    """Detect the format of the file at ``path`` (gzip-compressed files are looked into).

    Raises:
        CaptureNotFoundError: no file at ``path`` (also a ``FileNotFoundError``).
        UnsupportedFormatError: empty, or not a format the toolkit reads.
        MalformedCaptureError: a gzip file that does not decompress.
    """
    try:
        with open_user_file(path) as raw:  # a regular file: a FIFO or a device is refused, not read
            head = raw.read(_HEAD)
    except UserFileError as exc:
        reason = str(exc).removeprefix(f"{os.fspath(path)}: ")
        if _missing(path):
            raise CaptureNotFoundError(path, None, reason) from None
        raise UnsupportedFormatError(path, None, reason) from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
        raise UnsupportedFormatError(path, None, f"cannot open: {getattr(exc, 'strerror', None) or exc}") from None
    compression: Literal["gzip"] | None = None
    if head.startswith(_GZIP_MAGIC):
        compression = "gzip"
        try:
            with gzip.open(path, "rb") as inner:
                head = inner.read(_HEAD)
        except (OSError, EOFError, zlib.error) as exc:
            raise MalformedCaptureError(path, None, f"gzip file does not decompress: {exc}") from None
    if not head:
        raise UnsupportedFormatError(path, None, "the file is empty")
    found = sniff_bytes(head)
    if found is None:
        raise UnsupportedFormatError(
            path,
            None,
            f"not a HAR, pcap, pcapng or key log file ({looks_like(head)})",
        )
    return Sniffed(found, compression)


def _missing(path: str | os.PathLike[str]) -> bool:
    """Whether no file is at ``path`` (a dangling link or a missing folder on the way included)."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return True
    except (OSError, ValueError):
        return False
    return False


# File signatures of things people give by mistake (from each format's specification).
_OTHER_MAGICS = (
    (b"PK\x03\x04", "a ZIP archive"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x7fELF", "an ELF program"),
    (b"BZh", "a bzip2 file"),
    (b"\xfd7zXZ\x00", "an xz file"),
    (b"\x28\xb5\x2f\xfd", "a zstd file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
)


def looks_like(head: bytes) -> str:
    """What a file that is not a capture seems to be, in words that quote none of its bytes.

    A file that is not a capture may be anything (``/etc/shadow`` named by a careless or hostile
    manifest); its bytes end up in problem rows and reports, so they are described, never quoted.

    >>> looks_like(b"root:x:0:0:root:/root:/bin/bash\\n"), looks_like(b"PK\\x03\\x04rest")
    ('it looks like text', 'it looks like a ZIP archive')
    """
    for magic, name in _OTHER_MAGICS:
        if head.startswith(magic):
            return f"it looks like {name}"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = head[: exc.start].decode("utf-8") if exc.start > len(head) - 4 else ""
    if text and all(c.isprintable() or c in "\t\r\n" for c in text):
        return "it looks like text"
    return "it looks like binary data"

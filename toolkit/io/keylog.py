"""NSS key log files (``SSLKEYLOGFILE``): the secrets that let a capture's TLS be decrypted.

Each line is ``LABEL <client_random hex> <secret hex>``. Browsers, curl, mitmproxy, PCAPdroid and
Python's ``ssl`` write them; pcapng files can carry the same text in a Decryption Secrets Block.
Parsing is lenient: comments, blank lines, CRLF, upper-case hex and unknown labels are accepted;
a line that cannot be read becomes a problem, not a crash.

>>> keys = KeyLog.parse_text(
...     "# comment\\r\\n"
...     "CLIENT_RANDOM " + "AA" * 32 + " " + "01" * 48 + "\\r\\n"
...     "CLIENT_TRAFFIC_SECRET_0 " + "bb" * 32 + " " + "02" * 32 + "\\n"
...     "BOGUS line\\n"
... )
>>> keys.secret(bytes.fromhex("aa" * 32), "CLIENT_RANDOM") == bytes.fromhex("01" * 48)
True
>>> len(keys), keys.bad_lines
(2, [(4, 'expected LABEL CLIENT_RANDOM SECRET')])
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from toolkit.userfiles import read_user_bytes

__all__ = ["KNOWN_LABELS", "MAX_KEYLOG_BYTES", "KeyLog"]

#: A key log larger than this is refused: some 1.5 million connections' secrets.
MAX_KEYLOG_BYTES = 256 * 1024 * 1024

#: Labels of the NSS key log format (see the IETF draft "The SSLKEYLOGFILE Format for TLS").
KNOWN_LABELS = frozenset(
    {
        "CLIENT_RANDOM",
        "CLIENT_EARLY_TRAFFIC_SECRET",
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0",
        "SERVER_TRAFFIC_SECRET_0",
        "EARLY_EXPORTER_SECRET",
        "EXPORTER_SECRET",
        "ECH_SECRET",
        "ECH_CONFIG",
    }
)


@dataclass
class KeyLog:
    """Secrets indexed by (client random, label)."""

    secrets: dict[tuple[bytes, str], bytes] = field(default_factory=dict)
    bad_lines: list[tuple[int, str]] = field(default_factory=list)
    """(line number from 1, reason) for each line that could not be read."""
    sources: list[str] = field(default_factory=list)
    """Where the secrets came from: file paths, ``pcapng DSB``."""

    def __len__(self) -> int:
        return len(self.secrets)

    def secret(self, client_random: bytes, label: str) -> bytes | None:
        """The secret for a connection's client random, or None."""
        return self.secrets.get((client_random, label))

    def has(self, client_random: bytes) -> bool:
        """Whether any secret is known for this client random."""
        return any(self.secrets.get((client_random, label)) for label in _CONNECTION_LABELS)

    def merge(self, other: KeyLog) -> None:
        """Add the secrets of ``other`` (later sources do not override earlier ones)."""
        for key, value in other.secrets.items():
            self.secrets.setdefault(key, value)
        self.sources.extend(s for s in other.sources if s not in self.sources)

    @classmethod
    def parse_text(cls, text: str, source: str = "") -> KeyLog:
        """Parse key log text."""
        keys = cls(sources=[source] if source else [])
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) != 3:
                keys.bad_lines.append((number, "expected LABEL CLIENT_RANDOM SECRET"))
                continue
            label, random_hex, secret_hex = parts
            try:
                client_random, secret = bytes.fromhex(random_hex), bytes.fromhex(secret_hex)
            except ValueError:
                keys.bad_lines.append((number, "client random or secret is not hex"))
                continue
            label = label.upper()
            if label in ("CLIENT_TRAFFIC_SECRET", "SERVER_TRAFFIC_SECRET"):
                label += "_0"  # a truncated label seen in the wild
            if label == "RSA":
                continue  # RSA pre-master secrets by encrypted key: not used here
            if len(client_random) != 32 and label in KNOWN_LABELS:
                keys.bad_lines.append((number, f"client random has {len(client_random)} bytes, not 32"))
                continue
            keys.secrets.setdefault((client_random, label), secret)
        return keys

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> KeyLog:
        """Read a key log file (undecodable bytes are replaced, so the line becomes a bad line).

        Raises:
            UserFileError: the file is missing, not a regular file (a FIFO, a device) or larger
                than :data:`MAX_KEYLOG_BYTES`.
        """
        text = read_user_bytes(path, limit=MAX_KEYLOG_BYTES).decode("utf-8", "replace")
        return cls.parse_text(text, os.fspath(path))


_CONNECTION_LABELS = (
    "CLIENT_RANDOM",
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "SERVER_TRAFFIC_SECRET_0",
)

"""Host names to registrable domains (eTLD+1), strictly offline, with a pinned Public Suffix List.

The suffix list is the copy bundled in ``toolkit/endpoints/data/public_suffix_list.dat`` (its
version, date and sha256 are in the data manifest). It is read from that file by
:mod:`toolkit.endpoints.public_suffix`: nothing is downloaded, cached or written anywhere.

>>> from toolkit.endpoints.domains import parse_host, registrable_domain
>>> registrable_domain("sa.api.intl.miui.com")
'miui.com'
>>> registrable_domain("news.bbc.co.uk")
'bbc.co.uk'
>>> registrable_domain("WWW.Example.COM.:8443")
'example.com'

Private suffixes (``appspot.com``, ``github.io``, ``cloudfront.net``) are suffixes by default,
because a site under them belongs to whoever deployed it, not to the platform; the ICANN-only
answer is kept beside it:

>>> host = parse_host("my-app.appspot.com")
>>> host.registrable_domain, host.icann_registrable_domain, host.private_suffix
('my-app.appspot.com', 'appspot.com', True)

Every input gets a defined answer. IP literals are their own registrable unit, in canonical form;
empty and garbage input give ``None`` and a ``kind`` that says why:

>>> registrable_domain("[2001:DB8::1]:443"), registrable_domain("192.0.2.7:80")
('2001:db8::1', '192.0.2.7')
>>> parse_host("bücher.example").host
'xn--bcher-kva.example'
>>> parse_host("exa mple.com").kind, registrable_domain(""), registrable_domain("co.uk")
('invalid', None, None)
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from toolkit.endpoints.public_suffix import SuffixRules

__all__ = [
    "BUNDLED_SUFFIX_LIST",
    "HostKind",
    "ParsedHost",
    "SuffixList",
    "bundled_suffix_list",
    "normalize_host",
    "parse_host",
    "registrable_domain",
    "split_host",
]

#: The Public Suffix List snapshot shipped with the toolkit.
BUNDLED_SUFFIX_LIST = Path(__file__).resolve().parent / "data" / "public_suffix_list.dat"

HostKind = Literal["name", "ipv4", "ipv6", "empty", "invalid"]

# Full stops other than U+002E that IDNA treats as label separators (RFC 3490, section 3.1).
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
# Letters, digits, hyphen; underscore too, since real DNS names carry it (_dns.resolver.arpa).
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_PORT = re.compile(r"^[0-9]{0,5}$")
_VERSION = re.compile(r"^// VERSION: (\S+)", re.MULTILINE)
_COMMIT = re.compile(r"^// COMMIT: (\S+)", re.MULTILINE)


@dataclass(frozen=True)
class ParsedHost:
    """What the toolkit knows about one host string, whatever it was."""

    text: str
    """The input as given (``str()`` of it when it was not a string)."""
    kind: HostKind
    """``name``, ``ipv4``, ``ipv6``, ``empty`` (nothing there) or ``invalid`` (not a host)."""
    host: str | None
    """Canonical host: lower case, IDNA A-labels, no port, brackets or trailing dot."""
    port: int | None
    """Port given with the host, if any."""
    suffix: str | None
    """Public suffix, private suffixes included (``appspot.com``); ``None`` for IPs and junk."""
    registrable_domain: str | None
    """eTLD+1 with private suffixes, or the address itself for IP literals."""
    icann_registrable_domain: str | None
    """eTLD+1 with ICANN suffixes only (``appspot.com`` for ``x.appspot.com``)."""
    private_suffix: bool
    """The suffix comes from the private section of the list."""


class SuffixList:
    """A Public Suffix List read from a local file; lookups never touch the network.

    >>> psl = SuffixList(BUNDLED_SUFFIX_LIST)
    >>> psl.version
    '2025-04-07_15-51-09_UTC'
    >>> psl.parse("a.b.kawasaki.jp").registrable_domain
    'a.b.kawasaki.jp'
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).resolve()
        head = self.path.read_text(encoding="utf-8", errors="replace")[:2000]
        version, commit = _VERSION.search(head), _COMMIT.search(head)
        self.version: str | None = version.group(1) if version else None
        """``// VERSION:`` line of the list header, if it has one."""
        self.commit: str | None = commit.group(1) if commit else None
        """``// COMMIT:`` line of the list header, if it has one."""
        self._rules = SuffixRules.from_file(self.path)  # the one list we were given, never a download
        self._parse_text = functools.lru_cache(maxsize=1 << 16)(self._parse)

    def parse(self, text: object) -> ParsedHost:
        """Parse a host, ``host:port``, ``[v6]:port`` or URL; anything else is ``empty`` or ``invalid``."""
        raw = text if isinstance(text, str) else ("" if _is_missing(text) else str(text))
        return self._parse_text(raw)

    def registrable_domain(self, text: object) -> str | None:
        """eTLD+1 of ``text`` (private suffixes included); see :func:`registrable_domain`."""
        return self.parse(text).registrable_domain

    def _parse(self, raw: str) -> ParsedHost:
        kind, host, port = split_host(raw)
        if kind != "name" or host is None:
            return ParsedHost(raw, kind, host, port, None, host, host, False)
        match = self._rules.match(host)
        labels = host.split(".")
        if match.suffix_labels:
            suffix = ".".join(labels[-match.suffix_labels :])
            registrable = _one_label_above(labels, match.suffix_labels)
            icann = _one_label_above(labels, match.icann_suffix_labels) if match.private else registrable
        else:
            # No rule matched: the list's default rule "*" makes the last label the suffix.
            suffix = labels[-1]
            registrable = ".".join(labels[-2:]) if len(labels) > 1 else host
            icann = registrable
        return ParsedHost(raw, "name", host, port, suffix, registrable, icann, match.private)


def _one_label_above(labels: list[str], suffix_labels: int) -> str | None:
    """The host cut to one label above its suffix; ``None`` when the host is the suffix itself."""
    if not suffix_labels or len(labels) <= suffix_labels:
        return None
    return ".".join(labels[-(suffix_labels + 1) :])


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value) or str(value) in {"<NA>", "NaT"}


def normalize_host(text: str) -> str | None:
    """Canonical form of a host (lower case, A-labels, no port, brackets or trailing dot).

    >>> normalize_host(" API.Example.org.:443 "), normalize_host("http://user@[::1]:8080/x")
    ('api.example.org', '::1')
    >>> normalize_host("not a host") is None
    True
    """
    return split_host(text)[1]


def split_host(text: str) -> tuple[HostKind, str | None, int | None]:
    """Kind, canonical host and port of a host string, a ``host:port`` or a URL (no suffix list).

    >>> split_host("[2001:db8::1]:8443"), split_host("Example.ORG.")
    (('ipv6', '2001:db8::1', 8443), ('name', 'example.org', None))
    """
    value = text.strip().translate(_DOTS)
    if "://" in value:
        value = value.split("://", 1)[1]
    value = re.split(r"[/?#]", value, maxsplit=1)[0]
    value = value.rpartition("@")[2]
    if not value:
        return "empty", None, None
    port: int | None = None
    if value.startswith("["):
        inside, bracket, rest = value[1:].partition("]")
        if not bracket or (rest and not (rest.startswith(":") and _PORT.match(rest[1:]))):
            return "invalid", None, None
        port = _port(rest[1:])
        address = _ip(inside)
        return ("ipv6", address, port) if address and ":" in address else ("invalid", None, None)
    if value.count(":") >= 2:
        address = _ip(value)
        return ("ipv6", address, None) if address else ("invalid", None, None)
    if ":" in value:
        value, _, port_text = value.partition(":")
        if not _PORT.match(port_text):
            return "invalid", None, None
        port = _port(port_text)
    value = value[:-1] if value.endswith(".") else value
    if not value:
        return "empty", None, port
    address = _ip(value) if value[-1:].isdigit() else None
    if address:
        return "ipv4", address, port
    host = _ascii_host(value)
    return ("name", host, port) if host else ("invalid", None, port)


def _port(text: str) -> int | None:
    return int(text) if text and int(text) <= 65535 else None


def _ip(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.lower()))
    except ValueError:
        return None


def _ascii_host(value: str) -> str | None:
    labels = value.lower().split(".")
    try:
        labels = [label if label.isascii() else label.encode("idna").decode("ascii") for label in labels]
    except UnicodeError:
        return None
    host = ".".join(labels)
    if len(host) > 253 or not all(_LABEL.match(label) for label in labels):
        return None
    if labels[-1].isdigit():  # "1.2.3", "999.1.1.1": numbers, not names
        return None
    return host


@functools.cache
def bundled_suffix_list() -> SuffixList:
    """The :class:`SuffixList` of the bundled snapshot, built once per process."""
    return SuffixList(BUNDLED_SUFFIX_LIST)


def parse_host(text: object) -> ParsedHost:
    """Parse a host, ``host:port``, ``[v6]:port`` or URL with the bundled suffix list.

    >>> parse_host("d3kx.cloudfront.net").icann_registrable_domain
    'cloudfront.net'
    """
    return bundled_suffix_list().parse(text)


def registrable_domain(host: object) -> str | None:
    """eTLD+1 of a host with the bundled list; the address for IPs; ``None`` when there is none.

    >>> registrable_domain("app-measurement.com"), registrable_domain("localhost")
    ('app-measurement.com', 'localhost')
    """
    return bundled_suffix_list().registrable_domain(host)

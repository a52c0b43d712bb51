"""Who owns a host and what it is for: the bundled atlas and loaders for the lists researchers use.

Why one module: each loader turns one list format into the :class:`Owner`/:class:`Atlas` model defined
here, with the same normalising helpers; the loaders are small and read best beside that model.

An :class:`Atlas` is one source of owner facts: a mapping from domains (matched with all their
subdomains) or exact hosts to an :class:`Owner`, plus, for lists that have them, regular
expressions (Exodus network signatures), the domains each organisation owns (for first-party
decisions) and Android package names per organisation. The toolkit ships one atlas, written by this
project (``data/atlas.csv``, see ``data/manifest.json``); the loaders read the files a user supplies:

* :func:`load_disconnect`: Disconnect ``services.json`` and/or ``entities.json``, wrapped or bare;
* :func:`load_duckduckgo`: DuckDuckGo Tracker Radar TDS (web) and ``android-tds.json``;
* :func:`load_exodus`: Exodus Privacy tracker definitions (network signatures are regexes);
* :func:`load_xray`: the X-Ray owner list (owner, parent, country, domains);
* :func:`load_hosts`: hosts files (``0.0.0.0 host``) and domain-per-line lists.

>>> atlas = bundled_atlas()
>>> match = atlas.lookup("sa.api.intl.miui.com")
>>> match.owner.entity, match.owner.categories, match.domain
('Xiaomi', ('telemetry', 'analytics'), 'sa.api.intl.miui.com')
>>> atlas.lookup("region1.app-measurement.com").owner.entity
'Google'
>>> atlas.lookup("unheard-of.example") is None
True

Several sources are merged by :class:`SourceSet` (see its docstring for the precedence).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.endpoints.domains import normalize_host, split_host
from toolkit.errors import MalformedCaptureError, UnsupportedFormatError
from toolkit.problems import ProblemLog
from toolkit.userfiles import size_and_sha256

__all__ = [
    "BUNDLED_ATLAS",
    "CATEGORIES",
    "MANIFEST",
    "Atlas",
    "Match",
    "Owner",
    "SourceSet",
    "bundled_atlas",
    "entity_key",
    "load_atlas_csv",
    "load_disconnect",
    "load_duckduckgo",
    "load_exodus",
    "load_hosts",
    "load_xray",
    "manifest",
]

DATA = Path(__file__).resolve().parent / "data"
#: The owner atlas written by this project.
BUNDLED_ATLAS = DATA / "atlas.csv"
#: Version, date and sha256 of every bundled data file.
MANIFEST = DATA / "manifest.json"

#: Categories the toolkit uses, with what they mean. Lists' own names are mapped onto these.
CATEGORIES: dict[str, str] = {
    "advertising": "ad serving, ad exchanges, ad measurement",
    "analytics": "usage analytics and audience measurement",
    "attribution": "install and campaign attribution, deep links",
    "crash-reporting": "crash and error reports",
    "telemetry": "device, OS or app telemetry sent to a vendor",
    "session-replay": "recording of screens, taps or mouse movement",
    "social": "social networks, share and login widgets",
    "tag-manager": "loaders of other tags",
    "ab-testing": "experiments, feature flags, remote config",
    "fingerprinting": "device or browser fingerprinting",
    "location": "location data collection",
    "identification": "device or user identification (Exodus)",
    "profiling": "user profiling (Exodus)",
    "tracking": "listed as a tracker without a finer category",
    "blocklist": "listed by a host block list (no owner information)",
    "cryptomining": "in-browser cryptocurrency mining",
    "malware": "listed as malicious",
    "email": "e-mail delivery and e-mail tracking",
    "push": "push notification delivery",
    "messaging": "messaging and calls",
    "cdn": "content delivery network",
    "cloud": "cloud hosting, object storage, app platforms",
    "dns": "DNS resolvers and authoritative DNS",
    "ntp": "time servers",
    "captive-portal": "connectivity and captive-portal checks",
    "updates": "OS or software updates",
    "pki": "certificate revocation (OCSP, CRL) and issuance",
    "gnss-assistance": "satellite positioning assistance data (XTRA, SUPL)",
    "vpn": "VPN service",
    "app-store": "app stores",
    "search": "search engines",
    "maps": "maps and geocoding",
    "payments": "payments",
    "fraud-prevention": "bot detection, CAPTCHA, fraud scoring",
    "consent": "consent management platforms",
    "customer-support": "support chat and help desks",
    "login": "federated login and single sign-on",
    "content": "embedded third-party content (video, widgets)",
    "first-party-content": "an organisation's own sites and apps",
}


@dataclass(frozen=True)
class Owner:
    """What one source says about a domain or host."""

    domain: str
    """The domain (covering its subdomains) or exact host the fact is about."""
    entity: str | None
    """Organisation, as the source names it; ``None`` when the source does not say."""
    parent: str | None = None
    """Parent organisation, when the source says."""
    country: str | None = None
    """Country of the organisation (ISO 3166 alpha-2), when the source says."""
    categories: tuple[str, ...] = ()
    """Toolkit categories (:data:`CATEGORIES`)."""
    source: str = ""
    """Label of the source: ``atlas@<version>``, ``disconnect``, ``duckduckgo-tds`` ..."""
    citation: str | None = None
    """Where the fact comes from, when the source cites it per row."""


@dataclass(frozen=True)
class Match:
    """An :class:`Owner` found for a host, and how specific the match was."""

    owner: Owner
    domain: str
    """The atlas key that matched (equal to the host for exact matches)."""
    specificity: int
    """Number of labels matched; 0 for a regular-expression match."""


@dataclass
class Atlas:
    """One source of owner facts. Build it with a loader or by hand.

    >>> atlas = Atlas("mine")
    >>> atlas.add(Owner("tracker.example", "Example Ads", categories=("advertising",)))
    >>> atlas.lookup("cdn.tracker.example").owner.entity
    'Example Ads'
    """

    name: str
    """Source label written to the ``sources`` column."""
    version: str | None = None
    domains: dict[str, Owner] = field(default_factory=dict)
    """Owners by domain; a domain covers all its subdomains."""
    hosts: dict[str, Owner] = field(default_factory=dict)
    """Owners by exact host name (hosts files)."""
    patterns: list[tuple[re.Pattern[str], Owner]] = field(default_factory=list)
    """Regular expressions searched in the host when no domain matches (Exodus)."""
    entity_domains: dict[str, set[str]] = field(default_factory=dict)
    """Domains each organisation owns or serves from, keyed by :func:`entity_key`."""
    packages: dict[str, str] = field(default_factory=dict)
    """Android package name to organisation (DuckDuckGo android-tds)."""
    problems: pd.DataFrame = field(default_factory=lambda: ProblemLog("").frame())
    """Records the loader skipped."""

    @property
    def label(self) -> str:
        """``name@version`` or just ``name``."""
        return f"{self.name}@{self.version}" if self.version else self.name

    def add(self, owner: Owner, *, exact: bool = False) -> None:
        """Add an owner fact; the first fact for a key wins within one source."""
        table = self.hosts if exact else self.domains
        table.setdefault(owner.domain, owner)
        if owner.entity:
            self.entity_domains.setdefault(entity_key(owner.entity), set()).add(owner.domain)

    def lookup(self, host: str) -> Match | None:
        """Most specific fact for a canonical host: exact host, then longest domain, then regex."""
        found = self.hosts.get(host)
        if found is not None:
            return Match(found, host, host.count(".") + 1)
        labels = host.split(".")
        for start in range(len(labels)):
            key = ".".join(labels[start:])
            found = self.domains.get(key)
            if found is not None:
                return Match(found, key, len(labels) - start)
        for pattern, owner in self.patterns:
            if pattern.search(host):
                return Match(owner, pattern.pattern, 0)
        return None

    def __len__(self) -> int:
        return len(self.domains) + len(self.hosts) + len(self.patterns)


_SUFFIXES = re.compile(
    r"\b(inc|llc|ltd|limited|corp|corporation|co|company|gmbh|s\.?a\.?s?|b\.?v|ag|plc|pte|oy|ab|as|srl|kk)\b\.?"
)


@functools.lru_cache(maxsize=1 << 14)
def entity_key(name: str) -> str:
    """A key under which spellings of one organisation's name meet.

    >>> entity_key("Xiaomi Inc."), entity_key("Google LLC"), entity_key("AppsFlyer Ltd")
    ('xiaomi', 'google', 'appsflyer')
    """
    lowered = _SUFFIXES.sub(" ", name.lower().replace(",", " "))
    return " ".join(re.sub(r"[^\w]+", " ", lowered).split())


class SourceSet:
    """Several atlases merged with a stated precedence.

    For a host, every source is asked for its most specific fact, and the facts are ranked: the
    more specific first (``sa.api.intl.miui.com`` before ``miui.com``, any domain before a regex),
    then in the order of the sources. The first fact that names an organisation decides entity,
    parent and country, and its source is the one reported (a block list entry, which names no one,
    decides only when nothing else matches). Categories are the union of the decider's, those of
    every source that names the same organisation (by :func:`entity_key`), and those of anonymous
    facts at least as specific as the decider (a block list entry for the exact host adds
    ``blocklist``). ``sources`` lists the decider first, then the sources that agreed.

    >>> sources = SourceSet([bundled_atlas()])
    >>> decision = sources.decide("sa.api.intl.miui.com")
    >>> decision.owner.entity, decision.sources[0].startswith("atlas@")
    ('Xiaomi', True)
    """

    def __init__(self, atlases: Sequence[Atlas]) -> None:
        self.atlases = list(atlases)

    def decide(self, host: str) -> Decision | None:
        """The merged decision for a canonical host, or ``None`` when no source knows it."""
        ranked = sorted(
            ((atlas, m) for atlas in self.atlases if (m := atlas.lookup(host)) is not None),
            key=lambda am: -am[1].specificity,  # stable: source order breaks ties
        )
        if not ranked:
            return None
        best_atlas, best = next(((a, m) for a, m in ranked if m.owner.entity), ranked[0])
        owner = best.owner
        categories = list(owner.categories)
        sources = [best_atlas.label]
        parent, country = owner.parent, owner.country
        key = entity_key(owner.entity) if owner.entity else None
        for atlas, match in ranked:
            other = match.owner
            if other is owner:
                continue
            same = key is not None and other.entity is not None and entity_key(other.entity) == key
            anonymous_and_closer = not other.entity and match.specificity >= best.specificity
            if not (same or anonymous_and_closer):
                continue
            categories.extend(c for c in other.categories if c not in categories)
            if same:
                parent, country = parent or other.parent, country or other.country
            if atlas.label not in sources:
                sources.append(atlas.label)
        return Decision(owner, best, tuple(categories), tuple(sources), parent, country)

    def entity_domains(self, entity: str) -> set[str]:
        """Every domain any source says the organisation owns."""
        key = entity_key(entity)
        out: set[str] = set()
        for atlas in self.atlases:
            out |= atlas.entity_domains.get(key, set())
        return out

    def package_entity(self, package: str) -> str | None:
        """Organisation behind an Android package, if any source knows it."""
        for atlas in self.atlases:
            if package in atlas.packages:
                return atlas.packages[package]
        return None


@dataclass(frozen=True)
class Decision:
    """What a :class:`SourceSet` decided for one host."""

    owner: Owner
    match: Match
    categories: tuple[str, ...]
    sources: tuple[str, ...]
    parent: str | None
    country: str | None


# --------------------------------------------------------------------------- bundled atlas

ATLAS_COLUMNS = ["domain", "organisation", "parent", "country", "categories", "source"]


def manifest() -> dict[str, Any]:
    """The bundled data manifest (version, date, and per file sha256, source, licence).

    >>> sorted(manifest()["files"])
    ['atlas.csv', 'public_suffix_list.dat']
    """
    with open(MANIFEST, encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file."""
    return size_and_sha256(path)[1]


@functools.cache
def bundled_atlas() -> Atlas:
    """The atlas shipped with the toolkit (``data/atlas.csv``), read once per process."""
    return load_atlas_csv(BUNDLED_ATLAS, name="atlas", version=str(manifest()["version"]))


def load_atlas_csv(
    path: str | os.PathLike[str], *, name: str | None = None, version: str | None = None, strict: bool = False
) -> Atlas:
    """Read an atlas CSV in the bundled format (columns ``domain, organisation, parent, country,
    categories, source``; categories separated by ``;``). Users may keep their own in this format.

    Rows with a bad domain or an unknown category are skipped into ``atlas.problems``.
    """
    log = ProblemLog(path, strict=strict)
    atlas = Atlas(name or Path(path).stem, version)
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or list(reader.fieldnames)[: len(ATLAS_COLUMNS)] != ATLAS_COLUMNS:
            raise UnsupportedFormatError(path, None, f"expected CSV columns {ATLAS_COLUMNS}")
        for number, row in enumerate(reader, start=2):
            record = f"line {number}"
            domain = normalize_host(row["domain"] or "")
            organisation = (row["organisation"] or "").strip()
            if not domain or not organisation:
                log.add(record, "malformed", f"bad domain {row['domain']!r} or empty organisation; row skipped")
                continue
            categories = tuple(c.strip() for c in (row["categories"] or "").split(";") if c.strip())
            unknown = [c for c in categories if c not in CATEGORIES]
            if unknown:
                log.add(record, "malformed", f"unknown categories {unknown} for {domain}; row skipped")
                continue
            atlas.add(
                Owner(
                    domain,
                    organisation,
                    (row["parent"] or "").strip() or None,
                    (row["country"] or "").strip().upper() or None,
                    categories,
                    atlas.label,
                    (row["source"] or "").strip() or None,
                )
            )
    atlas.problems = log.frame()
    return atlas


# --------------------------------------------------------------------------- list loaders


def _read_json(path: str | os.PathLike[str]) -> Any:
    try:
        with open(path, "rb") as handle:
            return json.loads(handle.read().decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise MalformedCaptureError(path, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise MalformedCaptureError(path, f"line {exc.lineno}", f"not JSON: {exc.msg}") from None


def _slug(name: str) -> str:
    return "-".join(re.sub(r"[^\w]+", " ", name.lower()).split())


_DISCONNECT_CATEGORIES = {
    "advertising": ("advertising",),
    "analytics": ("analytics",),
    "social": ("social",),
    "content": ("content",),
    "fingerprintinginvasive": ("fingerprinting",),
    "fingerprintinggeneral": ("fingerprinting",),
    "cryptomining": ("cryptomining",),
    "email": ("email",),
    "emailaggressive": ("email",),
    "anti-fraud": ("fraud-prevention",),
    "consentmanagers": ("consent",),
    "disconnect": ("tracking",),
}


def _domain_or_log(value: Any, log: ProblemLog, record: str) -> str | None:
    if isinstance(value, str) and "/" in value:
        log.add(record, "unsupported", f"URL rule {value!r} is finer than a host; skipped", "warning")
        return None
    domain = normalize_host(value) if isinstance(value, str) else None
    if domain is None:
        log.add(record, "malformed", f"not a domain: {value!r}; skipped", "warning")
    return domain


def load_disconnect(
    services: str | os.PathLike[str] | None = None,
    entities: str | os.PathLike[str] | None = None,
    *,
    strict: bool = False,
) -> Atlas:
    """Read Disconnect's ``services.json`` (categories → entities → domains) and/or
    ``entities.json`` (entity → properties and resources), in the wrapped form (``{"license": ...,
    "categories": ...}`` / ``{"entities": ...}``) or the bare one.

    Flag keys next to an entity's homepage (``"dnt"``, ``"performance"``, ``"session-replay"``) are
    not domain lists and are skipped. Entities' properties and resources feed first-party
    decisions; resources not in ``services.json`` become owner facts without categories.
    """
    if services is None and entities is None:
        raise ValueError("load_disconnect needs services.json, entities.json or both")
    atlas = Atlas("disconnect")
    rows: list[pd.DataFrame] = []
    if services is not None:
        log = ProblemLog(services, strict=strict)
        data = _read_json(services)
        categories = data.get("categories", data) if isinstance(data, dict) else None
        if not isinstance(categories, dict) or not all(isinstance(v, list) for v in categories.values()):
            raise UnsupportedFormatError(services, None, "not a Disconnect services.json: no category lists")
        merged: dict[str, tuple[str, set[str]]] = {}
        for category, members in categories.items():
            ours = _DISCONNECT_CATEGORIES.get(category.lower(), (_slug(category),))
            for index, member in enumerate(members):
                record = f"categories.{category}[{index}]"
                if not isinstance(member, dict):
                    log.add(record, "malformed", "entity entry is not an object; skipped")
                    continue
                for entity, homepages in member.items():
                    if not isinstance(homepages, dict):
                        log.add(record, "malformed", f"{entity}: not an object of homepages; skipped")
                        continue
                    for domains in homepages.values():
                        if not isinstance(domains, list):
                            continue  # flag keys such as "dnt": "eff"
                        for value in domains:
                            domain = _domain_or_log(value, log, record)
                            if domain is None:
                                continue
                            current = merged.setdefault(domain, (entity, set()))
                            current[1].update(ours)
        for domain, (entity, cats) in merged.items():
            atlas.add(Owner(domain, entity, None, None, tuple(sorted(cats)), "disconnect"))
        rows.append(log.frame())
    if entities is not None:
        log = ProblemLog(entities, strict=strict)
        data = _read_json(entities)
        table = data.get("entities", data) if isinstance(data, dict) else None
        if not isinstance(table, dict):
            raise UnsupportedFormatError(entities, None, "not a Disconnect entities.json: no entity map")
        for entity, lists in table.items():
            if entity == "license" and isinstance(lists, str):
                continue
            record = f"entities.{entity}"
            if not isinstance(lists, dict):
                log.add(record, "malformed", "not an object with properties/resources; skipped")
                continue
            for kind in ("properties", "resources"):
                for value in lists.get(kind) or []:
                    domain = _domain_or_log(value, log, f"{record}.{kind}")
                    if domain is None:
                        continue
                    atlas.entity_domains.setdefault(entity_key(entity), set()).add(domain)
                    atlas.domains.setdefault(domain, Owner(domain, entity, source="disconnect"))
        rows.append(log.frame())
    atlas.problems = pd.concat(rows, ignore_index=True) if len(rows) > 1 else rows[0]
    return atlas


_DDG_CATEGORIES = {
    "advertising": "advertising",
    "ad motivated tracking": "advertising",
    "action pixels": "advertising",
    "analytics": "analytics",
    "audience measurement": "analytics",
    "third-party analytics marketing": "analytics",
    "session replay": "session-replay",
    "social - share": "social",
    "social - comment": "social",
    "social network": "social",
    "embedded content": "content",
    "badge": "content",
    "content delivery": "cdn",
    "cdn": "cdn",
    "ad fraud": "fraud-prevention",
    "federated login": "login",
    "sso": "login",
    "online payment": "payments",
    "tag manager": "tag-manager",
    "support chat widget": "customer-support",
    "consent management platform": "consent",
    "malware": "malware",
}


def load_duckduckgo(path: str | os.PathLike[str], *, strict: bool = False) -> Atlas:
    """Read a DuckDuckGo Tracker Data Set: the web TDS built from Tracker Radar (``trackers``,
    ``entities``, ``domains``), the App Tracking Protection ``android-tds.json`` (``trackers``,
    ``packageNames``, ``entities``), or a Tracker Radar checkout (a directory: ``domains/**/*.json``
    one file per tracker domain, ``entities/*.json`` one per organisation).

    Trackers DuckDuckGo blocks by default and that carry no category get ``tracking``; the domain →
    entity map adds owner facts without categories and feeds first-party decisions.
    """
    if Path(path).is_dir():
        return _load_tracker_radar(Path(path), strict=strict)
    log = ProblemLog(path, strict=strict)
    data = _read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("trackers"), dict):
        raise UnsupportedFormatError(path, None, "not a DuckDuckGo TDS: no 'trackers' object")
    android = "packageNames" in data
    atlas = Atlas("duckduckgo-android-tds" if android else "duckduckgo-tds", _text(data.get("version")))
    display: dict[str, str] = {}
    for name, info in (data.get("entities") or {}).items():
        if isinstance(info, dict):
            display[name] = str(info.get("displayName") or name)
    for key, info in data["trackers"].items():
        record = f"trackers.{key}"
        domain = _domain_or_log(key, log, record)
        if domain is None:
            continue
        if not isinstance(info, dict):
            log.add(record, "malformed", "tracker is not an object; skipped")
            continue
        owner: dict[str, Any] = info["owner"] if isinstance(info.get("owner"), dict) else {}
        # "ownedBy" names the company behind a product-level owner ("Google Analytics" → Google LLC)
        legal = owner.get("ownedBy") or owner.get("name")
        entity = display.get(legal) if legal in display else (owner.get("displayName") or legal)
        cats = [_DDG_CATEGORIES.get(str(c).lower(), _slug(str(c))) for c in info.get("categories") or []]
        if not cats and info.get("default") == "block":
            cats = ["tracking"]
        atlas.add(Owner(domain, entity, None, None, tuple(dict.fromkeys(cats)), atlas.label))
        if legal and entity:
            atlas.entity_domains.setdefault(entity_key(legal), set()).add(domain)
    for name, info in (data.get("entities") or {}).items():
        if isinstance(info, dict):
            for value in info.get("domains") or []:
                domain = _domain_or_log(value, log, f"entities.{name}")
                if domain:
                    _own(atlas, domain, display.get(name, name), name)
    for value, name in (data.get("domains") or {}).items():
        domain = _domain_or_log(value, log, f"domains.{value}")
        if domain and isinstance(name, str):
            _own(atlas, domain, display.get(name, name), name)
    for package, name in (data.get("packageNames") or {}).items():
        if isinstance(package, str) and isinstance(name, str):
            atlas.packages[package] = display.get(name, name)
    atlas.problems = log.frame()
    return atlas


def _load_tracker_radar(root: Path, *, strict: bool) -> Atlas:
    """A Tracker Radar directory: per-domain files (``domain``, ``owner``, ``categories``) and
    per-entity files (``name``, ``displayName``, ``properties``)."""
    log = ProblemLog(root, strict=strict)
    atlas = Atlas("duckduckgo-tracker-radar")
    files = sorted(root.rglob("*.json"))
    if not files:
        raise UnsupportedFormatError(root, None, "not a Tracker Radar directory: no JSON files")
    entities: list[tuple[str, str, list[Any]]] = []
    for file in files:
        record = str(file.relative_to(root))
        try:
            data = _read_json(file)
        except MalformedCaptureError as exc:
            log.add(record, "malformed", f"{exc.reason}; file skipped")
            continue
        if isinstance(data, dict) and isinstance(data.get("domain"), str):
            owner = data["owner"] if isinstance(data.get("owner"), dict) else {}
            domain = _domain_or_log(data["domain"], log, record)
            cats = [_DDG_CATEGORIES.get(str(c).lower(), _slug(str(c))) for c in data.get("categories") or []]
            if domain:
                entity = owner.get("displayName") or owner.get("name")
                atlas.add(Owner(domain, entity, None, None, tuple(dict.fromkeys(cats)) or ("tracking",), atlas.label))
        elif isinstance(data, dict) and isinstance(data.get("name"), str) and "properties" in data:
            entities.append((data["name"], str(data.get("displayName") or data["name"]), data["properties"] or []))
        else:
            log.add(record, "unsupported", "neither a Tracker Radar domain nor an entity file; skipped", "warning")
    for name, display, properties in entities:
        for value in properties:
            domain = _domain_or_log(value, log, f"entities/{name}")
            if domain:
                _own(atlas, domain, display, name)
    atlas.problems = log.frame()
    return atlas


def _own(atlas: Atlas, domain: str, entity: str, legal: str) -> None:
    atlas.domains.setdefault(domain, Owner(domain, entity, source=atlas.label))
    atlas.entity_domains.setdefault(entity_key(entity), set()).add(domain)
    atlas.entity_domains.setdefault(entity_key(legal), set()).add(domain)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


_EXODUS_CATEGORIES = {
    "advertisement": "advertising",
    "analytics": "analytics",
    "crash reporting": "crash-reporting",
    "identification": "identification",
    "location": "location",
    "profiling": "profiling",
}
# One alternative of a network signature that is just a (possibly dot-led) domain.
_LITERAL = re.compile(r"^\^?(?:\.\*)?(?:\\\.|\.)?((?:[a-z0-9-]|\\-)+(?:\\?\.(?:[a-z0-9-]|\\-)+)+)$")


def load_exodus(path: str | os.PathLike[str], *, strict: bool = False) -> Atlas:
    """Read Exodus Privacy tracker definitions (the ``/api/trackers`` dump: ``{"trackers": {id:
    {name, network_signature, categories, ...}}}``, or the bare id map, or a list).

    A network signature is a regular expression searched in the host. Alternatives that are plain
    domains (``adjust\\.com``) become domain facts (matched on label boundaries, so
    ``notadjust.com`` is not Adjust); the rest stay regular expressions. The entity is the
    tracker's name, since Exodus names SDKs rather than companies.
    """
    log = ProblemLog(path, strict=strict)
    data = _read_json(path)
    trackers = data.get("trackers", data) if isinstance(data, dict) else data
    items: Iterable[tuple[str, Any]]
    if isinstance(trackers, dict):
        items = trackers.items()
    elif isinstance(trackers, list):
        items = ((str(i), t) for i, t in enumerate(trackers))
    else:
        raise UnsupportedFormatError(path, None, "not Exodus tracker definitions: no 'trackers'")
    atlas = Atlas("exodus")
    for key, tracker in items:
        record = f"trackers.{key}"
        if not isinstance(tracker, dict) or not isinstance(tracker.get("name"), str):
            log.add(record, "malformed", "tracker without a name; skipped")
            continue
        signature = tracker.get("network_signature") or ""
        if not isinstance(signature, str) or not signature.strip():
            continue  # code signature only: nothing to match on the network
        cats = tuple(
            dict.fromkeys(
                _EXODUS_CATEGORIES.get(str(c).lower(), _slug(str(c))) for c in tracker.get("categories") or []
            )
        ) or ("tracking",)
        name = tracker["name"].strip()
        for alternative in _alternatives(signature):
            literal = _LITERAL.match(alternative.strip().lower())
            if literal:
                domain = normalize_host(literal.group(1).replace("\\", ""))
                if domain:
                    atlas.add(Owner(domain, name, None, None, cats, "exodus", tracker.get("website")))
                    continue
            try:
                pattern = re.compile(alternative, re.IGNORECASE)
            except re.error as exc:
                log.add(record, "malformed", f"{name}: bad network signature {alternative!r}: {exc}; skipped")
                continue
            atlas.patterns.append((pattern, Owner(alternative, name, None, None, cats, "exodus")))
    atlas.problems = log.frame()
    return atlas


def _alternatives(signature: str) -> Iterator[str]:
    """Split a regex on its top-level ``|`` (not inside groups, classes or after a backslash)."""
    depth, start, escaped, in_class = 0, 0, False, False
    for index, char in enumerate(signature):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        elif char == "|" and depth == 0:
            if signature[start:index]:
                yield signature[start:index]
            start = index + 1
    if signature[start:]:
        yield signature[start:]


def load_xray(path: str | os.PathLike[str], *, strict: bool = False) -> Atlas:
    """Read the X-Ray owner list (Binns et al. 2018): ``[{owner_name, doms, parent, root_parent,
    country}]``. Entries carry no category; the parent is ``root_parent`` (or ``parent``)."""
    log = ProblemLog(path, strict=strict)
    data = _read_json(path)
    if not isinstance(data, list):
        raise UnsupportedFormatError(path, None, "not an X-Ray list: expected a JSON array of owners")
    atlas = Atlas("xray")
    for index, owner in enumerate(data):
        record = f"[{index}]"
        if not isinstance(owner, dict) or not isinstance(owner.get("owner_name"), str):
            log.add(record, "malformed", "owner without owner_name; skipped")
            continue
        parent = owner.get("root_parent") or owner.get("parent")
        country = owner.get("country")
        for value in owner.get("doms") or []:
            domain = _domain_or_log(value, log, record)
            if domain:
                atlas.add(
                    Owner(
                        domain,
                        owner["owner_name"],
                        parent if isinstance(parent, str) else None,
                        country.upper() if isinstance(country, str) and country else None,
                        (),
                        "xray",
                    )
                )
    atlas.problems = log.frame()
    return atlas


_LOCAL_NAMES = {
    "localhost",
    "localhost.localdomain",
    "local",
    "broadcasthost",
    "ip6-localhost",
    "ip6-loopback",
    "ip6-localnet",
    "ip6-mcastprefix",
    "ip6-allnodes",
    "ip6-allrouters",
    "ip6-allhosts",
}


def load_hosts(
    path: str | os.PathLike[str], *, name: str | None = None, subdomains: bool | None = None, strict: bool = False
) -> Atlas:
    """Read a hosts file (``0.0.0.0 ads.example``) or a domain-per-line list (also ``||domain^``).

    Such lists say a host is blocked, not who runs it: each entry gets the category ``blocklist``
    and no entity. Hosts-file entries match exactly that host; domain-per-line entries cover their
    subdomains. ``subdomains`` overrides the choice. Local names and addresses are ignored.
    """
    log = ProblemLog(path, strict=strict)
    label = name or f"hosts:{Path(path).name}"
    atlas = Atlas(label)
    with open(path, "rb") as handle:
        raw = handle.read()
    if b"\x00" in raw[:4096]:
        raise UnsupportedFormatError(path, None, "binary data, not a hosts file or a domain list")
    text = io.StringIO(raw.decode("utf-8", errors="replace"))
    for number, line in enumerate(text, start=1):
        content = line.split("#", 1)[0].strip()
        if not content or content.startswith("!"):
            continue
        tokens = content.split()
        hosts_line = split_host(tokens[0])[0] in ("ipv4", "ipv6")
        if not hosts_line and len(tokens) > 1:
            log.add(f"line {number}", "malformed", f"neither a hosts line nor one domain: {content!r}", "warning")
            continue
        names = tokens[1:] if hosts_line else tokens
        for token in names:
            covers_subdomains = not hosts_line if subdomains is None else subdomains
            if token.startswith("||"):
                token = token[2:].rstrip("^")
                covers_subdomains = True if subdomains is None else subdomains
            if token in _LOCAL_NAMES:
                continue
            kind, host, _ = split_host(token)
            if kind != "name" or host is None:
                if kind not in ("ipv4", "ipv6"):
                    log.add(f"line {number}", "malformed", f"not a host name: {token!r}; skipped", "warning")
                continue
            atlas.add(Owner(host, None, None, None, ("blocklist",), label), exact=not covers_subdomains)
    atlas.problems = log.frame()
    return atlas


def load_sources(paths: Mapping[str, str | os.PathLike[str]]) -> list[Atlas]:
    """Load several lists by kind: ``disconnect_services``, ``disconnect_entities``, ``duckduckgo``,
    ``exodus``, ``xray``, ``hosts`` (the order of the mapping is the precedence)."""
    loaders = {"duckduckgo": load_duckduckgo, "exodus": load_exodus, "xray": load_xray, "hosts": load_hosts}
    atlases: list[Atlas] = []
    for kind, path in paths.items():
        if kind == "disconnect_services":
            atlases.append(load_disconnect(services=path, entities=paths.get("disconnect_entities")))
        elif kind == "disconnect_entities":
            if "disconnect_services" not in paths:
                atlases.append(load_disconnect(entities=path))
        elif kind in loaders:
            atlases.append(loaders[kind](path))
        else:
            allowed = sorted([*loaders, "disconnect_services", "disconnect_entities"])
            raise ValueError(f"unknown list kind {kind!r}; allowed: {allowed}")
    return atlases

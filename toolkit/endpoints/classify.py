"""Roles of endpoints relative to a context: whose site, whose platform, which third party.

Why one module: the context (sites, vendors, apps), the :class:`Classifier` and the ``endpoints`` table
it fills make one decision, the role of a host, and are read together.

:func:`classify` takes hosts (a list, a Series), a table (``requests``, ``flows`` or ``dns``), a dict
of tables or a :class:`~toolkit.capture.Capture`, and returns the ``endpoints`` table: one row per
distinct host with its registrable domain, organisation, categories, role, the source that
decided, and its traffic. Hosts nobody knows are listed with the role ``unknown``, never dropped.

>>> from toolkit.endpoints.classify import Context, classify
>>> hosts = ["sa.api.intl.miui.com", "www.example.org", "app-measurement.com", "nobody.invalid"]
>>> table = classify(hosts, context=Context(sites=("example.org",), vendors=("Xiaomi",)))
>>> table[["host", "organisation", "role"]].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
[['sa.api.intl.miui.com', 'Xiaomi', 'platform'],
 ['www.example.org', <NA>, 'first_party'],
 ['app-measurement.com', 'Google', 'third_party'],
 ['nobody.invalid', <NA>, 'unknown']]
>>> [s.split("@")[0] if isinstance(s, str) else s for s in table["source"]]
['atlas', 'context', 'atlas', <NA>]

Roles, decided in this order:

1. ``first_party``: the host's registrable domain is a visited site's, or the organisation that
   owns a visited site owns the host (the lists say the site and the host belong together);
2. ``infrastructure``: every category of the host is one of DNS, NTP, captive-portal check,
   updates, PKI, positioning assistance, whoever runs it;
3. ``platform``: the organisation (or its parent) makes the app, browser or OS under study
   (``Context.vendors``), e.g. Xiaomi for Mi Browser;
4. ``third_party`` when a tracking category is present (advertising, analytics, attribution, crash
   reporting, telemetry, social ... or a block list entry);
5. ``infrastructure`` when the only categories are CDN, cloud, push or VPN; addresses no list
   knows but that the capture shows answering DNS or NTP are infrastructure too (source
   ``traffic``);
6. ``third_party`` for any other known organisation (content, payments, maps ...);
7. ``unknown``: no source knows the host (also IP literals nobody lists, and garbage hosts).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeAlias, cast

import pandas as pd

from toolkit.endpoints.atlas import Atlas, Decision, Match, Owner, SourceSet, bundled_atlas, entity_key
from toolkit.endpoints.domains import ParsedHost, SuffixList, bundled_suffix_list
from toolkit.schema import ROLES, TABLES


class WithTables(Protocol):
    """Anything with tables by name, as a :class:`toolkit.capture.Capture` (named by shape, not
    imported: a capture is loaded above the classification)."""

    @property
    def tables(self) -> Mapping[str, pd.DataFrame]: ...


#: What hosts are read from: a host, hosts, a ``requests``/``flows``/``dns`` table, tables by name, a Capture.
HostData: TypeAlias = "str | Sequence[str] | pd.Series | pd.DataFrame | Mapping[str, pd.DataFrame] | WithTables"

__all__ = [
    "CLASSIFIED_TABLES",
    "INFRASTRUCTURE_CATEGORIES",
    "ROLES",
    "TRACKING_CATEGORIES",
    "Classifier",
    "Context",
    "classify",
    "endpoints_in_context",
    "host_occurrences",
    "join_endpoints",
    "with_endpoints",
]

#: Categories of tracking: a third party with one of them is never mere infrastructure.
TRACKING_CATEGORIES = frozenset(
    {
        "advertising",
        "analytics",
        "attribution",
        "crash-reporting",
        "telemetry",
        "session-replay",
        "social",
        "tag-manager",
        "ab-testing",
        "fingerprinting",
        "location",
        "identification",
        "profiling",
        "tracking",
        "blocklist",
        "cryptomining",
        "malware",
    }
)
#: Categories of plumbing that is infrastructure whoever runs it.
INFRASTRUCTURE_CATEGORIES = frozenset({"dns", "ntp", "captive-portal", "updates", "pki", "gnss-assistance"})
# Carriers: infrastructure unless the host has another, more telling category.
_CARRIER_CATEGORIES = frozenset({"cdn", "cloud", "push", "vpn"})

# Android package prefixes of platform vendors (publicly documented package namespaces).
PACKAGE_VENDORS: dict[str, str] = {
    "com.mi.": "Xiaomi",
    "com.xiaomi.": "Xiaomi",
    "com.miui.": "Xiaomi",
    "com.huawei.": "Huawei",
    "com.hihonor.": "Honor",
    "com.samsung.": "Samsung Electronics",
    "com.sec.": "Samsung Electronics",
    "com.oppo.": "OPPO",
    "com.coloros.": "OPPO",
    "com.heytap.": "OPPO",
    "com.oplus.": "OPPO",
    "com.oneplus.": "OnePlus",
    "com.vivo.": "vivo",
    "com.bbk.": "vivo",
    "com.google.android.": "Google",
    "com.android.chrome": "Google",
    "com.android.vending": "Google",
    "com.amazon.": "Amazon",
    "com.microsoft.": "Microsoft",
    "org.mozilla.": "Mozilla",
    "com.opera.": "Opera",
    "com.brave.": "Brave Software",
    "com.duckduckgo.": "DuckDuckGo",
    "com.ucmobile": "UCWeb",
    "com.uc.": "UCWeb",
    "com.tencent.": "Tencent",
    "com.baidu.": "Baidu",
    "com.yandex.": "Yandex",
    "ru.yandex.": "Yandex",
    "com.ss.android.": "ByteDance",
    "com.zhiliaoapp.": "ByteDance",
    "com.facebook.": "Meta Platforms",
    "com.apple.": "Apple",
}
# User-Agent tokens of vendor browsers (not the generic Chrome/Safari tokens every WebView sends).
UA_VENDORS: dict[str, str] = {
    "MiuiBrowser": "Xiaomi",
    "XiaoMi/": "Xiaomi",
    "MintBrowser": "Xiaomi",
    "SamsungBrowser": "Samsung Electronics",
    "HuaweiBrowser": "Huawei",
    "HeyTapBrowser": "OPPO",
    "VivoBrowser": "vivo",
    "UCBrowser": "UCWeb",
    "OPR/": "Opera",
    "YaBrowser": "Yandex",
    "EdgA/": "Microsoft",
    "Edg/": "Microsoft",
    "Firefox/": "Mozilla",
    "QQBrowser": "Tencent",
    "baiduboxapp": "Baidu",
}


@dataclass(frozen=True)
class Context:
    """What the traffic is relative to: the sites visited and the vendors of the software.

    >>> Context(sites=("https://www.bbc.co.uk/news",), vendors=("Xiaomi",)).site_domains()
    {'bbc.co.uk'}
    """

    sites: tuple[str, ...] = ()
    """Visited sites: hosts or URLs. Their registrable domains are first party."""
    vendors: tuple[str, ...] = ()
    """Organisations that make the app, browser or OS under study (``"Xiaomi"``)."""
    first_party_entities: tuple[str, ...] = ()
    """Further organisations to count as first party."""
    expand_first_party: bool = True
    """Count every domain of the organisation that owns a visited site as first party."""
    evidence: tuple[str, ...] = field(default=(), compare=False)
    """How an inferred context was found (for reports)."""

    def site_domains(self, suffixes: SuffixList | None = None) -> set[str]:
        """Registrable domains of the visited sites."""
        psl = suffixes or bundled_suffix_list()
        return {d for s in self.sites if (d := psl.parse(s).registrable_domain)}

    @classmethod
    def infer(cls, data: HostData, sources: SourceSet | None = None) -> Context:
        """Guess the context from tables: sites from HAR pages (the first request of each page),
        vendors from Android package names (``app``) and vendor browser User-Agent tokens."""
        tables = _tables(data)
        sites: list[str] = []
        vendors: list[str] = []
        evidence: list[str] = []
        requests = tables.get("requests")
        if requests is not None and len(requests) and "page" in requests:
            for page, host in _first_of_each_page(requests):
                if isinstance(host, str) and host not in sites:
                    sites.append(host)
                    evidence.append(f"site {host}: first request of page {page}")
        for frame in tables.values():
            if "app" not in frame:
                continue
            for app in frame["app"].dropna().unique():
                vendor = _package_vendor(str(app), sources)
                if vendor and vendor not in vendors:
                    vendors.append(vendor)
                    evidence.append(f"vendor {vendor}: app {app}")
        if requests is not None and len(requests) and "request_headers" in requests:
            agents = [ua for headers in requests["request_headers"] if (ua := _user_agent(headers))]
            for token, vendor in UA_VENDORS.items():
                share = sum(token in ua for ua in agents) / len(agents) if agents else 0.0
                if share >= 0.5 and vendor not in vendors:
                    vendors.append(vendor)
                    evidence.append(f"vendor {vendor}: User-Agent token {token!r} in {share:.0%} of requests")
        return cls(tuple(sites), tuple(vendors), evidence=tuple(evidence))


def _first_of_each_page(requests: pd.DataFrame, step: int = 1 << 16) -> list[tuple[str, Any]]:
    """(page, host) of the first request of each page, in order; read ``step`` rows at a time so
    that the work space does not grow with the table (a 1 GB HAR has 320,000 requests)."""
    seen: set[str] = set()
    firsts: list[tuple[str, Any]] = []
    for start in range(0, len(requests), step):
        pages = requests["page"].iloc[start : start + step]
        new = pages[pages.notna()].drop_duplicates()
        new = new[~new.isin(seen)]
        hosts = requests["host"].iloc[start : start + step]
        for position, page in zip(new.index, new, strict=True):
            seen.add(page)
            firsts.append((page, hosts.loc[position]))
    return firsts


def _package_vendor(app: str, sources: SourceSet | None) -> str | None:
    lowered = app.lower()
    for prefix, vendor in PACKAGE_VENDORS.items():
        if lowered.startswith(prefix) or lowered == prefix.rstrip("."):
            return vendor
    return sources.package_entity(app) if sources else None


def _user_agent(headers: Any) -> str | None:
    if not isinstance(headers, list | tuple):
        return None
    for pair in headers:
        if isinstance(pair, list | tuple) and len(pair) == 2 and str(pair[0]).lower() == "user-agent":
            return str(pair[1])
    return None


class Classifier:
    """Classifies hosts with a set of sources and a suffix list; reuse it for many captures.

    >>> Classifier().classify(["8.8.8.8"]).loc[0, ["organisation", "role"]].tolist()
    ['Google', 'infrastructure']
    """

    def __init__(self, sources: SourceSet | Sequence[Atlas] | None = None, suffixes: SuffixList | None = None) -> None:
        if sources is None:
            sources = SourceSet([bundled_atlas()])
        self.sources = sources if isinstance(sources, SourceSet) else SourceSet(list(sources))
        self.suffixes = suffixes or bundled_suffix_list()
        self._decisions: dict[str, Decision | None] = {}

    def decide(self, host: str) -> Decision | None:
        """Merged owner decision for a canonical host (memoised)."""
        if host not in self._decisions:
            self._decisions[host] = self.sources.decide(host)
        return self._decisions[host]

    def classify(self, data: HostData, context: Context | None = None) -> pd.DataFrame:
        """The ``endpoints`` table of the hosts in ``data`` (see :func:`classify`)."""
        if context is None:
            context = Context.infer(data, self.sources) if not _is_host_list(data) else Context()
        occurrences = host_occurrences(data)
        canonical, parsed = self._canonical(occurrences)
        first_party = self._first_party(context)
        vendors = [entity_key(v) for v in context.vendors]
        columns: dict[str, list[Any]] = {name: [] for name in TABLES["endpoints"].names[:8]}
        served = _services_seen(data, canonical)
        for host in parsed:
            decision = self.decide(host.host) if host.host else None
            if decision is None and host.host in served:
                decision = _traffic_decision(host.host, served[host.host])
            role, decider = _role(host, decision, first_party, vendors)
            owner = decision.owner if decision else None
            entity = owner.entity if owner else None
            columns["host"].append(host.host or host.text)
            columns["registrable_domain"].append(host.registrable_domain)
            columns["organisation"].append(entity)
            columns["parent"].append((decision.parent or entity) if decision else None)
            columns["country"].append(decision.country if decision else None)
            columns["categories"].append(list(decision.categories) if decision else [])
            columns["role"].append(role)
            columns["source"].append(decider or (decision.sources[0] if decision else None))
        columns.update(_traffic(data, columns["host"], canonical))
        return TABLES["endpoints"].validate(TABLES["endpoints"].frame(columns))

    def _canonical(self, occurrences: pd.Series) -> tuple[dict[Any, str], list[ParsedHost]]:
        """Raw value → endpoint key, and the distinct parsed hosts in order of first appearance."""
        mapping: dict[Any, str] = {}
        seen: dict[str, ParsedHost] = {}
        for raw in occurrences.dropna().unique():
            parsed = self.suffixes.parse(raw)
            if parsed.kind == "empty":
                continue
            key = parsed.host or parsed.text
            mapping[raw] = key
            seen.setdefault(key, parsed)
        return mapping, list(seen.values())

    def _first_party(self, context: Context) -> tuple[set[str], set[str], set[str]]:
        """Registrable domains, organisation keys and owned domains that are first party."""
        domains = context.site_domains(self.suffixes)
        entities = {entity_key(e) for e in context.first_party_entities}
        if context.expand_first_party:
            for site in context.sites:
                parsed = self.suffixes.parse(site)
                decision = self.decide(parsed.host) if parsed.host else None
                if decision and decision.owner.entity:
                    entities.add(entity_key(decision.owner.entity))
        owned: set[str] = set()
        for entity in entities:
            owned |= self.sources.entity_domains(entity)
        return domains, entities, owned


def _names_vendor(name: str | None, vendors: Sequence[str]) -> bool:
    if not name:
        return False
    key = f" {entity_key(name)} "
    return any(v and f" {v} " in key for v in vendors)


def _role(
    host: ParsedHost,
    decision: Decision | None,
    first_party: tuple[set[str], set[str], set[str]],
    vendors: Sequence[str],
) -> tuple[str, str | None]:
    """Role of a host and, when the context (not a list) decided it, the label ``context``."""
    domains, entities, owned = first_party
    if host.kind == "invalid" or host.host is None:
        return "unknown", None
    if host.registrable_domain in domains:
        return "first_party", "context"
    owner = decision.owner if decision else None
    if owner and owner.entity and entity_key(owner.entity) in entities:
        return "first_party", None
    if owned and _covered(host.host, owned):
        return "first_party", "context"
    if decision is None:
        return "unknown", None
    categories = set(decision.categories)
    if categories and categories <= INFRASTRUCTURE_CATEGORIES:
        return "infrastructure", None
    if owner and (_names_vendor(owner.entity, vendors) or _names_vendor(decision.parent, vendors)):
        return "platform", None
    if categories & TRACKING_CATEGORIES:
        return "third_party", None
    if categories and categories <= INFRASTRUCTURE_CATEGORIES | _CARRIER_CATEGORIES:
        return "infrastructure", None
    if (owner and owner.entity) or categories:
        return "third_party", None
    return "unknown", None


def _covered(host: str, domains: set[str]) -> bool:
    labels = host.split(".")
    return any(".".join(labels[i:]) in domains for i in range(len(labels)))


def _is_host_list(data: Any) -> bool:
    return isinstance(data, str | pd.Series | list | tuple | set | frozenset) or (
        isinstance(data, Iterable) and not isinstance(data, pd.DataFrame | Mapping) and not hasattr(data, "tables")
    )


def _tables(data: Any) -> dict[str, pd.DataFrame]:
    if hasattr(data, "tables") and isinstance(data.tables, Mapping):
        return dict(data.tables)
    if isinstance(data, Mapping):
        return {str(k): v for k, v in data.items() if isinstance(v, pd.DataFrame)}
    if isinstance(data, pd.DataFrame):
        for name in ("requests", "flows", "dns"):
            if set(TABLES[name].names) <= set(data.columns) or _KEY_COLUMN[name] in data.columns:
                return {name: data}
    return {}


_KEY_COLUMN = {"requests": "host", "flows": "hostname", "dns": "qname"}


def endpoints_in_context(data: HostData, *, visited: Sequence[str] = (), vendors: Sequence[str] = ()) -> pd.DataFrame:
    """The ``endpoints`` table of ``data`` in the context inferred from it, with the sites of the
    ``visited`` URLs as first party and ``vendors`` (if given) as the makers of the software.

    >>> endpoints = endpoints_in_context(["www.example-news.com"], visited=["https://www.example-news.com/a"])
    >>> endpoints["role"].tolist()
    ['first_party']
    """
    context = Context.infer(data) if not _is_host_list(data) else Context()
    sites = tuple(dict.fromkeys([*context.sites, *visited]))
    context = dataclasses.replace(context, sites=sites, vendors=tuple(vendors) or context.vendors)
    return classify(data, context)


def host_occurrences(data: HostData) -> pd.Series:
    """Every host occurrence in ``data``, in order: request hosts (else SNI, else server IP), flow
    host names (else server IP), DNS question names; or the items of a list of hosts.

    >>> host_occurrences(["a.example", "b.example"]).tolist()
    ['a.example', 'b.example']
    """
    if isinstance(data, str):
        return pd.Series([data], dtype=object)
    if isinstance(data, pd.Series):
        return data
    if _is_host_list(data):
        return pd.Series(list(cast(Iterable[Any], data)), dtype=object)
    tables = _tables(data)
    if not tables:
        raise TypeError(
            "classify takes hosts (a list or Series), a requests/flows/dns table, a dict of tables "
            f"or a Capture, not {type(data).__name__}"
        )
    parts: list[pd.Series] = []
    requests = tables.get("requests")
    if requests is not None and "host" in requests:
        parts.append(_first_present(requests, ["host", "sni", "server_ip"]))
    flows = tables.get("flows")
    if flows is not None and "hostname" in flows:
        parts.append(_first_present(flows, ["hostname", "server_ip"]))
    dns = tables.get("dns")
    if dns is not None and "qname" in dns:
        parts.append(dns["qname"].astype("string").reset_index(drop=True))
    if len(parts) == 1:
        return parts[0]
    return pd.concat([p.astype("string") for p in parts], ignore_index=True) if parts else pd.Series([], dtype="string")


def _first_present(frame: pd.DataFrame, names: Sequence[str]) -> pd.Series:
    """Per row, the first of ``names`` that has a value. The first column itself when it has no
    gap (the usual case): no copy, no Python string per row."""
    present = [name for name in names if name in frame]
    if not present:
        return pd.Series(pd.NA, index=pd.RangeIndex(len(frame)), dtype="string")
    result = frame[present[0]]
    for name in present[1:]:
        if not result.isna().any():
            break
        result = result.astype("string").fillna(frame[name].astype("string"))
    return result.reset_index(drop=True)


def classify(
    data: HostData, context: Context | None = None, *, sources: SourceSet | Sequence[Atlas] | None = None
) -> pd.DataFrame:
    """Classify every host in ``data`` into the ``endpoints`` table.

    ``data`` is a host, a list or Series of hosts, a ``requests``/``flows``/``dns`` table, a dict of
    tables or a Capture. ``context`` defaults to :meth:`Context.infer` on tables (nothing for a
    plain list of hosts). ``sources`` defaults to the bundled atlas; pass loaded lists (first wins
    on equal specificity, see :class:`~toolkit.endpoints.atlas.SourceSet`) to add to or replace it.
    """
    return Classifier(sources).classify(data, context)


# Services recognised from the traffic itself, for addresses no list knows.
_SERVICE_PORTS = {53: "dns", 853: "dns", 5353: "dns", 123: "ntp"}


def _services_seen(data: Any, canonical: Mapping[Any, str]) -> dict[str, str]:
    """Endpoints seen answering DNS (flows with protocol ``dns`` or DNS ports, resolvers in the
    ``dns`` table) or NTP (port 123): infrastructure even when no list names them."""
    tables = _tables(data)
    seen: dict[str, str] = {}
    flows = tables.get("flows")
    if flows is not None and "server_ip" in flows and len(flows):
        ports = flows["server_port"] if "server_port" in flows else pd.Series([pd.NA] * len(flows))
        protocols = flows["protocol"].astype(object) if "protocol" in flows else pd.Series([None] * len(flows))
        for address, port, protocol in zip(flows["server_ip"], ports, protocols, strict=True):
            if isinstance(protocol, str) and protocol == "dns":
                service: str | None = "dns"
            else:
                service = _SERVICE_PORTS.get(int(port)) if pd.notna(port) else None
            key = canonical.get(address) if isinstance(address, str) else None
            if service and key:
                seen.setdefault(key, service)
    dns = tables.get("dns")
    if dns is not None and "server" in dns and len(dns):
        for address in dns["server"].dropna().unique():
            key = canonical.get(address)
            if key:
                seen.setdefault(key, "dns")
    return seen


def _traffic_decision(host: str, service: str) -> Decision:
    owner = Owner(host, None, categories=(service,), source="traffic")
    return Decision(owner, Match(owner, host, 0), (service,), ("traffic",), None, None)


def _traffic(data: Any, hosts: list[str], canonical: Mapping[Any, str]) -> dict[str, list[Any]]:
    """Requests, flows and bytes per endpoint; <NA> where the input has no such table."""
    tables = _tables(data)
    out: dict[str, list[Any]] = {}
    requests, flows = tables.get("requests"), tables.get("flows")
    if requests is not None and "host" in requests:
        # Count per distinct value first: memory follows the hosts, not the rows.
        raw = _first_present(requests, ["host", "sni", "server_ip"]).value_counts()
        per = raw.groupby(raw.index.map(lambda value: canonical.get(value))).sum()
        out["requests"] = per.reindex(hosts, fill_value=0).astype("int64").tolist()
    if flows is not None and "hostname" in flows:
        present = _first_present(flows, ["hostname", "server_ip"])
        codes, distinct = pd.factorize(present)
        keys = pd.Index([canonical.get(value) for value in distinct] + [None], dtype=object).take(codes)
        frame = pd.DataFrame({"host": keys.to_numpy(dtype=object)})
        for column in ("bytes_up", "bytes_down"):
            values = flows[column].to_numpy(dtype=object) if column in flows else [None] * len(flows)
            frame[column] = pd.array(values, dtype="Int64")
        grouped = frame.groupby("host", dropna=True)
        size, up, down = grouped.size(), grouped["bytes_up"].sum(min_count=1), grouped["bytes_down"].sum(min_count=1)
        out["flows"] = size.reindex(hosts, fill_value=0).astype("int64").tolist()
        out["bytes_up"] = [_int_or_na(v) for v in up.reindex(hosts).tolist()]
        out["bytes_down"] = [_int_or_na(v) for v in down.reindex(hosts).tolist()]
    return out


def _int_or_na(value: Any) -> Any:
    return pd.NA if value is None or pd.isna(value) else int(value)


def join_endpoints(frame: pd.DataFrame, endpoints: pd.DataFrame, *, column: str | None = None) -> pd.DataFrame:
    """``registrable_domain``, ``organisation`` and ``role`` of each row of a ``requests``,
    ``flows`` or ``dns`` table, aligned with its index (for the tables' endpoint columns).

    >>> requests = TABLES["requests"].frame({"host": ["SA.API.INTL.MIUI.COM", None]})
    >>> endpoints = classify(requests, context=Context(vendors=("Xiaomi",)))
    >>> join_endpoints(requests, endpoints)["role"].tolist()
    ['platform', <NA>]
    """
    if column is None:
        column = next((c for c in ("host", "hostname", "qname") if c in frame), None)
        if column is None:
            raise KeyError("join_endpoints: the table has no host, hostname or qname column")
    psl = bundled_suffix_list()
    # Parse each distinct host once, then spread the keys back over the rows (tables repeat hosts).
    codes, distinct = pd.factorize(frame[column], use_na_sentinel=True)
    distinct_keys = [
        (psl.parse(h).host or psl.parse(h).text) if isinstance(h, str) and h.strip() else None for h in distinct
    ]
    keys = pd.Index([*distinct_keys, None], dtype=object).take(codes)  # code -1 (missing) takes the None
    by_host = endpoints.set_index("host")[["registrable_domain", "organisation", "role"]]
    by_host = by_host[~by_host.index.duplicated()]
    joined = by_host.reindex(keys)
    joined.index = frame.index
    return joined


#: Tables whose rows carry their host's endpoint columns (registrable domain, organisation, role).
CLASSIFIED_TABLES = ("requests", "flows", "dns")


def with_endpoints(tables: Mapping[str, pd.DataFrame], endpoints: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The :data:`CLASSIFIED_TABLES` of ``tables`` with their endpoint columns set from ``endpoints``:
    the one step that gives every table of a capture (or of a study) the same classification.

    >>> requests = TABLES["requests"].frame({"host": ["sa.api.intl.miui.com"]})
    >>> endpoints = classify(requests, context=Context(vendors=("Xiaomi",)))
    >>> with_endpoints({"requests": requests}, endpoints)["requests"][["organisation", "role"]].values.tolist()
    [['Xiaomi', 'platform']]
    """
    out = {}
    for name in CLASSIFIED_TABLES:
        frame = tables.get(name)
        if frame is None or frame.empty:
            continue
        joined = join_endpoints(frame, endpoints)
        frame = frame.copy(deep=False)  # new columns only: the others are shared, not copied
        for column in ("registrable_domain", "organisation"):
            frame[column] = joined[column].astype("string")
        role = joined["role"]  # categorical already: no text per row on the way
        frame["role"] = (
            role.cat.remove_unused_categories()
            if isinstance(role.dtype, pd.CategoricalDtype)
            else (role.astype("string").astype("category"))
        )
        out[name] = TABLES[name].validate(frame)
    return out

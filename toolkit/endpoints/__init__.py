"""Who is each host: registrable domain, organisation, categories and role, strictly offline.

>>> from toolkit.endpoints import Context, classify, registrable_domain
>>> registrable_domain("sa.api.intl.miui.com")
'miui.com'
>>> row = classify(["sa.api.intl.miui.com"], context=Context(vendors=("Xiaomi",))).iloc[0]
>>> row["organisation"], row["categories"], row["role"]
('Xiaomi', ['telemetry', 'analytics'], 'platform')

The bundled data (suffix list and owner atlas) is versioned in ``data/manifest.json``; lists a
researcher already uses are read by the ``load_*`` functions and merged with :class:`SourceSet`.
"""

from toolkit.endpoints.atlas import (
    CATEGORIES,
    Atlas,
    Owner,
    SourceSet,
    bundled_atlas,
    load_atlas_csv,
    load_disconnect,
    load_duckduckgo,
    load_exodus,
    load_hosts,
    load_sources,
    load_xray,
    manifest,
)
from toolkit.endpoints.classify import (
    ROLES,
    TRACKING_CATEGORIES,
    Classifier,
    Context,
    classify,
    endpoints_in_context,
    join_endpoints,
    with_endpoints,
)
from toolkit.endpoints.domains import ParsedHost, SuffixList, parse_host, registrable_domain

__all__ = [
    "CATEGORIES",
    "ROLES",
    "TRACKING_CATEGORIES",
    "Atlas",
    "Classifier",
    "Context",
    "Owner",
    "ParsedHost",
    "SourceSet",
    "SuffixList",
    "bundled_atlas",
    "classify",
    "endpoints_in_context",
    "join_endpoints",
    "load_atlas_csv",
    "load_disconnect",
    "load_duckduckgo",
    "load_exodus",
    "load_hosts",
    "load_sources",
    "load_xray",
    "manifest",
    "parse_host",
    "registrable_domain",
    "with_endpoints",
]

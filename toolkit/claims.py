"""Claims: a quoted statement, a named check over a Study, and a verdict with its evidence.

Why one module: each check is a short reading of a Study under one registry and one verdict vocabulary,
sharing the evidence helpers beside it, so every claim the toolkit can test is found in one place.

A vendor says "incognito mode protects your browsing"; the check ``no_browsing_data`` looks for
visited URLs and search terms reaching the vendor in incognito sessions. The verdict is
``contradicted`` (the captures show what the claim denies), ``not_observed`` (the check looked and
found nothing: a capture can fail to contradict a claim, never prove it) or ``inconclusive`` (the
data cannot decide: no session in that mode, no decrypted requests, no TLS handshakes ...), always
with a reason in words (what was searched, in how many requests to how many hosts), the evidence
rows that decided it, and the check's scope: what such data can and cannot show (:data:`SCOPES`).

>>> from toolkit.study import Session, Study
>>> study = Study([Session("incognito", ["data/lab/incognito.har"], mode="incognito")], vendors=["Xiaomi"])
>>> claim = Claim("private", "Nothing you browse in incognito reaches us.", "no_browsing_data",
...               {"mode": "incognito", "organisations": ["Xiaomi"], "inferred_visits": True})
>>> verdict = check(study, claim)
>>> verdict.verdict, len(verdict.evidence)
('contradicted', 9)
>>> verdict.reason.split(":")[0]
'9 findings of 5 visited URLs or search terms reached Xiaomi in incognito'

The session has no browsing log, so its visited URLs are inferred from the capture's navigations; a
verdict rests on such findings only when the claim says ``inferred_visits = true`` (without it, this
claim would be inconclusive).

The checks are registered in :data:`CHECKS` (with :func:`registered_check`): each with its
parameters and the first paragraph of its docstring.

>>> for name, registered in CHECKS.items():
...     print(f"{name}: {registered.doc[:50]}")
no_browsing_data: No visited URL or search term reaches a destinatio
toggle_stops: Leaks to a destination present in ``baseline`` ses
identifiers_do_not_persist: No identifier appears in two of the selected sessi
aggregated_only: No request to the destination carries a per-device
no_data_to: No data reaches an organisation (its hosts, by any
no_datatype_to: No value of the given data types (``advertising_id
tls_min_version: Every TLS handshake negotiates at least ``min_vers
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from toolkit.leaks.direction import sent_by_device
from toolkit.sdk.registry import FINGERPRINTS

if TYPE_CHECKING:
    from toolkit.study import Study

__all__ = [
    "CHECKS",
    "QUOTE_KINDS",
    "SCOPES",
    "SDK_FINGERPRINTS",
    "VERDICTS",
    "Check",
    "Claim",
    "Verdict",
    "check",
    "evaluate",
    "evidence_table",
    "registered_check",
]

VerdictName = Literal["contradicted", "not_observed", "inconclusive"]
#: The verdict statuses (machine-readable), in the order a reader should meet them.
VERDICTS: tuple[VerdictName, ...] = ("contradicted", "not_observed", "inconclusive")
#: ``verbatim`` and ``paraphrase`` quotes need a public ``source``; an ``illustrative`` one is an
#: example statement written to show a check, quoted from no one.
QUOTE_KINDS = ("verbatim", "paraphrase", "illustrative")
URL_KINDS = ("url", "url_part", "search_term")


@dataclass(frozen=True)
class Claim:
    """A statement quoted from its source, and the check that tests it."""

    id: str
    quote: str
    check: str
    """Name of a check in :data:`CHECKS`."""
    params: Mapping[str, Any] = field(default_factory=dict)
    source: str | None = None
    """Where the quote comes from (URL, document and date)."""
    quote_kind: str = "verbatim"
    """``verbatim``, ``paraphrase`` (when only a summary of the statement could be found) or
    ``illustrative`` (an example statement, quoted from no one)."""

    @classmethod
    def from_mapping(cls, entry: Mapping[str, Any]) -> Claim:
        """A claim from a manifest ``[[claim]]`` table.

        >>> Claim.from_mapping({"id": "tls", "quote": "We use TLS 1.2.", "check": "tls_min_version"}).params
        {}
        """
        allowed = {"id", "quote", "check", "params", "source", "quote_kind"}
        unknown = set(entry) - allowed
        if unknown:
            raise ValueError(f"unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")
        for key in ("id", "quote", "check"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise ValueError(f"`{key}` is missing")
        if entry["check"] not in CHECKS:
            raise ValueError(f"unknown check {entry['check']!r}; checks are {', '.join(CHECKS)}")
        params = entry.get("params", {})
        if not isinstance(params, Mapping):
            raise ValueError("`params` must be a table")
        _check_params(entry["check"], params)
        if entry.get("quote_kind", "verbatim") not in QUOTE_KINDS:
            raise ValueError(f"`quote_kind` is one of {', '.join(QUOTE_KINDS)}, not {entry['quote_kind']!r}")
        return cls(
            entry["id"],
            entry["quote"],
            entry["check"],
            dict(params),
            entry.get("source"),
            entry.get("quote_kind", "verbatim"),
        )


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check."""

    verdict: VerdictName
    reason: str
    evidence: pd.DataFrame = field(default_factory=pd.DataFrame)
    """The rows (of leaks, identifiers, tls, requests ...) that decided; empty when nothing did."""
    scope: str = ""
    """What the check's data can and cannot show (:data:`SCOPES`); :func:`check` fills it in."""


CheckFunction = Callable[["Study", Mapping[str, Any]], Verdict]


@dataclass(frozen=True)
class Check:
    """A registered check: its function, the parameters a claim may give it, and its doc."""

    name: str
    function: CheckFunction
    params: frozenset[str]
    scope: str
    """What the check's data can and cannot show, stated beside every verdict."""

    @property
    def doc(self) -> str:
        """The first paragraph of the function's docstring, on one line."""
        return " ".join((self.function.__doc__ or "").strip().split("\n\n")[0].split())

    def __call__(self, study: Study, params: Mapping[str, Any]) -> Verdict:
        return self.function(study, params)


#: Every check by name, in the order registered (by :func:`registered_check`).
CHECKS: dict[str, Check] = {}


class _Scopes(Mapping[str, str]):
    """Each registered check's scope, by check name (a view of :data:`CHECKS`)."""

    def __getitem__(self, name: str) -> str:
        return CHECKS[name].scope

    def __iter__(self) -> Iterator[str]:
        return iter(CHECKS)

    def __len__(self) -> int:
        return len(CHECKS)


#: What each check's data can and cannot show, by check name.
SCOPES: Mapping[str, str] = _Scopes()


def registered_check(*params: str, scope: str) -> Callable[[CheckFunction], CheckFunction]:
    """Register the decorated function as a check (named after it) that takes ``params``.

    ``scope`` says what the check's data can and cannot show; it stands beside every verdict.

    >>> CHECKS["tls_min_version"].params >= {"min_version", "cleartext"}
    True
    >>> "cannot" in CHECKS["no_data_to"].scope
    True
    """

    def register(function: CheckFunction) -> CheckFunction:
        name = function.__name__
        if name in CHECKS:
            raise ValueError(f"check {name} is registered twice")
        CHECKS[name] = Check(name, function, frozenset(params), " ".join(scope.split()))
        return function

    return register


# --- helpers --------------------------------------------------------------------------------


def _sessions(study: Study, params: Mapping[str, Any], key: str = "sessions") -> list[str]:
    selector: Any = params.get(key)
    if selector is None and key == "sessions" and "mode" in params:
        selector = {"mode": params["mode"]}
    return [s.name for s in study.select(selector)]


def _describe(params: Mapping[str, Any], names: Sequence[str]) -> str:
    return str(params["mode"]) if "mode" in params else ", ".join(names) or "no session"


def _destination(frame: pd.DataFrame, params: Mapping[str, Any], default_roles: Sequence[str] = ()) -> pd.Series:
    """Rows whose destination is one of ``organisations`` / ``hosts`` or has one of ``roles``."""
    organisations = [o.lower() for o in params.get("organisations", [])]
    hosts = [h.lower() for h in params.get("hosts", [])]
    roles = list(params.get("roles", default_roles if not organisations and not hosts else ()))
    mask = pd.Series(False, index=frame.index)
    if organisations and "organisation" in frame:
        mask |= frame["organisation"].astype("string").str.lower().isin(organisations).fillna(False).astype(bool)
    if hosts:
        host = frame["host"].astype("string").str.lower().fillna("")
        mask |= host.map(lambda h: any(h == d or h.endswith("." + d) for d in hosts)).astype(bool)
    if roles and "role" in frame:
        mask |= frame["role"].astype("string").isin(roles).fillna(False).astype(bool)
    return mask


def _target(params: Mapping[str, Any], default_roles: Sequence[str] = ()) -> str:
    parts = list(params.get("organisations", [])) + list(params.get("hosts", []))
    if not parts:
        roles = params.get("roles", default_roles)
        return " or ".join(f"{r} hosts" for r in roles) if roles else "any destination"
    return ", ".join(parts)


def _with_destination(study: Study, requests: pd.DataFrame) -> pd.DataFrame:
    endpoints = study.endpoints
    organisation = dict(zip(endpoints["host"].astype(object), endpoints["organisation"].astype(object), strict=True))
    role = dict(zip(endpoints["host"].astype(object), endpoints["role"].astype(object), strict=True))
    out = requests.copy()
    out["organisation"] = pd.array([organisation.get(h) for h in out["host"].astype(object)], dtype="string")
    out["role"] = pd.array([role.get(h) for h in out["host"].astype(object)], dtype="string")
    return out


def _leak_engine_failed(study: Study) -> list[str]:
    return [n for n in study.notes if "leaks not searched" in n]


def _examples(values: pd.Series, limit: int = 3) -> str:
    unique = list(dict.fromkeys(str(v) for v in values.dropna()))
    shown = ", ".join(unique[:limit])
    return shown + (f" and {len(unique) - limit} more" if len(unique) > limit else "")


def _browsing_leaks(study: Study, params: Mapping[str, Any]) -> pd.DataFrame:
    """The leaks a browsing-data verdict may rest on: sent by the device, of needles the user gave
    (a browsing log), or also inferred from the capture when the claim says ``inferred_visits``."""
    leaks = sent_by_device(study.leaks)  # a value a server sends back is not the device sending it
    if not params.get("inferred_visits", False) and "needle_source" in leaks:
        leaks = leaks[leaks["needle_source"].astype(object).fillna("given") != "inferred"]
    return leaks


def _inferred_note(found: pd.DataFrame) -> str:
    if "needle_source" not in found:
        return ""
    count = int((found["needle_source"].astype(object) == "inferred").sum())
    return f" ({count} of them from visited URLs inferred from the capture, not from a browsing log)" if count else ""


def _looked_at(requests: pd.DataFrame) -> str:
    """How much a check that found nothing looked at: ``"50 requests to 7 hosts"``."""
    hosts = requests["host"].dropna().nunique() if "host" in requests else 0
    return f"{len(requests)} requests to {hosts} hosts"


def _in_sessions(study: Study, names: Sequence[str]) -> pd.DataFrame:
    return study.requests[study.requests["session"].astype(object).isin(list(names))]


def _no_requests(study: Study, names: Sequence[str]) -> bool:
    requests = study.requests
    return not len(requests) or not requests["session"].astype(object).isin(list(names)).any()


# --- the checks -----------------------------------------------------------------------------


@registered_check(
    "mode",
    "sessions",
    "organisations",
    "hosts",
    "roles",
    "kinds",
    "referers",
    "inferred_visits",
    scope=(
        "Looks for the visited URLs and search terms in what the device sent, also under chains of "
        "encodings. Cannot see traffic the captures missed or could not decrypt, encodings the toolkit does not "
        "undo, or what a receiver does with the data."
    ),
)
def no_browsing_data(study: Study, params: Mapping[str, Any]) -> Verdict:
    """No visited URL or search term reaches a destination in the selected sessions.

    Params: ``mode`` or ``sessions``; ``organisations``, ``hosts`` or ``roles`` (default
    ``platform`` and ``third_party``); ``kinds`` (default url, url_part, search_term);
    ``referers`` (count Referer headers too, default true); ``inferred_visits`` (let visited URLs
    inferred from a session without browsing log decide, default false).
    """
    names = _sessions(study, params)
    where = _describe(params, names)
    target = _target(params, ("platform", "third_party"))
    if not names:
        return Verdict("inconclusive", f"no session in {where}: nothing to check")
    if _no_requests(study, names):
        return Verdict("inconclusive", f"no HTTP request in {where} (a HAR, or decrypted TLS, is needed)")
    if failed := _leak_engine_failed(study):
        return Verdict("inconclusive", "the leak engine did not run: " + "; ".join(failed))
    use_inferred = bool(params.get("inferred_visits", False))
    without_log = [
        s for s in names if study.session(s).visited is None and not (use_inferred and _inferred_visits(study, s))
    ]
    leaks = _browsing_leaks(study, params)
    kinds = list(params.get("kinds", URL_KINDS))
    mask = leaks["session"].astype(object).isin(names) & leaks["needle_kind"].astype(object).isin(kinds)
    if not params.get("referers", True):
        mask &= leaks["kind"].astype(object) != "referer"
    found = leaks[mask & _destination(leaks, params, ("platform", "third_party"))]
    if len(found):
        first = found.iloc[0]
        return Verdict(
            "contradicted",
            f"{len(found)} findings of {found['needle'].nunique()} visited URLs or search terms reached {target} "
            f"in {where}: {_examples(found['needle'])} (first: {first['host']}, {first['location']}"
            f"{' > ' + first['chain'] if first['chain'] else ''}){_inferred_note(found)}",
            found.reset_index(drop=True),
        )
    if without_log:
        missing = "no browsing log" + ("" if use_inferred else " (inferred visits not allowed by the claim)")
        return Verdict("inconclusive", f"{missing} and no page navigation found in {', '.join(without_log)}")
    return Verdict(
        "not_observed",
        f"no visited URL or search term seen reaching {target} in {_looked_at(_in_sessions(study, names))} of {where}",
    )


def _inferred_visits(study: Study, session: str) -> bool:
    from toolkit.leaks.inference import infer_visited

    requests = study.requests
    return bool(infer_visited(requests[requests["session"].astype(object) == session]))


@registered_check(
    "baseline",
    "treatment",
    "organisations",
    "hosts",
    "roles",
    "kinds",
    "inferred_visits",
    scope=(
        "Compares the leaks of the baseline sessions with those of the treatment sessions in these captures. "
        "Cannot show that the setting works on other devices, versions or days, nor what a server keeps."
    ),
)
def toggle_stops(study: Study, params: Mapping[str, Any]) -> Verdict:
    """Leaks to a destination present in ``baseline`` sessions are absent from ``treatment`` sessions.

    Params: ``baseline``, ``treatment`` (session names or labels); ``organisations``, ``hosts`` or
    ``roles``; ``kinds`` (default url, url_part, search_term); ``inferred_visits`` (as in
    :func:`no_browsing_data`, default false).
    """
    baseline, treatment = _sessions(study, params, "baseline"), _sessions(study, params, "treatment")
    target = _target(params, ("platform", "third_party"))
    if not baseline or not treatment:
        return Verdict("inconclusive", "the baseline or the treatment selects no session")
    if _no_requests(study, treatment) or _no_requests(study, baseline):
        return Verdict("inconclusive", "the baseline or the treatment sessions have no HTTP request")
    if failed := _leak_engine_failed(study):
        return Verdict("inconclusive", "the leak engine did not run: " + "; ".join(failed))
    leaks = _browsing_leaks(study, params)
    kinds = list(params.get("kinds", URL_KINDS))
    relevant = leaks[
        leaks["needle_kind"].astype(object).isin(kinds) & _destination(leaks, params, ("platform", "third_party"))
    ]
    before = relevant[relevant["session"].astype(object).isin(baseline)]
    after = relevant[relevant["session"].astype(object).isin(treatment)]
    label = f"{', '.join(kinds)} leaks to {target}"
    if len(after):
        return Verdict(
            "contradicted",
            f"{len(after)} {label} remain in {', '.join(treatment)}: {_examples(after['needle'])}",
            after.reset_index(drop=True),
        )
    if not len(before):
        return Verdict("inconclusive", f"no {label} in the baseline ({', '.join(baseline)}): nothing to stop")
    requests = _with_destination(study, study.requests)
    still = requests[requests["session"].astype(object).isin(treatment) & _destination(requests, params, ("platform",))]
    rest = f"; {len(still)} requests to {target} still go out" if len(still) else f"; no request to {target} at all"
    return Verdict(
        "not_observed",
        f"{len(before)} {label} in {', '.join(baseline)}, none seen in {_looked_at(_in_sessions(study, treatment))} "
        f"of {', '.join(treatment)}{rest}",
        before.reset_index(drop=True),
    )


def _identifiers_to(study: Study, params: Mapping[str, Any], names: Sequence[str]) -> pd.DataFrame:
    identifiers = study.identifiers
    if not len(identifiers):
        return identifiers
    keep = identifiers["sessions"].map(lambda s: bool(set(s) & set(names)))
    if params.get("organisations") or params.get("hosts") or params.get("roles"):
        endpoints = study.endpoints
        frame = pd.DataFrame(
            {"host": endpoints["host"], "organisation": endpoints["organisation"], "role": endpoints["role"]}
        )
        wanted = set(frame[_destination(frame, params)]["host"].astype(object))
        keep &= identifiers["hosts"].map(lambda hosts: bool(set(hosts) & wanted))
    return identifiers[keep.astype(bool)]


@registered_check(
    "across",
    "sessions",
    "mode",
    "organisations",
    "hosts",
    "roles",
    scope=(
        "Finds identifier candidates that recur in the requests of two sessions. Cannot see identifiers that "
        "are encrypted or recomputed per session, nor whether a receiver links sessions on its servers."
    ),
)
def identifiers_do_not_persist(study: Study, params: Mapping[str, Any]) -> Verdict:
    """No identifier appears in two of the selected sessions (``across = "sessions"``) or in two
    modes (``across = "modes"``).

    Params: ``across``; ``sessions``; ``organisations``, ``hosts`` or ``roles`` to limit the
    destinations (default: any).
    """
    across = params.get("across", "sessions")
    names = _sessions(study, params)
    modes = {s: study.session(s).mode for s in names}
    groups = len({m for m in modes.values() if m}) if across == "modes" else len(names)
    if groups < 2:
        return Verdict("inconclusive", f"persistence across {across} needs two {across}; the selection has {groups}")
    if any(_no_requests(study, [n]) for n in names):
        empty = [n for n in names if _no_requests(study, [n])]
        return Verdict("inconclusive", f"no HTTP request in {', '.join(empty)}")
    identifiers = _identifiers_to(study, params, names)

    def spread(sessions: list[str]) -> int:
        chosen = [s for s in sessions if s in modes]
        return len({modes[s] for s in chosen if modes[s]}) if across == "modes" else len(chosen)

    persistent = identifiers[identifiers["sessions"].map(spread) >= 2] if len(identifiers) else identifiers
    if len(persistent):
        parts = []
        for row in persistent.head(3).itertuples(index=False):
            known = f", is {row.matches_known}" if isinstance(row.matches_known, str) else ""
            parts.append(
                f"{row.value} ({', '.join(row.keys)}{known}) to {', '.join(row.organisations or row.hosts)} "
                f"in {len([s for s in row.sessions if s in modes])} sessions"
            )
        linkable = [s for s in names if study.session(s).private]
        link = (
            f"; the private sessions ({', '.join(linkable)}) are linkable to the others"
            if linkable and persistent["linkable"].fillna(False).any()
            else ""
        )
        return Verdict(
            "contradicted",
            f"{len(persistent)} identifiers persist across {across} ({', '.join(names)}): " + "; ".join(parts) + link,
            persistent.reset_index(drop=True),
        )
    return Verdict(
        "not_observed",
        f"{len(identifiers)} identifier candidates in {_looked_at(_in_sessions(study, names))} of "
        f"{', '.join(names)}; none seen in two {across}",
    )


@registered_check(
    "sessions",
    "mode",
    "organisations",
    "hosts",
    "roles",
    scope=(
        "Looks for per-device identifiers (known ones, also hashed or encoded, and recurring values) in "
        "requests to the destination. Cannot see how the receiver aggregates or stores the data."
    ),
)
def aggregated_only(study: Study, params: Mapping[str, Any]) -> Verdict:
    """No request to the destination carries a per-device identifier: a value that matches a
    known device identifier, or one that recurs over requests.

    Params: ``sessions`` or ``mode``; ``organisations``, ``hosts`` or ``roles`` (default platform).
    """
    names = _sessions(study, params)
    target = _target(params, ("platform",))
    requests = _with_destination(study, study.requests)
    mine = requests[requests["session"].astype(object).isin(names) & _destination(requests, params, ("platform",))]
    if not len(mine):
        return Verdict("inconclusive", f"no HTTP request to {target} in {_describe(params, names)}")
    scoped = dict(params)
    if not (params.get("organisations") or params.get("hosts") or params.get("roles")):
        scoped["roles"] = ["platform"]
    identifiers = _identifiers_to(study, scoped, names)
    device = (
        identifiers[
            identifiers["matches_known"].notna()
            | identifiers["persistence"].astype(object).isin(["session", "across_sessions", "across_modes"])
        ]
        if len(identifiers)
        else identifiers
    )
    if len(device):
        described = "; ".join(
            f"{r.value} ({', '.join(r.keys)}{', is ' + r.matches_known if isinstance(r.matches_known, str) else ''}) "
            f"in {r.requests} requests"
            for r in device.head(3).itertuples(index=False)
        )
        return Verdict(
            "contradicted",
            f"{len(device)} per-device identifiers travel to {target}: {described}",
            device.reset_index(drop=True),
        )
    return Verdict("not_observed", f"no recurring or known identifier seen in {_looked_at(mine)} belonging to {target}")


#: Payload formats of SDKs: name → (description, test on a request row); one per SDK of the registry
#: (:mod:`toolkit.sdk.registry`), its payload signature or else its endpoints.
SDK_FINGERPRINTS: dict[str, tuple[str, Callable[[Mapping[str, Any]], bool]]] = FINGERPRINTS


@registered_check(
    "organisations",
    "hosts",
    "sdk",
    "by",
    "sessions",
    "mode",
    scope=(
        "Looks at the hosts the device contacted and at the payload formats it sent. A capture cannot see "
        "where data is stored, nor whether a receiver passes it on from its own servers."
    ),
)
def no_data_to(study: Study, params: Mapping[str, Any]) -> Verdict:
    """No data reaches an organisation (its hosts, by any protocol) or an SDK (its payload format).

    Params: ``organisations``, ``hosts`` (domains, subdomains included); ``sdk`` (a name in
    :data:`SDK_FINGERPRINTS`); ``by`` = ``host``, ``payload`` or ``both`` (default both);
    ``sessions`` or ``mode``.
    """
    by = params.get("by", "both")
    names = _sessions(study, params)
    target = _target(params)
    if not (params.get("organisations") or params.get("hosts")) and by != "payload":
        return Verdict("inconclusive", "no organisation or host given to look for")
    requests = _with_destination(study, study.requests)
    requests = requests[requests["session"].astype(object).isin(names)]
    flows = study.flows[study.flows["session"].astype(object).isin(names)]
    if not len(requests) and not len(flows):
        return Verdict("inconclusive", f"no request or connection in {_describe(params, names)}")
    evidence: list[pd.DataFrame] = []
    reasons: list[str] = []
    if by in ("host", "both"):
        hits = requests[_destination(requests, params)]
        flow_frame = pd.DataFrame(
            {"host": flows["hostname"], "organisation": pd.array([None] * len(flows), dtype="string")}
        )
        endpoints_org = dict(
            zip(study.endpoints["host"].astype(object), study.endpoints["organisation"].astype(object), strict=True)
        )
        flow_frame["organisation"] = pd.array(
            [endpoints_org.get(h) for h in flow_frame["host"].astype(object)], dtype="string"
        )
        flow_hits = flows[_destination(flow_frame, params).to_numpy()]
        if len(hits) or len(flow_hits):
            reasons.append(
                f"{len(hits)} requests and {len(flow_hits)} connections reached {target} "
                f"({_examples(pd.concat([hits['host'], flow_hits['hostname']]).astype(object))})"
            )
            evidence += [hits, flow_hits]
    sdk = params.get("sdk")
    payload_note = ""
    if sdk:
        description, test = SDK_FINGERPRINTS[sdk]
        matches = requests[[test(r) for r in requests.to_dict("records")]] if len(requests) else requests
        if len(matches):
            if by in ("payload", "both"):
                reasons.append(f"{len(matches)} requests carry the {description} (to {_examples(matches['host'])})")
                evidence.append(matches)
            else:
                payload_note = (
                    f"; {len(matches)} requests use the {description}, sent to "
                    f"{_examples(matches['host'])}, not to {target}"
                )
    if reasons:
        frames = [e for e in evidence if len(e)]
        return Verdict(
            "contradicted", "; ".join(reasons), pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        )
    checked = f"{_looked_at(requests)} and {len(flows)} connections of {_describe(params, names)}"
    return Verdict("not_observed", f"nothing seen reaching {target} in {checked}{payload_note}")


def _recognised_by(row: Any) -> str:
    return f"{row.sdk} adapter" if row.method == "adapter" else f"{row.method}, confidence {row.confidence}"


@registered_check(
    "datatypes",
    "organisations",
    "hosts",
    "roles",
    "sessions",
    "mode",
    "min_confidence",
    scope=(
        "Recognises values of the data types in requests (SDK adapters, field names). Cannot see values in "
        "formats it does not decode, nor what a receiver does with them."
    ),
)
def no_datatype_to(study: Study, params: Mapping[str, Any]) -> Verdict:
    """No value of the given data types (``advertising_id`` ...) reaches the destinations: "we do not
    send the advertising id to third parties".

    Params: ``datatypes`` (names of :data:`toolkit.sdk.vocabulary.DATATYPES`, required);
    ``organisations``, ``hosts`` or ``roles`` (default third_party); ``sessions`` or ``mode``;
    ``min_confidence`` (default 0.7: adapters and field names, not value shapes alone).
    """
    from toolkit.sdk.vocabulary import DATATYPES

    wanted = list(params.get("datatypes", []))
    unknown = [d for d in wanted if d not in DATATYPES]
    if not wanted or unknown:
        return Verdict("inconclusive", f"data types to look for must be named from the vocabulary (unknown: {unknown})")
    names = _sessions(study, params)
    if _no_requests(study, names):
        return Verdict("inconclusive", f"no HTTP request in {_describe(params, names)}")
    table = study.datatypes
    table = table[table["session"].astype(object).isin(names) & table["datatype"].astype(object).isin(wanted)]
    table = table[(table["confidence"].astype(float) >= float(params.get("min_confidence", 0.7))).to_numpy()]
    hits = table[_destination(table, params, ("third_party",)).to_numpy()]
    target = _target(params, ("third_party",))
    types = " or ".join(wanted)
    if len(hits):
        return Verdict(
            "contradicted",
            f"{len(hits)} values of {types} reached {target}: "
            + "; ".join(
                f"{row.datatype} {row.value} to {row.host} in {row.field} ({_recognised_by(row)})"
                for row in hits.head(3).itertuples(index=False)
            ),
            hits.reset_index(drop=True),
        )
    return Verdict(
        "not_observed",
        f"no {types} seen reaching {target} in {_looked_at(_in_sessions(study, names))} of "
        f"{_describe(params, names)} ({len(table)} elsewhere)",
    )


def _version(text: Any) -> tuple[int, int] | None:
    """``"TLS 1.2"``, ``"TLSv1.3"``, ``"SSL 3.0"`` → comparable tuples; SSL sorts below TLS."""
    if not isinstance(text, str):
        return None
    match = re.search(r"(\d)\.(\d)", text)
    if not match:
        return None
    major, minor = int(match.group(1)), int(match.group(2))
    return (0, major) if "ssl" in text.lower() else (major, minor)


@registered_check(
    "min_version",
    "sessions",
    "mode",
    "cleartext",
    scope=(
        "Reads the TLS version of every captured handshake and looks for cleartext HTTP. Covers only the "
        "connections in these captures; cannot see how data is protected once it arrives."
    ),
)
def tls_min_version(study: Study, params: Mapping[str, Any]) -> Verdict:
    """Every TLS handshake negotiates at least ``min_version`` (default ``"1.2"``) and no request
    or connection is cleartext HTTP.

    Params: ``min_version``; ``sessions`` or ``mode``; ``cleartext`` (allow cleartext HTTP,
    default false).
    """
    names = _sessions(study, params)
    minimum = _version(f"TLS {params.get('min_version', '1.2')}")
    if minimum is None:
        raise ValueError(f"min_version {params.get('min_version')!r} is not a version like 1.2")
    tls = study.tls[study.tls["session"].astype(object).isin(names)]
    flows = study.flows[study.flows["session"].astype(object).isin(names)]
    requests = study.requests[study.requests["session"].astype(object).isin(names)]
    problems: list[str] = []
    evidence: list[pd.DataFrame] = []
    versions = tls["version"].astype(object).map(_version) if len(tls) else pd.Series([], dtype=object)
    old = tls[versions.map(lambda v: v is not None and v < minimum).astype(bool)] if len(tls) else tls
    if len(old):
        problems.append(
            f"{len(old)} handshakes below TLS {params.get('min_version', '1.2')} "
            f"({_examples(old['version'].astype(object))} with {_examples(old['sni'])})"
        )
        evidence.append(old)
    if not params.get("cleartext", False):
        plain = requests[requests["scheme"].astype(object).isin(["http", "ws"])]
        plain_flows = flows[flows["protocol"].astype(object) == "http"]
        if len(plain) or len(plain_flows):
            problems.append(
                f"{len(plain)} cleartext HTTP requests and {len(plain_flows)} cleartext HTTP connections "
                f"({_examples(pd.concat([plain['host'], plain_flows['hostname']]).astype(object))})"
            )
            evidence += [plain, plain_flows]
    if problems:
        frames = [e for e in evidence if len(e)]
        return Verdict("contradicted", "; ".join(problems), pd.concat(frames, ignore_index=True))
    if not len(tls):
        return Verdict(
            "inconclusive",
            f"no TLS handshake in {_describe(params, names)}: HAR files do not record TLS versions; "
            "add the session's pcap or pcapng",
        )
    unknown = tls[versions.isna().to_numpy()]
    https_hosts = set(requests[requests["scheme"].astype(object) == "https"]["host"].dropna().astype(str))
    seen = set(tls["sni"].dropna().astype(str)) | set(flows["hostname"].dropna().astype(str))
    uncovered = sorted(https_hosts - seen)
    if len(unknown) or uncovered:
        what = []
        if len(unknown):
            what.append(f"{len(unknown)} handshakes without a negotiated version")
        if uncovered:
            what.append(f"no handshake seen for {', '.join(uncovered)}")
        return Verdict("inconclusive", "; ".join(what), unknown.reset_index(drop=True))
    counts = tls["version"].astype(object).value_counts()
    summary = ", ".join(f"{v}: {n}" for v, n in sorted(counts.items()))
    return Verdict(
        "not_observed",
        f"no handshake below TLS {params.get('min_version', '1.2')} and no cleartext HTTP: all {len(tls)} TLS "
        f"handshakes in {_describe(params, names)} negotiated TLS {params.get('min_version', '1.2')} or newer "
        f"({summary})",
        tls.reset_index(drop=True),
    )


_LIST_PARAMS = frozenset({"organisations", "hosts", "roles", "kinds", "datatypes"})
_BOOL_PARAMS = frozenset({"referers", "cleartext", "inferred_visits"})


def _check_params(name: str, params: Mapping[str, Any]) -> None:
    allowed = CHECKS[name].params
    unknown = set(params) - allowed
    if unknown:
        raise ValueError(f"check {name}: unknown params {sorted(unknown)}; allowed: {sorted(allowed)}")
    if name == "no_data_to" and params.get("sdk") is not None and params["sdk"] not in SDK_FINGERPRINTS:
        raise ValueError(f"unknown sdk {params['sdk']!r}; known: {', '.join(SDK_FINGERPRINTS)}")
    if params.get("across", "sessions") not in ("sessions", "modes"):
        raise ValueError("`across` is sessions or modes")
    if params.get("by", "both") not in ("host", "payload", "both"):
        raise ValueError("`by` is host, payload or both")
    for key, value in params.items():  # types here, so a manifest names the claim, not a traceback later
        if key in _LIST_PARAMS and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise ValueError(f"`{key}` must be a list of text values, not {value!r}")
        if key in _BOOL_PARAMS and not isinstance(value, bool):
            raise ValueError(f"`{key}` must be true or false, not {value!r}")
        if key == "mode" and not isinstance(value, str):
            raise ValueError(f"`mode` must be text, not {value!r}")
        if key == "min_confidence" and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ValueError(f"`min_confidence` must be a number, not {value!r}")
    if "min_version" in params and (
        not isinstance(params["min_version"], str | float) or _version(f"TLS {params['min_version']}") is None
    ):
        raise ValueError(f'`min_version` must be a TLS version like "1.2", not {params["min_version"]!r}')


def check(study: Study, claim: Claim) -> Verdict:
    """Run one claim's check over a study."""
    if claim.check not in CHECKS:
        raise ValueError(f"claim {claim.id}: unknown check {claim.check!r}; checks are {', '.join(CHECKS)}")
    _check_params(claim.check, claim.params)
    try:
        verdict = CHECKS[claim.check].function(study, claim.params)
    except KeyError as exc:  # a session named in the params does not exist
        verdict = Verdict("inconclusive", f"claim {claim.id}: {exc.args[0] if exc.args else exc}")
    return verdict if verdict.scope else dataclasses.replace(verdict, scope=CHECKS[claim.check].scope)


#: Columns of the claims table.
CLAIM_COLUMNS = (
    "claim",
    "quote",
    "quote_kind",
    "source",
    "check",
    "params",
    "verdict",
    "reason",
    "scope",
    "evidence_rows",
    "evidence",
    "rows",
)


def _evidence_text(frame: pd.DataFrame, limit: int = 5) -> str | None:
    """Where to look, for people: the first evidence references of the rows."""
    if "evidence" not in frame or not len(frame):
        return None
    refs = list(dict.fromkeys(str(e) for e in frame["evidence"].dropna()))
    more = f" (+{len(refs) - limit} more)" if len(refs) > limit else ""
    return "; ".join(refs[:limit]) + more if refs else None


def evaluate(study: Study, claims: Sequence[Claim]) -> pd.DataFrame:
    """The claims table: claim, quote, quote_kind, source, check, params (JSON), verdict, reason,
    scope (what the check can and cannot show), evidence_rows, evidence (where to look, e.g.
    ``incognito.har#entry=0; ...``) and ``rows`` (the evidence rows themselves, a DataFrame per claim;
    :func:`evidence_table` flattens them)."""
    rows = []
    for claim in claims:
        verdict = check(study, claim)
        rows.append(
            {
                "claim": claim.id,
                "quote": claim.quote,
                "quote_kind": claim.quote_kind,
                "source": claim.source,
                "check": claim.check,
                "params": json.dumps(dict(claim.params), sort_keys=True),
                "verdict": verdict.verdict,
                "reason": verdict.reason,
                "scope": verdict.scope,
                "evidence_rows": len(verdict.evidence),
                "evidence": _evidence_text(verdict.evidence),
                "rows": verdict.evidence,
            }
        )
    frame = pd.DataFrame(rows, columns=list(CLAIM_COLUMNS))
    for name in ("claim", "quote", "quote_kind", "source", "check", "params", "reason", "scope", "evidence"):
        frame[name] = frame[name].astype("string")
    frame["verdict"] = frame["verdict"].astype(pd.CategoricalDtype(list(VERDICTS)))
    frame["evidence_rows"] = frame["evidence_rows"].astype("Int64")
    return frame


def evidence_table(claims: pd.DataFrame) -> pd.DataFrame:
    """The evidence of every claim as one table: claim, session, evidence (where to look), row (JSON)."""
    rows = []
    for claim, frame in zip(claims["claim"], claims["rows"], strict=True):
        if not isinstance(frame, pd.DataFrame):
            continue
        for record in frame.to_dict("records"):
            session = record.get("session", record.get("sessions"))
            if isinstance(session, list):
                session = ", ".join(session)
            rows.append(
                {
                    "claim": claim,
                    "session": session if isinstance(session, str) else None,
                    "evidence": record.get("evidence") if isinstance(record.get("evidence"), str) else None,
                    "row": json.dumps(
                        {k: _jsonable(v) for k, v in record.items() if k not in ("body", "response_body")},
                        default=str,
                        ensure_ascii=False,
                    ),
                }
            )
    return pd.DataFrame(rows, columns=["claim", "session", "evidence", "row"]).astype("string")


def _jsonable(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value

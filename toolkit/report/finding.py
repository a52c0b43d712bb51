"""The finding in two or three sentences a reader can quote, written from the tables.

The page opens with them: what the captures contradict (or what leaked, without claims), what was
looked for and not observed (never "supported": a capture can fail to contradict a claim, not
prove it), and what the verdicts apply to.

>>> import pandas as pd
>>> claims = pd.DataFrame({"claim": ["incognito", "tls"], "verdict": ["contradicted", "not_observed"],
...     "reason": ["9 findings of 5 visited URLs reached Xiaomi in incognito: https://a.example/", "all fine"],
...     "evidence_rows": [9, 0]})
>>> for sentence in finding_sentences({"claims": claims}, scope="The lab's captures only."):
...     print(sentence)
The captures contradict 1 of 2 claims checked (incognito): 9 findings of 5 visited URLs reached Xiaomi in incognito.
For 1 claim (tls) nothing contrary was observed, which is not proof that it holds.
The lab's captures only.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from toolkit.leaks.direction import sent_by_device

__all__ = ["DEFAULT_SCOPE", "finding_sentences"]

#: What verdicts apply to when the study does not say.
DEFAULT_SCOPE = (
    "These results describe the captures listed under Provenance only, not other devices, app versions or days."
)


def _names(values: list[str], limit: int = 4) -> str:
    shown = ", ".join(values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def _headline(reason: str, limit: int = 220) -> str:
    """The part of a verdict's reason before its examples (``... reached Xiaomi: url, url``)."""
    head = reason.split(": ", 1)[0].strip().rstrip(".;")
    return head if len(head) <= limit else head[: limit - 1].rstrip() + "…"


def _claims_sentences(claims: pd.DataFrame) -> list[str]:
    verdicts = claims["verdict"].astype("string").fillna("")
    ids = claims["claim"].astype("string").fillna("?")
    total = len(claims)
    contradicted = claims[(verdicts == "contradicted").to_numpy()]
    sentences = []
    if len(contradicted):
        rows = contradicted["evidence_rows"] if "evidence_rows" in contradicted else pd.Series(0, contradicted.index)
        worst = contradicted.loc[rows.astype("Float64").fillna(0).astype(float).idxmax()]
        sentences.append(
            f"The captures contradict {len(contradicted)} of {total} claims checked "
            f"({_names(list(ids[(verdicts == 'contradicted').to_numpy()]))}): {_headline(str(worst['reason']))}."
        )
    else:
        sentences.append(f"The captures contradict none of the {total} claims checked.")
    rest = []
    quiet = list(ids[(verdicts == "not_observed").to_numpy()])
    if quiet:
        one = len(quiet) == 1
        rest.append(
            f"For {len(quiet)} claim{'' if one else 's'} ({_names(quiet)}) nothing contrary was observed, "
            f"which is not proof that {'it holds' if one else 'they hold'}"
        )
    undecided = list(ids[(verdicts == "inconclusive").to_numpy()])
    if undecided:
        rest.append(f"{len(undecided)} could not be decided from these data ({_names(undecided)})")
    if rest:
        sentences.append("; ".join(rest) + ".")
    return sentences


def _leak_sentences(tables: Mapping[str, pd.DataFrame]) -> list[str]:
    requests = tables.get("requests", pd.DataFrame())
    hosts = requests["host"].dropna().nunique() if "host" in requests else 0
    looked = f"{len(requests)} requests to {hosts} hosts"
    leaks = tables.get("leaks")
    leaks = sent_by_device(leaks) if leaks is not None and len(leaks) else pd.DataFrame()
    if not len(leaks):
        sentences = [f"No visited URL, search term or identifier was found leaving the device in {looked}."]
    else:
        receivers = leaks["organisation"].astype("string") if "organisation" in leaks else pd.Series(dtype="string")
        receivers = receivers.fillna(leaks["host"].astype("string")).fillna("(unknown)")
        named = list(receivers.value_counts().index)
        inferred = int((leaks["needle_source"].astype("string") == "inferred").sum()) if "needle_source" in leaks else 0
        note = f" ({inferred} of them from visited URLs inferred from the capture, not from a browsing log)"
        sentences = [
            f"In {looked}, {len(leaks)} findings of {leaks['needle'].nunique()} visited URLs, search terms or "
            f"identifiers were sent to {len(named)} receivers ({_names([str(n) for n in named], 3)})"
            f"{note if inferred else ''}."
        ]
    flows = tables.get("flows")
    if flows is not None and len(flows) and "decrypted" in flows:
        encrypted = flows[flows["protocol"].astype("string").isin(["tls", "quic"]).fillna(False).to_numpy()]
        if len(encrypted):
            read = int(encrypted["decrypted"].astype("boolean").fillna(False).sum())
            sentences.append(
                f"{read} of {len(encrypted)} encrypted connections could be decrypted; what could not be read "
                "was not searched."
            )
    return sentences


def finding_sentences(tables: Mapping[str, pd.DataFrame], *, scope: str = "") -> list[str]:
    """Two or three sentences: the verdicts (or the leaks, without claims), then what they apply to."""
    claims = tables.get("claims")
    if claims is not None and len(claims) and {"claim", "verdict", "reason"} <= set(claims.columns):
        sentences = _claims_sentences(claims)
    else:
        sentences = _leak_sentences(tables)
    return [*sentences[:2], scope.strip() or DEFAULT_SCOPE]

"""A study's verdicts: the claims its manifest quotes, read, checked and written beside its tables.

Claims are a reading of a study, so they live above it: :class:`toolkit.study.Study` reads the
sessions of a manifest and knows nothing of claims; this module reads the manifest's ``[[claim]]``
entries (:func:`read_claims`) and writes the study with its verdicts (:func:`write_study`). The
verdicts themselves come from :func:`toolkit.claims.evaluate`.

>>> from toolkit.claims import evaluate
>>> from toolkit.study import Study
>>> study = Study.from_manifest("data/xiaomi-2020.toml")
>>> claims = read_claims("data/xiaomi-2020.toml")
>>> [c.id for c in claims][:3]
['aggregated', 'incognito', 'random-tokens']
>>> verdicts = evaluate(study, claims)
>>> verdicts.set_index("claim").loc["incognito", "verdict"]
'contradicted'
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from toolkit.claims import Claim, evaluate, evidence_table
from toolkit.study import ManifestError, Study
from toolkit.study.manifest import read_manifest

__all__ = ["read_claims", "write_study"]


def read_claims(
    path: str | os.PathLike[str],
    *,
    root: str | os.PathLike[str] | None = None,
    allow_outside: bool = False,
) -> list[Claim]:
    """The claims of a study manifest's ``[[claim]]`` entries, in order (``root`` and
    ``allow_outside`` as for :meth:`toolkit.study.Study.from_manifest`).

    Raises:
        ManifestError: the manifest cannot be read, or a claim is wrong (names the file and the
            claim's number: an unknown check, a missing key, a parameter the check does not take).
    """
    manifest = read_manifest(path, root=root, allow_outside=allow_outside)
    claims = []
    for i, entry in enumerate(manifest.claims):
        try:
            claims.append(Claim.from_mapping(entry))
        except (KeyError, TypeError, ValueError) as exc:
            raise ManifestError(f"{manifest.path}: claim {i + 1}: {exc}") from None
    return claims


def write_study(
    study: Study,
    out: str | os.PathLike[str],
    fmt: str = "csv",
    *,
    claims: Sequence[Claim] | pd.DataFrame = (),
) -> list[Path]:
    """Write the study's tables (:meth:`toolkit.study.Study.write`) with ``claims`` (one row per
    claim and its verdict), ``claim_evidence`` (the rows behind each verdict) and the verdicts in
    ``summary.json``.

    Args:
        claims: the claims to check, or the table :func:`toolkit.claims.evaluate` already gave.
    """
    verdicts = claims if isinstance(claims, pd.DataFrame) else evaluate(study, claims)
    tables = {"claim_evidence": evidence_table(verdicts), "claims": verdicts.drop(columns=["rows"])}
    summary = {"verdicts": dict(zip(verdicts["claim"], verdicts["verdict"], strict=True))}
    return study.write(out, fmt, also=tables, summary=summary)

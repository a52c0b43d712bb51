"""Decryption coverage: what share of a capture's encrypted traffic the toolkit could read, and why not.

The first thing to read before trusting an absence: a leak cannot be found in a flow that was
not decrypted. Every flow has one status (:func:`flow_status`): ``decrypted``, ``plaintext``
(plain HTTP, read as it is) or ``not decrypted: <reason>``. The table and the sentence here count
the encrypted flows (TLS and QUIC), what decryption is about; the figure
(:func:`toolkit.plots.decryption_coverage`) draws the same statuses with the plain HTTP flows
beside them, as the share of traffic that could be read.

>>> from toolkit.schema import TABLES
>>> flows = TABLES["flows"].frame({
...     "app": ["browser", "browser", "browser"], "hostname": ["a.example", "a.example", "b.example"],
...     "protocol": ["tls", "tls", "quic"], "bytes_up": [100, 50, 10], "bytes_down": [900, 0, 90],
...     "decrypted": [True, False, False],
...     "not_decrypted_reason": [None, "no key for this session", "QUIC"]})
>>> table = decryption_coverage(flows)
>>> table[["hostname", "flows", "decrypted_flows", "bytes", "decrypted_bytes", "not_decrypted"]].values.tolist()
[['b.example', 1, 0, 100, 0, 'QUIC (1)'], ['a.example', 2, 1, 1050, 1000, 'no key for this session (1)']]
>>> coverage_line(flows)
'encrypted flows: 1 of 3 decrypted (87% of 1,150 bytes); not decrypted: no key for this session (1), QUIC (1)'
"""

from __future__ import annotations

import pandas as pd

__all__ = ["ENCRYPTED", "READABLE", "coverage_line", "decryption_coverage", "flow_status"]

#: Protocols whose flows need keys to be read.
ENCRYPTED = ("tls", "quic")
#: Protocols whose flows are read: the encrypted ones, and plain HTTP.
READABLE = (*ENCRYPTED, "http")


def flow_status(flows: pd.DataFrame) -> pd.Series:
    """``decrypted``, ``plaintext`` (plain HTTP) or ``not decrypted: <reason>`` for each flow.

    >>> from toolkit.schema import TABLES
    >>> flows = TABLES["flows"].frame({"protocol": ["tls", "http", "quic"], "decrypted": [True, None, False],
    ...     "not_decrypted_reason": [None, None, "QUIC"]})
    >>> flow_status(flows).tolist()
    ['decrypted', 'plaintext', 'not decrypted: QUIC']
    """
    protocol = flows["protocol"].astype("string").fillna("")
    decrypted = flows["decrypted"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    reason = flows["not_decrypted_reason"].astype("string").fillna("reason unknown")
    status = ("not decrypted: " + reason).astype(object)
    status[protocol.to_numpy() == "http"] = "plaintext"
    status[decrypted] = "decrypted"
    return status


def _encrypted(flows: pd.DataFrame) -> pd.DataFrame:
    protocol = flows["protocol"].astype("string")
    frame = flows[protocol.isin(ENCRYPTED).fillna(False).to_numpy()].copy()
    frame["bytes"] = frame["bytes_up"].astype("Int64").fillna(0) + frame["bytes_down"].astype("Int64").fillna(0)
    frame["ok"] = flow_status(frame).to_numpy() == "decrypted"
    return frame


def _reasons(reasons: pd.Series) -> str:
    counts = reasons.dropna().astype(str).value_counts()
    return ", ".join(f"{reason} ({count})" for reason, count in counts.items())


def decryption_coverage(flows: pd.DataFrame) -> pd.DataFrame:
    """One row per app and host name: encrypted flows and bytes, how many were decrypted, why not.

    Columns: app, hostname, flows, decrypted_flows, bytes, decrypted_bytes, share_bytes,
    not_decrypted (reasons with their counts). Sorted by undecrypted bytes, largest first.
    """
    frame = _encrypted(flows)
    frame["app"] = frame["app"].astype("string").fillna("(unknown app)")
    frame["hostname"] = frame["hostname"].astype("string").fillna(frame["server_ip"].astype("string"))
    frame["decrypted_bytes"] = frame["bytes"].where(frame["ok"], 0)
    rows = []
    for (app, host), group in frame.groupby(["app", "hostname"], sort=True, dropna=False):
        total, readable = int(group["bytes"].sum()), int(group["decrypted_bytes"].sum())
        rows.append(
            {
                "app": app,
                "hostname": host,
                "flows": len(group),
                "decrypted_flows": int(group["ok"].sum()),
                "bytes": total,
                "decrypted_bytes": readable,
                "share_bytes": readable / total if total else None,
                "not_decrypted": _reasons(group.loc[~group["ok"], "not_decrypted_reason"]),
            }
        )
    table = pd.DataFrame(
        rows,
        columns=[
            "app",
            "hostname",
            "flows",
            "decrypted_flows",
            "bytes",
            "decrypted_bytes",
            "share_bytes",
            "not_decrypted",
        ],
    )
    order = (table["bytes"] - table["decrypted_bytes"]).sort_values(ascending=False, kind="stable").index
    return table.loc[order].reset_index(drop=True)


def coverage_line(flows: pd.DataFrame) -> str:
    """The coverage in one sentence, for the command line and the top of a report."""
    frame = _encrypted(flows)
    if frame.empty:
        return "encrypted flows: none"
    total = int(frame["bytes"].sum())
    readable = int(frame.loc[frame["ok"], "bytes"].sum())
    share = f"{readable / total:.0%}" if total else "n/a"
    line = f"encrypted flows: {int(frame['ok'].sum())} of {len(frame)} decrypted ({share} of {total:,} bytes)"
    reasons = _reasons(frame.loc[~frame["ok"], "not_decrypted_reason"])
    return line + (f"; not decrypted: {reasons}" if reasons else "")

"""Which way a finding went: sent by the device (``request``) or carried back by a server (``response``).

A needle in a response's ``Set-Cookie`` or ``Location`` shows that the server plants or forwards
the value, not that the device sent it: counts, rankings, plots and claims about what the device
sends take :func:`sent_by_device`; :func:`carried_back` lists the rest apart.

>>> import pandas as pd
>>> leaks = pd.DataFrame({"needle": ["a", "b", "c"], "direction": ["request", "response", None]})
>>> sent_by_device(leaks).needle.tolist(), carried_back(leaks).needle.tolist()
(['a', 'c'], ['b'])
"""

from __future__ import annotations

import pandas as pd

__all__ = ["RESPONSE", "carried_back", "sent_by_device"]

RESPONSE = "response"
"""``leaks.direction`` of a needle found in a response header."""


def _is_response(leaks: pd.DataFrame) -> pd.Series:
    if "direction" not in leaks:
        return pd.Series(False, index=leaks.index)
    return (leaks["direction"].astype(object) == RESPONSE).astype(bool)


def sent_by_device(leaks: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``leaks`` that the device sent (a table without ``direction`` is all of them)."""
    response = _is_response(leaks)
    return leaks if not response.any() else leaks[~response.to_numpy()]


def carried_back(leaks: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``leaks`` found in what a server sent back (``Set-Cookie``, ``Location``)."""
    return leaks[_is_response(leaks).to_numpy()]

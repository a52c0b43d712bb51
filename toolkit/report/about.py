"""What a report is about: the study's name, description and scope, and each session's labels.

A report without these says more than its data can: "contradicted" beside a vendor's quote reads as
a verdict on the vendor's product, when it is a verdict on some captures, made with some app
versions and settings. :class:`About` carries that context to the page.

>>> from toolkit.study import Session, Study
>>> study = Study([Session("incognito", ["data/lab/incognito.har"], mode="incognito", app="Mint Browser",
...                        version="3.4.0", toggles={"collection": True})],
...               name="Lab study", scope="The lab's captures only.")
>>> about = About.of_study(study)
>>> about.name, about.scope, about.sessions[0].version, about.sessions[0].toggles
('Lab study', "The lab's captures only.", '3.4.0', (('collection', 'on'),))
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from toolkit.study import Study

__all__ = ["About", "SessionAbout"]


def _setting(value: Any) -> str:
    """A toggle's state for people: ``True`` → ``on``, ``False`` → ``off``, other values as written."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


@dataclass(frozen=True)
class SessionAbout:
    """One session as the researcher labelled it (all text comes from the manifest, not a capture)."""

    name: str
    mode: str | None = None
    app: str | None = None
    package: str | None = None
    version: str | None = None
    device: str | None = None
    toggles: tuple[tuple[str, str], ...] = ()
    """Each setting that matters to a claim and its state (``on``/``off`` or the value written)."""
    captures: tuple[str, ...] = ()
    """The session's capture files (and key logs), as paths."""


@dataclass(frozen=True)
class About:
    """The study a report presents: shown at the top (scope) and under "What was studied"."""

    name: str
    description: str = ""
    scope: str = ""
    """What the verdicts apply to, e.g. "the lab's captures, not the vendor's phones"."""
    sessions: tuple[SessionAbout, ...] = ()

    @classmethod
    def of_study(cls, study: Study) -> About:
        """The study's name, description, scope and session labels."""
        sessions = []
        for session in study.sessions:
            files = [os.fspath(p) for spec in session.specs for p in (spec.path, spec.keylog) if p]
            sessions.append(
                SessionAbout(
                    session.name,
                    session.mode,
                    session.app,
                    session.package,
                    session.version,
                    session.device,
                    tuple((str(k), _setting(v)) for k, v in session.toggles.items()),
                    tuple(files),
                )
            )
        return cls(study.name, study.description, getattr(study, "scope", ""), tuple(sessions))

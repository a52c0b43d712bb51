"""The Public Suffix List's matching rules, read from a local file (no download, no cache).

The algorithm is the one the list's own page states (https://publicsuffix.org/list/, "Formal
algorithm"): every rule that matches the host's rightmost labels is a candidate; an exception rule
(``!city.kobe.jp``) wins and gives up its leftmost label; otherwise the rule with the most labels
wins. When none matches, :meth:`SuffixRules.match` says so with ``suffix_labels == 0`` (the list's
default rule ``*`` then makes the last label the suffix; the caller decides). Rules are kept in
ASCII (IDNA A-labels), as the toolkit's hosts are, so ``食狮.公司.cn`` and its punycode match alike.

>>> rules = SuffixRules.from_text("// ===BEGIN ICANN DOMAINS===\\njp\\n*.kobe.jp\\n!city.kobe.jp\\n"
...     "// ===BEGIN PRIVATE DOMAINS===\\nblogspot.jp\\n")
>>> rules.match("a.b.c.kobe.jp")
Match(suffix_labels=3, private=False, icann_suffix_labels=3)
>>> rules.match("www.city.kobe.jp")
Match(suffix_labels=2, private=False, icann_suffix_labels=2)
>>> rules.match("me.blogspot.jp")
Match(suffix_labels=2, private=True, icann_suffix_labels=1)
>>> rules.match("localhost").suffix_labels  # no rule matched
0
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

__all__ = ["Match", "SuffixRules"]

_PRIVATE_START = "===BEGIN PRIVATE DOMAINS==="


class Match(NamedTuple):
    """How many of a host's rightmost labels are its public suffix, with and without private rules."""

    suffix_labels: int
    """Labels of the public suffix, private rules included; 0 when no rule matched."""
    private: bool
    """The prevailing rule comes from the list's private section."""
    icann_suffix_labels: int
    """Labels of the public suffix when only the ICANN section counts; 0 when no ICANN rule matched."""


class SuffixRules:
    """The rules of one Public Suffix List, as sets of ASCII rule strings."""

    def __init__(self, rules: dict[str, bool], wildcards: dict[str, bool], exceptions: dict[str, bool]) -> None:
        # Each maps a rule (without "*." or "!") to whether it is in the private section.
        self._rules, self._wildcards, self._exceptions = rules, wildcards, exceptions

    @classmethod
    def from_file(cls, path: str | Path) -> SuffixRules:
        """Read a list file (UTF-8); a missing file raises ``FileNotFoundError``."""
        return cls.from_text(Path(path).read_text(encoding="utf-8", errors="replace"))

    @classmethod
    def from_text(cls, text: str) -> SuffixRules:
        """Parse the list format: one rule per line, ``//`` comments, the private section marker."""
        rules: dict[str, bool] = {}
        wildcards: dict[str, bool] = {}
        exceptions: dict[str, bool] = {}
        private = False
        for line in text.splitlines():
            entry = line.strip().split(maxsplit=1)[0] if line.strip() else ""
            if entry.startswith("//"):
                private = private or _PRIVATE_START in line
                continue
            rule = _ascii_rule(entry)
            if not rule:
                continue
            if rule.startswith("!"):
                exceptions.setdefault(rule[1:], private)
            elif rule.startswith("*."):
                wildcards.setdefault(rule[2:], private)
            else:
                rules.setdefault(rule, private)
        return cls(rules, wildcards, exceptions)

    def match(self, host: str) -> Match:
        """The prevailing rule for an ASCII, lower-case host name (see the module docstring)."""
        labels = host.split(".")
        every = self._prevailing(labels, icann_only=False)
        if not every[1]:
            return Match(every[0], False, every[0])
        return Match(every[0], True, self._prevailing(labels, icann_only=True)[0])

    def _prevailing(self, labels: list[str], icann_only: bool) -> tuple[int, bool]:
        """(labels of the suffix, private) of the prevailing rule; (0, False) when none matches."""
        best, best_private = 0, False
        count = len(labels)
        for start in range(count):
            name = ".".join(labels[start:])
            size = count - start
            private = self._exceptions.get(name)
            if private is not None and not (icann_only and private):
                return size - 1, private  # an exception rule prevails over every other
            if size <= best:
                continue
            for table, parent in ((self._rules, name), (self._wildcards, ".".join(labels[start + 1 :]))):
                if table is self._wildcards and start + 1 >= count:
                    continue
                private = table.get(parent)
                if private is not None and not (icann_only and private):
                    best, best_private = size, private
                    break
        return best, best_private


def _ascii_rule(entry: str) -> str:
    """A rule in lower-case ASCII (IDNA A-labels, as hosts are); ``""`` for one that cannot be."""
    labels = entry.lower().split(".")
    try:
        return ".".join(label if label.isascii() else label.encode("idna").decode("ascii") for label in labels)
    except UnicodeError:
        return ""

"""A fuzzing campaign: mutate each target's seeds, run every input bounded, keep what breaks.

Targets take turns, one input each, until the time (or the count per target) is spent. Each
target draws from its own :class:`random.Random` seeded with ``(seed, target)``, so a run with a
count budget is the same run every time. A crash is saved once per signature (kind, exception,
place) as a folder of the input's files, after a cheap minimisation (chunks of the mutated part
removed while the signature stays; only for a crash that came within 2 s, not for a hang).
Crashes that match a *known* class (an open issue) go to the pending folder instead.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as folder:
...     report = run(["http1"], inputs=2, seed=16, crashes=Path(folder) / "c", pending=Path(folder) / "p")
>>> report.tried, report.crashes
({'http1': 2}, [])
"""

from __future__ import annotations

import hashlib
import random
import re
import shutil
import tempfile
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from toolkit.fuzz.sandbox import Outcome, run_bounded
from toolkit.fuzz.targets import TARGETS, Input, Target, check_folder

__all__ = ["Crash", "KnownClass", "Report", "load_known", "replay", "run"]

#: Bounds of one input: seconds, and bytes of address space beyond what the child inherited.
SECONDS = 10.0
MEMORY = 1 << 30
_MINIMISE_RUNS = 40
#: Minimising is cheap only when the crash comes quickly (not a hang): 40 runs of at most this long.
_MINIMISE_IF_UNDER = 2.0


@dataclass(frozen=True)
class KnownClass:
    """A class of crash already reported (an open issue); its inputs are kept apart until fixed."""

    name: str
    kind: str = ""
    exception: str = ""
    """A regular expression the exception's type name must match whole."""
    where: str = ""
    """A regular expression searched in the crash's place (``toolkit/io/http1.py:...``)."""
    message: str = ""
    """A regular expression searched in the crash's message."""
    target: str = ""

    def matches(self, target: str, outcome: Outcome) -> bool:
        return (
            (not self.target or self.target == target)
            and (not self.kind or self.kind == outcome.kind)
            and (not self.exception or re.fullmatch(self.exception, outcome.exception) is not None)
            and (not self.where or re.search(self.where, outcome.where) is not None)
            and (not self.message or re.search(self.message, outcome.message) is not None)
        )


def load_known(path: Path | None) -> list[KnownClass]:
    """The ``[[known]]`` entries of a TOML file (none when ``path`` is ``None`` or absent)."""
    if path is None or not path.is_file():
        return []
    entries = tomllib.loads(path.read_text(encoding="utf-8")).get("known", [])
    return [KnownClass(**entry) for entry in entries]


@dataclass
class Crash:
    """A crash found in this run: where its input was saved, and whether its class is known."""

    target: str
    outcome: Outcome
    folder: Path | None
    known: str | None


@dataclass
class Report:
    """What a campaign did."""

    tried: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, dict[str, int]] = field(default_factory=dict)
    crashes: list[Crash] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def new(self) -> list[Crash]:
        """Crashes of no known class: what a run must not find."""
        return [crash for crash in self.crashes if crash.known is None]

    def lines(self) -> list[str]:
        """A summary: inputs tried and outcomes per target, then each crash signature."""
        out = [f"fuzzed {sum(self.tried.values())} inputs in {self.seconds:.0f} s"]
        for name, count in self.tried.items():
            counts = ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.get(name, {}).items()))
            out.append(f"  {name:9} {count:6} inputs  ({counts})")
        for crash in self.crashes:
            label = f"known: {crash.known}" if crash.known else "NEW"
            out.append(f"  crash [{label}] {crash.target}: {crash.outcome.signature} {crash.outcome.message[:120]}")
            if crash.folder is not None:
                out.append(f"    saved in {crash.folder}")
        return out


def _run_input(target: Target, value: Input, seconds: float, memory: int) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="fuzz-") as folder:
        target.build(value, Path(folder))
        return run_bounded(check_folder, (folder,), seconds=seconds, memory=memory)


def _minimise(target: Target, value: Input, signature: str, seconds: float, memory: int) -> Input:
    """``value`` with chunks of its parts removed while the crash keeps its signature (bounded)."""
    runs = 0
    seconds = min(seconds, 2 * _MINIMISE_IF_UNDER)  # a candidate that hangs is not the same crash
    for index in range(len(value)):
        if value[index].fmt is None:
            continue
        chunk = max(1, len(value[index].data) // 2)
        while chunk >= 1 and runs < _MINIMISE_RUNS:
            data, start, shrunk = value[index].data, 0, False
            while start < len(data) and runs < _MINIMISE_RUNS:
                candidate = list(value)
                candidate[index] = replace(value[index], data=data[:start] + data[start + chunk :])
                runs += 1
                if _run_input(target, tuple(candidate), seconds, memory).signature == signature:
                    value, data, shrunk = tuple(candidate), candidate[index].data, True
                else:
                    start += chunk
            if not shrunk:
                chunk //= 2
    return value


def _save(target: Target, value: Input, outcome: Outcome, folder: Path) -> Path:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", f"{outcome.kind}-{outcome.exception}-{outcome.where}").strip("-")[:80]
    digest = hashlib.sha256(b"".join(part.data for part in value)).hexdigest()[:10]
    where = folder / target.name / f"{slug}-{digest}"
    where.mkdir(parents=True, exist_ok=True)
    target.build(value, where)
    (where / "CRASH.txt").write_text(
        f"target: {target.name}\nsignature: {outcome.signature}\nmessage: {outcome.message}\n\n{outcome.detail}\n",
        encoding="utf-8",
    )
    return where


def run(
    names: Sequence[str] = tuple(TARGETS),
    *,
    seconds: float | None = None,
    inputs: int | None = None,
    seed: int = 16,
    crashes: Path | None = None,
    pending: Path | None = None,
    known: Sequence[KnownClass] = (),
    extra_seeds: dict[str, list[Input]] | None = None,
    bound_seconds: float = SECONDS,
    bound_memory: int = MEMORY,
    minimise: bool = True,
    log: Callable[[str], None] | None = None,
) -> Report:
    """Fuzz ``names`` for ``seconds`` in total or ``inputs`` per target (whichever ends first).

    Crashes of a known class are saved under ``pending``, others under ``crashes`` (not saved when
    the folder is ``None``); each signature once per run, and not again if a saved crash folder of
    that target already has it.
    """
    targets = [TARGETS[name] for name in names]
    _warm_up(targets)
    report = Report(tried=dict.fromkeys(names, 0), outcomes={name: {} for name in names})
    rngs = {t.name: random.Random(f"{seed}/{t.name}") for t in targets}
    pools = {t.name: t.seeds() + (extra_seeds or {}).get(t.name, []) for t in targets}
    donors = {name: [part.data for value in pool for part in value if part.fmt] for name, pool in pools.items()}
    seen = {
        f"{t.name}/{s}" for folder in (crashes, pending) if folder for t in targets for s in _saved(folder / t.name)
    }
    started = time.monotonic()
    deadline = started + seconds if seconds is not None else None
    active = [t for t in targets if pools[t.name]]
    while active:
        for target in list(active):
            if (deadline is not None and time.monotonic() >= deadline) or (
                inputs is not None and report.tried[target.name] >= inputs
            ):
                active.remove(target)
                continue
            rng = rngs[target.name]
            value = target.mutate(rng.choice(pools[target.name]), rng, donors[target.name])
            outcome = _run_input(target, value, bound_seconds, bound_memory)
            report.tried[target.name] += 1
            counts = report.outcomes[target.name]
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
            if outcome.status != "crash":
                continue
            key = f"{target.name}/{outcome.signature}"
            if key in seen:
                continue
            seen.add(key)
            known_class = next((k.name for k in known if k.matches(target.name, outcome)), None)
            folder = pending if known_class else crashes
            saved = None
            if folder is not None:
                if minimise and outcome.seconds < _MINIMISE_IF_UNDER:
                    value = _minimise(target, value, outcome.signature, bound_seconds, bound_memory)
                saved = _save(target, value, outcome, folder)
            report.crashes.append(Crash(target.name, outcome, saved, known_class))
            if log:
                log(f"crash [{known_class or 'NEW'}] {target.name}: {outcome.signature} {outcome.message[:100]}")
    report.seconds = time.monotonic() - started
    return report


def _saved(folder: Path) -> list[str]:
    """Signatures of the crash folders saved under ``folder`` (from their CRASH.txt)."""
    found = []
    for note in folder.glob("*/CRASH.txt"):
        for line in note.read_text(encoding="utf-8").splitlines():
            if line.startswith("signature: "):
                found.append(line.removeprefix("signature: "))
    return found


_WARM: set[str] = set()


def _warm_up(targets: Sequence[Target]) -> None:
    """Read one seed of each target in this process (once), so that every forked child starts warm."""
    for target in targets:
        pool = target.seeds()
        if pool and target.name not in _WARM:
            _WARM.add(target.name)
            with tempfile.TemporaryDirectory(prefix="fuzz-") as folder:
                target.build(pool[0], Path(folder))
                check_folder(folder)


def replay(folder: Path, *, bound_seconds: float = SECONDS, bound_memory: int = MEMORY) -> Outcome:
    """Run a saved crash folder again (its files as saved, copied to a fresh folder)."""
    with tempfile.TemporaryDirectory(prefix="fuzz-") as fresh:
        for path in folder.iterdir():
            if path.is_file() and path.name != "CRASH.txt":
                shutil.copy(path, Path(fresh) / path.name)
        return run_bounded(check_folder, (fresh,), seconds=bound_seconds, memory=bound_memory)

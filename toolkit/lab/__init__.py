"""The lab: reproducible captures of the Mint / Mi Browser telemetry case, from real protocol stacks.

``python -m toolkit lab --out data/lab`` writes, per scenario (``normal``, ``incognito``,
``incognito_toggle_off``), a pcapng with the TLS keys embedded, a classic pcap with an NSS key log,
a HAR of the same session, and the ground truth as JSON. See :mod:`toolkit.lab.scenario` for the
facts the scenarios follow and ``data/lab/README.md`` for what the files contain.

>>> sorted(SCENARIOS)
['incognito', 'incognito_toggle_off', 'normal']
"""

from toolkit.lab.runner import DEFAULT_SEED, LabResult, main, run_scenario
from toolkit.lab.scenario import SCENARIOS, VISITS

__all__ = ["DEFAULT_SEED", "SCENARIOS", "VISITS", "LabResult", "main", "run_scenario"]

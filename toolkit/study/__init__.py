"""Studies: several labelled captures (sessions) analysed together, compared, and checked.

A :class:`Study` loads every capture of every :class:`Session`, classifies hosts, finds leaks and
identifiers, and stacks the tables with a ``session`` column; it is built in Python or from a TOML
manifest (``data/xiaomi-2020.toml``). Modules: :mod:`~toolkit.study.manifest` (sessions),
:mod:`~toolkit.study.columns` (tables as column lists), :mod:`~toolkit.study.job` (one capture's work),
:mod:`~toolkit.study.store` (Parquet results, resuming) and :mod:`~toolkit.study.core` (the Study).

>>> from toolkit.study import Session, Study
>>> study = Study(
...     [Session("normal", ["data/lab/normal.har"], mode="normal"),
...      Session("incognito", ["data/lab/incognito.har"], mode="incognito")],
...     vendors=["Xiaomi"], known_identifiers={"ANDROID_ID": "8e5fbce04dc91566"})
>>> study.requests.groupby("session", observed=True).size().to_dict()
{'normal': 18, 'incognito': 18}
>>> row = study.identifiers.set_index("value").loc["8e5fbce04dc91566"]
>>> row["persistence"], row["matches_known"], bool(row["linkable"])
('across_modes', 'ANDROID_ID', True)
>>> compared = study.compare()
>>> compared[compared.organisation == "Xiaomi"][["session", "requests", "leaks_url"]].values.tolist()
[['normal', 6, 8], ['incognito', 6, 8]]
"""

from toolkit.study.columns import Columns, concat_tables, stack_columns, table_columns
from toolkit.study.core import LEAK_KINDS, Study
from toolkit.study.job import CaptureJob, CaptureResult, analyse_capture, warm_up
from toolkit.study.manifest import CAPTURE_TABLES, CaptureSpec, ManifestError, Session
from toolkit.study.store import (
    CANDIDATE_COLUMNS,
    STORE_VERSION,
    STORED_TABLES,
    ResultStore,
    StoredJob,
    analyse_and_store,
    write_result_files,
)

__all__ = [
    "CANDIDATE_COLUMNS",
    "CAPTURE_TABLES",
    "LEAK_KINDS",
    "STORED_TABLES",
    "STORE_VERSION",
    "CaptureJob",
    "CaptureResult",
    "CaptureSpec",
    "Columns",
    "ManifestError",
    "ResultStore",
    "Session",
    "StoredJob",
    "Study",
    "analyse_and_store",
    "analyse_capture",
    "concat_tables",
    "stack_columns",
    "table_columns",
    "warm_up",
    "write_result_files",
]

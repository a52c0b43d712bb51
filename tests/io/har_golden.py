"""Golden files for the HAR reader: one corpus HAR per dialect, summarised row by row.

``python tests/io/har_golden.py`` rewrites ``tests/io/golden/har/*.json`` from the current reader;
review the diff before committing it. ``tests/io/test_har_corpus.py`` compares against them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd

import toolkit
from tests.paths import CORPUS, corpus_file

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden" / "har"
CORPUS_HAR = CORPUS / "har"

#: dialect → corpus file
DIALECTS = {
    "chrome": "mitmproxy__chrome.har",
    "chrome-bom": "mitmproxy__with-bom.har",
    "firefox": "mitmproxy__firefox.har",
    "firefox-empty-version": "harviewer__issue-49_ff47.har",
    "safari": "mitmproxy__safari.har",
    "ie11": "harviewer__ie11.har",
    "firebug": "haralyzer__humanssuck.net.har",
    "harp-jsonp": "harviewer__inline-scripts-block.harp",
    "charles": "mitmproxy__charles.har",
    "fiddler": "harviewer__ie11.fiddler.har",
    "insomnia": "mitmproxy__insomnia.har",
    "proxyman": "mswjs__request-parameters.har",
    "mitmproxy-websocket": "mitmproxy__websocket.har",
    "mitmproxy-incomplete": "mitmproxy__incomplete_log.har",
    "playwright": "playwright__har-redirect.har",
    "playwright-external-file": "playwright__har-sha1.har",
    "webpagetest": "pagexray__www.sitespeed.io-redirecting-to-https.har",
    "chrome-har-capturer": "haralyzer__cnn-chrome.har",
    "chrome-har": "pagexray__browsertime-recalculate-style.har",
    "data-url": "harviewer__data-url.har",
}


def dialect_path(dialect: str) -> Path | None:
    """The golden file of ``dialect`` in the shared corpus or among the bundled files (None: neither)."""
    return corpus_file(f"har/{DIALECTS[dialect]}")


def _value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, bytes):
        return {"len": len(value), "sha256": hashlib.sha256(value).hexdigest()[:16]}
    if isinstance(value, list):
        return len(value)
    if hasattr(value, "item"):
        return value.item()
    return value


COLUMNS = [
    "ts",
    "method",
    "url",
    "scheme",
    "host",
    "server_port",
    "path",
    "query",
    "http_version",
    "status",
    "server_ip",
    "content_type",
    "body",
    "request_headers",
    "cookies",
    "response_body",
    "response_content_type",
    "websocket",
    "page",
    "evidence",
]


def summarise(path: Path) -> dict[str, Any]:
    """What a golden file holds for ``path``: provenance basics, rows, problems."""
    capture = toolkit.load(path)
    rows = [{c: _value(row[c]) for c in COLUMNS} for _, row in capture.requests.iterrows()]
    problems = (
        capture.problems[["record", "kind", "severity"]]
        .astype(object)
        .where(capture.problems[["record", "kind", "severity"]].notna(), None)
    )
    return {
        "file": path.name,
        "tool": capture.provenance.tool,
        "rows": rows,
        "problems": problems.values.tolist(),
    }


if __name__ == "__main__":
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for dialect, name in DIALECTS.items():
        target = GOLDEN / f"{dialect}.json"
        target.write_text(json.dumps(summarise(CORPUS_HAR / name), indent=1, ensure_ascii=False) + "\n")
        print("wrote", target)

"""The decryption coverage summary on the lab's captures, with and without their keys."""

from __future__ import annotations

import shutil
from pathlib import Path

import toolkit
from tests.paths import DATA
from toolkit.coverage import coverage_line, decryption_coverage


def test_lab_capture_is_fully_covered() -> None:
    capture = toolkit.load(DATA / "lab" / "incognito.pcapng")
    table = decryption_coverage(capture.flows)
    assert set(table["hostname"]) == {
        "sa.api.intl.miui.com",
        "www.example-news.com",
        "cdn.example-cdn.com",
        "tag.example-ads.com",
        "shop.example-store.com",
        "www.example-search.com",
    }
    assert (table["flows"] == table["decrypted_flows"]).all() and (table["share_bytes"] == 1.0).all()
    assert coverage_line(capture.flows).startswith("encrypted flows: 6 of 6 decrypted (100% of ")


def test_without_keys_the_reason_is_counted(tmp_path: Path) -> None:
    shutil.copy(DATA / "lab" / "incognito.pcap", tmp_path / "incognito.pcap")
    flows = toolkit.load(tmp_path / "incognito.pcap").flows
    assert decryption_coverage(flows)["not_decrypted"].unique().tolist() == ["no key log (1)"]
    assert coverage_line(flows).endswith("not decrypted: no key log (6)")
    assert " 0 of 6 decrypted (0% of " in coverage_line(flows)

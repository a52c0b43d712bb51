"""Needles: visited URLs from browsing logs, their parts, identifiers and their forms."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from toolkit.leaks.needles import (
    Needle,
    expand,
    identifier_needles,
    parse_identifiers,
    read_visited,
    url_needles,
)

URLS = ["https://www.example-news.com/a/b.html", "https://shop.example-store.com/cart?item=1234#reviews"]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "log.txt",
            "# my session\nhttps://www.example-news.com/a/b.html\n\nhttps://shop.example-store.com/cart?item=1234#reviews\n",
        ),
        (
            "log.json",
            '["https://www.example-news.com/a/b.html", {"url": "https://shop.example-store.com/cart?item=1234#reviews"}]',
        ),
        (
            "log2.json",
            '{"visits": [{"time": 1, "URL": "https://www.example-news.com/a/b.html"}, {"url": "https://shop.example-store.com/cart?item=1234#reviews"}]}',
        ),
        (
            "log.csv",
            "time,url\n1,https://www.example-news.com/a/b.html\n2,https://shop.example-store.com/cart?item=1234#reviews\n",
        ),
        (
            "log.tsv",
            "url\ttitle\nhttps://www.example-news.com/a/b.html\tA\nhttps://shop.example-store.com/cart?item=1234#reviews\tB\n",
        ),
    ],
)
def test_browsing_logs_in_every_format(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert read_visited(path) == URLS


def test_empty_or_broken_log_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("\n# nothing\n")
    with pytest.raises(ValueError, match=r"empty\.txt: no visited URL"):
        read_visited(tmp_path / "empty.txt")
    (tmp_path / "bad.json").write_text("[1,")
    with pytest.raises(ValueError, match=r"bad\.json: not valid JSON"):
        read_visited(tmp_path / "bad.json")


def test_url_cuts_and_severity() -> None:
    needles = {n.form: n for n in url_needles("https://www.example-search.com/search?q=hiv+test&page=22222#r")}
    assert needles["url"].severity == "full_url"
    assert needles["url_no_fragment"].value == "https://www.example-search.com/search?q=hiv+test&page=22222"
    assert needles["no_scheme"].value == "www.example-search.com/search?q=hiv+test&page=22222"
    assert needles["no_query"].value == "https://www.example-search.com/search"
    assert needles["host_path"].value == "www.example-search.com/search"
    assert needles["path_query"].value == "/search?q=hiv+test&page=22222"
    assert (needles["query:q"].kind, needles["query:q"].value) == ("search_term", "hiv test")
    assert needles["host"].severity == "domain"
    assert "query:page" not in needles  # short numbers match by chance


def test_non_ascii_url_also_in_its_wire_form() -> None:
    values = {n.value for n in url_needles("https://a.example/nähe.html") if n.form == "url"}
    assert values == {"https://a.example/nähe.html", "https://a.example/n%C3%A4he.html"}
    values = {n.value for n in url_needles("https://a.example/n%C3%A4he.html") if n.form == "url"}
    assert "https://a.example/nähe.html" in values


def test_identifiers() -> None:
    assert parse_identifiers({"imei": "490154203237518"}) == [("imei", "490154203237518")]
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_identifiers(["ANDROID_ID"])
    uuid = [n.value for n in identifier_needles("adid", "38400000-8cf0-11bd-b23e-10b96e40000d")]
    assert uuid == ["38400000-8cf0-11bd-b23e-10b96e40000d", "384000008cf011bdb23e10b96e40000d"]
    phone = [n.value for n in identifier_needles("phone", "+49 (30) 1234-5678")]
    assert phone[1:] == ["493012345678", "+493012345678"]
    longitude = [n.value for n in identifier_needles("lng", "-0.127758")]
    assert longitude == ["-0.127758", "-0.1278", "-0.1277", "-0.128", "-0.127", "-0.13", "-0.12"]


def test_expansion_has_encodings_alignments_and_hash_chains() -> None:
    needle = Needle("identifier", "9774d56d682e549c", "ANDROID_ID", "ANDROID_ID", "identifier")
    patterns = {p.matched_form: p.data for p in expand(needle)}
    assert patterns["sha256(ANDROID_ID)"] == hashlib.sha256(b"9774d56d682e549c").hexdigest().encode()
    assert patterns["upper(md5(ANDROID_ID))"] == hashlib.md5(b"9774d56d682e549c").hexdigest().upper().encode()
    inner = hashlib.md5(b"9774d56d682e549c").hexdigest().encode()
    assert patterns["sha1(md5(ANDROID_ID))"] == hashlib.sha1(inner).hexdigest().encode()
    # inside a longer base64 text the needle starts at one of three byte offsets
    aligned = [p.data for p in expand(needle) if p.transforms == ("base64",)]
    for prefix in (b"", b"x", b"xy"):
        text = base64.b64encode(prefix + b"9774d56d682e549c" + b"tail")
        assert any(data in text for data in aligned), prefix

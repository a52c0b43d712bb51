"""Registrable domains with the bundled suffix list: golden cases, odd input, offline guarantees."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit.endpoints import domains
from toolkit.endpoints.domains import (
    BUNDLED_SUFFIX_LIST,
    SuffixList,
    normalize_host,
    parse_host,
    registrable_domain,
    split_host,
)

ROOT = Path(__file__).resolve().parents[2]

# host → (kind, canonical host, registrable domain, ICANN-only registrable domain)
GOLDEN = {
    # ICANN multi-label suffixes
    "news.bbc.co.uk": ("name", "news.bbc.co.uk", "bbc.co.uk", "bbc.co.uk"),
    "co.uk": ("name", "co.uk", None, None),
    "www.gov.uk": ("name", "www.gov.uk", "www.gov.uk", "www.gov.uk"),
    "a.b.c.example.com.au": ("name", "a.b.c.example.com.au", "example.com.au", "example.com.au"),
    "sa.api.intl.miui.com": ("name", "sa.api.intl.miui.com", "miui.com", "miui.com"),
    "www.baidu.com.cn": ("name", "www.baidu.com.cn", "baidu.com.cn", "baidu.com.cn"),
    # wildcard and exception rules (*.kawasaki.jp, !city.kawasaki.jp)
    "a.b.kawasaki.jp": ("name", "a.b.kawasaki.jp", "a.b.kawasaki.jp", "a.b.kawasaki.jp"),
    "www.city.kawasaki.jp": ("name", "www.city.kawasaki.jp", "city.kawasaki.jp", "city.kawasaki.jp"),
    # private suffixes: the deployer's name is the registrable domain; ICANN answer kept apart
    "my-app.appspot.com": ("name", "my-app.appspot.com", "my-app.appspot.com", "appspot.com"),
    "v2.my-app.appspot.com": ("name", "v2.my-app.appspot.com", "my-app.appspot.com", "appspot.com"),
    "appspot.com": ("name", "appspot.com", None, "appspot.com"),
    "d1a2b3.cloudfront.net": ("name", "d1a2b3.cloudfront.net", "d1a2b3.cloudfront.net", "cloudfront.net"),
    "someone.github.io": ("name", "someone.github.io", "someone.github.io", "github.io"),
    "bucket.s3.amazonaws.com": ("name", "bucket.s3.amazonaws.com", "bucket.s3.amazonaws.com", "amazonaws.com"),
    "x.blogspot.com": ("name", "x.blogspot.com", "x.blogspot.com", "blogspot.com"),
    # case, trailing dot, ports, URLs, user info
    "WWW.Example.COM": ("name", "www.example.com", "example.com", "example.com"),
    "www.example.com.": ("name", "www.example.com", "example.com", "example.com"),
    "api.example.com:8443": ("name", "api.example.com", "example.com", "example.com"),
    "https://user:pw@Cdn.Example.org:443/path?q=1": ("name", "cdn.example.org", "example.org", "example.org"),
    # IDN: U-labels become A-labels; punycode input stays; IDN suffixes are suffixes
    "bücher.example": ("name", "xn--bcher-kva.example", "xn--bcher-kva.example", "xn--bcher-kva.example"),
    "пример.рф": ("name", "xn--e1afmkfd.xn--p1ai", "xn--e1afmkfd.xn--p1ai", "xn--e1afmkfd.xn--p1ai"),
    "www.xn--e1afmkfd.xn--p1ai": (
        "name",
        "www.xn--e1afmkfd.xn--p1ai",
        "xn--e1afmkfd.xn--p1ai",
        "xn--e1afmkfd.xn--p1ai",
    ),
    "例子。测试": ("name", "xn--fsqu00a.xn--0zwm56d", "xn--fsqu00a.xn--0zwm56d", "xn--fsqu00a.xn--0zwm56d"),
    # names under no known suffix: the list's default rule "*" (last label is the suffix)
    "printer.local": ("name", "printer.local", "printer.local", "printer.local"),
    "a.b.corp.internal": ("name", "a.b.corp.internal", "corp.internal", "corp.internal"),
    "localhost": ("name", "localhost", "localhost", "localhost"),
    "_dns.resolver.arpa": ("name", "_dns.resolver.arpa", "resolver.arpa", "resolver.arpa"),
    # IP literals are their own unit, in canonical form
    "192.0.2.7": ("ipv4", "192.0.2.7", "192.0.2.7", "192.0.2.7"),
    "192.0.2.7:8080": ("ipv4", "192.0.2.7", "192.0.2.7", "192.0.2.7"),
    "2001:DB8:0:0::1": ("ipv6", "2001:db8::1", "2001:db8::1", "2001:db8::1"),
    "[2001:db8::1]": ("ipv6", "2001:db8::1", "2001:db8::1", "2001:db8::1"),
    "[2001:db8::1]:443": ("ipv6", "2001:db8::1", "2001:db8::1", "2001:db8::1"),
    "http://[::ffff:192.0.2.1]:80/": ("ipv6", "::ffff:c000:201", "::ffff:c000:201", "::ffff:c000:201"),
    "fe80::1%wlan0": ("ipv6", "fe80::1%wlan0", "fe80::1%wlan0", "fe80::1%wlan0"),
    # empty and garbage
    "": ("empty", None, None, None),
    "   ": ("empty", None, None, None),
    ".": ("empty", None, None, None),
    "exa mple.com": ("invalid", None, None, None),
    "a..b.com": ("invalid", None, None, None),
    "-bad-.com": ("invalid", None, None, None),
    "example.com..": ("invalid", None, None, None),
    "1.2.3": ("invalid", None, None, None),
    "999.1.1.1": ("invalid", None, None, None),
    "[2001:db8::1": ("invalid", None, None, None),
    "[not-an-ip]:80": ("invalid", None, None, None),
    "example.com:http": ("invalid", None, None, None),
    "host\x00name.com": ("invalid", None, None, None),
    "a" * 64 + ".com": ("invalid", None, None, None),
}


@pytest.mark.parametrize("text", list(GOLDEN))
def test_golden_hosts(text: str) -> None:
    kind, host, registrable, icann = GOLDEN[text]
    parsed = parse_host(text)
    assert (parsed.kind, parsed.host, parsed.registrable_domain, parsed.icann_registrable_domain) == (
        kind,
        host,
        registrable,
        icann,
    )
    assert registrable_domain(text) == registrable


def test_private_flag_and_suffix() -> None:
    assert parse_host("my-app.appspot.com").private_suffix is True
    assert parse_host("news.bbc.co.uk").private_suffix is False
    assert parse_host("news.bbc.co.uk").suffix == "co.uk"
    assert parse_host("d1.cloudfront.net").suffix == "cloudfront.net"


def test_ports_are_kept_apart() -> None:
    assert parse_host("api.example.com:8443").port == 8443
    assert parse_host("[2001:db8::1]:443").port == 443
    assert parse_host("example.com").port is None
    assert parse_host("example.com:99999").port is None  # out of range: host kept, port dropped


@pytest.mark.parametrize("value", [None, float("nan"), 42, b"bytes.example", ["a.example"]])
def test_non_strings_get_a_defined_answer(value: object) -> None:
    parsed = parse_host(value)
    assert parsed.kind in ("empty", "invalid", "name")
    assert parsed.registrable_domain is None or isinstance(parsed.registrable_domain, str)


def test_missing_values_are_empty() -> None:
    import pandas as pd

    assert parse_host(pd.NA).kind == "empty"
    assert parse_host(None).kind == "empty"


@given(st.text(max_size=80))
def test_any_text_gives_a_defined_answer(text: str) -> None:
    parsed = parse_host(text)
    assert parsed.kind in ("name", "ipv4", "ipv6", "empty", "invalid")
    if parsed.kind in ("empty", "invalid"):
        assert parsed.host is None and parsed.registrable_domain is None
    if parsed.kind == "name":
        assert parsed.host is not None and parsed.host.isascii() and parsed.host == parsed.host.lower()
        assert parsed.registrable_domain is None or parsed.host.endswith(parsed.registrable_domain)


HOSTS = r"[a-z0-9]{1,10}(\.[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?){0,3}\.(com|co\.uk|appspot\.com|de)"


@given(st.from_regex(HOSTS, fullmatch=True))
def test_registrable_domain_is_a_suffix_of_the_host(host: str) -> None:
    parsed = parse_host(host.upper() + ".")
    assert parsed.host == host
    assert parsed.registrable_domain is not None and host.endswith(parsed.registrable_domain)
    assert normalize_host(f"[{host}]") is None


def test_split_host_does_not_need_the_list() -> None:
    assert split_host("Example.ORG.:80") == ("name", "example.org", 80)


def test_bundled_list_matches_manifest() -> None:
    manifest = json.loads((BUNDLED_SUFFIX_LIST.parent / "manifest.json").read_text())
    entry = manifest["files"]["public_suffix_list.dat"]
    psl = SuffixList(BUNDLED_SUFFIX_LIST)
    assert psl.version == entry["version"]
    assert psl.commit == entry["commit"]


def test_other_list_file_is_honoured(tmp_path: Path) -> None:
    custom = tmp_path / "tiny.dat"
    custom.write_text("// ===BEGIN ICANN DOMAINS===\ncom\n// ===BEGIN PRIVATE DOMAINS===\nexample.com\n")
    psl = SuffixList(custom)
    assert psl.version is None
    assert psl.registrable_domain("a.b.example.com") == "b.example.com"
    assert psl.registrable_domain("news.bbc.co.uk") == "co.uk"  # this list lacks co.uk: default rule


def test_missing_list_file_raises_instead_of_downloading(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        SuffixList(tmp_path / "absent.dat")


def test_no_network_and_no_home_in_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Build the suffix list afresh with HOME unwritable (sockets are blocked in every test)."""
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o500)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    domains.bundled_suffix_list.cache_clear()
    try:
        assert registrable_domain("x.y.bbc.co.uk") == "bbc.co.uk"
    finally:
        domains.bundled_suffix_list.cache_clear()
    assert list(home.iterdir()) == []


SCRIPT = """
import socket, sys
def refuse(*a, **k):
    raise RuntimeError("network access attempted")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from toolkit.endpoints import Context, classify, registrable_domain
assert registrable_domain("sa.api.intl.miui.com") == "miui.com"
table = classify(["sa.api.intl.miui.com", "www.bbc.co.uk", "nobody.invalid"], context=Context(vendors=("Xiaomi",)))
print(table["role"].tolist())
"""


def test_classification_in_a_fresh_process_without_network_or_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o500)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TLDEXTRACT", "XDG_"))}
    env.update(HOME=str(home), PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['platform', 'third_party', 'unknown']"
    assert list(home.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]

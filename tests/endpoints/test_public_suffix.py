"""The Public Suffix List matcher against the list's own test vectors and its sandbox rules."""

from __future__ import annotations

import pytest

from toolkit.endpoints.domains import BUNDLED_SUFFIX_LIST, SuffixList
from toolkit.endpoints.public_suffix import Match, SuffixRules

# The vectors of the Public Suffix List project (publicsuffix/list, tests/tests.txt, dedicated to the
# public domain, CC0), as (host, registrable domain); None where the list says null. The IDN ones
# are given here in A-labels, the form the toolkit's hosts take.
VECTORS = """
COM null
example.COM example.com
WwW.example.COM example.com
.com null
.example null
.example.com null
.example.example null
example.example example.example
b.example.example example.example
a.b.example.example example.example
biz null
domain.biz domain.biz
b.domain.biz domain.biz
a.b.domain.biz domain.biz
com null
example.com example.com
b.example.com example.com
a.b.example.com example.com
uk.com null
example.uk.com example.uk.com
b.example.uk.com example.uk.com
a.b.example.uk.com example.uk.com
test.ac test.ac
c.mm null
b.c.mm b.c.mm
a.b.c.mm b.c.mm
jp null
test.jp test.jp
www.test.jp test.jp
ac.jp null
test.ac.jp test.ac.jp
www.test.ac.jp test.ac.jp
kyoto.jp null
test.kyoto.jp test.kyoto.jp
ide.kyoto.jp null
b.ide.kyoto.jp b.ide.kyoto.jp
a.b.ide.kyoto.jp b.ide.kyoto.jp
c.kobe.jp null
b.c.kobe.jp b.c.kobe.jp
a.b.c.kobe.jp b.c.kobe.jp
city.kobe.jp city.kobe.jp
www.city.kobe.jp city.kobe.jp
test.ck null
b.test.ck b.test.ck
a.b.test.ck b.test.ck
www.ck www.ck
www.www.ck www.ck
us null
test.us test.us
www.test.us test.us
ak.us null
test.ak.us test.ak.us
www.test.ak.us test.ak.us
k12.ak.us null
test.k12.ak.us test.k12.ak.us
www.test.k12.ak.us test.k12.ak.us
食狮.com.cn xn--85x722f.com.cn
食狮.公司.cn xn--85x722f.xn--55qx5d.cn
www.食狮.公司.cn xn--85x722f.xn--55qx5d.cn
shishi.公司.cn shishi.xn--55qx5d.cn
公司.cn null
食狮.中国 xn--85x722f.xn--fiqs8s
www.食狮.中国 xn--85x722f.xn--fiqs8s
shishi.中国 shishi.xn--fiqs8s
中国 null
xn--85x722f.com.cn xn--85x722f.com.cn
xn--85x722f.xn--55qx5d.cn xn--85x722f.xn--55qx5d.cn
www.xn--85x722f.xn--55qx5d.cn xn--85x722f.xn--55qx5d.cn
shishi.xn--55qx5d.cn shishi.xn--55qx5d.cn
xn--55qx5d.cn null
xn--85x722f.xn--fiqs8s xn--85x722f.xn--fiqs8s
www.xn--85x722f.xn--fiqs8s xn--85x722f.xn--fiqs8s
shishi.xn--fiqs8s shishi.xn--fiqs8s
xn--fiqs8s null
"""


def _vectors() -> list[tuple[str, str | None]]:
    pairs = [line.split() for line in VECTORS.strip().splitlines()]
    return [(host, None if expected == "null" else expected) for host, expected in pairs]


@pytest.mark.parametrize(("host", "expected"), _vectors())
def test_the_lists_own_vectors(host: str, expected: str | None) -> None:
    assert SuffixList(BUNDLED_SUFFIX_LIST).registrable_domain(host) == expected


@pytest.mark.parametrize("host", ["example", "mm", "ck", "localhost"])
def test_a_single_label_no_rule_covers_is_its_own_unit(host: str) -> None:
    """A deliberate difference from the vectors (which say null): `localhost` groups as itself."""
    assert SuffixList(BUNDLED_SUFFIX_LIST).registrable_domain(host) == host


# The list's sandbox (psl.hrsn.dev, private section) exists to exercise wildcards and exceptions
# at several depths: "sub.psl.hrsn.dev", "*.wc.psl.hrsn.dev", "!ignored.wc.psl.hrsn.dev",
# "*.sub.wc.psl.hrsn.dev", "!ignored.sub.wc.psl.hrsn.dev".
@pytest.mark.parametrize(
    ("host", "suffix", "registrable"),
    [
        ("a.sub.psl.hrsn.dev", "sub.psl.hrsn.dev", "a.sub.psl.hrsn.dev"),
        ("a.b.wc.psl.hrsn.dev", "b.wc.psl.hrsn.dev", "a.b.wc.psl.hrsn.dev"),
        ("a.ignored.wc.psl.hrsn.dev", "wc.psl.hrsn.dev", "ignored.wc.psl.hrsn.dev"),
        ("sub.wc.psl.hrsn.dev", "sub.wc.psl.hrsn.dev", None),  # "*.wc" covers "sub" itself
        ("a.b.sub.wc.psl.hrsn.dev", "b.sub.wc.psl.hrsn.dev", "a.b.sub.wc.psl.hrsn.dev"),
        ("ignored.sub.wc.psl.hrsn.dev", "sub.wc.psl.hrsn.dev", "ignored.sub.wc.psl.hrsn.dev"),
    ],
)
def test_wildcards_and_exceptions_at_depth(host: str, suffix: str, registrable: str | None) -> None:
    parsed = SuffixList(BUNDLED_SUFFIX_LIST).parse(host)
    assert (parsed.suffix, parsed.registrable_domain, parsed.private_suffix) == (suffix, registrable, True)
    assert parsed.icann_registrable_domain == "hrsn.dev"


def test_private_rules_and_the_icann_answer_beside_them() -> None:
    rules = SuffixRules.from_text("// ===BEGIN ICANN DOMAINS===\nuk\nco.uk\n// ===BEGIN PRIVATE DOMAINS===\nx.co.uk\n")
    assert rules.match("a.x.co.uk") == Match(3, True, 2)
    assert rules.match("a.y.co.uk") == Match(2, False, 2)
    assert rules.match("a.example") == Match(0, False, 0)


def test_unicode_rules_match_a_label_hosts_and_bad_rules_are_skipped() -> None:
    rules = SuffixRules.from_text("公司.cn\n\udcff.bad\n  com   trailing words are ignored\n")
    assert rules.match("a.xn--55qx5d.cn").suffix_labels == 2
    assert rules.match("a.com").suffix_labels == 1

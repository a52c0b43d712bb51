"""find_leaks on the bundled sample, the lab's captures (against their ground truth) and the corpus."""

from __future__ import annotations

import base64
import gzip
import json
import random
import string
from pathlib import Path
from urllib.parse import unquote

import pandas as pd
import pytest

import toolkit
from tests.paths import DATA
from toolkit.errors import CaptureError
from toolkit.leaks.detect import effective_layers, find_leaks
from toolkit.leaks.transforms import TRANSFORMS
from toolkit.schema import TABLES

SAMPLE = DATA / "sample.har"
LAB = DATA / "lab"
SCENARIOS = ["normal", "incognito", "incognito_toggle_off"]


def _request(url: str, headers: list[tuple[str, str]] | None = None, body: bytes | None = None) -> dict[str, object]:
    from urllib.parse import urlsplit

    return {
        "url": url,
        "host": urlsplit(url).hostname,
        "method": "POST" if body else "GET",
        "request_headers": headers or [],
        "body": body,
        "evidence": f"t#entry={url}",
    }


def _frame(*rows: dict[str, object]) -> pd.DataFrame:
    return TABLES["requests"].frame({k: [r.get(k) for r in rows] for k in rows[0]})


def test_sample_har_mint_browser_leaks() -> None:
    leaks = find_leaks(toolkit.load(SAMPLE), identifiers=["ANDROID_ID=9774d56d682e549c"])
    TABLES["leaks"].validate(leaks)
    urls = leaks[leaks.needle_kind == "url"]
    assert set(urls.needle) == {
        "https://www.example-news.com/world/2020/04/30/story.html",
        "https://shop.example-store.com/cart?item=1234#reviews",
        "https://www.example-search.com/search?q=hiv+test+clinic+near+me",
    }
    assert set(urls.chain.str.replace(r"\[\d\]", "[i]", regex=True)) == {
        "form:data_list > urldecode > base64 > gzip > json:[i].properties.url"
    }
    assert set(leaks.host) == {"sa.api.intl.miui.com"}
    assert (urls.evidence.str.endswith("; inferred needle")).all()  # no browsing log given
    ids = leaks[leaks.needle_kind == "identifier"]
    assert len(ids) == 6 and set(ids.matched_form) == {"ANDROID_ID"}
    assert set(leaks.kind) == {"leak"}
    assert leaks.evidence.str.contains("Sensors Analytics event page_load_event_(?:start|finish)").all()


def test_browsing_log_file_and_no_inference(tmp_path: Path) -> None:
    log = tmp_path / "visited.txt"
    log.write_text("https://www.example-news.com/world/2020/04/30/story.html\n")
    leaks = find_leaks(toolkit.load(SAMPLE), visited=log)
    assert set(leaks.needle) == {"https://www.example-news.com/world/2020/04/30/story.html"}
    assert not leaks.evidence.str.contains("inferred").any()


def test_first_party_is_not_a_leak_and_referer_is_its_own_kind() -> None:
    page = "https://www.site.example/articles/42?ref=home"
    requests = _frame(
        _request(page),
        _request("https://static.site.example/a.js", [("Referer", page)]),
        _request("https://ads.tracker.example/px?u=x", [("Referer", page)]),
    )
    leaks = find_leaks(requests, visited=[page])
    assert leaks[["kind", "host", "location", "severity"]].values.tolist() == [
        ["referer", "ads.tracker.example", "header:referer", "full_url"]
    ]


def test_hashed_and_domain_level_findings() -> None:
    import hashlib

    page = "https://www.site.example/private/page.html"
    digest = hashlib.sha256(page.encode()).hexdigest()
    requests = _frame(
        _request(f"https://t.example/e?h={digest}"),
        _request("https://t.example/e?d=www.site.example"),
    )
    leaks = find_leaks(requests, visited=[page])
    assert leaks[["matched_form", "location", "severity"]].values.tolist() == [
        ["sha256(url)", "query:h", "full_url"],
        ["host", "query:d", "domain"],
    ]


def test_gzip_bomb_is_a_problem_row() -> None:
    bomb = gzip.compress(b"\0" * 80_000_000)
    requests = _frame(_request("https://t.example/upload", body=bomb))
    leaks = find_leaks(requests, visited=["https://a.example/x"])
    problems = leaks.attrs["problems"]
    assert leaks.empty
    assert problems.kind.tolist() == ["decode"] and "decompression bomb" in problems.message.iloc[0]
    assert problems.record.iloc[0] == "t#entry=https://t.example/upload"


def _lab_truth(scenario: str) -> dict[str, object]:
    path = LAB / f"{scenario}.truth.json"
    if not path.exists():
        pytest.skip(f"{path} not generated")
    return json.loads(path.read_text())


def _truth_chain(location: str, chain: str) -> str:
    # The lab's truth writes where a needle sits as one chain (`query:dl > urldecode`,
    # `form:data_list > urldecode > base64 > ...`); find_leaks splits it into location and chain.
    return " > ".join(([] if location == "body" else [location]) + (chain.split(" > ") if chain else []))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_lab_captures_equal_the_ground_truth(scenario: str) -> None:
    truth = _lab_truth(scenario)
    identifiers = {k: v for k, v in truth["identifiers"].items() if k != "note"}  # type: ignore[union-attr]
    visited = [v["url"] for v in truth["visits"]]  # type: ignore[union-attr]
    leaks = find_leaks(toolkit.load(LAB / f"{scenario}.har"), visited=visited, identifiers=identifiers)
    found = {
        (int(e.split("entry=")[1].split(";")[0]), unquote(n), h, _truth_chain(loc, c))
        for e, n, h, loc, c in zip(leaks.evidence, leaks.needle, leaks.host, leaks.location, leaks.chain, strict=True)
    }
    expected = {
        (e["request"], unquote(e["value"]), e["host"], e["chain"])
        for e in truth["expected_leaks"]  # type: ignore[union-attr]
    }
    assert found == expected
    kinds = {e["kind"] for e in truth["expected_leaks"]}  # type: ignore[union-attr]
    telemetry = leaks[leaks.host == "sa.api.intl.miui.com"]
    if scenario == "incognito_toggle_off":
        assert set(telemetry.needle_kind) == {"identifier"}
    else:
        assert {"url", "search_term", "identifier"} <= set(telemetry.needle_kind)
        assert "search_term" in kinds


def _random_needles(rng: random.Random) -> tuple[list[str], list[str]]:
    def word(n: int) -> str:
        return "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(n))

    urls = [f"https://{word(8)}.{word(6)}.example/{word(10)}?q={word(7)}+{word(5)}" for _ in range(20)]
    ids = [f"id{i}={word(16)}" for i in range(5)] + [f"lat=4{rng.randrange(10)}.{rng.randrange(10**6):06d}7"]
    return urls, ids


@pytest.mark.slow
def test_no_false_positives_in_the_corpus(corpus: Path) -> None:
    rng = random.Random(2024)
    visited, identifiers = _random_needles(rng)
    files = sorted(p for p in corpus.rglob("*") if p.suffix in (".har", ".pcap", ".pcapng"))
    searched = 0
    for path in files:
        try:
            capture = toolkit.load(path)
        except CaptureError:
            continue
        if capture.requests.empty:
            continue
        searched += len(capture.requests)
        leaks = find_leaks(capture, visited=visited, identifiers=identifiers)
        assert leaks.empty, f"{path.name}: {leaks[['needle', 'matched_form', 'location', 'chain']].values.tolist()}"
    assert searched > 1000


def test_effective_layers_reads_both_sides() -> None:
    assert effective_layers("", "url") == []
    assert effective_layers("segment:2 > base64 > zlib", "quote_twice(url)") == ["percent", "percent", "zlib", "base64"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_lab_decrypted_pcapng_gives_the_same_leaks(scenario: str) -> None:
    from collections import Counter

    truth = _lab_truth(scenario)
    path = LAB / f"{scenario}.pcapng"
    identifiers = {k: v for k, v in truth["identifiers"].items() if k != "note"}  # type: ignore[union-attr]
    visited = [v["url"] for v in truth["visits"]]  # type: ignore[union-attr]
    capture = toolkit.load(path)  # a decryption regression fails here or below; it never skips
    assert len(capture.requests) == len(truth["requests"]), "the pcapng's embedded keys decrypted too few requests"  # type: ignore[arg-type]
    assert capture.requests["decrypted"].fillna(False).astype(bool).all()
    leaks = find_leaks(capture, visited=visited, identifiers=identifiers)
    found = Counter(
        (unquote(n), h, _truth_chain(loc, c))
        for n, h, loc, c in zip(leaks.needle, leaks.host, leaks.location, leaks.chain, strict=True)
    )
    expected = Counter((unquote(e["value"]), e["host"], e["chain"]) for e in truth["expected_leaks"])  # type: ignore[union-attr]
    assert found == expected
    assert leaks.evidence.str.contains(r"\.pcapng#frames=").all()


def test_empty_requests_give_an_empty_leaks_table() -> None:
    leaks = find_leaks(TABLES["requests"].empty(), identifiers={"ANDROID_ID": "9774d56d682e549c"})
    assert leaks.empty and list(leaks.columns) == TABLES["leaks"].names
    assert leaks.attrs["problems"].empty


def _busy_requests(count: int, planted: list[str]) -> pd.DataFrame:
    import base64

    rng = random.Random(11)
    rows = []
    for number in range(count):
        events = [
            {
                "url": planted[number % len(planted)] if number % 3 == 0 else f"https://n.example/{number}",
                "id": "".join(rng.choices(string.ascii_letters + string.digits, k=16)),
            }
        ]
        blob = base64.b64encode(gzip.compress(json.dumps(events).encode(), mtime=0)).decode()
        rows.append(
            _request(
                f"https://t{number % 4}.example/c?d={blob[:40]}",
                [("Referer", planted[0])],
                f"crc=1&data_list={blob}".encode(),
            )
        )
    return _frame(*rows)


def test_workers_give_the_same_table() -> None:
    planted = ["https://www.site.example/a/page.html", "https://www.other.example/b?q=private+words"]
    requests = _busy_requests(120, planted)
    serial = find_leaks(requests, visited=planted, identifiers=["ID=9774d56d682e549c"])
    forked = find_leaks(requests, visited=planted, identifiers=["ID=9774d56d682e549c"], workers=2)
    assert len(serial) >= 120 and set(serial.needle) >= set(planted)
    pd.testing.assert_frame_equal(serial, forked)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_repeated_request_is_unwrapped_once_and_reported_at_each_position(
    workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from toolkit.leaks import detect

    planted = ["https://www.site.example/a/page.html", "https://www.other.example/b?q=private+words"]
    once = _busy_requests(80, planted)
    twice = pd.concat([once, once], ignore_index=True)
    twice["evidence"] = [f"t#entry={n}" for n in range(len(twice))]
    calls: list[str | None] = []
    real = detect.unwrap_request

    def counted(**parts: object) -> object:
        calls.append(parts["url"])  # type: ignore[arg-type]
        return real(**parts)  # type: ignore[arg-type]

    monkeypatch.setattr(detect, "unwrap_request", counted)
    leaks = find_leaks(twice, visited=planted, workers=workers)
    assert len(leaks) >= 80 and set(leaks.needle) >= set(planted)
    # every finding of a request is reported again for its copy, with the copy's own evidence
    position = leaks.evidence.str.extract(r"entry=(\d+)")[0].astype(int)
    columns = [name for name in leaks.columns if name != "evidence"]
    originals = leaks[(position < 80).to_numpy()][columns].reset_index(drop=True)
    copies = leaks[(position >= 80).to_numpy()][columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(originals, copies)
    if workers == 1:  # forked workers count in their own process
        assert len(calls) == 80


def test_texts_searched_together_find_what_each_finds_alone() -> None:
    from toolkit.leaks.detect import NeedleIndex
    from toolkit.leaks.needles import identifier_needles, url_needles

    index = NeedleIndex(
        [*url_needles("https://www.site.example/a/page.html"), *identifier_needles("ID", "9774d56d682e549c")]
    )
    rng = random.Random(3)
    pieces = [b"https://www.site.example/a/page.html", b"9774d56d682e549c", b"www.site.example", b"", b"x"]
    for _ in range(200):
        texts = [b"".join(rng.choices(pieces, k=rng.randrange(4))) for _ in range(rng.randrange(1, 6))]
        # a pattern split across two neighbouring texts must not be found in either
        split = rng.randrange(1, 36)
        texts += [pieces[0][:split], pieces[0][split:]]
        together = [[p.matched_form for p in found] for found in index.find_each(texts)]
        assert together == [[p.matched_form for p in index.find(text)] for text in texts]


def test_raw_digests_searched_together_are_found_as_each_text_alone_finds_them() -> None:
    # binary keys are searched in one call over the texts long enough to hold one, with a byte above 0x7F
    from toolkit.leaks.detect import NeedleIndex
    from toolkit.leaks.needles import identifier_needles

    index = NeedleIndex(identifier_needles("ID", "9774d56d682e549c"))
    raw = [pattern.data for pattern in index.every if not pattern.data[-index.KEY_BYTES :].isascii()]
    rng = random.Random(7)
    pieces = [*rng.sample(raw, 6), b"\x1f\x8b\x08", b"\xff\xfe", b"9774d56d682e549c", b"abc", b""]
    found_raw = 0
    for _ in range(300):
        texts = [b"".join(rng.choices(pieces, k=rng.randrange(4))) for _ in range(rng.randrange(1, 8))]
        digest = rng.choice(raw)
        split = rng.randrange(1, len(digest))
        texts += [digest[:split], digest[split:], digest[1:], digest]  # split across two texts, cut short, whole
        rng.shuffle(texts)
        together = {n: [p.matched_form for p in found] for n, found in index.found_in(texts).items()}
        alone = {n: [p.matched_form for p in index.find(text)] for n, text in enumerate(texts)}
        assert together == {n: forms for n, forms in alone.items() if forms}
        assert index.find_each(texts) == [index.find(text) for text in texts]
        found_raw += sum("_raw(" in form for forms in together.values() for form in forms)
    assert found_raw >= 300  # each round has a whole digest at least


def test_requests_searched_in_batches_give_the_table_of_one_request_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import toolkit.leaks.detect as detect

    capture = toolkit.load(LAB / "normal.har")
    together = find_leaks(capture, identifiers={"ANDROID_ID": "8e5fbce04dc91566"})
    monkeypatch.setattr(detect, "_BATCH_BYTES", 1)  # every request in a batch of its own
    alone = find_leaks(capture, identifiers={"ANDROID_ID": "8e5fbce04dc91566"})
    assert {"url", "identifier"} <= set(together.needle_kind)
    pd.testing.assert_frame_equal(together, alone)
    pd.testing.assert_frame_equal(together.attrs["problems"], alone.attrs["problems"])


def test_sensors_single_event_post_is_found_in_its_field() -> None:
    # sa-sdk-javascript posts one event as data=<base64>; the form: data=<base64(gzip(JSON))>
    event = {"event": "search", "type": "track", "distinct_id": "d1", "properties": {"url": "https://a.example/x"}}
    packed = base64.b64encode(gzip.compress(json.dumps(event).encode(), mtime=0)).decode()
    requests = _frame(
        _request("https://sa.t.example/sa?project=default", body=f"data={packed}".encode()),
        _request("https://t.example/collect", body=f"data={packed}".encode()),
    )
    leaks = find_leaks(requests, visited=["https://a.example/x"])
    # ("urldecode" when the base64 holds a "+", which a form decodes as a space)
    chains = leaks.chain.str.replace("urldecode > ", "").tolist()
    assert chains == ["form:data > base64 > gzip > json:properties.url"] * 2
    labelled = dict(zip(leaks.host, leaks.evidence, strict=True))
    assert labelled["sa.t.example"].endswith("; Sensors Analytics event search (track)")
    assert "Sensors" not in labelled["t.example"]  # no receiver path, no crc/gzip/ext field: not the SDK's post


def test_values_a_server_sends_back_are_response_rows() -> None:
    redirect = _request("https://t.example/go?x=1")
    redirect["response_headers"] = [
        ("Location", "https://r.example/land?u=https%3A%2F%2Fa.example%2Fx"),
        ("Set-Cookie", "uid=c3f1b0de6a474b3e; Path=/"),
    ]
    own = _request("https://a.example/login")
    own["response_headers"] = [("Location", "https://a.example/x")]  # a site redirecting to itself
    sent = _request("https://t.example/pix?uid=c3f1b0de6a474b3e")
    sent["response_headers"] = [("Content-Type", "image/gif")]
    leaks = find_leaks(
        _frame(redirect, own, sent), visited=["https://a.example/x"], identifiers=["UID=c3f1b0de6a474b3e"]
    )
    rows = {(r.host, r.location, r.chain, r.direction) for r in leaks.itertuples()}
    assert rows == {
        ("t.example", "response_header:location", "query:u > urldecode", "response"),
        ("t.example", "set-cookie:uid", "", "response"),
        ("t.example", "query:uid", "", "request"),
    }
    assert set(leaks[leaks.direction == "response"].evidence) == {"t#entry=https://t.example/go?x=1"}
    assert find_leaks(_frame(redirect), visited=["https://a.example/x"], workers=2).equals(
        find_leaks(_frame(redirect), visited=["https://a.example/x"])
    )


def test_a_failing_sdk_adapter_writes_a_problem_row_and_keeps_the_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    import toolkit.leaks.detect as detect

    def broken(*_args: object) -> str:
        raise RuntimeError("adapter bug")

    monkeypatch.setattr(detect, "sdk_label", broken)
    leaks = find_leaks(toolkit.load(LAB / "normal.har"), identifiers={"ANDROID_ID": "8e5fbce04dc91566"})
    problems = leaks.attrs["problems"]
    assert len(leaks) > 0 and len(problems) >= len(leaks), problems  # one row per finding the adapter looked at
    assert problems["message"].str.contains("SDK adapter failed on this request: RuntimeError: adapter bug").all()
    assert set(problems["record"]) == set(leaks["evidence"].str.split(";").str[0])


def test_unwrapping_bounds_follow_the_needles() -> None:
    # Texts shorter than the shortest pattern are not kept (down to 8 bytes, where a headerless stream
    # could start); raw deflate is tried on any blob: a needle deflated alone is found.
    from toolkit.leaks.detect import NeedleIndex
    from toolkit.leaks.needles import identifier_needles
    from toolkit.leaks.unwrap import Limits

    index = NeedleIndex(identifier_needles("ANDROID_ID", "9774d56d682e549c"))
    limits = index.limits(Limits())
    assert limits.shortest_text == min(8, *(len(p.data) for group in index.patterns for p in group))
    deflated = TRANSFORMS["deflate"].encode(b"9774d56d682e549c")
    leaks = find_leaks(
        _one_request(json.dumps({"e": base64.b64encode(deflated).decode()}).encode()),
        visited=[],
        identifiers=["ANDROID_ID=9774d56d682e549c"],
    )
    assert list(leaks.chain) == ["json:e > base64 > deflate"]


def test_a_digest_of_a_long_value_deflated_is_found() -> None:
    # The MD2 of a UUID's gzip is 32 hex digits: it deflates shorter than the UUID itself, so a bound
    # on raw deflate taken from the needles' values missed it (issue 20, found by the property test).
    uuid = "9ff3078f-cc1b-0c3e-1c07-724e44c5b476"
    body = TRANSFORMS["deflate"].encode(TRANSFORMS["md2"].encode(TRANSFORMS["gzip"].encode(uuid.encode())))
    assert len(body) < len(TRANSFORMS["deflate"].encode(uuid.encode()))
    leaks = find_leaks(_one_request(body), visited=[], identifiers=[f"ID={uuid}"])
    assert [(m, c) for m, c in zip(leaks.matched_form, leaks.chain, strict=True)] == [("md2(gzip(ID))", "deflate")]


def _one_request(body: bytes) -> pd.DataFrame:
    return TABLES["requests"].frame(
        {
            "url": ["https://t.example/c"],
            "host": ["t.example"],
            "method": ["POST"],
            "body": [body],
            "request_headers": [[]],
            "evidence": ["t#0"],
        }
    )

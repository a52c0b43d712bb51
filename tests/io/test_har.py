"""The HAR reader on small HARs built here, one dialect feature or one kind of damage per test."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import toolkit
from toolkit.errors import CaptureError, MalformedCaptureError, TruncatedCaptureError


def entry(url: str = "https://example.org/a?b=1", **extra: Any) -> dict[str, Any]:
    request = {"method": "GET", "url": url, "httpVersion": "HTTP/1.1", "headers": [], "cookies": []}
    request.update(extra.pop("request", {}))
    response = {"status": 200, "httpVersion": "HTTP/1.1", "headers": [], "content": {"size": 0}}
    response.update(extra.pop("response", {}))
    return {
        "startedDateTime": "2024-01-02T03:04:05.678Z",
        "time": 1.0,
        "request": request,
        "response": response,
        "cache": {},
        "timings": {"send": 0, "wait": 1, "receive": 0},
        **extra,
    }


def har(*entries: Any, **log: Any) -> dict[str, Any]:
    return {"log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, **log, "entries": list(entries)}}


def write(tmp_path: Path, doc: Any, name: str = "t.har") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc, encoding="utf-8")
    return path


def load(tmp_path: Path, doc: Any, **kwargs: Any) -> toolkit.Capture:
    return toolkit.load(write(tmp_path, doc), **kwargs)


def test_every_entry_becomes_a_row_with_its_evidence(tmp_path: Path) -> None:
    capture = load(tmp_path, har(entry(), entry("http://other.example:8080/x"), entry()))
    requests = capture.requests
    assert requests["evidence"].tolist() == ["t.har#entry=0", "t.har#entry=1", "t.har#entry=2"]
    assert requests.loc[1, ["scheme", "host", "server_port", "path"]].tolist() == ["http", "other.example", 8080, "/x"]
    assert requests.loc[0, "server_port"] == 443
    assert capture.problems.empty
    toolkit.TABLES["requests"].validate(requests)


def test_timestamps_with_offsets_become_utc(tmp_path: Path) -> None:
    e = entry()
    e["startedDateTime"] = "2013-11-29T16:23:45.531+01:00"
    ts = load(tmp_path, har(e)).requests.loc[0, "ts"]
    assert ts == pd.Timestamp("2013-11-29T15:23:45.531Z")


def test_bad_timestamp_is_kept_as_missing_and_reported(tmp_path: Path) -> None:
    e = entry()
    e["startedDateTime"] = "yesterday"
    capture = load(tmp_path, har(e))
    assert pd.isna(capture.requests.loc[0, "ts"])
    assert capture.problems[["record", "severity"]].values.tolist() == [["entry 0", "warning"]]
    assert "yesterday" in capture.problems.loc[0, "message"]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http/2.0", "HTTP/2"),
        ("h2", "HTTP/2"),
        ("HTTP/2", "HTTP/2"),
        ("h3", "HTTP/3"),
        ("1.1", "HTTP/1.1"),
        ("spdy/3.1", "SPDY/3.1"),
        ("", None),
        ("unknown", None),
        ("ori", None),
        (None, None),
    ],
)
def test_http_version_dialects(tmp_path: Path, given: str | None, expected: str | None) -> None:
    e = entry(request={"httpVersion": given})
    value = load(tmp_path, har(e)).requests.loc[0, "http_version"]
    assert (None if pd.isna(value) else value) == expected


def test_pseudo_headers_mean_http2_when_version_is_empty(tmp_path: Path) -> None:
    e = entry(request={"httpVersion": "", "headers": [{"name": ":authority", "value": "example.org"}]})
    assert load(tmp_path, har(e)).requests.loc[0, "http_version"] == "HTTP/2"


def test_headers_cookies_and_post_text(tmp_path: Path) -> None:
    e = entry(
        request={
            "method": "post",
            "headers": [{"name": "Content-Type", "value": "application/json"}, {"name": "X-A", "value": "1"}],
            "cookies": [{"name": "sid", "value": "abc"}],
            "postData": {"mimeType": "application/json", "text": '{"q": "caf\u00e9"}'},
        }
    )
    row = load(tmp_path, har(e)).requests.iloc[0]
    assert row.method == "POST"
    assert row.request_headers == [("Content-Type", "application/json"), ("X-A", "1")]
    assert row.cookies == [("sid", "abc")]
    assert row.body == '{"q": "café"}'.encode()
    assert row.content_type == "application/json"


def test_post_params_without_text_are_form_encoded(tmp_path: Path) -> None:
    e = entry(
        request={
            "method": "POST",
            "postData": {
                "mimeType": "application/x-www-form-urlencoded",
                "params": [{"name": "q", "value": "a b&c"}, {"name": "n", "value": "1"}],
            },
        }
    )
    assert load(tmp_path, har(e)).requests.loc[0, "body"] == b"q=a+b%26c&n=1"


def test_base64_response_body_and_undecoded_gzip(tmp_path: Path) -> None:
    packed = gzip.compress(b"hello world")
    e = entry(
        response={
            "headers": [{"name": "Content-Encoding", "value": "gzip"}],
            "content": {"mimeType": "text/plain", "encoding": "base64", "text": base64.b64encode(packed).decode()},
        }
    )
    capture = load(tmp_path, har(e))
    assert capture.requests.loc[0, "response_body"] == b"hello world"
    assert capture.requests.loc[0, "response_content_type"] == "text/plain"
    assert capture.problems.empty


def test_body_stored_decoded_despite_gzip_header_is_taken_as_is(tmp_path: Path) -> None:
    e = entry(
        response={
            "headers": [{"name": "content-encoding", "value": "gzip"}],
            "content": {"mimeType": "text/html", "text": "<p>decoded</p>"},
        }
    )
    capture = load(tmp_path, har(e))
    assert capture.requests.loc[0, "response_body"] == b"<p>decoded</p>"
    assert capture.problems.empty


def test_corrupt_base64_and_corrupt_gzip_are_warnings(tmp_path: Path) -> None:
    bad_b64 = entry(response={"content": {"encoding": "base64", "text": "!!!not base64!!!"}})
    bad_gzip = entry(
        response={
            "headers": [{"name": "Content-Encoding", "value": "gzip"}],
            "content": {"encoding": "base64", "text": base64.b64encode(b"\x1f\x8bjunk").decode()},
        }
    )
    capture = load(tmp_path, har(bad_b64, bad_gzip))
    assert len(capture.requests) == 2
    assert capture.requests.loc[0, "response_body"] is None
    assert capture.requests.loc[1, "response_body"] == b"\x1f\x8bjunk"
    assert capture.problems["record"].tolist() == ["entry 0", "entry 1"]
    assert capture.problems["kind"].tolist() == ["decode", "decode"]
    with pytest.raises(MalformedCaptureError, match=r"t\.har: entry 0: .*base64"):
        load(tmp_path, har(bad_b64, bad_gzip), strict=True)


def test_data_url_missing_pages_and_pagerefs(tmp_path: Path) -> None:
    e = entry("data:text/css;charset=utf-8,body%7btext-align%3acenter%7d", request={"method": ""})
    capture = load(tmp_path, har(e, entry()))
    assert capture.requests["scheme"].tolist() == ["data", "https"]
    assert pd.isna(capture.requests.loc[0, "host"])
    assert capture.requests["page"].isna().all()
    assert capture.problems.empty


def test_websocket_entries_are_marked(tmp_path: Path) -> None:
    upgrade = entry("wss://ws.example/chat", request={"headers": [{"name": "Upgrade", "value": "websocket"}]})
    mitm = entry("https://ws.example/x", _webSocketMessages=[{"type": "send", "data": "hi"}])
    switched = entry("https://ws.example/y", response={"status": 101})
    plain = entry()
    marks = load(tmp_path, har(upgrade, mitm, switched, plain)).requests["websocket"].tolist()
    assert marks == [True, True, True, False]


def test_server_ip_brackets_and_status_zero(tmp_path: Path) -> None:
    e = entry(serverIPAddress="[2001:db8::1]", response={"status": 0})
    row = load(tmp_path, har(e)).requests.iloc[0]
    assert row.server_ip == "2001:db8::1"
    assert pd.isna(row.status)


def test_playwright_external_bodies(tmp_path: Path) -> None:
    (tmp_path / "body.txt").write_bytes(b"external body")
    e1 = entry(response={"content": {"mimeType": "text/plain", "_file": "body.txt"}})
    e2 = entry(response={"content": {"_file": "missing.txt"}})
    e3 = entry(response={"content": {"_file": "../../etc/passwd"}})
    capture = load(tmp_path, har(e1, e2, e3))
    assert capture.requests["response_body"].tolist() == [b"external body", None, None]
    assert capture.problems["record"].tolist() == ["entry 1", "entry 2"]
    assert "outside" in capture.problems.loc[1, "message"]


def test_bom_jsonp_and_gzip_wrappers(tmp_path: Path) -> None:
    doc = json.dumps(har(entry(), entry()))
    (tmp_path / "bom.har").write_bytes(b"\xef\xbb\xbf" + doc.encode())
    (tmp_path / "page.harp").write_text(f"onInputData({doc});\n")
    (tmp_path / "zipped.har.gz").write_bytes(gzip.compress(doc.encode()))
    (tmp_path / "no-extension").write_text(doc)
    for name in ["bom.har", "page.harp", "zipped.har.gz", "no-extension"]:
        capture = toolkit.load(tmp_path / name)
        assert len(capture.requests) == 2 and capture.problems.empty, name
    assert toolkit.load(tmp_path / "zipped.har.gz").provenance.compression == "gzip"


def test_provenance(tmp_path: Path) -> None:
    path = write(tmp_path, har(entry(), browser={"name": "Firefox", "version": "111.0.1"}))
    capture = toolkit.load(path)
    p = capture.provenance
    import hashlib

    assert (p.format, p.tool, p.size) == ("har", "test 1", path.stat().st_size)
    assert p.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert capture.meta["browser"] == "Firefox 111.0.1"


def test_truncated_file_keeps_the_entries_before_the_cut(tmp_path: Path) -> None:
    doc = json.dumps(har(entry(), entry(), entry()))
    starts = [i for i in range(len(doc)) if doc.startswith('"startedDateTime"', i)]
    cut = starts[2] + 10  # inside the third entry
    capture = load(tmp_path, doc[:cut])
    assert len(capture.requests) == 2
    assert capture.problems[["record", "kind"]].values.tolist() == [["entry 2", "truncated"]]
    with pytest.raises(TruncatedCaptureError, match=r"t\.har: entry 2: file ends"):
        load(tmp_path, doc[:cut], strict=True)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("", "empty"),
        ("not json at all", "not a HAR, pcap"),
        ("[1, 2]", "not a HAR, pcap"),
        ('{"entries": []}', "no top-level `log`"),
        ('{"log": [1]}', "`log` is not an object"),
        ('{"log": {"entries": 5}}', "entries is not a list"),
        ('{"lo', "not valid JSON"),
    ],
)
def test_unreadable_files_raise_one_line_capture_errors(tmp_path: Path, doc: str, message: str) -> None:
    with pytest.raises(CaptureError, match=message) as info:
        load(tmp_path, doc)
    assert str(info.value).startswith("t.har: ") and "\n" not in str(info.value)


def test_wrong_types_inside_entries_skip_or_warn(tmp_path: Path) -> None:
    entries = [
        "a string",
        {"request": "nope"},
        {"request": {"method": "GET"}},
        entry(request={"headers": "Host: x"}),
        entry(response={"status": "200"}),
        {**entry(), "response": None},
    ]
    capture = load(tmp_path, har(*entries))
    assert capture.requests["evidence"].tolist() == ["t.har#entry=3", "t.har#entry=4", "t.har#entry=5"]
    assert capture.requests["status"].isna().tolist() == [False, False, True]
    assert capture.requests["status"].tolist()[:2] == [200, 200]
    skipped = capture.problems.query("severity == 'error'")["record"].tolist()
    assert skipped == ["entry 0", "entry 1", "entry 2"]
    assert capture.problems.query("severity == 'warning'")["record"].tolist() == ["entry 3", "entry 5"]


def test_entry_without_har_required_fields_is_read_with_a_warning(tmp_path: Path) -> None:
    e = entry()
    del e["timings"], e["cache"]
    capture = load(tmp_path, har(e))
    assert len(capture.requests) == 1
    assert capture.problems[["kind", "severity"]].values.tolist() == [["missing", "warning"]]
    assert "cache, timings" in capture.problems.loc[0, "message"]


def test_file_cut_inside_log_is_a_partial_result(tmp_path: Path) -> None:
    capture = load(tmp_path, '{"log": {"version": "1.2", "entr')
    assert capture.requests.empty
    assert capture.problems["kind"].tolist() == ["truncated", "missing"]


def test_log_without_entries_is_a_partial_result(tmp_path: Path) -> None:
    capture = load(tmp_path, {"log": {"version": "1.1", "pages": []}})
    assert capture.requests.empty
    assert capture.problems["kind"].tolist() == ["missing"]


def test_trailing_garbage_is_a_warning(tmp_path: Path) -> None:
    capture = load(tmp_path, json.dumps(har(entry())) + "\n}garbage")
    assert len(capture.requests) == 1
    assert capture.problems["severity"].tolist() == ["warning"]


@pytest.mark.parametrize("chunk_rows", [2, 3])
def test_rows_read_in_chunks_make_the_same_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_rows: int
) -> None:
    # Each chunk sees other methods, schemes and versions (its own categories), a late bad timestamp
    # and a skipped entry: the joined table and the problems must not show where the chunks were.
    late = entry("http://c.example/x", request={"method": "PUT", "httpVersion": "h2"})
    late["startedDateTime"] = "not a date"
    entries = [
        entry(),
        entry("wss://b.example/ws", request={"method": "post", "headers": [{"name": "Upgrade", "value": "websocket"}]}),
        "not an entry",
        entry("http://a.example:8080/p?q=1", response={"status": 404}, pageref="page_1"),
        late,
        entry("data:text/plain,hi", request={"method": "", "httpVersion": "h3"}),
    ]
    path = write(tmp_path, har(*entries))
    whole = toolkit.load(path)
    monkeypatch.setattr("toolkit.io.har.CHUNK_ROWS", chunk_rows)
    chunked = toolkit.load(path)
    assert len(chunked.requests) == 5
    pd.testing.assert_frame_equal(chunked.requests, whole.requests, check_exact=True)
    for column in ("scheme", "method", "http_version"):
        assert chunked.requests[column].dtype == whole.requests[column].dtype, column
    pd.testing.assert_frame_equal(chunked.problems, whole.problems)
    assert chunked.problems["record"].tolist() == ["entry 2", "entry 4"]  # the skipped one, the bad date


def test_repeated_header_pairs_are_shared_but_not_the_lists(tmp_path: Path) -> None:
    headers = [{"name": "User-Agent", "value": "Mozilla/5.0"}, {"name": "Accept", "value": "*/*"}]
    capture = load(tmp_path, har(entry(request={"headers": headers}), entry(request={"headers": headers[:1]})))
    first, second = capture.requests["request_headers"].tolist()
    assert first == [("User-Agent", "Mozilla/5.0"), ("Accept", "*/*")] and second == [("User-Agent", "Mozilla/5.0")]
    assert first[0] is second[0]  # one tuple for the pair both requests sent
    assert first is not second

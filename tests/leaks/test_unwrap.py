"""Unwrapping requests into located texts, with bounds on depth and size."""

from __future__ import annotations

import base64
import gzip
import json

from toolkit.leaks.unwrap import Limits, Located, unwrap_request


def texts(**request: object) -> list[Located]:
    request.setdefault("url", "https://t.example/collect")
    request.setdefault("headers", [])
    request.setdefault("body", None)
    return list(unwrap_request(**request))  # type: ignore[arg-type]


def located(items: list[Located], needle: bytes) -> set[tuple[str, str]]:
    """(location, chain) of every text or leaf that holds ``needle``."""
    out = set()
    for item in items:
        if needle in item.data:
            out.add((item.location, item.chain_text()))
        if item.parts is not None:
            out |= {(p.location, p.chain_text()) for p in item.parts() if needle in p.data}
    return out


def test_url_parts_headers_and_cookies() -> None:
    items = texts(
        url="https://t.example/v1/aHR0cHM6Ly9hLmV4YW1wbGUveA/e?u=https%3A%2F%2Fa.example%2Fx&k=1#frag-a.example",
        headers=[("Cookie", "sid=1; last=https%3A%2F%2Fa.example%2Fx"), ("Referer", "https://a.example/x"),
                 (":path", "/ignored")],
    )  # fmt: skip
    assert located(items, b"https://a.example/x") >= {
        ("url_path", "segment:2 > base64"),
        ("query:u", "urldecode"),
        ("cookie:last", "urldecode"),
        ("header:referer", ""),
    }
    assert ("fragment", "") in located(items, b"frag-a.example")
    assert not any(t.location.startswith("header::") for t in items)


def test_cookie_column_used_without_cookie_header() -> None:
    items = texts(cookies=[("uid", "c3f1b0de6a474b3e")])
    assert located(items, b"c3f1b0de6a474b3e") == {("cookie:uid", "")}


def test_nested_json_base64_json() -> None:
    inner = base64.b64encode(json.dumps({"page": {"href": "https://a.example/x"}}).encode()).decode()
    body = json.dumps({"events": [{"p": inner}, {"n": 1}]}).encode()
    assert located(texts(body=body, content_type="application/json"), b"https://a.example/x") == {
        ("body", "json:events[0].p > base64"),
        ("body", "json:events[0].p > base64 > json:page.href"),
    }


def test_multipart_xml_and_protobuf() -> None:
    multipart = (b"--b0undary\r\nContent-Disposition: form-data; name=\"meta\"\r\n\r\n"
                 b"<e><u>https://a.example/x</u></e>\r\n--b0undary--\r\n")  # fmt: skip
    found = located(texts(body=multipart, content_type="multipart/form-data; boundary=b0undary"), b"https://a.example/x")
    assert ("body", "multipart:meta > xml:u") in found
    url = b"https://a.example/x"
    inner = b"\x0a" + bytes([len(url)]) + url
    message = b"\x08\x01\x12" + bytes([len(inner)]) + inner
    assert ("body", "pb:2.1") in located(texts(body=message, content_type="application/x-protobuf"), url)


def test_compressed_blobs_by_magic_and_by_trying() -> None:
    import zlib

    import brotli

    for blob, step in ((gzip.compress(b"https://a.example/x"), "gzip"), (zlib.compress(b"https://a.example/x"), "zlib"),
                       (brotli.compress(b"https://a.example/x"), "brotli")):  # fmt: skip
        assert ("body", step) in located(texts(body=blob), b"https://a.example/x")


def test_gzip_bomb_is_a_problem_not_an_outage() -> None:
    bomb = gzip.compress(b"\0" * 20_000_000)
    problems: list[str] = []
    items = list(unwrap_request(url="https://t.example/", headers=[], body=base64.b64encode(bomb),
                                limits=Limits(max_decoded_bytes=5_000_000), on_problem=problems.append))  # fmt: skip
    assert any("decompression bomb" in p for p in problems)
    assert sum(len(t.data) for t in items) < 10_000_000


def test_depth_is_bounded() -> None:
    value = b"https://a.example/x"
    for _ in range(8):
        value = base64.b64encode(value)
    shallow = located(texts(body=value, limits=Limits(max_layers=5)), b"https://a.example/x")
    deep = located(texts(body=value, limits=Limits(max_layers=8)), b"https://a.example/x")
    assert shallow == set()
    assert deep == {("body", " > ".join(["base64"] * 8))}


def test_garbage_never_raises() -> None:
    import random

    rng = random.Random(7)
    for size in (0, 1, 7, 100, 5000):
        body = bytes(rng.randrange(256) for _ in range(size))
        texts(body=body, content_type="application/json", headers=[("Cookie", "=;;a"), ("X", "%zz%")])
        texts(body=b"--x\r\n" + body, content_type="multipart/form-data")


def test_json_paths_are_worked_out_in_any_order() -> None:
    from toolkit.leaks.unwrap import JsonCursor

    doc = json.dumps({"a": [{"k": "x"}, {"k": "y", "z": ["w", {"q\"": "v"}]}], "b": "u"}).encode()
    cursor = JsonCursor(doc)
    paths = {v: cursor.path_at(doc.index(f'"{v}"'.encode())) for v in ("v", "x", "u", "w", "y")}
    assert paths == {"x": "a[0].k", "y": "a[1].k", "w": "a[1].z[0]", "v": 'a[1].z[1]["q\\""]', "u": "b"}

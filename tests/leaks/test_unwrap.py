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


def test_json_cursor_agrees_with_the_parsed_document() -> None:
    import random

    from toolkit.leaks.unwrap import JsonCursor, _json_leaves

    rng = random.Random(5)

    def value(depth: int) -> object:
        roll = rng.random()
        if depth > 3 or roll < 0.4:
            return rng.choice([1, None, True, "x" * rng.randrange(1, 90), "a]{b", 'q"\\', "é日"])
        if roll < 0.7:
            return [value(depth + 1) for _ in range(rng.randrange(5))]
        return {f"k{i}" + rng.choice(["", " s", "é"]): value(depth + 1) for i in range(rng.randrange(5))}

    for _ in range(300):
        document = value(0)
        raw = json.dumps(document, ensure_ascii=rng.random() < 0.5).encode()
        cursor = JsonCursor(raw)
        strings = [(path, leaf) for path, leaf in _json_leaves(document) if isinstance(leaf, str)]
        position = 0
        for path, leaf in strings:  # leaves in document order: each found after the previous one
            if path.endswith("{key}"):
                continue
            literal = json.dumps(leaf, ensure_ascii=b"\\u" in raw).encode()
            at = raw.find(literal, position)
            assert at >= 0
            assert cursor.path_at(at) == path
            position = at + len(literal)


def test_covered_texts_are_slices_of_a_placed_text_before_them() -> None:
    inner = base64.b64encode(json.dumps({"page": {"href": "https://a.example/x"}}).encode()).decode()
    body = json.dumps({"events": [{"p": inner, "q": "aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ"}]}).encode()
    items = texts(url="https://t.example/v1/aHR0cHM6Ly9hLmV4YW1wbGUveA/e?a=1", body=body,
                  content_type="application/json")  # fmt: skip
    covered = [t for t in items if t.covered]
    assert covered
    for text in covered:
        before = items[: items.index(text)]
        assert any(text.data in t.data and t.location == text.location and not t.covered
                   and (t.where is not None or t.parts is not None) and not t.search_parts for t in before)  # fmt: skip


def test_texts_are_freed_without_the_cycle_collector() -> None:
    import gc
    import weakref

    body = json.dumps({"e": [{"p": base64.b64encode(b"https://a.example/x" * 3).decode()}]}).encode()
    items = texts(url="https://t.example/a/b?q=1", body=body, content_type="application/json")
    refs = [weakref.ref(item) for item in items]
    enabled = gc.isenabled()
    gc.disable()  # find_leaks pauses the collector: the texts must go with their last reference
    try:
        del items
        assert all(ref() is None for ref in refs)
    finally:
        if enabled:
            gc.enable()


def test_headerless_attempts_agree_with_the_bounded_decompressors() -> None:
    import random
    import zlib

    import brotli

    from toolkit.compression import inflate_raw, unbrotli
    from toolkit.leaks.unwrap import _may_be_deflate, _Unwrapper

    def reference(decode: object, data: bytes) -> bytes | None:
        try:
            return decode(data, 1_000_000)  # type: ignore[operator, no-any-return]
        except ValueError:
            return None

    walker = _Unwrapper(Limits(max_decoded_bytes=1_000_000), lambda message: None)
    rng = random.Random(4)
    samples = [bytes(rng.randrange(256) for _ in range(rng.randrange(8, 40))) for _ in range(3000)]
    samples += [zlib.compress(b"https://a.example/x", wbits=-15), brotli.compress(b"https://a.example/x"),
                zlib.compress(b"x", wbits=-15) + b"tail", zlib.compress(b"", wbits=-15)]  # fmt: skip
    for data in samples:
        expected = reference(inflate_raw, data)
        assert (walker._headerless("deflate", data) if _may_be_deflate(data) else None) == expected
        assert walker._headerless("brotli", data) == reference(unbrotli, data)


def test_alphanumeric_tokens_take_a_shortcut_to_the_same_texts() -> None:
    import random
    import string
    import zlib

    from toolkit.leaks.unwrap import _Unwrapper

    rng = random.Random(8)
    alphabets = (string.ascii_letters + string.digits, "0123456789abcdef", "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    tokens = [zlib.compress(b"https://a.example/x").hex(), base64.b32encode(b"https://a.example/x").decode().rstrip("=")]
    tokens += ["".join(rng.choices(alphabet, k=rng.randrange(4, 60))) for alphabet in alphabets for _ in range(300)]
    for token in tokens:
        data = token.encode()
        for layers in (0, 4, 5):
            general, shortcut = _Unwrapper(Limits(), print), _Unwrapper(Limits(), print)
            general.text(data, "body", ("json:@0",), layers, covered=True)
            shortcut._alphanumeric(data, "body", ("json:@0",), layers, True)
            expected = [(t.chain, t.data, t.covered) for t in general.out]
            assert [(t.chain, t.data, t.covered) for t in shortcut.out] == expected

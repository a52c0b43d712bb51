"""Unwrapping requests into located texts, with bounds on depth and size."""

from __future__ import annotations

import base64
import gzip
import json
import re

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
        headers=[
            ("Cookie", "sid=1; last=https%3A%2F%2Fa.example%2Fx"),
            ("Referer", "https://a.example/x"),
            (":path", "/ignored"),
        ],
    )
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
    multipart = (
        b'--b0undary\r\nContent-Disposition: form-data; name="meta"\r\n\r\n'
        b"<e><u>https://a.example/x</u></e>\r\n--b0undary--\r\n"
    )
    found = located(
        texts(body=multipart, content_type="multipart/form-data; boundary=b0undary"), b"https://a.example/x"
    )
    assert ("body", "multipart:meta > xml:u") in found
    url = b"https://a.example/x"
    inner = b"\x0a" + bytes([len(url)]) + url
    message = b"\x08\x01\x12" + bytes([len(inner)]) + inner
    assert ("body", "pb:2.1") in located(texts(body=message, content_type="application/x-protobuf"), url)


def test_compressed_blobs_by_magic_and_by_trying() -> None:
    import zlib

    import brotli

    for blob, step in (
        (gzip.compress(b"https://a.example/x"), "gzip"),
        (zlib.compress(b"https://a.example/x"), "zlib"),
        (brotli.compress(b"https://a.example/x"), "brotli"),
    ):
        assert ("body", step) in located(texts(body=blob), b"https://a.example/x")


def test_gzip_bomb_is_a_problem_not_an_outage() -> None:
    bomb = gzip.compress(b"\0" * 20_000_000)
    problems: list[str] = []
    items = list(
        unwrap_request(
            url="https://t.example/",
            headers=[],
            body=base64.b64encode(bomb),
            limits=Limits(max_decoded_bytes=5_000_000),
            on_problem=problems.append,
        )
    )
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

    doc = json.dumps({"a": [{"k": "x"}, {"k": "y", "z": ["w", {'q"': "v"}]}], "b": "u"}).encode()
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
    items = texts(
        url="https://t.example/v1/aHR0cHM6Ly9hLmV4YW1wbGUveA/e?a=1", body=body, content_type="application/json"
    )
    covered = [t for t in items if t.covered]
    assert covered
    for text in covered:
        before = items[: items.index(text)]
        assert any(
            text.data in t.data
            and t.location == text.location
            and not t.covered
            and (t.where is not None or t.parts is not None)
            and not t.search_parts
            for t in before
        )


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
    samples += [
        zlib.compress(b"https://a.example/x", wbits=-15),
        brotli.compress(b"https://a.example/x"),
        zlib.compress(b"x", wbits=-15) + b"tail",
        zlib.compress(b"", wbits=-15),
    ]
    for data in samples:
        expected = reference(inflate_raw, data)
        assert (walker._headerless("deflate", data) if _may_be_deflate(data) else None) == expected
        assert walker._headerless("brotli", data) == reference(unbrotli, data)


def test_alphanumeric_tokens_take_a_shortcut_to_the_same_texts() -> None:
    import random
    import string
    import uuid
    import zlib

    from toolkit.leaks.unwrap import _Unwrapper

    rng = random.Random(8)
    alphabets = (
        string.ascii_letters + string.digits,
        "0123456789abcdef",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
        "0123456789abcdefABCDEF-",
        string.ascii_letters + string.digits + "+/=_-",
    )
    tokens = [
        zlib.compress(b"https://a.example/x").hex(),
        base64.b32encode(b"https://a.example/x").decode().rstrip("="),
    ]
    tokens += ["".join(rng.choices(alphabet, k=rng.randrange(4, 60))) for alphabet in alphabets for _ in range(300)]
    tokens += [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(20)] + ["--a1-b2", "-", "9-"]
    tokens += ["v2|" + base64.b64encode(rng.randbytes(rng.randrange(6, 40))).decode() + "|end" for _ in range(100)]
    tokens += [f"https://a.example/news/{rng.randbytes(6).hex()}/AbCd{rng.randrange(10**4)}Zy.html" for _ in range(50)]
    limits = Limits(shortest_text=7)
    for _round in ("first", "again"):  # the second time, noise tokens are known as such
        for token in tokens:
            data = token.encode()
            for layers in (0, 4, 5):
                for chain in (("json:@0",), ("segment:1",)):  # (base58 is not tried in JSON values)
                    general = _Unwrapper(limits, print)
                    general.noise = {}  # the reference decodes everything: no token is known as noise
                    general.texts += 1  # as text() counts it (and drops a short one) before the general way
                    if len(data) >= limits.shortest_text:
                        general._any_text(data, "body", chain, layers, None, True, None)
                    expected = [(t.chain, t.data, t.covered) for t in general.out]
                    shortcuts = (_Unwrapper(limits, print), _Unwrapper(limits, print))
                    shortcuts[0].text(data, "body", chain, layers, covered=True)
                    if token.isalnum():
                        shortcuts[1]._alphanumeric(data, "body", chain, layers, True)
                    for shortcut in shortcuts[: 1 + token.isalnum()]:
                        assert [(t.chain, t.data, t.covered) for t in shortcut.out] == expected
                        assert (shortcut.texts, shortcut.decoded) == (general.texts, general.decoded)


# --- single-field forms, multipart parts, form text inside other bodies (issue 15) --------------

_EVENT = json.dumps({"event": "page_view", "type": "track", "properties": {"url": "https://a.example/x"}}).encode()
_FORM_TYPES = (None, "application/x-www-form-urlencoded", "text/plain")


def test_a_single_field_form_is_split_into_its_field_whatever_its_value() -> None:
    from urllib.parse import quote

    packed = base64.b64encode(gzip.compress(_EVENT, mtime=0))
    cases = {
        b"data=" + base64.b64encode(_EVENT): "form:data > base64 > json:properties.url",
        b"data=" + packed: "form:data > base64 > gzip > json:properties.url",  # Sensors' single-event post
        b"data=" + quote(packed.decode(), safe="").encode(): (
            "form:data > urldecode > base64 > gzip > json:properties.url"
        ),
        b"data=" + _EVENT: "form:data > json:properties.url",  # raw JSON, spaces unescaped
        b"data=" + quote(_EVENT.decode(), safe="").encode(): "form:data > urldecode > json:properties.url",
        b"u=https%3A%2F%2Fa.example%2Fx": "form:u > urldecode",
    }
    for body, chain in cases.items():
        for content_type in _FORM_TYPES:
            found = located(texts(body=body, content_type=content_type), b"https://a.example/x")
            assert ("body", chain) in found, (body[:20], content_type, found)
            if b" " not in body:  # with a second field (as before): the single field reads the same way
                assert ("body", chain) in located(
                    texts(body=body + b"&v=1", content_type=content_type), b"https://a.example/x"
                )


def test_base64_with_its_padding_is_not_a_form() -> None:
    whole = base64.b64encode(b"https://a.example/x")  # ends with "="
    for content_type in _FORM_TYPES:
        found = located(texts(body=whole, content_type=content_type), b"https://a.example/x")
        assert found == {("body", "base64")}, (content_type, found)
    # base64 cut before its padding and text after it: a token, not a field named after the token
    token = base64.b64encode(b"000@000000.org")  # MDAwQDAwMDAwMC5vcmc=
    found = located(
        texts(url="https://t.example/e?d=" + token.decode().replace("=", "%3D") + "%7Cend"), b"000@000000.org"
    )
    assert ("query:d", "urldecode > base64") in found


def test_a_field_name_must_look_like_one_without_a_form_content_type() -> None:
    items = texts(body=b"9x=" + base64.b64encode(_EVENT), content_type=None)
    assert not any(chain.startswith("form:") for _loc, chain in located(items, b"https://a.example/x"))
    items = texts(body=b"9x=" + base64.b64encode(_EVENT), content_type="application/x-www-form-urlencoded")
    assert ("body", "form:9x > base64 > json:properties.url") in located(items, b"https://a.example/x")


def test_binary_multipart_parts_are_split_and_decoded() -> None:
    import zlib

    deflated = zlib.compress(_EVENT, wbits=-15)
    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="meta"\r\n\r\n{"v": 1}\r\n'
        b'--XyZ\r\nContent-Disposition: form-data; name="blob"; filename="e.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + deflated + b"\r\n"
        b'--XyZ\r\nContent-Disposition: form-data; name="gz"\r\n\r\n' + gzip.compress(_EVENT, mtime=0) + b"\r\n"
        b"--XyZ--\r\n"
    )
    for content_type in ("multipart/form-data; boundary=XyZ", None):  # declared, or read from the body
        found = located(texts(body=body, content_type=content_type), b"https://a.example/x")
        assert ("body", "multipart:blob > deflate > json:properties.url") in found, found
        assert ("body", "multipart:gz > gzip > json:properties.url") in found, found


def test_a_multipart_part_is_read_under_its_own_content_type() -> None:
    body = (
        b'--b\r\nContent-Disposition: form-data; name="p"\r\n'
        b"Content-Type: application/x-www-form-urlencoded\r\n\r\n"
        b"data=" + base64.b64encode(_EVENT) + b"\r\n--b--\r\n"
    )
    found = located(texts(body=body, content_type="multipart/form-data; boundary=b"), b"https://a.example/x")
    assert ("body", "multipart:p > form:data > base64 > json:properties.url") in found


def test_form_text_inside_json_and_text_bodies() -> None:
    form = "a=1&q=privacy+tools+now&u=https%3A%2F%2Fa.example%2Fx"
    in_json = located(
        texts(body=json.dumps({"payload": form}).encode(), content_type="application/json"), b"privacy tools now"
    )
    assert ("body", "json:payload > form:q > urldecode") in in_json
    in_text = located(texts(body=form.encode(), content_type="text/plain"), b"privacy tools now")
    assert ("body", "form:q > urldecode") in in_text
    url = located(
        texts(body=json.dumps({"payload": form}).encode(), content_type="application/json"), b"https://a.example/x"
    )
    assert ("body", "json:payload > form:u > urldecode") in url


def test_response_headers_set_cookie_and_location() -> None:
    from toolkit.leaks.unwrap import unwrap_response

    items = list(
        unwrap_response(
            [
                ("Set-Cookie", "uid=c3f1b0de6a474b3e; Path=/; HttpOnly"),
                ("Server", "c3f1b0de6a474b3e"),
                ("Location", "https://r.example/v1/aHR0cHM6Ly9hLmV4YW1wbGUveA/e?u=https%3A%2F%2Fa.example%2Fx#f"),
            ]
        )
    )
    assert located(items, b"c3f1b0de6a474b3e") == {("set-cookie:uid", "")}  # other headers are not read
    assert located(items, b"https://a.example/x") == {
        ("response_header:location", "url_path > segment:2 > base64"),
        ("response_header:location", "query:u > urldecode"),
    }


def test_values_of_hex_digits_and_dashes_are_ids_not_base64() -> None:
    # issue 20: an id or digest in hex is not decoded as base64 (its decoding is noise that costs
    # the headerless decompressors' attempts); base64 of text still is
    hex_id = "3f2a9c01-77be-4d21-9a0e-5c1b2e3f4a5b0c"  # not a UUID's layout: the UUID rule does not apply
    texts = list(unwrap_request(url=None, headers=[("X-Id", hex_id)], body=None))
    assert [(t.data, t.chain) for t in texts] == [(hex_id.encode(), ())]
    encoded = base64.b64encode(b"9774d56d682e549c").decode()
    texts = list(unwrap_request(url=None, headers=[("X-Id", encoded)], body=None))
    assert (b"9774d56d682e549c", ("base64",)) in [(t.data, t.chain) for t in texts]


# --- string literals of a JSON document (issue 20) ------------------------------------------------


def test_json_literals_worth_decoding_are_found_between_their_own_quotes() -> None:
    from toolkit.leaks.unwrap import _JSON_CANDIDATE

    document = (
        b'{"items": [{"sku": "Zq81LmA0", "price": 0.7726218108121796}, {"sku": "short"}],'
        b' "n": 12345678901234567890, "u": "https://a.example/news/sport/AbCd1234.html",'
        b' "q": "a%20b", "e": "x\\"y", "j": " {\\"k\\": 1}", "t": "the news of the day"}'
    )
    found = [m.group(1) for m in _JSON_CANDIDATE.finditer(document) if m.group(1) is not None]
    # long numbers between literals are not read as a literal's text, and every literal is read whole
    assert found == [b"Zq81LmA0", b"https://a.example/news/sport/AbCd1234.html", b"a%20b", b'x\\"y', b' {\\"k\\": 1}']


def test_json_literal_scan_agrees_with_a_literal_by_literal_reading() -> None:
    import random

    from toolkit.leaks.unwrap import _JSON_CANDIDATE

    token, inner = re.compile(rb"[A-Za-z0-9+/_$=-]{8,}"), re.compile(rb"\s*[{\[<]")
    trigger = re.compile(rb"%[0-9A-Fa-f]{2}|&#|&amp;|\\.|[A-Za-z0-9+/_$-]{16,}", re.DOTALL)
    pieces = ["a", "Z9", "%2F", "%zz", "&#", "&amp;", "&x", "\\\\", '\\"', "\\n", " ", "{", "<", "+/", "-_$", "é"]
    rng = random.Random(20)
    values = ["".join(rng.choices(pieces, k=rng.randrange(0, 12))) for _ in range(3000)]
    values += ["x" * n for n in (7, 8, 15, 16)] + ["ab " * 6 + "c" * 16]
    # (the pieces are JSON string text: escapes as a sender writes them; long numbers between literals)
    fields = [f'"k{i}": "{value}", "n{i}": {rng.randrange(10**20)}' for i, value in enumerate(values)]
    data = ("{" + ", ".join(fields) + "}").encode()
    literals = re.findall(rb'"((?:[^"\\]|\\.)*)"', data)
    expected = [c for c in literals if token.fullmatch(c) or inner.match(c) or trigger.search(c)]
    found = [m.group(1) for m in _JSON_CANDIDATE.finditer(data) if m.group(1) is not None]
    assert found == expected

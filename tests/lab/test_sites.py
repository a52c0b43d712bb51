"""The lab's server content."""

from __future__ import annotations

import html
import struct
import zlib

from toolkit.lab.exchange import Request
from toolkit.lab.scenario import VISITS
from toolkit.lab.sites import TRANSPARENT_GIF, png_image, respond


def test_png_chunks_have_valid_crcs() -> None:
    image = png_image(4, 3, "x")
    offset, kinds = 8, []
    while offset < len(image):
        (length,) = struct.unpack_from("!I", image, offset)
        kind, data = image[offset + 4 : offset + 8], image[offset + 8 : offset + 8 + length]
        assert struct.unpack_from("!I", image, offset + 8 + length)[0] == zlib.crc32(kind + data)
        kinds.append(kind)
        offset += 12 + length
    assert kinds == [b"IHDR", b"IDAT", b"IEND"]
    assert len(zlib.decompress(image[41 : 41 + struct.unpack_from("!I", image, 33)[0]])) == 3 * (1 + 4 * 3)


def test_every_page_and_resource_is_served() -> None:
    for visit in VISITS:
        wire = visit.wire_url.split("://", 1)[1]
        host, path = wire.split("/", 1)
        page = respond(Request("GET", host, "/" + path))
        assert page.status == 200 and page.gzip_body
        assert f"<title>{html.escape(visit.title)}</title>".encode() in page.body
        for resource in visit.resources:
            r_host, r_path = resource.url.split("://", 1)[1].split("/", 1)
            response = respond(Request("GET", r_host, "/" + r_path))
            assert response.status == 200
            assert dict(response.headers)["content-type"] == resource.content_type
    assert respond(Request("GET", "tag.example-ads.com", "/collect?v=1")).body == TRANSPARENT_GIF
    assert respond(Request("POST", "sa.api.intl.miui.com", "/sa?project=x", [], b"crc=1")).status == 200

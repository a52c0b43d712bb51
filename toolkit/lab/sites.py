"""What the lab's servers answer: small but real pages, scripts, styles, images and the collector.

Content is fixed (it does not depend on the seed), so every scenario loads the same bytes.

>>> from toolkit.lab.exchange import Request
>>> response = respond(Request("GET", "cdn.example-cdn.com", "/img/product-1234.png"))
>>> response.status, response.body[:8]
(200, b'\\x89PNG\\r\\n\\x1a\\n')
>>> respond(Request("GET", "www.example-news.com", "/missing")).status
404
"""

from __future__ import annotations

import html
import random
import struct
import zlib
from functools import cache
from urllib.parse import urlsplit

from toolkit.lab.exchange import Request, Response
from toolkit.lab.scenario import VISITS

__all__ = ["TRANSPARENT_GIF", "png_image", "respond"]

#: The classic 1x1 transparent GIF89a tracking pixel.
TRANSPARENT_GIF = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)
_SERVER = [("server", "toolkit-lab")]


def png_image(width: int, height: int, seed: str) -> bytes:
    """A valid RGB PNG of noise (so it does not compress), with IHDR, IDAT and IEND chunks."""
    rng = random.Random(seed)
    rows = b"".join(b"\0" + rng.randbytes(width * 3) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack("!I", len(data)) + kind + data + struct.pack("!I", zlib.crc32(kind + data))

    header = struct.pack("!IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


@cache
def _script() -> bytes:
    rng = random.Random("app.js")
    table = ",".join(str(rng.randrange(1 << 30)) for _ in range(900))
    return (
        "/* example site bundle (toolkit.lab) */\n"
        f"var lookup=[{table}];\n"
        "document.addEventListener('DOMContentLoaded',function(){document.body.dataset.ready='1';});\n"
    ).encode()


def _page(host: str, target: str) -> bytes | None:
    for visit in VISITS:
        wire = urlsplit(visit.wire_url)
        if wire.netloc == host and (wire.path + (f"?{wire.query}" if wire.query else "")) == target:
            tags = "\n".join(
                f'<script src="{r.url}"></script>'
                if r.kind == "script"
                else f'<link rel="stylesheet" href="{r.url}">'
                if r.kind == "stylesheet"
                else f'<img src="{html.escape(r.url)}" alt="">'
                for r in visit.resources
            )
            paragraphs = "\n".join(f"<p>Paragraph {i} of {html.escape(visit.title)}.</p>" for i in range(40))
            return (
                f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n'
                f"<title>{html.escape(visit.title)}</title>\n{tags}\n</head>\n"
                f"<body><h1>{html.escape(visit.title)}</h1>\n{paragraphs}\n</body></html>\n"
            ).encode()
    return None


def respond(request: Request) -> Response:
    """The response of the lab's server for ``request``."""
    host, path = request.host, request.path
    bare = path.split("?")[0]
    if host == "sa.api.intl.miui.com" and request.method == "POST" and bare == "/sa":
        return Response(200, [*_SERVER, ("content-type", "text/plain;charset=utf-8")], b"")
    if host == "cdn.example-cdn.com":
        if bare == "/js/app.js":
            return Response(200, [*_SERVER, ("content-type", "application/javascript")], _script(), gzip_body=True)
        if bare == "/css/site.css":
            css = b"body{font-family:sans-serif;margin:0 auto;max-width:40em}h1{font-size:1.6em}\n"
            return Response(200, [*_SERVER, ("content-type", "text/css")], css, gzip_body=True)
        if bare == "/img/product-1234.png":
            return Response(200, [*_SERVER, ("content-type", "image/png")], png_image(48, 32, "product-1234"))
    if host == "tag.example-ads.com":
        if bare == "/tag.js":
            script = (
                b"(function(){var i=new Image();i.src='https://tag.example-ads.com/collect?v=1&dl='"
                b"+encodeURIComponent(location.href);})();\n"
            )
            return Response(200, [*_SERVER, ("content-type", "application/javascript")], script, gzip_body=True)
        if bare == "/collect":
            return Response(
                200, [*_SERVER, ("content-type", "image/gif"), ("cache-control", "no-store")], TRANSPARENT_GIF
            )
    page = _page(host, path)
    if page is not None and request.method == "GET":
        return Response(200, [*_SERVER, ("content-type", "text/html; charset=utf-8")], page, gzip_body=True)
    return Response(404, [*_SERVER, ("content-type", "text/plain")], b"not found\n")

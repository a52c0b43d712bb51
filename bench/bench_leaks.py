"""Benchmark of leak detection: 1,000 visited URLs and 20 identifiers against ~100 MB of requests.

Writes a deterministic HAR of realistic outgoing traffic to ``bench/out/bench_leaks.har`` (analytics
batches as form-encoded base64 gzip JSON, JSON event posts, gzip-compressed JSON, ad pixels with
the page in the query, cookies and Referer headers, protobuf uploads, multipart forms), loads it
with :func:`toolkit.load`, then measures in the same run:

* ``find_leaks`` end to end (needle expansion, index build, unwrapping, search, table): MB/s of
  request payload (URL + headers + body) and peak memory (max RSS of the process), in one process
  (``workers=1``) and with ``workers=2`` (forked; the table must be identical), each in a fresh
  interpreter so that each peak is its own. Wall and CPU seconds (workers included) are both
  reported: on a shared machine the wall clock also measures the neighbours;
* the unwrapping alone, and the search engines alone over the texts ``find_leaks`` searches
  (ahocorasick_rs, pyahocorasick);
* the reference: a naive ``form in text`` loop over the same needle forms and the same texts,
  timed on a slice of the texts (it would take an hour on all of them) and reported as MB/s.

Run: ``.venv/bin/python bench/bench_leaks.py [--mb 100] [--profile-mb 10]``. Prints a table and
writes ``bench/out/bench_leaks.json`` (and, with ``--profile-mb``, a cProfile summary of a serial
``find_leaks`` over the first requests up to that many MB to ``bench/out/bench_leaks_profile.txt``).
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import gzip
import io
import json
import pstats
import random
import resource
import string
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

import toolkit  # noqa: E402
from toolkit.leaks.detect import NeedleIndex, find_leaks  # noqa: E402
from toolkit.leaks.needles import all_needles, parse_identifiers  # noqa: E402
from toolkit.leaks.search import available_engines, build_matcher  # noqa: E402
from toolkit.leaks.unwrap import unwrap_request  # noqa: E402

OUT = ROOT / "bench" / "out"
WORDS = [
    "the",
    "of",
    "and",
    "news",
    "shop",
    "cart",
    "search",
    "item",
    "price",
    "story",
    "world",
    "local",
    "sport",
    "video",
    "weather",
    "health",
    "travel",
    "recipe",
    "review",
    "login",
    "account",
    "settings",
    "home",
    "page",
    "article",
    "comment",
    "share",
    "like",
    "follow",
]


def _rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def _cpu_s(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


class Generator:
    """Deterministic traffic with a few planted leaks."""

    def __init__(self, seed: int = 2020) -> None:
        self.rng = random.Random(seed)
        self.sites = [f"www.{self.word()}-{self.token(5)}.com" for _ in range(200)]
        self.visited = [self.url() for _ in range(1000)]
        self.ids = {f"id_{i}": self.token(16, string.hexdigits.lower()) for i in range(20)}
        self.planted = 0

    def word(self) -> str:
        return self.rng.choice(WORDS)

    def token(self, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
        return "".join(self.rng.choices(alphabet, k=n))

    def url(self) -> str:
        path = "/".join(self.word() for _ in range(self.rng.randint(1, 4)))
        url = f"https://{self.rng.choice(self.sites)}/{path}/{self.token(8)}.html"
        if self.rng.random() < 0.4:
            url += "?q=" + "+".join(self.word() for _ in range(3))
        return url

    def page(self) -> str:
        """A visited URL 2% of the time (a planted leak), otherwise an unvisited one."""
        if self.rng.random() < 0.02:
            self.planted += 1
            return self.rng.choice(self.visited)
        return self.url()

    def event(self) -> dict[str, Any]:
        return {
            "event": self.rng.choice(["page_view", "click", "scroll", "impression"]),
            "time": 1588237200000 + self.rng.randrange(10**7),
            "distinct_id": self.token(36, string.hexdigits.lower() + "-"),
            "properties": {
                "url": self.page(),
                "title": " ".join(self.word() for _ in range(self.rng.randint(3, 9))),
                "$device_id": self.rng.choice(list(self.ids.values())) if self.rng.random() < 0.05 else self.token(16),
                "screen": [1080, 2340],
                "items": [
                    {"sku": self.token(10), "price": self.rng.random() * 100} for _ in range(self.rng.randint(0, 5))
                ],
            },
        }

    def entry(self, index: int) -> dict[str, Any]:
        kind = self.rng.choices(["sensors", "json", "gzip_json", "pixel", "protobuf", "multipart"], [3, 4, 2, 3, 1, 1])[
            0
        ]
        headers = [
            {"name": "user-agent", "value": "Mozilla/5.0 (Linux; Android 10) Bench/1.0"},
            {"name": "cookie", "value": f"sid={self.token(24)}; uid={self.token(16)}; pref=lang%3Den"},
        ]
        if self.rng.random() < 0.5:
            headers.append({"name": "referer", "value": self.page()})
        url = f"https://collector{self.rng.randrange(5)}.tracker-bench.net/v1/{kind}"
        post: dict[str, Any] | None = None
        if kind == "sensors":
            events = [self.event() for _ in range(self.rng.randint(5, 40))]
            data = base64.b64encode(gzip.compress(json.dumps(events).encode(), mtime=0)).decode()
            post = {
                "mimeType": "application/x-www-form-urlencoded",
                "text": urlencode({"crc": self.rng.randrange(10**9), "gzip": 1, "data_list": data}, quote_via=quote),
            }
        elif kind == "json":
            post = {
                "mimeType": "application/json",
                "text": json.dumps({"batch": [self.event() for _ in range(self.rng.randint(5, 60))]}),
            }
        elif kind == "gzip_json":
            body = gzip.compress(json.dumps([self.event() for _ in range(self.rng.randint(5, 60))]).encode(), mtime=0)
            post = {
                "mimeType": "application/octet-stream",
                "text": base64.b64encode(body).decode(),
                "encoding": "base64",
            }
        elif kind == "pixel":
            url += "?" + urlencode(
                {
                    "dl": self.page(),
                    "cid": f"{self.rng.randrange(10**3)}.{self.rng.randrange(10**10)}",
                    "ev": "pageview",
                    "ts": self.rng.randrange(10**12),
                    "sr": "1080x2340",
                }
            )
        elif kind == "protobuf":
            fields = b""
            for _ in range(self.rng.randint(20, 200)):
                text = self.page().encode() if self.rng.random() < 0.3 else self.token(self.rng.randint(4, 60)).encode()
                fields += b"\x0a" + _varint(len(text)) + text + b"\x10" + _varint(self.rng.randrange(10**6))
            post = {
                "mimeType": "application/x-protobuf",
                "text": base64.b64encode(fields).decode(),
                "encoding": "base64",
            }
        else:
            boundary = self.token(16)
            part = json.dumps(self.event())
            text = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="meta"\r\n\r\n{part}\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="log"\r\n\r\n'
                + " ".join(self.word() for _ in range(self.rng.randint(50, 2000)))
                + f"\r\n--{boundary}--\r\n"
            )
            post = {"mimeType": f"multipart/form-data; boundary={boundary}", "text": text}
        request: dict[str, Any] = {
            "method": "POST" if post else "GET",
            "url": url,
            "httpVersion": "HTTP/1.1",
            "headers": headers,
            "cookies": [],
            "queryString": [],
            "headersSize": -1,
            "bodySize": -1,
        }
        if post:
            request["postData"] = post
        return {
            "startedDateTime": f"2020-04-30T09:{index // 6000 % 60:02d}:{index // 100 % 60:02d}.{index % 100:02d}0Z",
            "time": 1,
            "request": request,
            "response": {
                "status": 204,
                "statusText": "",
                "httpVersion": "HTTP/1.1",
                "headers": [],
                "cookies": [],
                "content": {"size": 0, "mimeType": "text/plain"},
                "redirectURL": "",
                "headersSize": -1,
                "bodySize": 0,
            },
            "cache": {},
            "timings": {"send": 0, "wait": 1, "receive": 0},
        }


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def write_har(path: Path, megabytes: float, generator: Generator) -> None:
    target = int(megabytes * 1_000_000)
    written = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        out.write('{"log": {"version": "1.2", "creator": {"name": "bench_leaks", "version": "1"}, "entries": [\n')
        index = 0
        while written < target:
            text = json.dumps(generator.entry(index))
            out.write(("," if index else "") + text + "\n")
            written += len(text)
            index += 1
        out.write("]}}\n")


def payload_bytes(requests: Any) -> int:
    total = 0
    for url, headers, body in zip(requests.url, requests.request_headers, requests.body, strict=True):
        total += len(str(url)) + sum(len(str(n)) + len(str(v)) for n, v in headers or [])
        total += len(body) if isinstance(body, bytes) else 0
    return total


def _digest(table: pd.DataFrame) -> int:
    """A fingerprint of a table's values, row order included."""
    as_text = pd.DataFrame({name: table[name].astype(str) for name in table.columns})
    return int(pd.util.hash_pandas_object(as_text, index=True).sum())


def _profile(requests: Any, generator: Generator, identifiers: list[str], megabytes: float) -> Path:
    """cProfile of a serial ``find_leaks`` over the first requests holding ``megabytes`` of payload."""
    sizes = [
        len(str(url)) + (len(body) if isinstance(body, bytes) else 0)
        for url, body in zip(requests.url, requests.body, strict=True)
    ]
    total, count = 0, 0
    while count < len(sizes) and total < megabytes * 1e6:
        total += sizes[count]
        count += 1
    profiler = cProfile.Profile()
    profiler.enable()
    find_leaks(requests.iloc[:count], visited=generator.visited, identifiers=identifiers)
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(30)
    path = OUT / "bench_leaks_profile.txt"
    path.write_text(
        f"find_leaks over the first {count} requests ({total / 1e6:.1f} MB), serial, under cProfile\n" + text.getvalue()
    )
    return path


def _find_leaks_in_a_process(har: Path, workers: int) -> dict[str, Any]:
    """Run ``--find-leaks-only`` in a fresh interpreter: load the HAR, time find_leaks, report."""
    import subprocess

    command = [sys.executable, __file__, "--find-leaks-only", str(har), "--workers", str(workers)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.splitlines()[-1])


def _find_leaks_only(har: Path, workers: int) -> None:
    """The measured run of one find_leaks call (after loading the HAR), as one JSON line."""
    generator = Generator()
    requests = toolkit.load(har).requests
    identifiers = [f"{k}={v}" for k, v in generator.ids.items()]
    started, cpu, cpu_children = time.perf_counter(), _cpu_s(), _cpu_s(resource.RUSAGE_CHILDREN)
    leaks = find_leaks(requests, visited=generator.visited, identifiers=identifiers, workers=workers)
    wall = time.perf_counter() - started
    cpu = _cpu_s() - cpu + _cpu_s(resource.RUSAGE_CHILDREN) - cpu_children
    print(
        json.dumps(
            {
                "wall_s": wall,
                "cpu_s": cpu,
                "rss_mb": _rss_mb(),
                "worker_rss_mb": _rss_mb(resource.RUSAGE_CHILDREN),
                "leak_rows": len(leaks),
                "digest": _digest(leaks),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=100.0, help="request payload to generate (MB)")
    parser.add_argument("--naive-mb", type=float, default=0.3, help="slice of texts for the naive reference (MB)")
    parser.add_argument("--profile-mb", type=float, default=0.0, help="cProfile find_leaks on this many MB (0: no)")
    parser.add_argument("--find-leaks-only", type=Path, help=argparse.SUPPRESS)  # one measured run (internal)
    parser.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.find_leaks_only:
        _find_leaks_only(args.find_leaks_only, args.workers)
        return

    generator = Generator()
    har = OUT / "bench_leaks.har"
    started = time.perf_counter()
    write_har(har, args.mb * 1.15, generator)
    generated = time.perf_counter() - started

    started = time.perf_counter()
    capture = toolkit.load(har)
    loaded = time.perf_counter() - started
    requests = capture.requests
    size = payload_bytes(requests)
    rss_loaded = _rss_mb()

    identifiers = [f"{k}={v}" for k, v in generator.ids.items()]
    # Each find_leaks run in a fresh process of its own, so that its peak memory is its own.
    serial, parallel = _find_leaks_in_a_process(har, 1), _find_leaks_in_a_process(har, 2)
    if (parallel["leak_rows"], parallel["digest"]) != (serial["leak_rows"], serial["digest"]):
        raise SystemExit("find_leaks(workers=2) differs from find_leaks(workers=1)")
    end_to_end, parallel_s = serial["wall_s"], parallel["wall_s"]

    # The parts, for the engines and the reference: needles, index, unwrapped texts.
    needles = all_needles(generator.visited, parse_identifiers(identifiers))
    started = time.perf_counter()
    index = NeedleIndex(needles)
    index_build = time.perf_counter() - started
    started, cpu = time.perf_counter(), _cpu_s()
    texts: list[bytes] = []  # the texts find_leaks searches (a covered text is a slice of one placed before it)
    covered_bytes = 0
    for row in requests.itertuples(index=False):
        for text in unwrap_request(
            url=row.url, headers=row.request_headers, body=row.body, content_type=row.content_type, cookies=row.cookies
        ):
            if text.covered:
                covered_bytes += len(text.data)
            else:
                texts.append(text.data)
    unwrapped, unwrapped_cpu = time.perf_counter() - started, _cpu_s() - cpu
    text_bytes = sum(map(len, texts))
    forms = [p.data for group in index.patterns for p in group]

    engines: dict[str, dict[str, float]] = {}
    keys = list({f[-NeedleIndex.KEY_BYTES :]: None for f in forms})
    for engine in available_engines():
        if engine == "naive":
            continue
        started = time.perf_counter()
        matcher = build_matcher(keys, engine)
        built = time.perf_counter() - started
        started = time.perf_counter()
        for text in texts:
            matcher.find(text)
        searched = time.perf_counter() - started
        engines[engine] = {"build_s": round(built, 2), "search_mb_s": round(text_bytes / 1e6 / searched, 1)}
        del matcher

    # Reference: `form in text` for every needle form, on a slice of the texts.
    budget, sliced = int(args.naive_mb * 1e6), []
    for text in texts[:: max(1, len(texts) // 2000)]:
        sliced.append(text)
        budget -= len(text)
        if budget <= 0:
            break
    started = time.perf_counter()
    naive_hits = 0
    for text in sliced:
        for form in forms:
            if form in text:
                naive_hits += 1
    naive_s = time.perf_counter() - started
    naive_mb_s = sum(map(len, sliced)) / 1e6 / naive_s

    results = {
        "machine_cpus": __import__("os").cpu_count(),
        "har_file_mb": round(har.stat().st_size / 1e6, 1),
        "requests": len(requests),
        "payload_mb": round(size / 1e6, 1),
        "searched_text_mb": round(text_bytes / 1e6, 1),
        "covered_text_mb": round(covered_bytes / 1e6, 1),
        "visited_urls": len(generator.visited),
        "identifiers": len(generator.ids),
        "needles": len(needles),
        "needle_forms": len(forms),
        "planted_pages": generator.planted,
        "leak_rows": serial["leak_rows"],
        "generate_s": round(generated, 1),
        "load_s": round(loaded, 1),
        "find_leaks_s": round(end_to_end, 2),
        "find_leaks_cpu_s": round(serial["cpu_s"], 2),
        "find_leaks_mb_s": round(size / 1e6 / end_to_end, 1),
        "find_leaks_2_workers_s": round(parallel_s, 2),
        "find_leaks_2_workers_cpu_s": round(parallel["cpu_s"], 2),
        "find_leaks_2_workers_mb_s": round(size / 1e6 / parallel_s, 1),
        "of_which_index_build_s": round(index_build, 2),
        "unwrap_only_s": round(unwrapped, 2),
        "unwrap_only_cpu_s": round(unwrapped_cpu, 2),
        "engines": engines,
        "naive_reference_mb_s": round(naive_mb_s, 3),
        "naive_slice_mb": round(sum(map(len, sliced)) / 1e6, 2),
        "speedup_vs_naive": round(size / 1e6 / end_to_end / naive_mb_s, 0),
        "speedup_vs_naive_2_workers": round(size / 1e6 / parallel_s / naive_mb_s, 0),
        "peak_rss_mb_after_load": round(rss_loaded, 0),
        "peak_rss_mb_after_find_leaks": round(serial["rss_mb"], 0),
        "peak_rss_mb_after_find_leaks_2_workers": round(parallel["rss_mb"], 0),
        "peak_rss_mb_largest_worker": round(parallel["worker_rss_mb"], 0),
    }
    if args.profile_mb:
        results["profile"] = str(_profile(requests, generator, identifiers, args.profile_mb))
    (OUT / "bench_leaks.json").write_text(json.dumps(results, indent=1) + "\n")
    width = max(map(len, results))
    for key, value in results.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()

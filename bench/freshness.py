"""Freshness of follow mode: how long after its publication a 7×24 flash is in MongoDB.

    python bench/freshness.py [--minutes 4] [--follow 10s] [--page-size 20] [--burst-every 60]
                              [--burst-size 25] [--uri URI] [--trace OUT]

A local 7×24-like listing (``getFastNewsList``'s shape, cursor pages, an ``ETag`` answered with
``304`` when unchanged) publishes one flash per second and, every ``--burst-every`` seconds, a
burst of ``--burst-size`` more at once, for ``--minutes``. ``scrapy crawl eastmoney_724 -a
follow=…`` follows it in a subprocess (``bench/follower.py``), storing into a MongoDB-protocol
server (``--uri``, else ``MONGO_URI``, else a FerretDB started by ``deploy/ferretdb.sh`` for the
run). The follower notes the moment each batch write returns, per article; the delay of a flash
is from the moment the listing first showed it to then. Nothing asks the server during the run:
on FerretDB any query scans the collection, and a watcher asking twice a second slowed the
follower it measured. After the last publication the follower gets three intervals to catch up,
then SIGTERM. ``--trace OUT`` writes :mod:`bench.memtrace`'s reports of the follower to ``OUT``
(tracing slows it: its delays then mean nothing).

Prints the median and 95th percentile delay (and the same from the stored ``first_seen_at``,
the fetch time), requests per stored story (every request the listing server answered, polls
included), the follower's peak RSS in its first and its last minute, and the run's status; last
line ``freshness: median_s=… p95_s=… requests_per_story=… rss_start_mb=… rss_end_mb=…``.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pymongo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.storage import ferretdb  # noqa: E402
from tests.mockserver import MockServer  # noqa: E402

CHINA = timezone(timedelta(hours=8))
DATABASE = "finews_bench_freshness"
HANZI = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提"  # noqa: E501


class FlashFeed:
    """Flashes published on a schedule from ``start`` (monotonic), newest first on request."""

    def __init__(self, seconds: float, burst_every: float, burst_size: int) -> None:
        times = [float(t) for t in range(int(seconds))]
        if burst_every > 0:
            for at in range(int(burst_every), int(seconds), int(burst_every)):
                times += [at + 0.5] * burst_size
        self.times = sorted(times)
        self.start = time.monotonic()
        self.wall = datetime.now(UTC)
        self.not_modified = 0
        self.lock = threading.Lock()

    def published(self) -> int:
        """How many flashes are out now."""
        return bisect.bisect_right(self.times, time.monotonic() - self.start)

    def code(self, n: int) -> str:
        """Flash ``n``'s 18-digit code."""
        return f"2026120399{n:08d}"

    def item(self, n: int) -> dict[str, Any]:
        """Flash ``n`` as the listing shows it (a text long enough to need no page)."""
        rng = random.Random(n)
        text = "".join(rng.choice(HANZI) for _ in range(150)) + "。"
        shown = (self.wall + timedelta(seconds=self.times[n - 1])).astimezone(CHINA)
        return {
            "code": self.code(n),
            "title": f"快讯{n}",
            "summary": f"【快讯{n}】{text}",
            "showTime": shown.strftime("%Y-%m-%d %H:%M:%S"),
            "realSort": str(10**12 + n),
            "stockList": [],
            "image": [],
        }

    def answer(self, path: str, headers: Any) -> tuple[int, dict[str, str], bytes]:
        """Answer a listing request (``sortEnd``, ``pageSize``), conditionally on ``ETag``."""
        query = parse_qs(urlsplit(path).query)
        published = self.published()
        etag = f'"{published}"'
        sort_end = query.get("sortEnd", [""])[0]
        if not sort_end and headers.get("If-None-Match") == etag:
            with self.lock:
                self.not_modified += 1
            return 304, {"ETag": etag}, b""
        size = int(query.get("pageSize", ["20"])[0])
        newest = published
        if sort_end:
            newest = min(published, int(sort_end) - 10**12 - 1)
        items = [self.item(n) for n in range(newest, max(0, newest - size), -1)]
        body = json.dumps({"code": 1, "data": {"fastNewsList": items}}, ensure_ascii=False)
        return 200, {"Content-Type": "application/json", "ETag": etag}, body.encode()


def rss_mb(pid: int) -> float | None:
    """The process's resident set now, in MB (None once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def percentile(values: list[float], share: float) -> float:
    """The ``share`` percentile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def follow(args: argparse.Namespace, uri: str) -> None:
    """Publish, follow, watch; print the figures."""
    feed = FlashFeed(args.minutes * 60, args.burst_every, args.burst_size)
    server = MockServer({"/comm/web/getFastNewsList": feed.answer}).start()
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(uri)
    client.drop_database(DATABASE)
    articles = client[DATABASE]["articles"]
    tmp = Path(tempfile.mkdtemp(prefix="finews-freshness-"))
    settings = {
        "NEWS_EASTMONEY_FAST_API": server.url("/comm/web/getFastNewsList"),
        "NEWS_MONGO_URI": uri,
        "NEWS_MONGO_DATABASE": DATABASE,
        "NEWS_SPOOL_DIR": str(tmp / "spool"),
        "NEWS_RUNS_FILE": str(tmp / "runs.jsonl"),
        "NEWS_RUNS_MONGO": "false",
        "LOG_FILE": str(tmp / "crawl.log"),
        "LOG_LEVEL": "INFO",
    }
    noted = tmp / "stored.txt"
    argv = [sys.executable, str(ROOT / "bench" / "follower.py"), str(noted)]
    argv += ["--trace", str(args.trace)] if args.trace else []
    argv += ["--", "crawl", "eastmoney_724"]
    argv += ["-a", f"follow={args.follow}", "-a", f"page_size={args.page_size}"]
    for name, value in settings.items():
        argv += ["-s", f"{name}={value}"]
    env = {**os.environ, "NEWS_MONGO_URI": uri}
    process = subprocess.Popen(argv, cwd=ROOT, env=env)
    rss: list[tuple[float, float]] = []
    end = feed.start + args.minutes * 60 + 3 * args.interval
    while time.monotonic() < end and process.poll() is None:
        if (value := rss_mb(process.pid)) is not None:
            rss.append((time.monotonic() - feed.start, value))
        time.sleep(5)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=120)
    server.stop()
    total = len(server.requested)  # robots.txt included
    stored_at: dict[str, float] = {}
    for line in noted.read_text().splitlines() if noted.exists() else []:
        at, _, story = line.partition(" ")
        stored_at.setdefault(story.removeprefix("eastmoney:"), float(at))
    documents = {d["native_id"]: d for d in articles.find({}, {"native_id": 1, "first_seen_at": 1})}
    published = feed.published()
    delays, fetch_delays = [], []
    for n in range(1, published + 1):
        code = feed.code(n)
        if code in stored_at:
            delays.append(stored_at[code] - feed.wall.timestamp() - feed.times[n - 1])
        if code in documents:
            seen = documents[code]["first_seen_at"].replace(tzinfo=UTC)
            fetch_delays.append((seen - feed.wall).total_seconds() - feed.times[n - 1])
    records = [json.loads(line) for line in (tmp / "runs.jsonl").read_text().splitlines()]
    final = records[-1] if records else {}
    minute = 60.0
    first = max((v for t, v in rss if t <= minute), default=0.0)
    last = max((v for t, v in rss if t >= rss[-1][0] - minute), default=0.0) if rss else 0.0
    print(f"published {published} flashes in {args.minutes} min (bursts of {args.burst_size} "
          f"every {args.burst_every} s), followed with follow={args.follow}, "
          f"page_size={args.page_size}; stored {len(documents)} (missing "
          f"{published - len(documents)}); run {final.get('status')} "
          f"({final.get('finish_reason')}), {len(records) - 1} period records")  # fmt: skip
    print(f"delay publication→stored: median {statistics.median(delays):.1f} s, "
          f"p95 {percentile(delays, 0.95):.1f} s, max {max(delays):.1f} s")  # fmt: skip
    print(f"delay publication→first_seen_at (fetch): median {statistics.median(fetch_delays):.1f}"
          f" s, p95 {percentile(fetch_delays, 0.95):.1f} s")  # fmt: skip
    per_story = total / max(1, len(documents))
    print(f"requests {total} ({feed.not_modified} answered 304) for {len(documents)} "
          f"stories: {per_story:.3f} per story")  # fmt: skip
    print(f"RSS samples (every 5 s): {len(rss)}; peak first minute {first:.1f} MB, peak last "
          f"minute {last:.1f} MB")  # fmt: skip
    marks = {int(t // 300) * 5: v for t, v in rss}  # the last sample of each 5 minutes
    print("RSS by minute: " + ", ".join(f"{m}: {v:.1f} MB" for m, v in sorted(marks.items())))
    print(
        f"freshness: median_s={statistics.median(delays):.1f} p95_s={percentile(delays, 0.95):.1f}"
        f" requests_per_story={per_story:.3f} rss_start_mb={first:.1f} rss_end_mb={last:.1f}"
    )
    client.drop_database(DATABASE)
    client.close()


def main() -> None:
    """Read the arguments, find or start a server, run the bench."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--follow", default="10s")
    parser.add_argument("--page-size", type=int, default=20)
    parser.add_argument("--burst-every", type=float, default=60.0)
    parser.add_argument("--burst-size", type=int, default=25)
    parser.add_argument("--uri", default=os.environ.get("MONGO_URI"))
    parser.add_argument("--trace", type=Path, help="trace the follower's memory into this file")
    args = parser.parse_args()
    from crawler.follow import parse_interval

    args.interval = parse_interval(args.follow)
    if args.uri:
        follow(args, args.uri)
        return
    with ferretdb() as server:
        if server is None:
            sys.exit("no server: give --uri or MONGO_URI, or install Go for FerretDB")
        follow(args, server.uri)


if __name__ == "__main__":
    main()

"""Workers of a batch: throughput with 1, 2 and 4 workers on one local site (run by hand).

    python bench/distributed.py [--articles 600] [--workers 1 2 4] [--uri URI] [--no-storage]
                                [--delay-workers 1 4] [--delay 0.02]

Starts its own Redis (``redis-server``, loopback, no persistence) and, unless ``--uri`` or
``MONGO_URI`` names a server, a FerretDB server (``deploy/ferretdb.sh``); serves the site of the
distributed tests (``tests/distributed/workers.py``: three listings, ``--articles`` small article
pages, no download delay) from this process; then, for each worker count, one batch of that many
``scrapy crawl site`` workers into a fresh database, then the same without storage. Per
configuration: pages/s and items/s over the batch's own span (earliest worker start to latest
finish, from the batch record) and over the wall clock (process start-up included), the workers'
CPU seconds, and whether every article was fetched once.

Then the shared limiter: the same site with ``download_delay = --delay`` for 1 and 4 workers
(``--delay-workers``), storage off; with the limiter the site sees about ``1/delay`` pages/s
whatever the number of workers.

Last line: ``distributed: items_per_s_1=A items_per_s_2=B items_per_s_4=C`` (with storage).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.distributed.conftest import free_port  # noqa: E402
from tests.distributed.workers import build_site, finish, run_records, start_worker  # noqa: E402
from tests.mockserver import MockServer  # noqa: E402

FERRETDB = ROOT / "deploy" / "ferretdb.sh"


def start_redis(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start a loopback Redis without persistence; return it and its URL."""
    import redis

    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
         "--appendonly", "no", "--dir", str(directory), "--loglevel", "warning"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(200):
        try:
            client.ping()
            return server, url
        except redis.ConnectionError:
            time.sleep(0.05)
    raise SystemExit("redis-server did not start")


def cpu_of_children() -> float:
    """CPU seconds (user + system) of the children reaped so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_batch(
    site: MockServer,
    toml: str,
    articles: list[str],
    workers: int,
    redis_url: str,
    mongo_uri: str,
    work: Path,
) -> dict[str, Any]:
    """Run one batch of ``workers`` workers; return its figures."""
    run_dir = work / uuid.uuid4().hex[:8]
    run_dir.mkdir()
    (run_dir / "sources.toml").write_text(toml, "utf-8")
    database = f"finews_bench_dist_{run_dir.name}"
    site.requested.clear()
    cpu_before = cpu_of_children()
    started = time.monotonic()
    processes = [
        start_worker(run_dir, redis_url, mongo_uri, database, f"bench-{run_dir.name}",
                     NEWS_REDIS_LEASE_SECONDS="30")
        for _ in range(workers)
    ]  # fmt: skip
    outcomes = finish(processes, timeout=1800)
    wall = time.monotonic() - started
    cpu = cpu_of_children() - cpu_before
    failed = [log[-2000:] for status, log in outcomes if status]
    if failed:
        raise SystemExit(f"a worker failed:\n{failed[0]}")
    (summary,) = [r for r in run_records(run_dir) if r.get("kind") == "batch"]
    if mongo_uri:
        import pymongo

        client: Any = pymongo.MongoClient(mongo_uri)
        client.drop_database(database)
        client.close()
    asked = Counter(site.key(path) for path in site.requested)
    pages = sum(count for path, count in asked.items() if path != "/robots.txt")
    items = summary["items"]["scraped"]
    span = summary["elapsed_s"]
    return {
        "workers": workers,
        "pages": pages,
        "items": items,
        "span_s": span,
        "wall_s": wall,
        "pages_per_s": pages / span,
        "items_per_s": items / span,
        "wall_items_per_s": items / wall,
        "cpu_s": cpu,
        "each_article_once": all(asked[path] == 1 for path in articles),
    }


def show(label: str, figures: dict[str, Any]) -> None:
    """Print one configuration's line."""
    print(
        f"{label} workers={figures['workers']}: pages/s={figures['pages_per_s']:.1f} "
        f"items/s={figures['items_per_s']:.1f} (wall clock {figures['wall_items_per_s']:.1f}, "
        f"{figures['wall_s']:.1f} s) span={figures['span_s']:.1f} s "
        f"cpu={figures['cpu_s']:.1f} s pages={figures['pages']} items={figures['items']} "
        f"each_article_once={figures['each_article_once']}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=600)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2, 4])
    parser.add_argument("--uri", default=os.environ.get("MONGO_URI", ""))
    parser.add_argument("--no-storage", action="store_true", help="only the runs without storage")
    parser.add_argument("--delay", type=float, default=0.02)
    parser.add_argument("--delay-workers", type=int, nargs="*", default=[1, 4])
    args = parser.parse_args()
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not installed")
    work = Path(tempfile.mkdtemp(prefix="finews-bench-dist-"))
    redis_server, redis_url = start_redis(work)
    ferret: Path | None = None
    uri = args.uri
    try:
        if not uri and not args.no_storage:
            ferret = work / "ferretdb"
            started = subprocess.run(
                [FERRETDB, "start", str(ferret)], capture_output=True, text=True, check=True
            )
            uri = started.stdout.strip().splitlines()[-1]
        print(f"{os.cpu_count()} cores; {args.articles} articles; Redis {redis_url}", flush=True)
        stored: dict[int, float] = {}
        with MockServer() as site:
            toml, _, articles = build_site(site, args.articles)
            if not args.no_storage:
                for workers in args.workers:
                    figures = one_batch(site, toml, articles, workers, redis_url, uri, work)
                    show("storage", figures)
                    stored[workers] = figures["items_per_s"]
            for workers in args.workers:
                show("no-storage", one_batch(site, toml, articles, workers, redis_url, "", work))
        with MockServer() as site:
            toml, _, articles = build_site(site, args.articles, delay=args.delay, concurrency=1)
            for workers in args.delay_workers:
                figures = one_batch(site, toml, articles, workers, redis_url, "", work)
                show(f"delay={args.delay}", figures)
        print(
            "distributed: "
            + " ".join(f"items_per_s_{n}={rate:.1f}" for n, rate in sorted(stored.items()))
        )
    finally:
        if ferret is not None:
            subprocess.run([FERRETDB, "stop", str(ferret)], check=False)
        redis_server.terminate()
        redis_server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

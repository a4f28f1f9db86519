"""Crawl throughput against plain Scrapy, and memory at scale (run by hand).

    python bench/crawl.py [--sizes 2000 20000] [--repeat 3] [--mongomock-max 2000]
                           [--server-max 2000] [--uri URI] [--concurrency 32]

For each size N it starts ``bench/site.py`` (its own process) with N articles and crawls it,
each configuration in a fresh process so that peak RSS is that configuration's:

- (a) ``bare``: a plain Scrapy spider (Scrapy's defaults but for the shared settings below,
  ``CONCURRENT_ITEMS=4`` included) reading the same listing JSON,
  requesting the same article pages and yielding ``{"url", "html"}``;
- (b) ``pipelines``: the ``eastmoney`` spider with the project's settings and every pipeline,
  storage off (``NEWS_MONGO_URI=""``);
- (c) ``mongomock``: the same with storage into mongomock, then a second crawl of the same site
  in the same process with everything stored (it should fetch listing pages only). mongomock
  has no indexes: each listing page's known-id query and each batch's duplicate lookup scan the
  whole collection, so (c) runs only for N up to ``--mongomock-max``;
- (d) ``mongodb``: as (c) against a real MongoDB-protocol server (database
  ``finews_bench_crawl``, dropped before and after): ``--uri``, else ``MONGO_URI``, else a
  FerretDB server that ``deploy/ferretdb.sh`` starts for the run and stops after it (skipped
  when it cannot, without Go). FerretDB's SQLite backend answers every query but an ``_id``
  lookup by scanning the collection, so (d) runs only for N up to ``--server-max``. Besides the
  common figures it prints the articles stored per second, the server's CPU seconds per item
  (a server this run started) and, last, ``(d)/(b)``: its pages/s over (b)'s in the same run.

``--set NAME=VALUE`` puts a setting over the project's in (b)-(d) (a candidate default); with
``--set-bare`` in (a) too. ``--freeze-bare`` gives (a) the project's ``FreezeStartupHeap``
extension (``crawler/extensions/gcfreeze.py``), to see how much of (b)'s lead over plain Scrapy
it makes.

Every configuration runs with AutoThrottle off, no download delay, robots.txt off, no retry
backoff, no HTTP cache and the same concurrency. Each runs ``--repeat`` times (default 3), in
rounds of every configuration, and its fastest run is reported, as ``timeit`` takes the
minimum: on a shared machine the fastest run is the one the rest of the machine disturbed
least. Per configuration it prints pages/s, items/s, CPU seconds per item (crawler process,
spider open to close), peak RSS (the largest of its runs), the site's own CPU seconds, and
every run's pages/s.
Last line: ``crawl: ratio_b_a=R items_per_s_b=N peak_rss_mb_20k=M ratio_d_b=D`` (ratios of
pages/s, (b)/(a) at the largest size, (d)/(b) at the largest size (d) ran; RSS of (b) at the
largest size).

Time on a shared machine varies from run to run; ``--instructions --sizes 1000 3000`` counts
instead, under callgrind, the instructions (a) and (b) execute per article, which do not.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from scrapy.crawler import Crawler, CrawlerProcess
    from scrapy.http import Response

    from bench.storage import Server

COLUMN = 345
PAGE_SIZE = 100
BENCH_DATABASE = "finews_bench_crawl"
CONFIGS = ("bare", "pipelines", "mongomock", "mongodb")
LABELS = {"bare": "(a)", "pipelines": "(b)", "mongomock": "(c)", "mongodb": "(d)"}


def fair_settings(concurrency: int) -> dict[str, Any]:
    """Settings every configuration shares, so throughput is comparable."""
    return {
        "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_DELAY": 0,
        "ROBOTSTXT_OBEY": False,
        "CONCURRENT_REQUESTS": concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        # The project's own default (Scrapy's 100 costs a third of the CPU); (a) gets it too.
        "CONCURRENT_ITEMS": 4,
        "NEWS_RETRY_BACKOFF_BASE": 0,
        "HTTPCACHE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
    }


# --- worker: one configuration's crawl, in its own process ----------------------------------------


def bare_spider_class() -> type:
    """Return the plain Scrapy spider of configuration (a)."""
    import scrapy

    class BareSpider(scrapy.Spider):
        name = "bare"

        def __init__(self, api: str, pages: int, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.api = api
            self.pages = pages

        async def start(self) -> AsyncIterator[scrapy.Request]:
            yield self.listing(1)

        def listing(self, page_index: int) -> scrapy.Request:
            url = f"{self.api}?column={COLUMN}&page_index={page_index}&page_size={PAGE_SIZE}"
            return scrapy.Request(url, self.parse_listing, cb_kwargs={"page_index": page_index})

        def parse_listing(self, response: Response, page_index: int) -> Iterator[scrapy.Request]:
            records = json.loads(response.text)["data"]["list"]
            for record in records:
                yield scrapy.Request(record["url"], self.parse_article, dont_filter=True)
            if records and page_index < self.pages:
                yield self.listing(page_index + 1)

        def parse_article(self, response: Response) -> Iterator[dict[str, str]]:
            yield {"url": response.url, "html": response.text}

    return BareSpider


class Meter:
    """Measure one crawl: wall and CPU time from spider open to close, responses by kind."""

    def __init__(self, crawler: Crawler) -> None:
        from scrapy import signals

        self.crawler = crawler
        self.responses: Counter[str] = Counter()
        self.wall = self.cpu = 0.0
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)
        crawler.signals.connect(self.received, signal=signals.response_received)

    def opened(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def closed(self) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu

    def received(self, response: Response) -> None:
        self.responses["article" if "/a/" in response.url else "listing"] += 1

    def result(self) -> dict[str, Any]:
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        store = {k.rsplit("/", 1)[1]: v for k, v in stats.items() if k.startswith("news/store/")}
        return {
            "wall_s": self.wall,
            "cpu_s": self.cpu,
            "responses": dict(self.responses),
            "items": stats.get("item_scraped_count", 0),
            "dropped": {
                k.rsplit("/", 1)[1]: v for k, v in stats.items() if k.startswith("news/dropped/")
            },
            "finish_reason": stats.get("finish_reason"),
            "store": store,
        }


def crawl_settings(config: str, concurrency: int) -> dict[str, Any]:
    """Return the settings of one configuration (over Scrapy's or the project's)."""
    settings = fair_settings(concurrency)
    if config == "bare":
        return settings
    if config == "pipelines":
        settings["NEWS_MONGO_URI"] = ""
    elif config == "mongomock":
        settings["NEWS_MONGO_URI"] = "mongodb://bench.invalid:27017"
        settings["NEWS_MONGO_DATABASE"] = BENCH_DATABASE
        settings["NEWS_MONGO_VALIDATOR"] = "0"  # mongomock cannot create a validated collection
    else:
        settings["NEWS_MONGO_URI"] = os.environ["MONGO_URI"]
        settings["NEWS_MONGO_DATABASE"] = BENCH_DATABASE
    settings["NEWS_SPOOL_DIR"] = str(ROOT / "bench" / "out" / "spool")
    return settings


def run_worker(
    config: str,
    site: str,
    articles: int,
    concurrency: int,
    overrides: dict[str, str],
    bare_too: bool = False,
    freeze_bare: bool = False,
) -> dict[str, Any]:
    """Run configuration ``config`` (and for storage a second crawl); return its figures."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings
    from scrapy.utils.project import get_project_settings

    pages = -(-articles // PAGE_SIZE)
    api = f"{site}/comm/web/getNewsByColumns"
    if config == "bare":
        settings = Settings()
        if freeze_bare:
            settings.set("EXTENSIONS", {"crawler.extensions.gcfreeze.FreezeStartupHeap": 0})
    else:
        settings = get_project_settings()
        settings.set("NEWS_EASTMONEY_COLUMN_API", api, priority="cmdline")
        settings.set("NEWS_EASTMONEY_ARTICLE_URL", f"{site}/a/{{code}}.html", priority="cmdline")
    settings.setdict(crawl_settings(config, concurrency), priority="cmdline")
    if config != "bare" or bare_too:
        settings.setdict(overrides, priority="cmdline")
    # Every configuration logs as `scrapy crawl` does: Scrapy's root handler, at LOG_LEVEL.
    settings.set("LOG_INSTALL_ROOT_HANDLER", True, priority="cmdline")
    process = CrawlerProcess(settings)
    crawls = 2 if config in ("mongomock", "mongodb") else 1
    if config == "mongomock":
        import mongomock

        patch_mongomock_bulk()
        with mongomock.patch(servers=(settings["NEWS_MONGO_URI"],), on_new="create"):
            meters = run_crawls(process, config, api, pages, crawls)
    else:
        if config == "mongodb":
            drop_bench_database()
        try:
            meters = run_crawls(process, config, api, pages, crawls)
        finally:
            if config == "mongodb":
                drop_bench_database()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"runs": [m.result() for m in meters], "peak_rss_mb": peak}


def run_crawls(
    process: CrawlerProcess, config: str, api: str, pages: int, crawls: int
) -> list[Meter]:
    """Run ``crawls`` crawls one after the other in ``process``; return their meters."""
    from scrapy.utils.reactor import install_reactor, is_reactor_installed

    if not is_reactor_installed():
        install_reactor(fair_settings(0)["TWISTED_REACTOR"])
    from twisted.internet import defer
    from twisted.internet import reactor as installed

    reactor: Any = installed  # the installed reactor's type is only known at run time

    meters: list[Meter] = []
    errors: list[Any] = []
    spider: Any = bare_spider_class() if config == "bare" else "eastmoney"
    args: dict[str, Any] = (
        {"api": api, "pages": pages}
        if config == "bare"
        else {"columns": str(COLUMN), "page_size": PAGE_SIZE, "pages": pages}
    )

    @defer.inlineCallbacks
    def sequence() -> Any:
        try:
            for _ in range(crawls):
                crawler = process.create_crawler(spider)
                meters.append(Meter(crawler))
                yield process.crawl(crawler, **args)
        except Exception as error:  # report it after the reactor stops
            errors.append(error)
        finally:
            reactor.stop()

    reactor.callWhenRunning(sequence)
    process.start(stop_after_crawl=False)
    if errors:
        raise errors[0]
    return meters


def patch_mongomock_bulk() -> None:
    """Let mongomock 4.3 take pymongo 4.11's ``UpdateOne(sort=)`` in bulk writes."""
    from mongomock.collection import BulkOperationBuilder

    original = BulkOperationBuilder.add_update
    BulkOperationBuilder.add_update = lambda self, *a, sort=None, **k: original(self, *a, **k)  # type: ignore[method-assign]


def drop_bench_database() -> None:
    """Drop the benchmark's database on the real server."""
    import pymongo

    client: Any = pymongo.MongoClient(os.environ["MONGO_URI"])
    client.drop_database(BENCH_DATABASE)
    client.close()


# --- driver: the site, the configurations, the report ---------------------------------------------


class SiteProcess:
    """``bench/site.py`` in a subprocess."""

    def __init__(self, articles: int, seed: int) -> None:
        command = [sys.executable, str(ROOT / "bench" / "site.py"), f"--articles={articles}"]
        self.process = subprocess.Popen(
            [*command, f"--seed={seed}"], stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        self.banner = self.process.stdout.readline().strip()
        fields = dict(part.split("=", 1) for part in self.banner.split()[1:])
        self.url = f"http://127.0.0.1:{fields['port']}"

    def stats(self, reset: bool = False) -> dict[str, Any]:
        """Return the requests served by kind and the site's CPU seconds."""
        url = f"{self.url}/_bench/stats" + ("?reset=1" if reset else "")
        with urllib.request.urlopen(url) as answer:
            return json.loads(answer.read())

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


def run_config(
    site: SiteProcess,
    config: str,
    articles: int,
    concurrency: int,
    overrides: list[str],
    bare_too: bool = False,
    freeze_bare: bool = False,
    server: Server | None = None,
) -> dict[str, Any]:
    """Run one configuration in a fresh process; return its figures, the site's CPU and, for
    (d) on a server this run started, the server's."""
    before = site.stats(reset=True)
    server_before = server.cpu_s() if server and config == "mongodb" else None
    command = [sys.executable, __file__, "--worker", config, "--site", site.url]
    command += [f"--articles={articles}", f"--concurrency={concurrency}"]
    command += [f"--set={override}" for override in overrides]
    command += ["--set-bare"] if bare_too else []
    command += ["--freeze-bare"] if freeze_bare else []
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        sys.exit(f"{config} crawl failed:\n{done.stderr[-4000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    after = site.stats()
    figures["site_cpu_s"] = after["cpu_s"] - before["cpu_s"]
    figures["site_requests"] = {k: v for k, v in after.items() if k != "cpu_s"}
    if server and server_before is not None:
        figures["server_cpu_s"] = (server.cpu_s() or 0) - server_before
    return figures


def pages_per_s(figures: dict[str, Any]) -> float:
    """Return the pages per second of a worker's first crawl."""
    first = figures["runs"][0]
    return sum(first["responses"].values()) / first["wall_s"]


def report(config: str, articles: int, repeats: list[dict[str, Any]]) -> dict[str, float]:
    """Print one configuration's lines from its fastest run (peak RSS: the largest of all
    runs); return its throughput figures."""
    figures = max(repeats, key=pages_per_s)
    first = figures["runs"][0]
    pages = sum(first["responses"].values())
    items = first["items"]
    wall, cpu = first["wall_s"], first["cpu_s"]
    line = {
        "pages_per_s": pages_per_s(figures),
        "items_per_s": items / wall,
        "cpu_ms_per_item": 1000 * cpu / max(items, 1),
        "peak_rss_mb": max(run["peak_rss_mb"] for run in repeats),
    }
    every = "/".join(f"{pages_per_s(run):.0f}" for run in repeats)
    print(
        f"{LABELS[config]} {config} n={articles}: pages={pages} items={items} "
        f"dropped={sum(first['dropped'].values())} "
        f"wall_s={wall:.1f} pages_per_s={line['pages_per_s']:.0f} "
        f"items_per_s={line['items_per_s']:.0f} cpu_ms_per_item={line['cpu_ms_per_item']:.2f} "
        f"peak_rss_mb={line['peak_rss_mb']:.0f} site_cpu_s={figures['site_cpu_s']:.1f} "
        f"finish={first['finish_reason']} runs_pages_per_s={every}",
        flush=True,
    )
    if first["dropped"]:
        reasons = " ".join(f"{k}={v}" for k, v in sorted(first["dropped"].items()))
        print(f"    dropped: {reasons}", flush=True)
    if first["store"]:
        stored = " ".join(f"{k}={v}" for k, v in sorted(first["store"].items()))
        print(f"    store: {stored}", flush=True)
    if config == "mongodb":
        inserted = first["store"].get("inserted", 0)
        server = figures.get("server_cpu_s")
        per_item = f"{1000 * server / max(items, 1):.2f}" if server is not None else "unknown"
        print(
            f"    stored_per_s={inserted / wall:.1f} server_cpu_ms_per_item={per_item} "
            "(server: both crawls)",
            flush=True,
        )
    if len(figures["runs"]) > 1:
        second = figures["runs"][1]
        asked = " ".join(f"{k}={v}" for k, v in sorted(second["responses"].items()))
        print(
            f"    second crawl, everything stored: requests {asked or 'none'} "
            f"items={second['items']} wall_s={second['wall_s']:.2f}",
            flush=True,
        )
    return line


def count_instructions(
    site: SiteProcess, config: str, articles: int, concurrency: int, freeze_bare: bool
) -> int:
    """Return the instructions one configuration's worker executes, counted by callgrind."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
        command += [sys.executable, __file__, "--worker", config, "--site", site.url]
        command += [f"--articles={articles}", f"--concurrency={concurrency}"]
        command += ["--freeze-bare"] if freeze_bare else []
        done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
        if done.returncode != 0:
            sys.exit(f"{config} crawl under callgrind failed:\n{done.stderr[-4000:]}")
        summary = next(line for line in out.read_text().splitlines() if line.startswith("summary:"))
        return int(summary.split()[1])


def report_instructions(sizes: list[int], seed: int, concurrency: int, freeze_bare: bool) -> None:
    """Print the instructions per article of (a) and (b): a figure that, unlike time, does not
    change with what else the machine is doing. The difference between two crawl sizes leaves
    out start-up and import costs."""
    low, high = sorted(sizes)[:2]
    site = SiteProcess(high, seed)
    try:
        per_article = {}
        for config in ("bare", "pipelines"):
            counts = [
                count_instructions(site, config, n, concurrency, freeze_bare) for n in (low, high)
            ]
            per_article[config] = (counts[1] - counts[0]) / (high - low)
            print(
                f"{LABELS[config]} {config}: {per_article[config] / 1e6:.2f} M instructions "
                f"per article (callgrind, n={low} and n={high})",
                flush=True,
            )
    finally:
        site.close()
    ratio = per_article["bare"] / per_article["pipelines"]
    print(f"instructions: ratio_a_b={ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--mongomock-max", type=int, default=2000)
    parser.add_argument(
        "--server-max", type=int, default=2000, help="largest N for (d) (FerretDB scans)"
    )
    parser.add_argument(
        "--uri",
        default=os.environ.get("MONGO_URI") or None,
        help="the server of (d) (default: MONGO_URI, else a FerretDB server started for the run)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="crawls per configuration and size, in rounds; the fastest is reported",
    )
    parser.add_argument("--configs", nargs="+", choices=CONFIGS, default=list(CONFIGS))
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting over the project's, for (b)-(d) only (e.g. a candidate default)",
    )
    parser.add_argument("--set-bare", action="store_true", help="apply --set to (a) too")
    parser.add_argument(
        "--freeze-bare",
        action="store_true",
        help="give (a) the project's FreezeStartupHeap extension (crawler/extensions/gcfreeze.py)",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="instead: count (a)'s and (b)'s instructions per article with callgrind "
        "(needs valgrind; about 10 minutes with --sizes 1000 3000)",
    )
    parser.add_argument("--worker", choices=CONFIGS, help=argparse.SUPPRESS)
    parser.add_argument("--site", help=argparse.SUPPRESS)
    parser.add_argument("--articles", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        overrides = dict(override.split("=", 1) for override in args.set)
        figures = run_worker(
            args.worker,
            args.site,
            args.articles,
            args.concurrency,
            overrides,
            args.set_bare,
            args.freeze_bare,
        )
        print(json.dumps(figures))
        return

    if args.instructions:
        report_instructions(args.sizes, args.seed, args.concurrency, args.freeze_bare)
        return

    # Imported here: the workers, (a) above all, must not load the project's storage modules.
    from bench.storage import Server, ferretdb

    if "mongodb" not in args.configs or args.uri:
        compare(args, Server(args.uri) if args.uri else None)
        return
    with ferretdb() as server:
        compare(args, server)


def compare(args: argparse.Namespace, server: Server | None) -> None:
    """Crawl the bench site with every configuration and size; print the figures.

    (d) stores into ``server`` (skipped when there is none).
    """
    if server:
        os.environ["MONGO_URI"] = server.uri  # the workers' server
    results: dict[tuple[str, int], dict[str, float]] = {}
    for articles in args.sizes:
        site = SiteProcess(articles, args.seed)
        print(site.banner, flush=True)
        configs = []
        for config in args.configs:
            if config == "mongomock" and articles > args.mongomock_max:
                print(f"(c) mongomock n={articles}: skipped (no indexes: scans per page)")
            elif config == "mongodb" and not server:
                print(f"(d) mongodb n={articles}: skipped (no server: no --uri and no FerretDB)")
            elif config == "mongodb" and articles > args.server_max:
                print(f"(d) mongodb n={articles}: skipped (over --server-max)")
            else:
                configs.append(config)
        repeats: dict[str, list[dict[str, Any]]] = {config: [] for config in configs}
        try:
            # Round after round of every configuration: a slow spell of the machine slows both.
            for _ in range(args.repeat):
                for config in configs:
                    repeats[config].append(
                        run_config(
                            site,
                            config,
                            articles,
                            args.concurrency,
                            args.set,
                            args.set_bare,
                            args.freeze_bare,
                            server,
                        )
                    )
        finally:
            site.close()
        for config in configs:
            results[config, articles] = report(config, articles, repeats[config])

    largest, smallest = max(args.sizes), min(args.sizes)
    a, b = results.get(("bare", largest)), results.get(("pipelines", largest))
    ratio = b["pages_per_s"] / a["pages_per_s"] if a and b else float("nan")
    for config in args.configs:
        low, high = results.get((config, smallest)), results.get((config, largest))
        if low and high and largest != smallest:
            growth = high["peak_rss_mb"] - low["peak_rss_mb"]
            print(
                f"{LABELS[config]} {config}: peak RSS grows {growth:.0f} MB "
                f"from n={smallest} to n={largest}"
            )
    stored = [n for n in args.sizes if ("mongodb", n) in results and ("pipelines", n) in results]
    ratio_d_b = float("nan")
    if stored:
        d, b_same = results["mongodb", max(stored)], results["pipelines", max(stored)]
        ratio_d_b = d["pages_per_s"] / b_same["pages_per_s"]
        print(f"(d)/(b) n={max(stored)}: {ratio_d_b:.2f} of (b)'s pages/s (aim: 0.5)")
    print(
        f"crawl: ratio_b_a={ratio:.2f} items_per_s_b={b['items_per_s'] if b else 0:.0f} "
        f"peak_rss_mb_{largest // 1000}k={b['peak_rss_mb'] if b else 0:.0f} "
        f"ratio_d_b={ratio_d_b:.2f}"
    )


if __name__ == "__main__":
    main()

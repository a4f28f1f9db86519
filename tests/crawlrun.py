"""Run one real crawl in a fresh process, with MongoDB replaced by mongomock; dump the outcome.

A Twisted reactor cannot be restarted, so crawl tests run each crawl here, in a subprocess::

    python -m tests.crawlrun job.json

``job.json``: ``spider``, ``args`` (spider arguments), ``copies`` (that many crawls of it, run
together in the one process; default 1), ``settings`` (over the project's; the
``NEWS_MONGO_*`` ones say where mongomock stands in for MongoDB), ``stored``: article items that
storage writes, through its own writer, before the crawl (``*_at`` values in ISO text), and
``finish_reasons``: the finish reasons that count as success (default ``["finished"]``; a
following crawl stopped by SIGTERM ends with ``shutdown``), ``out``: where to write ``{"stats", "crawl_stats", "items", "documents", "clients"}`` as JSON
(datetimes as ISO text). ``stats`` are the (first) crawl's stats, ``crawl_stats`` those of every
copy; ``items`` the items that passed every pipeline (all copies); ``documents`` what the
collection holds after; ``clients`` how many MongoDB clients the crawls built.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mongomock
import pymongo
from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.utils.misc import load_object
from scrapy.utils.project import get_project_settings

from crawler.store.mongo import StorageConfig, release_client
from crawler.store.writer import Record, open_store


def to_json(value: Any) -> Any:
    """Make datetimes (and anything else odd) JSON text."""
    return value.isoformat() if isinstance(value, datetime) else str(value)


def store(items: list[dict[str, Any]], config: StorageConfig) -> None:
    """Write ``items`` as the storage pipeline would have in an earlier run."""
    writer = open_store(config)
    now = datetime.now(UTC)
    records = [
        Record(
            item={k: datetime.fromisoformat(v) if k.endswith("_at") else v for k, v in i.items()},
            seen_at=now,
        )
        for i in items
    ]
    writer.write(records)
    release_client(config)


class CountingFactory:
    """Build MongoDB clients with ``factory``, counting them."""

    def __init__(self, factory: Any) -> None:
        self.factory = load_object(factory)
        self.built = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.built += 1
        return self.factory(*args, **kwargs)


def run(job: dict[str, Any]) -> dict[str, Any]:
    """Run the job's crawl and return its stats, passed items and stored documents."""
    settings = get_project_settings()
    # Run records and health checks have tests of their own; these crawls test spiders.
    settings.setdict({"NEWS_RUNS_ENABLED": False, **job.get("settings", {})}, priority="cmdline")
    config = StorageConfig.from_settings(settings)
    with mongomock.patch(servers=(config.uri,), on_new="create"):
        if job.get("stored"):
            store(job["stored"], config)
        factory = CountingFactory(config.client_factory)
        settings.set("NEWS_MONGO_CLIENT_FACTORY", factory, priority="cmdline")
        process = CrawlerProcess(settings, install_root_handler=True)
        items: list[dict[str, Any]] = []

        def collect(item: Any) -> None:
            items.append(ItemAdapter(item).asdict())

        crawlers = [process.create_crawler(job["spider"]) for _ in range(job.get("copies", 1))]
        for crawler in crawlers:
            crawler.signals.connect(collect, signal=signals.item_scraped)
            process.crawl(crawler, **job.get("args", {}))
        process.start()
        client = pymongo.MongoClient(config.uri)
        documents = list(client[config.database][config.collection].find())
    crawl_stats = [crawler.stats.get_stats() if crawler.stats else {} for crawler in crawlers]
    return {
        "stats": crawl_stats[0],
        "crawl_stats": crawl_stats,
        "items": items,
        "documents": documents,
        "clients": factory.built,
    }


def main(path: str) -> None:
    """Run the job file ``path`` and write its outcome where it says."""
    job = json.loads(Path(path).read_text("utf-8"))
    outcome = run(job)
    Path(job["out"]).write_text(json.dumps(outcome, default=to_json, ensure_ascii=False), "utf-8")
    reasons = [stats.get("finish_reason") for stats in outcome["crawl_stats"]]
    if any(reason not in job.get("finish_reasons", ["finished"]) for reason in reasons):
        sys.exit(f"crawls of {job['spider']} ended with finish_reason={reasons!r}")


if __name__ == "__main__":
    main(sys.argv[1])

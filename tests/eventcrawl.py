"""Run one crawl of given requests in a fresh process, with the project's settings; record events.

The downloader middlewares' tests need a real engine, downloader and scheduler, and a Twisted
reactor cannot be restarted, so each crawl runs here, in a subprocess::

    python -m tests.eventcrawl job.json

``job.json``: ``requests`` (``{"url", "priority", "meta"}`` each), ``settings`` (over the
project's; storage is off), ``close_after`` (optional: close the spider once these URLs have
been parsed) and ``out``: where to write ``{"events", "stats"}``. ``events`` are, in the order
they happened, ``["sent", url, retry_times]`` (the request reached the downloader),
``["parsed", url, status, body_length]`` (the spider's callback got it) and
``["failed", url, exception class name]`` (its errback got it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from scrapy.http import Response
    from twisted.python.failure import Failure


class EventSpider(scrapy.Spider):
    """Request the job's URLs; record what reaches the downloader, the callback, the errback."""

    name = "events"

    def __init__(self, job: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job = job
        self.events: list[list[Any]] = []
        self.waiting = set(job.get("close_after", []))

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for entry in self.job["requests"]:
            yield scrapy.Request(
                entry["url"],
                self.parse,
                errback=self.failed,
                priority=entry.get("priority", 0),
                meta=entry.get("meta", {}),
                dont_filter=True,
            )

    def sent(self, request: scrapy.Request) -> None:
        self.events.append(["sent", request.url, request.meta.get("retry_times", 0)])

    def parse(self, response: Response, **kwargs: Any) -> None:
        self.events.append(["parsed", response.url, response.status, len(response.body)])
        self.waiting.discard(response.url)
        if "close_after" in self.job and not self.waiting:
            raise scrapy.exceptions.CloseSpider("close_after")

    def failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        self.events.append(["failed", request.url, type(failure.value).__name__])


def run(job: dict[str, Any]) -> dict[str, Any]:
    """Run the job's crawl; return its events and stats."""
    settings = get_project_settings()
    base = {"NEWS_MONGO_URI": "", "NEWS_RUNS_ENABLED": False, "ITEM_PIPELINES": {}}
    settings.setdict({**base, **job.get("settings", {})}, priority="cmdline")
    process = CrawlerProcess(settings, install_root_handler=True)
    crawler = process.create_crawler(EventSpider)
    outcome: dict[str, Any] = {}

    def opened(spider: EventSpider) -> None:
        crawler.signals.connect(spider.sent, signal=signals.request_reached_downloader)
        outcome["spider"] = spider

    crawler.signals.connect(opened, signal=signals.spider_opened)
    process.crawl(crawler, job=job)
    process.start()
    assert crawler.stats is not None
    stats = {k: v for k, v in crawler.stats.get_stats().items() if isinstance(v, int | float)}
    return {"events": outcome["spider"].events, "stats": stats}


if __name__ == "__main__":
    job = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    Path(job["out"]).write_text(json.dumps(run(job)), encoding="utf-8")

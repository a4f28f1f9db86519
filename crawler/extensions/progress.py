"""Progress lines during long crawls: pages/min, items/min, queue size (replaces Scrapy's LogStats).

Every ``LOGSTATS_INTERVAL`` seconds (0 turns it off) one INFO line per spider::

    Progress eastmoney: 120 pages (at 30 pages/min), 80 items (at 20 items/min), 45 queued,
    8 in flight
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Progress:
    """The figures of one progress line."""

    pages: int
    items: int
    page_rate: float
    item_rate: float
    queued: int | None
    in_flight: int | None


def measure(
    stats: dict[str, Any], previous: tuple[int, int], interval: float, queued: int | None,
    in_flight: int | None,
) -> Progress:  # fmt: skip
    """Return the progress since ``previous`` (pages, items) over ``interval`` seconds."""
    pages = int(stats.get("response_received_count", 0))
    items = int(stats.get("item_scraped_count", 0))
    per_minute = 60.0 / interval
    return Progress(
        pages=pages,
        items=items,
        page_rate=(pages - previous[0]) * per_minute,
        item_rate=(items - previous[1]) * per_minute,
        queued=queued,
        in_flight=in_flight,
    )


def format_progress(spider: str, progress: Progress) -> str:
    """Return the progress line of ``spider``."""
    queue = "" if progress.queued is None else f", {progress.queued} queued"
    flight = "" if progress.in_flight is None else f", {progress.in_flight} in flight"
    return (
        f"Progress {spider}: {progress.pages} pages (at {progress.page_rate:.0f} pages/min), "
        f"{progress.items} items (at {progress.item_rate:.0f} items/min){queue}{flight}"
    )


class ProgressLog:
    """Log a progress line every ``LOGSTATS_INTERVAL`` seconds while the spider runs."""

    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self.previous = (0, 0)
        self.task: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        interval = crawler.settings.getfloat("LOGSTATS_INTERVAL")
        if not interval:
            raise NotConfigured
        extension = cls(crawler, interval)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self) -> None:
        self.task = create_looping_call(self.log)
        self.task.start(self.interval, now=False)

    def spider_closed(self) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()

    def queue_sizes(self) -> tuple[int | None, int | None]:
        """Return the scheduler's queue length and the downloads in flight, where known."""
        engine = self.crawler.engine
        if engine is None:
            return None, None
        scheduler = engine.scheduler
        queued = len(scheduler) if scheduler is not None and hasattr(scheduler, "__len__") else None
        return queued, len(engine.downloader.active)

    def log(self) -> None:
        """Log one progress line."""
        assert self.crawler.stats is not None
        progress = measure(
            self.crawler.stats.get_stats(), self.previous, self.interval, *self.queue_sizes()
        )
        self.previous = (progress.pages, progress.items)
        logger.info("%s", format_progress(self.crawler.spidercls.name, progress))

"""Write a crawl's final Scrapy stats to ``OPS_STATS_DIR/<spider>.json`` (compared with run records)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Self

from scrapy import signals
from scrapy.exceptions import NotConfigured

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class StatsDump:
    """Dump the stats once the engine has stopped, when they are final."""

    def __init__(self, crawler: Crawler, directory: Path) -> None:
        self.crawler = crawler
        self.directory = directory

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        directory = crawler.settings.get("OPS_STATS_DIR")
        if not directory:
            raise NotConfigured
        dump = cls(crawler, Path(directory))
        crawler.signals.connect(dump.engine_stopped, signal=signals.engine_stopped)
        return dump

    def engine_stopped(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{self.crawler.spider.name}.json"
        path.write_text(json.dumps(self.crawler.stats.get_stats(), default=str))

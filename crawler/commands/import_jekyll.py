"""``scrapy import-jekyll DIR``: bring the original's posts in through the pipelines and storage.

The posts are read by a spider that yields their articles from ``start()``, so they pass the very
``ITEM_PIPELINES`` of a crawl (normalisation, validation, storage) and share its stats.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import Spider
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.jekyll import ImportReport, post_paths, read_posts

if TYPE_CHECKING:
    from argparse import Namespace
    from collections.abc import AsyncIterator

    from crawler.items import Article


class JekyllImportSpider(Spider):
    """Yield one article per post file; broken posts are counted and reported by name."""

    name = "import-jekyll"

    def __init__(self, directory: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.directory = Path(directory)
        self.report = ImportReport()

    async def start(self) -> AsyncIterator[Article]:
        fetched_at = datetime.now(UTC)
        for article in read_posts(post_paths(self.directory), fetched_at, self.report):
            yield article
        stats = self.crawler.stats
        assert stats is not None
        stats.set_value("news/jekyll/read", self.report.read)
        stats.set_value("news/jekyll/broken", len(self.report.broken))


class Command(ScrapyCommand):
    requires_project = True

    def syntax(self) -> str:
        return "DIR"

    def short_desc(self) -> str:
        return "Import the original system's Jekyll posts through the pipelines and storage"

    def run(self, args: list[str], opts: Namespace) -> None:
        if len(args) != 1 or not Path(args[0]).is_dir():
            raise UsageError("give one directory of posts")
        assert self.crawler_process is not None
        crawler = self.crawler_process.create_crawler(JekyllImportSpider)
        self.crawler_process.crawl(crawler, directory=args[0])
        self.crawler_process.start()
        spider = crawler.spider
        assert isinstance(spider, JekyllImportSpider)
        assert crawler.stats is not None
        stats = crawler.stats.get_stats()
        report = spider.report
        for name, reason in report.broken:
            sys.stderr.write(f"import-jekyll: broken post {name}: {reason}\n")
        dropped = {k.removeprefix("news/dropped/"): v for k, v in stats.items() if "dropped/" in k}
        print(
            f"import-jekyll: read={report.read} imported={stats.get('item_scraped_count', 0)} "
            f"broken={len(report.broken)} dropped={sum(dropped.values())}"
            + (f" {dropped}" if dropped else "")
        )

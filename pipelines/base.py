"""What every finews pipeline shares: the crawler, its settings and ``news/…`` stats."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Self

from scrapy.exceptions import DropItem

from crawler.items import ArticleAdapter

if TYPE_CHECKING:
    from itemadapter import ItemAdapter
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class NewsPipeline:
    """Base of the normalisation stages: ``from_crawler`` keeps the crawler for settings and stats.

    Subclasses implement :meth:`process_article` over an :class:`ItemAdapter`.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.settings = crawler.settings
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def inc(self, key: str, count: int = 1) -> None:
        """Add ``count`` to the stat ``news/<key>``."""
        if self.stats is not None:
            self.stats.inc_value(f"news/{key}", count)

    def process_item(self, item: Any) -> Any:
        adapter = ArticleAdapter(item)
        try:
            self.process_article(adapter)
        except DropItem:
            raise
        except Exception as exc:
            # A stage's bug must cost one counted article, never the crawl or a silent loss.
            self.inc("dropped/stage_error")
            logger.exception("%s failed on %s", type(self).__name__, adapter.get("url"))
            raise DropItem(f"stage_error: {type(self).__name__}: {exc!r}") from exc
        return item

    def process_article(self, adapter: ItemAdapter) -> None:
        raise NotImplementedError


class DropCounter:
    """Count drops by reason and log the first of each reason with an example URL."""

    def __init__(self, pipeline: NewsPipeline) -> None:
        self.pipeline = pipeline
        self.seen: set[str] = set()

    def drop(self, reason: str, adapter: ItemAdapter, detail: str = "") -> DropItem:
        """Count and log a drop; return the :class:`DropItem` for the caller to raise."""
        self.pipeline.inc(f"dropped/{reason}")
        url = adapter.get("url")
        if reason not in self.seen:
            self.seen.add(reason)
            logger.warning(
                "Dropping articles for %s (further drops for this reason are only counted), "
                "e.g. %s %s",
                reason,
                url,
                detail,
            )
        return DropItem(f"{reason}: {url} {detail}".rstrip())

"""Run the configured item pipelines in-process, outside a crawl (commands, tests, benchmarks)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.utils.conf import build_component_list
from scrapy.utils.misc import build_from_crawler, load_object

from pipelines.base import NewsPipeline

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class PipelineChain:
    """The project's normalisation stages (every :class:`NewsPipeline` in ``ITEM_PIPELINES``).

    ``process`` returns the normalised item or raises :class:`scrapy.exceptions.DropItem`.
    """

    def __init__(self, crawler: Crawler) -> None:
        paths = build_component_list(crawler.settings.getwithbase("ITEM_PIPELINES"))
        classes = [load_object(path) for path in paths]
        self.stages: list[NewsPipeline] = [
            build_from_crawler(cls, crawler)
            for cls in classes
            if isinstance(cls, type) and issubclass(cls, NewsPipeline)
        ]

    def process(self, item: Any) -> Any:
        """Pass ``item`` through every stage in order."""
        for stage in self.stages:
            item = stage.process_item(item)
        return item

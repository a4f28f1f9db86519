"""Run the project's stages in-process, outside a crawl (commands, tests, benchmarks)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.utils.misc import build_from_crawler, load_object

from crawler.options import CHECKED_STAGES

if TYPE_CHECKING:
    from collections.abc import Iterable

    from scrapy.crawler import Crawler

    from pipelines.base import NewsPipeline


class PipelineChain:
    """The stages an article passes before storage (:data:`crawler.options.CHECKED_STAGES`:
    normalisation, then validation), built for ``crawler``.

    ``process`` returns the normalised item or raises :class:`scrapy.exceptions.DropItem`.
    """

    def __init__(self, crawler: Crawler, stages: Iterable[str] = CHECKED_STAGES) -> None:
        self.stages: list[NewsPipeline] = [
            build_from_crawler(load_object(path), crawler) for path in stages
        ]

    def process(self, item: Any) -> Any:
        """Pass ``item`` through every stage in order."""
        for stage in self.stages:
            item = stage.process_item(item)
        return item

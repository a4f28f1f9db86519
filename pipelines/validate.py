"""Validate stage: an article missing a required field never reaches storage."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pipelines.base import DropCounter, NewsPipeline

if TYPE_CHECKING:
    from itemadapter import ItemAdapter
    from scrapy.crawler import Crawler


def _is_text(value: Any) -> bool:
    """Tell whether ``value`` is a string with something in it."""
    return isinstance(value, str) and bool(value.strip())


def find_problem(adapter: ItemAdapter) -> str | None:
    """Return the drop reason of the first failed check, or ``None`` when the article is valid."""
    url = adapter.get("url")
    if not isinstance(url, str) or not url.strip():
        return "missing_url"
    if not url.lower().startswith(("http://", "https://")) or not adapter.get("id"):
        return "bad_url"
    if not _is_text(adapter.get("source")):
        return "missing_source"
    if not _is_text(adapter.get("title")):
        return "missing_title"
    published = adapter.get("published_at")
    if not isinstance(published, datetime) or published.tzinfo is None:
        return "missing_published_at"
    if not _is_text(adapter.get("body_text")):
        return "empty_body"
    return None


class ValidatePipeline(NewsPipeline):
    """Drop invalid articles with a reason, counted as ``news/dropped/<reason>``."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.drops = DropCounter(self)

    def process_article(self, adapter: ItemAdapter) -> None:
        problem = find_problem(adapter)
        if problem is not None:
            raise self.drops.drop(problem, adapter)
        self.inc("valid")

"""Title stage: a clean headline, original title and summary (:mod:`crawler.normalize.title`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.normalize.text import clean_inline_text
from crawler.normalize.title import normalize_original_title, normalize_title
from crawler.options import option
from crawler.sources.rules import SITE_SUFFIX
from pipelines.base import NewsPipeline

if TYPE_CHECKING:
    from itemadapter import ItemAdapter
    from scrapy.crawler import Crawler


class TitlePipeline(NewsPipeline):
    """Normalise ``title``, ``original_title`` and the feed's ``summary``.

    Every known site name (general and each source's) is cut off a title's end. Validate drops an
    article whose title is unusable.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.max_length = option(self.settings, "NEWS_TITLE_MAX_LENGTH")

    def process_article(self, adapter: ItemAdapter) -> None:
        raw = adapter.get("title")
        title = normalize_title(raw, self.max_length, SITE_SUFFIX)
        if raw and title is None:
            self.inc("title/unusable")
        elif raw and title and len(clean_inline_text(raw)) > self.max_length:
            self.inc("title/truncated")
        adapter["title"] = title
        original = normalize_original_title(
            adapter.get("original_title"), self.max_length, SITE_SUFFIX
        )
        adapter["original_title"] = original if original != title else None
        summary = clean_inline_text(adapter.get("summary") or "")
        adapter["summary"] = summary or None

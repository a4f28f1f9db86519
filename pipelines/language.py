"""Language stage: ``lang``, the ISO 639-1 code of the title and body text
(:mod:`crawler.normalize.language`); runs after the body stage, which makes ``body_text``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.normalize.language import detect_language
from pipelines.base import NewsPipeline

if TYPE_CHECKING:
    from itemadapter import ItemAdapter


class LanguagePipeline(NewsPipeline):
    """Set ``lang``; text too short to tell leaves it null, counted as
    ``news/lang/undetermined``."""

    def process_article(self, adapter: ItemAdapter) -> None:
        lang = detect_language((adapter.get("title"), adapter.get("body_text")))
        if lang is None:
            self.inc("lang/undetermined")
        adapter["lang"] = lang

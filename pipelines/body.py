"""Body stage: sanitised ``body_html`` and plain ``body_text`` (:mod:`crawler.normalize.body`).

A source's body rules apply to its items and to pages from its hosts
(:mod:`crawler.sources.rules`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.normalize.body import html_to_text, sanitize_body
from crawler.options import option
from crawler.sources.rules import body_rules
from pipelines.base import NewsPipeline

if TYPE_CHECKING:
    from itemadapter import ItemAdapter
    from scrapy.crawler import Crawler


class BodyPipeline(NewsPipeline):
    """Sanitise ``body_html`` and derive ``body_text``; oversize bodies are emptied and counted."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.max_bytes = option(self.settings, "NEWS_BODY_MAX_BYTES")

    def process_article(self, adapter: ItemAdapter) -> None:
        raw = adapter.get("body_html") or ""
        if len(raw.encode("utf-8")) > self.max_bytes:
            self.inc("body/too_large")
            raw = ""
        url = adapter.get("url")
        body_html = sanitize_body(raw, url, body_rules(adapter.get("source"), url))
        adapter["body_html"] = body_html
        adapter["body_text"] = html_to_text(body_html)

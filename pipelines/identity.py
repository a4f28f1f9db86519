"""Identity stage: canonical URL and the stable ``_id`` (:mod:`crawler.normalize.identity`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.normalize.identity import article_id, canonicalize
from pipelines.base import NewsPipeline

if TYPE_CHECKING:
    from itemadapter import ItemAdapter


class IdentityPipeline(NewsPipeline):
    """Set ``canonical_url`` and ``id``; a missing or bad URL is left to the validate stage."""

    def process_article(self, adapter: ItemAdapter) -> None:
        url = adapter.get("url")
        canonical = canonicalize(url) if isinstance(url, str) else None
        adapter["canonical_url"] = canonical
        if not adapter.get("id"):
            adapter["id"] = article_id(adapter.get("source"), adapter.get("native_id"), canonical)

"""Attribution stage: publisher, slug, authors and editor; credit lines leave the body
(:mod:`crawler.normalize.credits`). Publisher names are looked up among every alias known,
general and each source's (:mod:`crawler.sources.rules`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.normalize.body import html_to_text
from crawler.normalize.credits import (
    clean_name,
    extract_credits,
    merge_authors,
    normalize_publisher,
    publisher_slug,
    split_authors,
)
from crawler.sources.rules import AGGREGATOR_NAMES, PUBLISHER_ALIASES
from pipelines.base import NewsPipeline

if TYPE_CHECKING:
    from itemadapter import ItemAdapter


class AttributionPipeline(NewsPipeline):
    """Set ``publisher``, ``publisher_slug``, ``authors``, ``editor`` and settle ``via``."""

    def process_article(self, adapter: ItemAdapter) -> None:
        body_html, credits = extract_credits(adapter.get("body_html") or "", PUBLISHER_ALIASES)
        if body_html != adapter.get("body_html"):
            adapter["body_html"] = body_html
            adapter["body_text"] = html_to_text(body_html)
        publisher = (
            normalize_publisher(adapter.get("publisher"), PUBLISHER_ALIASES) or credits.publisher
        )
        adapter["publisher"] = publisher
        adapter["publisher_slug"] = publisher_slug(publisher)
        names = [name for raw in adapter.get("authors") or [] for name in split_authors(raw)]
        adapter["authors"] = merge_authors([*names, *credits.authors])
        adapter["editor"] = clean_name(adapter.get("editor")) or credits.editor
        via = adapter.get("via")
        if via and publisher and AGGREGATOR_NAMES.get(via) == publisher:
            adapter["via"] = None
        if publisher is None:
            self.inc("attribution/no_publisher")

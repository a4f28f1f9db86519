"""Attribution stage: publisher, its group and slug, authors and editor; credit lines leave the
body (:mod:`crawler.normalize.credits`). Groups are looked up among every name known, general and
each source's; an item of a known source that credits no one is the source's own
(:mod:`crawler.sources.rules`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.normalize.body import html_to_text
from crawler.normalize.credits import (
    clean_name,
    extract_credits,
    merge_authors,
    resolve_publisher,
    split_authors,
    trailing_credit,
)
from crawler.sources.rules import AGGREGATOR_NAMES, PUBLISHER_GROUPS, own_publisher
from pipelines.base import NewsPipeline

if TYPE_CHECKING:
    from itemadapter import ItemAdapter


class AttributionPipeline(NewsPipeline):
    """Set ``publisher``, ``publisher_group``, ``publisher_slug``, ``authors``, ``editor`` and
    settle ``via``."""

    def process_article(self, adapter: ItemAdapter) -> None:
        body_html, credits = extract_credits(adapter.get("body_html") or "")
        if body_html != adapter.get("body_html"):
            adapter["body_html"] = body_html
            adapter["body_text"] = html_to_text(body_html)
        stated = (
            adapter.get("publisher"),
            credits.publisher,
            trailing_credit(adapter.get("summary")),
        )
        publisher = resolve_publisher(stated, PUBLISHER_GROUPS)
        if publisher.name is None:
            own = own_publisher(adapter.get("source"), adapter.get("url"))
            publisher = resolve_publisher((own,), PUBLISHER_GROUPS)
            if own is not None:
                self.inc("attribution/own_desk")
        adapter["publisher"] = publisher.name
        adapter["publisher_group"] = publisher.group
        adapter["publisher_slug"] = publisher.slug
        names = [name for raw in adapter.get("authors") or [] for name in split_authors(raw)]
        adapter["authors"] = merge_authors([*names, *credits.authors])
        adapter["editor"] = clean_name(adapter.get("editor")) or credits.editor
        via = adapter.get("via")
        if via and publisher.group and AGGREGATOR_NAMES.get(via) == publisher.group:
            adapter["via"] = None
        if publisher.name is None:
            self.inc("attribution/no_publisher")

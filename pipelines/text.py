"""Text stage, the first: every string an article carries is scrubbed
(:func:`crawler.normalize.text.scrub`) before any other stage reads, parses or encodes it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.normalize.text import reads_as_name, scrub_value
from pipelines.base import NewsPipeline

if TYPE_CHECKING:
    from itemadapter import ItemAdapter

#: Fields that name someone: a value the scrub leaves without a letter named no one.
CREDIT_FIELDS: tuple[str, ...] = ("publisher", "editor", "authors")


class TextPipeline(NewsPipeline):
    """Remove lone surrogates, controls and U+FFFD from every string field, counted as
    ``news/text/scrubbed/<field>``; a credit the scrub left without a letter is dropped, counted as
    ``news/text/unreadable/<field>``."""

    def process_article(self, adapter: ItemAdapter) -> None:
        for name in adapter.field_names():
            value = adapter.get(name)
            scrubbed = scrub_value(value)
            if scrubbed == value:
                continue
            self.inc(f"text/scrubbed/{name}")
            if name in CREDIT_FIELDS:
                scrubbed = self._readable_credit(name, value, scrubbed)
            adapter[name] = scrubbed

    def _readable_credit(self, name: str, raw: object, scrubbed: object) -> object:
        """Return the scrubbed credit without the names the scrub left without a letter (a list
        keeps the others); each one dropped is counted."""
        if isinstance(raw, list) and isinstance(scrubbed, list):
            kept = [
                after
                for before, after in zip(raw, scrubbed, strict=True)
                if after == before or not isinstance(after, str) or reads_as_name(after)
            ]
            if len(kept) < len(scrubbed):
                self.inc(f"text/unreadable/{name}", len(scrubbed) - len(kept))
            return kept
        if isinstance(scrubbed, str) and not reads_as_name(scrubbed):
            self.inc(f"text/unreadable/{name}")
            return None
        return scrubbed
